"""The embedded safety classifier: a softmax over {safe, S1..S14, injection} on the message's
MiniLM sentence vector plus hashed word unigrams and bigrams, trained by doppel from its own
labelled set (`doppel/safety/data/train.yaml`) at set-up, weights kept in the data directory.

Why this shape: the message's MiniLM vector is computed for retrieval anyway, so the classifier
costs one sparse-ish matrix product (well under a millisecond) on top. A linear softmax is what
a labelled set of hundreds of examples supports without over-fitting. The word features were
chosen by 5-fold cross-validation on the training set only: MiniLM alone confuses "how do I kill
the weeds" with violence (CV: 12 % of hard benign messages flagged at 92 % hazard recall);
adding bigrams ("kill_weeds" vs "kill_him") brought that to 6 % at the same recall. Hard benign
examples ("this cake is to die for") are in the training set so the boundary is learnt where a
bakery needs it.

Weights are keyed by the embedder's name and the training set's hash: a different embedder or a
new training set retrains (about two seconds) instead of silently using mismatched weights.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from doppel.models.base import Embedder
from doppel.safety.taxonomy import CODES

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).parent / "data"
TRAIN_SET = DATA_DIR / "train.yaml"
LABELS: tuple[str, ...] = ("safe", *CODES, "injection")
# Competitor names substituted into the brand examples' {competitor} placeholder.
SAMPLE_COMPETITORS = ("Rival Bakery", "Northside Fitness", "Main Street Cycles", "Bloom & Co",
                      "Luigi's", "Studio K")


LEX_DIM = 4096      # hashed word unigram + bigram features
LEX_WEIGHT = 1.5    # their weight against the unit MiniLM vector (picked by CV on train.yaml)
HAZARD_L2 = 3e-3
_WORDS = re.compile(r"[a-z0-9']+")


def lexical(texts: list[str]) -> np.ndarray:
    """L2-normalised counts of hashed words and word pairs."""
    out = np.zeros((len(texts), LEX_DIM), dtype=np.float32)
    for row, text in enumerate(texts):
        words = _WORDS.findall(text.lower())
        for feature in [*words, *(f"{a}_{b}" for a, b in zip(words, words[1:]))]:
            h = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "big")
            out[row, h % LEX_DIM] += 1.0
        norm = float(np.linalg.norm(out[row]))
        if norm:
            out[row] /= norm
    return out


def features(texts: list[str], vectors: np.ndarray) -> np.ndarray:
    return np.hstack([np.atleast_2d(vectors).astype(np.float32), LEX_WEIGHT * lexical(texts)])


@dataclass
class LabelledSet:
    texts: list[str]
    labels: list[str]
    praise: list[str]   # competitor praise sentences ({competitor} placeholder)
    neutral: list[str]  # neutral competitor mentions


def load_set(path: Path = TRAIN_SET) -> LabelledSet:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    texts: list[str] = []
    labels: list[str] = []
    for item in data.get("hazard", []):
        texts.append(item["text"])
        labels.append(item["category"])
    for key, label in (("benign", "safe"), ("benign_instructions", "safe"),
                       ("injection", "injection")):
        for item in data.get(key, []):
            text = item["text"] if isinstance(item, dict) else item
            texts.append(text)
            labels.append(label)
    return LabelledSet(texts, labels, list(data.get("competitor_praise", [])),
                       list(data.get("competitor_neutral", [])))


def file_digest(path: Path) -> str:
    # Asked on every shield check (load_or_train's cache key): hashed once per file version.
    stat = path.stat()
    return _digest(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=32)
def _digest(path: str, mtime_ns: int, size: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


class SoftmaxClassifier:
    """Multinomial logistic regression on unit vectors, trained full-batch with Adam."""

    def __init__(self, weights: np.ndarray, bias: np.ndarray, labels: tuple[str, ...],
                 meta: dict[str, Any] | None = None) -> None:
        self.weights = weights.astype(np.float32)
        self.bias = bias.astype(np.float32)
        self.labels = labels
        self.index = {label: i for i, label in enumerate(labels)}
        self.meta = meta or {}

    @classmethod
    def train(cls, x: np.ndarray, y: list[str], labels: tuple[str, ...], *, l2: float = 1e-3,
              epochs: int = 400, lr: float = 0.05, seed: int = 0, scale: float = 10.0,
              meta: dict[str, Any] | None = None) -> SoftmaxClassifier:
        rng = np.random.default_rng(seed)
        index = {label: i for i, label in enumerate(labels)}
        target = np.array([index[label] for label in y])
        n, dim = x.shape
        k = len(labels)
        onehot = np.zeros((n, k), dtype=np.float64)
        onehot[np.arange(n), target] = 1.0
        # Balanced class weights: each class counts as much as any other in the loss.
        counts = np.maximum(onehot.sum(0), 1.0)
        sample_w = (n / (k * counts))[target][:, None]
        xs = x.astype(np.float64) * scale  # unit vectors have tiny entries: rescale
        w = rng.normal(0, 0.01, (dim, k))
        b = np.zeros(k)
        m_w, v_w, m_b, v_b = (np.zeros_like(w), np.zeros_like(w), np.zeros_like(b),
                              np.zeros_like(b))
        beta1, beta2, eps = 0.9, 0.999, 1e-8
        for step in range(1, epochs + 1):
            logits = xs @ w + b
            logits -= logits.max(1, keepdims=True)
            p = np.exp(logits)
            p /= p.sum(1, keepdims=True)
            grad = (p - onehot) * sample_w / n
            g_w = xs.T @ grad + l2 * w
            g_b = grad.sum(0)
            for param, g, m, v in ((w, g_w, m_w, v_w), (b, g_b, m_b, v_b)):
                m *= beta1
                m += (1 - beta1) * g
                v *= beta2
                v += (1 - beta2) * g * g
                param -= lr * (m / (1 - beta1 ** step)) / (np.sqrt(v / (1 - beta2 ** step)) + eps)
        return cls((w * scale).astype(np.float32), b.astype(np.float32), labels, meta)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """(n, len(labels)) probabilities."""
        logits = np.atleast_2d(x) @ self.weights + self.bias
        logits -= logits.max(1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(1, keepdims=True)  # type: ignore[no-any-return]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, weights=self.weights, bias=self.bias, labels=np.array(self.labels),
                 meta=np.array(json.dumps(self.meta)))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> SoftmaxClassifier:
        with np.load(path, allow_pickle=False) as data:
            return cls(data["weights"], data["bias"], tuple(str(s) for s in data["labels"]),
                       json.loads(str(data["meta"])))


def brand_examples(labelled: LabelledSet) -> tuple[list[str], list[str]]:
    """Praise/neutral sentences with sample competitor names filled in (labels: praise, neutral)."""
    texts: list[str] = []
    labels: list[str] = []
    for i, text in enumerate(labelled.praise + labelled.neutral):
        name = SAMPLE_COMPETITORS[i % len(SAMPLE_COMPETITORS)]
        texts.append(text.replace("{competitor}", name))
        labels.append("praise" if i < len(labelled.praise) else "neutral")
    return texts, labels


@dataclass
class SafetyModels:
    hazard: SoftmaxClassifier   # safe / S1..S14 / injection
    brand: SoftmaxClassifier    # neutral / praise, for sentences naming a competitor

    def hazard_probs(self, texts: list[str], vectors: np.ndarray) -> np.ndarray:
        return self.hazard.predict(features(texts, vectors))

    def praise_prob(self, text: str, vector: np.ndarray) -> float:
        return float(self.brand.predict(features([text], vector))[0, self.brand.index["praise"]])


_cache: dict[tuple[str, str], SafetyModels] = {}
_saved: set[Path] = set()
_lock = threading.Lock()


def train_models(embedder: Embedder, train_set: Path = TRAIN_SET) -> SafetyModels:
    labelled = load_set(train_set)
    meta = {"embedder": embedder.name, "train_set": file_digest(train_set),
            "examples": len(labelled.texts), "features": f"minilm+lex{LEX_DIM}x{LEX_WEIGHT}"}
    x = features(labelled.texts, embedder.embed(labelled.texts))
    hazard = SoftmaxClassifier.train(x, labelled.labels, LABELS, l2=HAZARD_L2, meta=meta)
    btexts, blabels = brand_examples(labelled)
    brand = SoftmaxClassifier.train(features(btexts, embedder.embed(btexts)), blabels,
                                    ("neutral", "praise"), meta=meta | {"examples": len(btexts)})
    return SafetyModels(hazard, brand)


def weights_path(home: Path, embedder: Embedder) -> Path:
    safe_name = "".join(c if c.isalnum() or c in "-_." else "_" for c in embedder.name)
    return home / "shields" / f"safety-{safe_name}.npz"


def load_or_train(home: Path, embedder: Embedder, train_set: Path = TRAIN_SET,
                  *, log_fn: Any = None) -> SafetyModels:
    """The classifier for this embedder: from the data directory, else trained now and saved."""
    digest = file_digest(train_set)
    key = (embedder.name, digest)
    path = weights_path(home, embedder)
    brand_path = path.with_name(path.stem + "-brand.npz")
    with _lock:
        if key in _cache:  # trained in this process already (tests use many data directories)
            models = _cache[key]
            if path not in _saved:  # checked once per data directory, not on every message
                if not path.is_file():
                    models.hazard.save(path)
                    models.brand.save(brand_path)
                _saved.add(path)
            return models
        loaded: SafetyModels | None = None
        if path.is_file() and brand_path.is_file():
            try:
                hazard, brand = SoftmaxClassifier.load(path), SoftmaxClassifier.load(brand_path)
                if (hazard.meta.get("train_set") == digest
                        and hazard.meta.get("embedder") == embedder.name
                        and hazard.meta.get("features") == f"minilm+lex{LEX_DIM}x{LEX_WEIGHT}"
                        and hazard.labels == LABELS):
                    loaded = SafetyModels(hazard, brand)
            except (OSError, ValueError, KeyError) as exc:
                log.warning("safety classifier weights unreadable (%s): retraining", exc)
        if loaded is None:
            (log_fn or log.info)(f"training the safety classifier -> {path}")
            loaded = train_models(embedder, train_set)
            loaded.hazard.save(path)
            loaded.brand.save(brand_path)
        models = loaded
        _cache[key] = models
        return models
