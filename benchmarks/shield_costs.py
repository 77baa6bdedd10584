"""What each shield costs, per message (input) and per sentence (output), on this CPU.

Every default shield's `inspect` is called directly, one message at a time, on the messages a
turn really screens: the bakery's questions and the held-out safety set's benign messages
(input), and sentences of the demo's content (output). The message's MiniLM vector is computed
once beforehand and shared, as a turn shares it with retrieval; embedding it is reported as a
line of its own. Also: what the whole input screen costs per message (all input shields, as
the turn's gate runs them), and what fraction of messages reach jailguard when it is gated.

    .venv/bin/python benchmarks/shield_costs.py [--messages 200] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from doppel.config import Settings  # noqa: E402
from doppel.safety.base import ShieldContext  # noqa: E402
from doppel.safety.policy import DEFAULT_INPUT, DEFAULT_OUTPUT, ShieldPolicy  # noqa: E402
from doppel.service import Doppel  # noqa: E402


def timed(fn: Any, items: list[Any], repeats: int = 3) -> float:
    """Mean microseconds per item, the best of `repeats` passes (the machine's noise out)."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for item in items:
            fn(item)
        best = min(best, (time.perf_counter() - started) / len(items))
    return best * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    models = Path(os.environ.get("DOPPEL_MODELS_HOME")
                  or Path(os.environ.get("DOPPEL_HOME") or ROOT / ".doppel") / "models")
    app = Doppel(Settings(home=Path(tempfile.mkdtemp(prefix="doppel-shield-costs-")),
                          models_home=models))
    questions = [q["question"] for q in
                 yaml.safe_load((ROOT / "examples/eval/bakery.yaml").read_text())["answerable"]]
    safety = yaml.safe_load((ROOT / "examples/eval/safety.yaml").read_text())
    messages = (questions + list(safety["benign"]))[:args.messages]
    sentences = [s.strip() + "." for f in sorted((ROOT / "examples/bakery").glob("*.md"))
                 for s in f.read_text().replace("\n", " ").split(".") if len(s.split()) > 4]
    sentences = sentences[:args.messages]
    policy = ShieldPolicy()
    embedder = app.embedder
    app.shields.services.safety_models()  # trained or loaded once, before timing
    vectors = {t: v for t, v in zip(messages + sentences,
                                    embedder.embed(messages + sentences), strict=True)}

    def ctx(stage: str, text: str) -> ShieldContext:
        c = ShieldContext(stage, text, policy, "Bakery", embed=lambda t: vectors[t])  # type: ignore[arg-type]
        c.embedding()
        return c

    rows: dict[str, float] = {"embed (MiniLM, one message)": timed(
        lambda t: embedder.embed([t]), messages)}
    for name in DEFAULT_INPUT:
        shield = app.shields.shield(name)
        shield.inspect(ctx("input", messages[0]))  # type: ignore[attr-defined]  # warm
        rows[f"input  {name}"] = timed(
            lambda t, s=shield: s.inspect(ctx("input", t)), messages)  # type: ignore[misc]
    for name in DEFAULT_OUTPUT:
        shield = app.shields.shield(name)
        shield.inspect(ctx("output", sentences[0]))  # type: ignore[attr-defined]
        rows[f"output {name} (per sentence)"] = timed(
            lambda t, s=shield: s.inspect(ctx("output", t)), sentences)  # type: ignore[misc]

    import asyncio

    async def screen_all() -> float:
        started = time.perf_counter()
        for m in messages:
            await app.shields.check_input(policy, m, ctx=ctx("input", m))
        return (time.perf_counter() - started) / len(messages) * 1e6

    rows["input screen, all shields (check_input)"] = min(asyncio.run(screen_all())
                                                          for _ in range(3))
    gated = getattr(app.shields.shield("jailguard"), "calls", None)
    width = max(map(len, rows))
    print(f"{'':{width}}  mean per item")
    for label, us in rows.items():
        print(f"{label:{width}}  {us / 1000:8.3f} ms")
    print(f"messages: {len(messages)}, sentences: {len(sentences)}, cpus: {os.cpu_count()}")
    if gated is not None:
        print(f"jailguard ran on {gated} of the screened messages")
    if args.json:
        args.json.write_text(json.dumps({k: v / 1000 for k, v in rows.items()}, indent=1))
    app.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
