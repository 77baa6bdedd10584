"""The recipe of the learned tool router (doppel/tools/router.json): data, training, report.

    python -m doppel.evaluation.router [--out doppel/tools/router.json] [--cv]
    make router

Data: every single-turn question of the tool evaluation's *tuning* sets (TRAIN_SETS; a
question's last-turn tool is its label, `handoff` counts as `none`: a person is asked for
before any tool runs), the answer evaluation's tuning questions that the content answers
(ANSWER_SETS, as `none`) and each built-in tool's own example phrasings. The held-out sets
(examples/eval/heldout4 and later) are never read here: they are what the router is
reported on (benchmarks/tools.py).

Training: multinomial logistic regression on the messages' all-MiniLM-L6-v2 vectors, full
batch, Adam, fixed steps, L2, float64: no randomness, so the same vectors give the same
weights. `--cv` also prints leave-one-business-out accuracy per class next to what the rules
alone (`Tool.wants`, then the example bar) choose for the same questions.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from doppel.config import Settings
from doppel.evaluation.answers import load_suite
from doppel.evaluation.tools import load_tool_sets
from doppel.tools import TOOLS
from doppel.tools.router import NONE, ROUTER_FILE, ToolRouter

__all__ = ["CLASSES", "TRAIN_SETS", "Example", "fit", "main", "training_examples"]

ROOT = Path(__file__).resolve().parents[2]
# The tuning halves of the tool evaluation. heldout2 and heldout3 were held out when they
# were written (reported by per-tool counts, never read question by question) and became
# training data for the router when it was introduced; heldout4 onwards stay held out.
TRAIN_SETS = ("examples/eval/tools/dev", "examples/eval/heldout2", "examples/eval/heldout3")
# The answer evaluation's tuning sets: their questions about policies, contacts, people and
# the rest are the content's to answer (`none`). Their price, product and hours questions are
# left out: the tool sets' writers put the same kinds under catalog_lookup and open_now.
ANSWER_SETS = ("examples/eval/bakery.yaml", "examples/eval/suite",
               "examples/eval/answers-heldout2")
_TOOL_LIKE = frozenset({"price", "product", "hours", "holiday", "time"})
CLASSES = (NONE, "open_now", "catalog_lookup", "booking", "order_status", "lead_capture")
DEFAULT_TOOLS = ("open_now", "catalog_lookup", "lead_capture")  # every eval agent has them
L2 = 3e-4
FLOOR = 0.6  # leave-one-business-out: the tools' recall kept, fewer content questions taken
STEPS = 600
LEARNING_RATE = 0.1


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    group: str                  # the business (for leave-one-out), or "examples"
    tools: tuple[str, ...]      # the tools that agent has


def training_examples(root: Path = ROOT, sets: Sequence[str] = TRAIN_SETS,
                      answer_sets: Sequence[str] = ANSWER_SETS) -> list[Example]:
    out: list[Example] = []
    for folder in sets:
        for ts in load_tool_sets(root / folder):
            tools = tuple(sorted(set(DEFAULT_TOOLS) | (set(ts.tools) & set(CLASSES))))
            for q in ts.questions:
                if len(q.turns) != 1:
                    continue  # a follow-up's tool depends on the conversation, not the text
                label = q.tool if q.tool in CLASSES else NONE
                out.append(Example(q.turns[0], label, ts.name, tools))
    for folder in answer_sets:
        for agent in load_suite(root / folder):
            if agent.split not in ("dev", "bakery", "heldout2"):
                continue  # the suite's held-out half is never read
            for aq in agent.questions:
                if len(aq.turns) == 1 and aq.type not in _TOOL_LIKE:
                    out.append(Example(aq.turns[0], NONE, agent.name, DEFAULT_TOOLS))
    for name in CLASSES[1:]:
        for text in TOOLS.get(name).examples:
            out.append(Example(text, name, "examples", CLASSES[1:]))
    return out


def fit(x: np.ndarray, y: np.ndarray, n_classes: int, *, l2: float = L2, steps: int = STEPS,
        lr: float = LEARNING_RATE) -> tuple[np.ndarray, np.ndarray]:
    """Softmax regression by full-batch Adam: deterministic for the same inputs."""
    x = x.astype(np.float64)
    targets = np.eye(n_classes)[y]
    # Every class weighs the same in the loss, however many questions it has: `none` has far
    # more (every content question), and unweighted it drowned the tools.
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    weight = (len(y) / (n_classes * np.maximum(counts, 1)))[y][:, None]
    w = np.zeros((x.shape[1], n_classes))
    b = np.zeros(n_classes)
    mw, vw, mb, vb = np.zeros_like(w), np.zeros_like(w), np.zeros_like(b), np.zeros_like(b)
    for t in range(1, steps + 1):
        z = x @ w + b
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        gw = x.T @ (weight * (p - targets)) / len(y) + l2 * w
        gb = (weight * (p - targets)).mean(axis=0)
        mw, vw = 0.9 * mw + 0.1 * gw, 0.999 * vw + 0.001 * gw ** 2
        mb, vb = 0.9 * mb + 0.1 * gb, 0.999 * vb + 0.001 * gb ** 2
        w -= lr * (mw / (1 - 0.9 ** t)) / (np.sqrt(vw / (1 - 0.999 ** t)) + 1e-8)
        b -= lr * (mb / (1 - 0.9 ** t)) / (np.sqrt(vb / (1 - 0.999 ** t)) + 1e-8)
    return w, b


def train(examples: Sequence[Example], vectors: np.ndarray, embedder: str) -> ToolRouter:
    y = np.array([CLASSES.index(e.label) for e in examples])
    w, b = fit(vectors, y, len(CLASSES))
    digest = hashlib.sha256("\n".join(f"{e.group}\t{e.label}\t{e.text}"
                                      for e in examples).encode()).hexdigest()
    recipe: dict[str, object] = {
        "script": "doppel/evaluation/router.py", "data": list(TRAIN_SETS + ANSWER_SETS),
        "examples": len(examples), "data_sha256": digest, "l2": L2, "steps": STEPS,
        "class_weights": "balanced",
        "learning_rate": LEARNING_RATE}
    return ToolRouter(CLASSES, w.astype(np.float32), b.astype(np.float32), embedder, recipe,
                      FLOOR)


def _rules(text: str, tools: Sequence[str], examples: dict[str, np.ndarray],
           vector: np.ndarray, bar: float) -> str:
    """What routing chose before the learned router: a rule, else the best example above the
    bar among the tools that do not decline the message."""
    for name in CLASSES[1:]:
        if name in tools and TOOLS.get(name).wants(text):
            return name
    best = max(((float((examples[n] @ vector).max()), n) for n in CLASSES[1:]
                if n in tools and not TOOLS.get(n).declines(text)), default=(0.0, NONE))
    return best[1] if best[0] >= bar else NONE


def cross_validate(examples: Sequence[Example], vectors: np.ndarray,
                   embed: Callable[[list[str]], np.ndarray], bar: float) -> str:
    """Leave one business out: the learned router (after the rules) and the rules alone."""
    groups = sorted({e.group for e in examples} - {"examples"})
    y = np.array([CLASSES.index(e.label) for e in examples])
    learned = np.full(len(examples), -1)
    tool_examples = {n: embed(list(TOOLS.get(n).examples)) for n in CLASSES[1:]}
    for g in groups:
        test = np.array([e.group == g for e in examples])
        w, b = fit(vectors[~test], y[~test], len(CLASSES))
        router = ToolRouter(CLASSES, w, b, "", {}, FLOOR)
        for i in np.where(test)[0]:
            e = examples[i]
            rule = next((n for n in CLASSES[1:] if n in e.tools and TOOLS.get(n).wants(e.text)),
                        None)
            choice, p = router.choose(vectors[i], e.tools)
            if rule is None and (not router.chooses(choice) or p < router.floor):
                # what the router leaves to the examples (BY_EXAMPLES) is chosen by them
                rest = [n for n in e.tools if not router.chooses(n)]
                choice = _rules(e.text, rest, tool_examples, vectors[i], bar)
            learned[i] = CLASSES.index(rule or choice)
    rules = np.array([CLASSES.index(_rules(e.text, e.tools, tool_examples, vectors[i], bar))
                      for i, e in enumerate(examples)])
    scored = np.array([e.group != "examples" for e in examples])
    lines = [f"leave-one-business-out over {len(groups)} businesses, "
             f"{int(scored.sum())} single-turn questions:"]
    for name, pred in (("rules, then examples", rules), ("rules, then learned", learned)):
        ok = (pred == y) & scored
        per = "  ".join(f"{c} {int(ok[(y == k) & scored].sum())}/{int(((y == k) & scored).sum())}"
                        for k, c in enumerate(CLASSES))
        lines.append(f"  {name:22} {int(ok.sum())}/{int(scored.sum())} "
                     f"({100 * ok.sum() / scored.sum():.1f} %)   {per}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train the learned tool router.")
    parser.add_argument("--out", type=Path, default=ROUTER_FILE)
    parser.add_argument("--cv", action="store_true",
                        help="also print leave-one-business-out accuracy")
    args = parser.parse_args(argv)
    from doppel.models import load_embedder

    settings = Settings()
    embedder = load_embedder(settings)
    examples = training_examples()
    vectors = np.asarray(embedder.embed([e.text for e in examples]), dtype=np.float64)
    router = train(examples, vectors, embedder.name)
    if args.cv:
        report = cross_validate(examples, vectors,
                                lambda texts: np.asarray(embedder.embed(texts)),
                                settings.tool_route_similarity)
        print(report)
        router.recipe["cross_validation"] = report.splitlines()
    router.save(args.out)
    print(f"wrote {args.out} ({len(examples)} examples, {args.out.stat().st_size:,} bytes)",
          file=sys.stderr)


if __name__ == "__main__":
    main()
