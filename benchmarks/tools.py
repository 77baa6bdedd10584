"""Tools on the embedded default: the right tool, valid arguments and no wrong fact on the
tool evaluation set (examples/eval/tools), and what a tool step costs a turn.

    .venv/bin/python benchmarks/tools.py [--split dev|heldout|heldout2|...|heldout5|all]
        [--json OUT]

Prints per agent: right tool chosen, arguments as expected, right answers, wrong facts shown;
then the routing time (rule + MiniLM similarity to each tool's examples, p50/p95), the tool's
own run time, and the overhead of the tools step on turns that need no tool: the same `none`
questions with the agent's tools on and off, in the same run (ratio of p50s).

Targets (issue 14, held-out half): right tool >= 95 %, arguments valid 100 %, wrong facts 0.
`heldout` (examples/eval/tools/heldout) was looked at after its first run and is tuned on now;
`heldout2` (examples/eval/heldout2: three businesses written afterwards, content included,
without reading the code) was reported by its first run and then only by per-tool counts;
`heldout3` (three more, written after that) was reported on that session's final code;
`heldout4` by its first run (on the code before the next changes), `heldout5` (written while
those changes were made, run once on them). `heldout2` and `heldout3` have been training data
for the learned tool router since it was introduced (doppel/evaluation/router.py);
`heldout4`, `heldout5` and `heldout6` (written before the router was run on it) are the sets
reported now. None of those three was read question by question: only counts by tool.
DOPPEL_TOOL_ROUTER=0 runs the same sets without the learned router (the baseline).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from doppel.config import Settings  # noqa: E402
from doppel.evaluation.tools import (  # noqa: E402
    ToolReport,
    format_tool_table,
    load_tool_sets,
    run_tool_set,
)
from doppel.service import Doppel  # noqa: E402


def pct(values: list[float], q: float) -> float:
    values = sorted(v for v in values if v is not None)
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def overhead(app: Doppel, reports: list[ToolReport], repeats: int = 3) -> tuple[float, float]:
    """p50 turn time (ms) of the sets' `none` questions with tools on, then off."""
    on: list[float] = []
    off: list[float] = []
    for agent in app.agents.list():
        if not agent.slug.startswith("tools-"):
            continue
        names = {c.question for r in reports for c in r.cases if c.expected == "none"
                 and "/" not in c.question}
        spec_on = agent.spec
        spec_off = spec_on.model_copy(update={"tools": {}})
        for spec, out in ((spec_on, on), (spec_off, off)):
            app.agents.update(spec)
            current = app.agents.get(agent.slug)
            for _ in range(repeats):
                for q in sorted(names):
                    started = time.perf_counter()
                    asyncio.run(app.runtime.turn(current, q, f"bench-{time.monotonic_ns()}"))
                    out.append((time.perf_counter() - started) * 1000)
        app.agents.update(spec_on)
    return statistics.median(on) if on else float("nan"), (
        statistics.median(off) if off else float("nan"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="all",
                        choices=["dev", "heldout", "heldout2", "heldout3", "heldout4",
                                 "heldout5", "heldout6", "all"])
    parser.add_argument("--json", type=Path, default=None, help="write every case here")
    parser.add_argument("--quiet", action="store_true", help="no per-question lines")
    args = parser.parse_args()

    sets = load_tool_sets(ROOT / "examples/eval/tools") if args.split in (
        "dev", "heldout", "all") else []
    for extra in ("heldout2", "heldout3", "heldout4", "heldout5", "heldout6"):
        if args.split in (extra, "all") and (ROOT / "examples/eval" / extra).is_dir():
            sets += load_tool_sets(ROOT / "examples/eval" / extra)
    sets = [s for s in sets if args.split == "all" or s.split == args.split]
    tmp = tempfile.TemporaryDirectory(prefix="doppel-tools-")
    base = Settings()
    app = Doppel(Settings(home=Path(tmp.name), models_home=base.models_dir,
                          fetch_allow="127.0.0.1"))
    reports: list[ToolReport] = []
    for ts in sets:
        def show(case: object) -> None:
            if not args.quiet:
                c = case  # a ToolCase
                mark = "ok " if c.right else "BAD"  # type: ignore[attr-defined]
                print(f"  {mark} {c.id} want={c.expected} got={c.chosen} "  # type: ignore
                      f"| {c.question[:70]} -> {c.answer[:110]}", flush=True)  # type: ignore
        print(f"{ts.name} ({ts.split}): {len(ts.questions)} questions", flush=True)
        reports.append(run_tool_set(app, ts, show))
    print()
    print(format_tool_table(reports))
    routes = [c.route_ms for r in reports for c in r.cases if c.route_ms is not None]
    runs = [c.tool_ms for r in reports for c in r.cases if c.tool_ms is not None]
    print(f"routing (rule, learned router, examples)  p50 {pct(routes, .5):7.2f} ms  "
          f"p95 {pct(routes, .95):7.2f} ms  (n={len(routes)})")
    print(f"tool run                                 p50 {pct(runs, .5):7.2f} ms  "
          f"p95 {pct(runs, .95):7.2f} ms  (n={len(runs)})")
    with_tools, without = overhead(app, reports)
    print(f"turns needing no tool, p50: tools on {with_tools:.1f} ms, off {without:.1f} ms "
          f"(x{with_tools / without:.2f})")
    if args.json:
        args.json.write_text(json.dumps([r.to_dict() for r in reports], indent=1))
    app.close()


if __name__ == "__main__":
    main()
