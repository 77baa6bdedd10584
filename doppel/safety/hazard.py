"""Hazard categories (Llama Guard 3's S1..S14) with the embedded classifier, and the owner's own
categories ("don't discuss politics") matched by meaning and by keyword."""

from __future__ import annotations

import hashlib
import re
import threading
from typing import Any

import numpy as np

from doppel.models.base import Embedder
from doppel.safety.base import ShieldContext, SyncShield, Verdict
from doppel.safety.policy import CustomCategory
from doppel.safety.taxonomy import CODES

HAZARD_THRESHOLD = 0.6  # by 5-fold CV on the training set: ~87 % recall at ~4 % flagged
# of its (deliberately hard) benign messages
# Owner categories are zero-shot: a message must be about as close to the rule's description
# or examples as a paraphrase is (MiniLM cosine).
DESCRIPTION_THRESHOLD = 0.45
EXAMPLE_THRESHOLD = 0.6


def classifier_probs(ctx: ShieldContext, models: Any) -> np.ndarray:
    """The embedded classifier's class probabilities for the text, computed once per context:
    the hazard, injection and jailguard shields all read them."""
    return ctx.memo("hazard_probs",
                    lambda: models.hazard_probs([ctx.text], ctx.embedding())[0])  # type: ignore[no-any-return]


class HazardShield(SyncShield):
    name = "hazard"
    cheap = False
    cheap_when_warm = True  # 0.14 ms once the classifier is loaded

    def __init__(self, models_for: Any) -> None:
        self.models_for = models_for

    def inspect(self, ctx: ShieldContext) -> Verdict:
        models = self.models_for()
        model = models.hazard
        p = classifier_probs(ctx, models)
        policy = ctx.policy
        scores = {code: float(p[model.index[code]]) for code in CODES
                  if code not in policy.exclude}
        flagged = [code for code, score in scores.items()
                   if score >= policy.threshold(code, policy.threshold("hazard", HAZARD_THRESHOLD))]
        # Probability mass spread over several hazards (e.g. S1 and S9) still counts as harmful.
        total = sum(scores.values())
        if not flagged and total >= policy.threshold("hazard", HAZARD_THRESHOLD) + 0.15:
            flagged = [max(scores, key=lambda c: scores[c])]
        top = {c: round(s, 4) for c, s in sorted(scores.items(), key=lambda kv: -kv[1])[:3]}
        if flagged:
            flagged.sort(key=lambda c: -scores[c])
            return Verdict(self.name, "block", flagged, top, f"hazard {', '.join(flagged)}")
        return Verdict(self.name, scores=top)


class _CategoryVectors:
    """Embedded descriptions and examples of one policy's categories, cached by content."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self._cache: dict[str, list[tuple[CustomCategory, np.ndarray, np.ndarray]]] = {}
        self._lock = threading.Lock()

    def get(self, categories: list[CustomCategory]) -> list[tuple[CustomCategory, np.ndarray,
                                                                  np.ndarray]]:
        key = hashlib.sha256(repr([c.model_dump() for c in categories]).encode()).hexdigest()
        with self._lock:
            if key not in self._cache:
                out = []
                for c in categories:
                    desc = self.embedder.embed([c.description])[0]
                    examples = (self.embedder.embed(c.examples) if c.examples
                                else np.zeros((0, self.embedder.dim), dtype=np.float32))
                    out.append((c, desc, examples))
                if len(self._cache) > 256:
                    self._cache.clear()
                self._cache[key] = out
            return self._cache[key]


class TopicsShield(SyncShield):
    """The owner's custom categories and forbidden topics, on messages and answers alike."""

    name = "topics"
    cheap = False
    cheap_when_warm = True  # microseconds once the owner's categories are embedded

    def __init__(self, embedder: Embedder) -> None:
        self.vectors = _CategoryVectors(embedder)

    def inspect(self, ctx: ShieldContext) -> Verdict:
        categories = ctx.policy.categories()
        if not categories:
            return Verdict(self.name)
        text = ctx.text.lower()
        vector = ctx.embedding()
        scores: dict[str, float] = {}
        hits: list[str] = []
        for category, desc, examples in self.vectors.get(categories):
            by_keyword = any(re.search(rf"\b{re.escape(k.lower())}\b", text)
                             for k in category.keywords)
            sim_desc = float(desc @ vector)
            sim_ex = float((examples @ vector).max()) if len(examples) else 0.0
            scores[category.name] = max(sim_desc, sim_ex, 1.0 if by_keyword else 0.0)
            threshold = ctx.policy.threshold(category.name, 0.0)
            if (by_keyword or sim_desc >= (threshold or DESCRIPTION_THRESHOLD)
                    or sim_ex >= (threshold or EXAMPLE_THRESHOLD)):
                hits.append(category.name)
        if hits:
            return Verdict(self.name, "block", hits, scores, f"owner rule: {', '.join(hits)}")
        return Verdict(self.name, scores=scores)
