"""A learned tool router: which built-in tool a customer's message needs, from its embedding.

The rules (`Tool.wants`) catch the phrasings they were written for and nothing else: on tool
questions written by people who never saw them (examples/eval/heldout4, heldout5) they and
the example-similarity bar missed a third of the open-now, order, booking and catalog
questions, while scoring 88 % on the sets they were written from. This is a multinomial
logistic regression over the message's sentence embedding (all-MiniLM-L6-v2, the agent
embedder), trained on the tuning halves of the tool evaluation and each tool's own example
phrasings (doppel.evaluation.router writes it; `make router` reproduces it). It knows the
built-in tools and `none`; it is used only with the embedder it was trained on, and only for
the tools an agent has: a tool it does not know (web search, an owner's MCP server, a
third-party tool) is still chosen by its examples (doppel.agents.acting).

The weights are a small JSON file next to this module, committed with the recipe that wrote
them, so a clean checkout routes identically without training anything.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from doppel.errors import ConfigError

__all__ = ["BY_EXAMPLES", "NONE", "ROUTER_FILE", "ToolRouter", "bundled_router"]

NONE = "none"  # the class of a message that no tool answers (the content does)

ROUTER_FILE = Path(__file__).with_name("router.json")

log = logging.getLogger(__name__)

# Tools the router knows but does not choose: their example bar still does. A price question
# the router sent to `catalog_lookup` got the catalog's list of variants where the composer
# (doppel.agents.compose) names the one row asked about: on the answer evaluation's dev half,
# 11 of 45 such answers showed a neighbouring variant's price.
BY_EXAMPLES = frozenset({"catalog_lookup"})


@dataclass(frozen=True)
class ToolRouter:
    classes: tuple[str, ...]        # NONE first, then tool names
    weights: np.ndarray             # (dim, len(classes))
    bias: np.ndarray                # (len(classes),)
    embedder: str                   # the embedder whose vectors the weights read
    recipe: dict[str, object]       # how the file was made (data, seed, figures)
    # The probability a tool needs to be chosen: below it the message is left to the tools'
    # examples and the content (a content question half-like a booking stays with the content).
    floor: float = 0.0

    @classmethod
    def load(cls, path: Path) -> ToolRouter:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            classes = tuple(str(c) for c in data["classes"])
            weights = np.asarray(data["weights"], dtype=np.float32)
            bias = np.asarray(data["bias"], dtype=np.float32)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"tool router {path} is unreadable: {exc}") from exc
        if (not classes or classes[0] != NONE or weights.ndim != 2
                or weights.shape[1] != len(classes) or bias.shape != (len(classes),)):
            raise ConfigError(f"tool router {path} does not fit its classes")
        return cls(classes, weights, bias, str(data.get("embedder", "")),
                   dict(data.get("recipe", {})), float(data.get("floor", 0.0)))

    def save(self, path: Path) -> None:
        data = {"classes": list(self.classes), "embedder": self.embedder,
                "floor": self.floor, "recipe": self.recipe,
                # 6 significant digits: the file stays small and diffs stay readable
                "bias": [float(f"{x:.6g}") for x in self.bias],
                "weights": [[float(f"{x:.6g}") for x in row] for row in self.weights]}
        path.write_text(json.dumps(data, indent=None, separators=(",", ":")) + "\n",
                        encoding="utf-8")

    @property
    def dim(self) -> int:
        return int(self.weights.shape[0])

    def knows(self, tool: str) -> bool:
        return tool in self.classes

    def chooses(self, tool: str) -> bool:
        """Whether this router chooses `tool` (it knows it, and its examples do not)."""
        return tool in self.classes and tool not in BY_EXAMPLES

    def probabilities(self, vector: np.ndarray, allowed: Collection[str]) -> dict[str, float]:
        """P(class | message) over `none` and the `allowed` tools this router knows (the rest
        of its classes are not the agent's: their share is renormalised away)."""
        logits = np.asarray(vector, dtype=np.float32) @ self.weights + self.bias
        keep = [i for i, c in enumerate(self.classes) if c == NONE or c in allowed]
        z = logits[keep] - logits[keep].max()
        p = np.exp(z) / np.exp(z).sum()
        return {self.classes[i]: float(x) for i, x in zip(keep, p, strict=True)}

    def choose(self, vector: np.ndarray, allowed: Collection[str]) -> tuple[str, float]:
        """The most probable class among `none` and the allowed tools, with its probability."""
        probs = self.probabilities(vector, allowed)
        best = max(probs, key=lambda c: probs[c])
        return best, probs[best]


@functools.cache
def bundled_router() -> ToolRouter | None:
    """The router shipped with doppel, or None when the file is missing (a trimmed install):
    routing then falls back to each tool's examples."""
    if not ROUTER_FILE.is_file():
        return None
    try:
        return ToolRouter.load(ROUTER_FILE)
    except ConfigError:
        # a damaged install must not fail every turn: the examples choose, and it is logged
        log.exception("the learned tool router is unusable; tools are chosen by examples")
        return None
