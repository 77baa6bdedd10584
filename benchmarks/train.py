"""LoRA training speed and memory: seconds per 100 examples per epoch, and peak RSS.

Trains the real student (doppel.distill.train, defaults: r=8 on q/k/v/o, fp32 on CPU) on N
synthetic examples shaped like distillation data: a system prompt holding a retrieved passage
(~150 tokens), a question and a one- or two-sentence answer, about 200 tokens each under the
max_len of 256. A fresh output folder every run, so nothing resumes. Peak RSS is the process's
(model, optimizer, activations and the Python around them); the load average is printed because
on a shared machine it explains most of the spread.

    .venv/bin/python benchmarks/train.py [--examples 40] [--epochs 1] [--batch 4] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from doppel.config import Settings  # noqa: E402
from doppel.distill.train import TrainConfig, train  # noqa: E402

PASSAGE = (
    "Juniper & Rye is a neighbourhood bakery at 14 Mill Street. We bake country sourdough, rye, "
    "baguettes and laminated pastries every morning from 5 am. The shop opens at 7 am on weekdays "
    "and 8 am on weekends, and closes when the bread runs out, usually around 3 pm. Whole cakes "
    "are made to order with two days' notice; we can do nut-free but not gluten-free, because "
    "flour is everywhere in the kitchen. Gift cards are sold at the counter in any amount. "
    "Wholesale orders for cafés are delivered on Tuesdays and Fridays within five miles."
)
QUESTIONS = [
    ("When do you open on {day}?", "On {day} we open at {hour} am and close when the bread "
     "runs out, usually around 3 pm."),
    ("Can I order a {item} for {day}?", "Yes, a {item} can be ready on {day} if you order it two "
     "days ahead; we can make it nut-free."),
    ("Do you deliver {item}s to cafés?", "We deliver wholesale orders, {item}s included, on "
     "Tuesdays and Fridays within five miles."),
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
ITEMS = ["sourdough loaf", "rye loaf", "baguette", "birthday cake", "croissant box"]


def synthetic_examples(n: int) -> list[dict[str, object]]:
    examples: list[dict[str, object]] = []
    for i in range(n):
        question, answer = QUESTIONS[i % len(QUESTIONS)]
        fill = {"day": DAYS[i % len(DAYS)], "item": ITEMS[i % len(ITEMS)],
                "hour": 7 if i % 7 < 5 else 8}
        examples.append({
            "system": f'You answer for Juniper & Rye. Use only this passage:\n"""{PASSAGE}"""',
            "messages": [{"role": "user", "content": question.format(**fill)}],
            "answer": answer.format(**fill)})
    return examples


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--examples", type=int, default=40)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--max-len", type=int, default=256)
    parser.add_argument("--threads", type=int, default=None, help="default: DOPPEL_N_THREADS")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    models = Path(os.environ.get("DOPPEL_HOME") or ROOT / ".doppel") / "models"
    settings = Settings(home=Path(tempfile.mkdtemp(prefix="doppel-bench-train-")),
                        models_home=models)
    if args.threads:
        settings.n_threads = args.threads
    examples = synthetic_examples(args.examples)
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch, max_len=args.max_len,
                         checkpoint_every=10**9)  # only the epoch-end checkpoints
    result = train(examples, settings.home / "run", settings, config, progress=not args.json,
                   log=lambda m: print(m, file=sys.stderr))
    report = result.report
    done = args.examples * args.epochs
    figures = {
        "examples": args.examples, "epochs": args.epochs, "batch_size": args.batch,
        "max_len": args.max_len, "device": report["device"], "threads": settings.n_threads,
        "steps": result.steps, "seconds": result.seconds,
        "s_per_step": report["s_per_step"],
        "s_per_100_examples_per_epoch": result.seconds / done * 100,
        "examples_per_s": result.examples_per_s,
        "peak_rss_mb": result.peak_rss_mb,
        "first_loss": result.losses[0], "last_loss": result.losses[-1],
        "load_average_1m": os.getloadavg()[0], "cpus": os.cpu_count(),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"{args.examples} examples x {args.epochs} epoch(s), batch {args.batch}, max_len "
          f"{args.max_len}, {figures['device']}, {settings.n_threads} threads")
    print(f"steps: {result.steps}, {figures['s_per_step']:.2f} s/step, "
          f"{result.examples_per_s:.2f} examples/s")
    print(f"seconds per 100 examples per epoch: {figures['s_per_100_examples_per_epoch']:.1f}")
    print(f"peak RSS: {result.peak_rss_mb:,.0f} MB")
    print(f"loss: {figures['first_loss']:.3f} -> {figures['last_loss']:.3f}; load average "
          f"{figures['load_average_1m']:.1f} on {figures['cpus']} CPUs")


if __name__ == "__main__":
    main()
