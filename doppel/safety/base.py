"""The shield extension point: a `Shield` looks at a customer's message (input) or a sentence of
the agent's answer (output) and returns a `Verdict`: allow, rewrite or block, with categories,
scores and a reason.

Shields are registered by name in `SHIELDS` as factories, built-ins exactly like a plug-in::

    from doppel.safety import SHIELDS, ShieldFactory
    SHIELDS.register(ShieldFactory("no-emoji", lambda services: NoEmoji(), {"output"}))

and an agent's policy lists the names it runs (``shields: {input: [...], output: [...]}``). An
installed package adds its shields through the `doppel.shields` entry-point group
(doppel/registry.py).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np

from doppel.registry import Registry

if TYPE_CHECKING:
    from doppel.config import Settings
    from doppel.models.base import Embedder
    from doppel.safety.policy import ShieldPolicy

Stage = Literal["input", "output"]
Action = Literal["allow", "rewrite", "block"]
_RANK: dict[str, int] = {"allow": 0, "rewrite": 1, "block": 2}


class ShieldUnavailable(Exception):
    """A shield could not run (endpoint down, model missing): the policy's on_error decides."""


@dataclass
class Verdict:
    shield: str
    action: Action = "allow"
    categories: list[str] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    reason: str = ""
    rewritten: str | None = None  # the text to show instead, for action "rewrite"
    error: str | None = None      # set when the shield failed (and on_error decided)
    latency_ms: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if v not in (None, [], {}, "")}
        out["scores"] = {k: round(v, 4) for k, v in self.scores.items()}
        out["latency_ms"] = round(self.latency_ms, 3)
        return out


@dataclass
class ShieldReport:
    """All verdicts of one stage of one turn."""

    stage: Stage
    verdicts: list[Verdict] = field(default_factory=list)

    @property
    def action(self) -> Action:
        worst: Action = "allow"
        for v in self.verdicts:
            if _RANK[v.action] > _RANK[worst]:
                worst = v.action
        return worst

    @property
    def blocked(self) -> bool:
        return self.action == "block"

    def blocking(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.action == "block"]

    def categories(self) -> list[str]:
        seen: dict[str, None] = {}
        for v in self.verdicts:
            if v.action != "allow":
                seen.update(dict.fromkeys(v.categories))
        return list(seen)

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "categories": self.categories(),
                "verdicts": [v.to_dict() for v in self.verdicts]}


def public_shields(record: dict[str, Any]) -> dict[str, Any]:
    """What a chat client may see of a turn's shields: per stage, the action and categories.

    The stored record keeps every detector's scores, reasons and errors for the owner; a client
    that saw them could tune a prompt until each score sits under its threshold, and an error
    could carry an upstream's reply or host. Withheld private lines are not mentioned at all.
    """
    out: dict[str, Any] = {}
    for stage in ("input", "output"):
        reports = record.get(stage)
        if not reports:
            continue
        if isinstance(reports, dict):
            reports = [reports]
        worst: Action = "allow"
        categories: dict[str, None] = {}
        for r in reports:
            action = r.get("action", "allow")
            if _RANK.get(action, 0) > _RANK[worst]:
                worst = action
            categories.update(dict.fromkeys(str(c) for c in r.get("categories") or []))
        out[stage] = {"action": worst, "categories": list(categories)}
    return out


@dataclass
class ShieldContext:
    """What a shield may look at. `embedding()` is computed once per text and shared between
    the shields and retrieval (the message's MiniLM vector is needed by both)."""

    stage: Stage
    text: str
    policy: ShieldPolicy
    agent_name: str = ""
    history: Sequence[tuple[str, str]] = ()  # earlier (user, assistant) turns
    question: str = ""                        # output stage: the message being answered
    evidence: Sequence[str] = ()              # output stage: passages and the agent's spec
    instructions: str = ""                    # output stage: the fixed system prompt
    embed: Callable[[str], np.ndarray] | None = None
    _vector: np.ndarray | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _memo: dict[str, Any] = field(default_factory=dict, repr=False)

    def embedding(self) -> np.ndarray:
        with self._lock:
            if self._vector is None:
                if self.embed is None:
                    raise ShieldUnavailable("no embedder")
                self._vector = self.embed(self.text)
            return self._vector

    def memo(self, key: str, compute: Callable[[], Any]) -> Any:
        """A value several shields read of this text (the classifier's probabilities), computed
        once. Concurrent shields may both compute it; the first result is kept."""
        if key not in self._memo:
            value = compute()
            with self._lock:
                self._memo.setdefault(key, value)
        return self._memo[key]


class Shield(Protocol):
    name: str

    async def check(self, ctx: ShieldContext) -> Verdict:
        """Judge ctx.text. Raise ShieldUnavailable (or anything) when unable to judge."""
        ...


class SyncShield:
    """Base for CPU shields: `inspect` is synchronous; `cheap` ones (regexes, sub-millisecond)
    run inline, the others in a worker thread so the event loop keeps serving. `cheap_when_warm`
    ones run in a thread until their first check has returned (it may load or train a model:
    seconds), then inline: their work is a fraction of a millisecond, less than the hop to a
    thread and back."""

    name = "sync"
    cheap = True
    cheap_when_warm = False
    _warm = False

    def inspect(self, ctx: ShieldContext) -> Verdict:
        raise NotImplementedError

    async def check(self, ctx: ShieldContext) -> Verdict:
        if self.cheap or self._warm:
            return self.inspect(ctx)
        verdict = await asyncio.to_thread(self.inspect, ctx)
        if self.cheap_when_warm:
            self._warm = True
        return verdict


class ShieldServices:
    """What a factory may use to build its shield (one instance per process). The embedder
    may be given lazily (a callable): listing agents must not load models."""

    def __init__(self, settings: Settings, embedder: Embedder | Callable[[], Embedder]) -> None:
        self.settings = settings
        self._embedder = embedder
        self._models: Any = None

    def get_embedder(self) -> Embedder:
        if callable(self._embedder) and not hasattr(self._embedder, "embed"):
            self._embedder = self._embedder()
        return self._embedder  # type: ignore[return-value]

    def safety_models(self) -> Any:
        """The embedded classifier (classifier.SafetyModels), trained on first use if needed;
        kept (three shields ask for it on every message)."""
        if self._models is None:
            from doppel.safety.classifier import load_or_train

            self._models = load_or_train(self.settings.home, self.get_embedder())
        return self._models


@dataclass(frozen=True)
class ShieldFactory:
    name: str
    build: Callable[[ShieldServices], Shield]
    stages: frozenset[str] = frozenset({"input", "output"})
    description: str = ""


# Third-party shields: a `ShieldFactory` in the `doppel.shields` entry-point group.
SHIELDS: Registry[ShieldFactory] = Registry(
    "shield", group="doppel.shields", accepts=lambda obj: isinstance(obj, ShieldFactory))
