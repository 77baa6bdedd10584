"""Answer quality and the time to the first visible sentence, on agents no one tuned on.

Runs `doppel eval answers` on the evaluation suite (examples/eval/suite: a dev half that may be
tuned on and a held-out half that is only reported; examples/eval/answers-heldout2: a second
held-out set written after the third round, never read) and on the bakery demo set the early
thresholds were tuned on, every question through a real turn on the embedded model, and prints
per agent: right, wrong facts shown, natural replies, honest don't-knows, over-refusals and
the answer paths; then the time to the first visible sentence (p50/p95, client-side within the
process: from the turn's start to the first text shown) per path, and the composer's own cost.

    .venv/bin/python benchmarks/answers.py [--split dev|heldout|heldout2|heldout3|bakery|all]
        [--json OUT]

Targets (issue 13, held-out half): wrong facts 0; right >= 90 %; natural >= 80 % of right;
honest don't-know >= 90 %; benign refused <= 2 %; first visible sentence <= 500 ms p50.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from doppel.config import Settings  # noqa: E402
from doppel.evaluation.answers import (  # noqa: E402
    AgentReport,
    format_table,
    load_suite,
    run_agent,
)
from doppel.service import Doppel  # noqa: E402


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="all",
                        choices=["dev", "heldout", "heldout2", "heldout3", "bakery", "all"])
    parser.add_argument("--json", type=Path, default=None, help="write every reply here")
    args = parser.parse_args()

    evals = []
    if args.split in ("bakery", "all"):
        evals += load_suite(ROOT / "examples/eval/bakery.yaml")
    if args.split in ("dev", "heldout", "all"):
        evals += [e for e in load_suite(ROOT / "examples/eval/suite")
                  if args.split == "all" or e.split == args.split]
    if args.split in ("heldout2", "all"):  # held out for the third round, tuned on since
        evals += load_suite(ROOT / "examples/eval/answers-heldout2")
    if args.split in ("heldout3", "all"):  # written before the fourth round: never tuned on
        evals += load_suite(ROOT / "examples/eval/answers-heldout3")

    tmp = tempfile.TemporaryDirectory(prefix="doppel-answers-")
    base = Settings()
    app = Doppel(Settings(home=Path(tmp.name), models_home=base.models_dir))
    reports: list[AgentReport] = []
    for ev in evals:
        print(f"{ev.name} ({ev.split}): {len(ev.questions)} questions", file=sys.stderr)
        reports.append(run_agent(app, ev))
    print(format_table(reports))

    print("\nfirst visible sentence, ms from the turn's start (answers that showed text):")
    print(f"{'split':8} {'path':11} {'n':>4} {'p50':>8} {'p95':>8}")
    for split in sorted({r.split for r in reports}):
        cases = [c for r in reports if r.split == split for c in r.cases
                 if c.first_visible_ms is not None]
        for path in sorted({c.path for c in cases}) + ["all"]:
            values = [float(c.first_visible_ms) for c in cases  # type: ignore[arg-type]
                      if path == "all" or c.path == path]
            print(f"{split:8} {path:11} {len(values):4} {pct(values, .5):8.1f} "
                  f"{pct(values, .95):8.1f}")
    if args.json is not None:
        args.json.write_text(json.dumps([r.to_dict() for r in reports], indent=1))
    composer_cost(app)
    app.close()


def composer_cost(app: Doppel) -> None:
    """What binding and composing add to a turn: compose() over a turn's 8 passages for the
    bakery's questions, with the units parsed cold (a passage seen for the first time) and
    warm (cached, as for a passage retrieved before), and the sentence search (one MiniLM
    batch over the candidate sentences) on its own."""
    import time

    import yaml

    from doppel.agents.compose import compose
    from doppel.demo import DEMO_SLUG, EXAMPLES, build_demo
    from doppel.language import bound

    if app.agents.find(DEMO_SLUG) is None:
        import contextlib
        import io
        with contextlib.redirect_stdout(io.StringIO()):
            build_demo(app, EXAMPLES)
    agent = app.agents.get(DEMO_SLUG)
    questions = [q["question"] for q in yaml.safe_load(
        (ROOT / "examples/eval/bakery.yaml").read_text())["answerable"]]
    index = app.index

    def similarity(question: str, texts: list[str]) -> list[float]:
        # as the turn does: the question embedded, the sentences from the index's cache
        return [float(x) for x in index.embed_sentences(texts) @ index.embed_query(question)]

    cold, warm, search_cold, search_warm = [], [], [], []
    for q in questions:
        passages = app.index.search(agent.id, q, app.settings.compose_passages)
        bound._parse.cache_clear()
        for bucket in (cold, warm):
            started = time.perf_counter()
            compose(q, passages, agent.spec)
            bucket.append((time.perf_counter() - started) * 1000)
        index._sentences.clear()
        for bucket in (search_cold, search_warm):
            started = time.perf_counter()
            compose(q, passages, agent.spec, sentence_ok=True,
                    similarity=similarity)  # type: ignore[arg-type]
            bucket.append((time.perf_counter() - started) * 1000)
    print("\ncomposer cost per turn, ms (bakery questions, 8 passages each):")
    for name, values in (("bound facts, units parsed cold", cold),
                         ("bound facts, units cached", warm),
                         ("sentence search, sentences new", search_cold),
                         ("sentence search, vectors cached", search_warm)):
        print(f"  {name:36} p50 {pct(values, .5):7.2f}  p95 {pct(values, .95):7.2f}")


if __name__ == "__main__":
    main()
