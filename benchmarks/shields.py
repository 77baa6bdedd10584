"""Added latency of the default shield set per turn, and classifier throughput.

Latency: the demo agent (real MiniLM embedder, real shields) answers every question of
examples/eval/bakery.yaml plus the held-out safety set's benign messages, twice per message in
alternating order: once with shields on, once off (DOPPEL_SHIELDS semantics), in the same run.
The chat model is a fake that answers instantly with a grounded two-sentence reply, so the
difference is the shields' cost and nothing else. Reported per turn: the paired difference
(p50/p95), and the runtime's own marks (time spent waiting for input shields after retrieval,
time in output shields). Target: p95 added <= 40 ms on CPU.

Throughput: the embedded classifier on precomputed MiniLM vectors (batch), with embedding, and
jailguard, in messages per second.

    .venv/bin/python benchmarks/shields.py [--rounds 2] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from doppel.config import Settings  # noqa: E402
from doppel.demo import DEMO_SLUG, build_demo  # noqa: E402
from doppel.service import Doppel  # noqa: E402
from doppel.testing import FakeChatBackend  # noqa: E402


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def grounded_reply(messages) -> str:  # type: ignore[no-untyped-def]
    """Two sentences copied from the first passage: passes grounding, exercises output shields."""
    system = messages[0].content
    body = system.split('"""')[1] if '"""' in system else system
    lines = [ln.strip() for ln in body.splitlines() if len(ln.strip()) > 20][:2]
    return " ".join(ln.rstrip(".") + "." for ln in lines) or "Sorry."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="doppel-bench-shields-"))
    models = Path(os.environ.get("DOPPEL_HOME") or ROOT / ".doppel") / "models"
    on = Doppel(Settings(home=home, models_home=models, seed=1),
                backend=FakeChatBackend(grounded_reply))
    off = Doppel(Settings(home=home, models_home=models, seed=1, shields=False),
                 backend=FakeChatBackend(grounded_reply), embedder=on.embedder)
    import contextlib
    import io
    with contextlib.redirect_stdout(io.StringIO()):
        build_demo(on)
    agent = on.agents.get(DEMO_SLUG)
    questions = [q["question"] for q in
                 yaml.safe_load((ROOT / "examples/eval/bakery.yaml").read_text())["answerable"]]
    safety = yaml.safe_load((ROOT / "examples/eval/safety.yaml").read_text())
    messages = questions + list(safety["benign"])

    async def turn(app: Doppel, message: str, thread: str) -> tuple[float, dict[str, float]]:
        started = time.perf_counter()
        result = await app.runtime.turn(agent, message, thread)
        return (time.perf_counter() - started) * 1000, result.timings

    async def run() -> dict[str, object]:
        # Warm-up: classifier, jailguard session, vector cache.
        for app in (on, off):
            for m in messages[:5]:
                await turn(app, m, "warm")
        added, wait, output, with_s, without_s = [], [], [], [], []
        for r in range(args.rounds):
            for i, m in enumerate(messages):
                order = (on, off) if (i + r) % 2 == 0 else (off, on)
                times = {}
                for app in order:
                    ms, timings = await turn(app, m, f"t{r}-{i}")
                    times[app is on] = ms
                    if app is on:
                        wait.append(timings.get("shields_wait_ms", 0.0))
                        output.append(timings.get("shields_output_ms", 0.0))
                with_s.append(times[True])
                without_s.append(times[False])
                added.append(times[True] - times[False])
        return {"turns": len(added), "added_ms": {"p50": pct(added, .5), "p95": pct(added, .95)},
                "turn_ms_with_shields": {"p50": pct(with_s, .5), "p95": pct(with_s, .95)},
                "turn_ms_without": {"p50": pct(without_s, .5), "p95": pct(without_s, .95)},
                "input_wait_ms": {"p50": pct(wait, .5), "p95": pct(wait, .95)},
                "output_ms": {"p50": pct(output, .5), "p95": pct(output, .95)},
                "added_plus_marks_p95": pct([a + b for a, b in zip(wait, output)], .95)}

    latency = asyncio.run(run())

    # Throughput.
    models_ = on.shields.services.safety_models()
    texts = [*messages, *(h["text"] for h in safety["hazard"])]
    vectors = on.embedder.embed(texts)
    started = time.perf_counter()
    for _ in range(20):
        models_.hazard_probs(texts, vectors)
    clf_batch = 20 * len(texts) / (time.perf_counter() - started)
    started = time.perf_counter()
    for t in texts[:200]:
        models_.hazard_probs([t], on.embedder.embed([t]))
    clf_single = 200 / (time.perf_counter() - started)
    jg = on.shields.shield("jailguard")
    jg._load()  # type: ignore[attr-defined]
    import jailguard
    started = time.perf_counter()
    for t in texts[:100]:
        jailguard.score(t)
    jg_rate = 100 / (time.perf_counter() - started)
    result = {"latency": latency, "throughput_msgs_per_s": {
        "classifier_on_vectors_batch": clf_batch, "classifier_with_embedding_one_by_one":
        clf_single, "jailguard_one_by_one": jg_rate}, "cpus": os.cpu_count()}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    lat = latency
    print(f"turns measured: {lat['turns']} (each with and without shields, paired)")
    print(f"turn p50/p95 without shields: {lat['turn_ms_without']['p50']:.1f} / "
          f"{lat['turn_ms_without']['p95']:.1f} ms")
    print(f"turn p50/p95 with shields:    {lat['turn_ms_with_shields']['p50']:.1f} / "
          f"{lat['turn_ms_with_shields']['p95']:.1f} ms")
    print(f"added per turn (paired):      p50 {lat['added_ms']['p50']:.1f} ms, "
          f"p95 {lat['added_ms']['p95']:.1f} ms   (target p95 <= 40 ms)")
    print(f"  waiting on input shields:   p50 {lat['input_wait_ms']['p50']:.1f}, "
          f"p95 {lat['input_wait_ms']['p95']:.1f} ms (they run alongside retrieval)")
    print(f"  output shields, all sentences: p50 {lat['output_ms']['p50']:.1f}, "
          f"p95 {lat['output_ms']['p95']:.1f} ms")
    tp = result["throughput_msgs_per_s"]
    print(f"classifier: {tp['classifier_on_vectors_batch']:,.0f} msgs/s given MiniLM vectors "
          f"(batch, incl. word features), "
          f"{tp['classifier_with_embedding_one_by_one']:,.0f} msgs/s with embedding; "
          f"jailguard {tp['jailguard_one_by_one']:,.0f} msgs/s")


if __name__ == "__main__":
    main()
