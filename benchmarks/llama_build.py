"""Prompt and generation speed of each portable llama.cpp build, measured in the same run.

doppel builds llama-cpp-python per CPU family (doppel/models/llamabuild.py): x86-64-avx2 is
the default on x86-64; x86-64-avx512 (AVX-512 F/CD/VL/DQ/BW + VBMI + VNNI, never AMX) would be
chosen by the CPU check only if it is measurably faster. This script answers that: each built
wheel is installed into a scratch folder of its own and a child process per build loads the
prepared model (SmolLM2-135M Q8_0, the one doppel serves) and the packaged Q4_1, then times

- prompt processing: a fixed ~400-token prompt evaluated from an empty KV cache (tokens/s),
- generation: 96 greedy tokens after it (tokens/s),

alternating builds round by round (A B A B ...) so drift on a shared machine hits both alike.
Reported per build: the median over rounds, and each build's ratio to x86-64-avx2.

    .venv/bin/python benchmarks/llama_build.py [--rounds 5] [--flavors x86-64-avx2,x86-64-avx512]
      [--build]   compile a missing flavor's wheel first (~8-11 min each on 2 cores)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from doppel.config import Settings  # noqa: E402
from doppel.models import llamabuild  # noqa: E402
from doppel.models.prepare import model_paths, shipped_chat_gguf  # noqa: E402

# The child: one build, one model, one round. Printed as one JSON line.
CHILD = r"""
import json, sys, time
import llama_cpp
model_path, threads = sys.argv[1], int(sys.argv[2])
llm = llama_cpp.Llama(model_path=model_path, n_ctx=2048, n_threads=threads,
                      n_threads_batch=threads, verbose=False, seed=1)
text = ("Juniper & Rye is a neighbourhood bakery. We bake sourdough, rye and croissants every "
        "morning from 6am. Prices: Country Sourdough $9.00, Almond Croissant $5.25. ") * 9
tokens = llm.tokenize(text.encode())[:400]
llm.reset()
t0 = time.perf_counter(); llm.eval(tokens); t1 = time.perf_counter()
out = 0
t2 = time.perf_counter()
for tok in llm.generate(tokens, temp=0.0, top_k=1, reset=False):
    out += 1
    if out >= 96:
        break
t3 = time.perf_counter()
info = llama_cpp.llama_print_system_info().decode()
print(json.dumps({"prompt_tokens": len(tokens), "prompt_tps": len(tokens) / (t1 - t0),
                  "gen_tokens": out, "gen_tps": out / (t3 - t2), "system_info": info}))
"""


def install(flavor: llamabuild.Flavor, wheelhouse: Path, scratch: Path, build: bool) -> Path | None:
    wheel = llamabuild._find_wheel(llamabuild.wheel_dir(wheelhouse, flavor))
    if wheel is None and build:
        wheel = llamabuild.build_wheel(wheelhouse, flavor, sys.executable)
    if wheel is None:
        return None
    target = scratch / flavor.name
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-cache-dir",
                    "--target", str(target), str(wheel)], check=True)
    return target


def one(site: Path, model: Path, threads: int) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(site))
    out = subprocess.run([sys.executable, "-c", CHILD, str(model), str(threads)], env=env,
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--flavors", default="x86-64-avx2,x86-64-avx512")
    parser.add_argument("--build", action="store_true", help="compile missing wheels first")
    parser.add_argument("--wheelhouse", type=Path, default=Path(
        os.environ.get("DOPPEL_WHEELHOUSE") or Path.home() / ".cache" / "doppel" / "wheels"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    flags = llamabuild.cpu_flags()
    models = {"Q8_0 (served)": model_paths(Settings()).chat, "Q4_1 (packaged)": shipped_chat_gguf()}
    models = {name: path for name, path in models.items() if path.is_file()}
    if not models:
        print("no model found: run `make models` first", file=sys.stderr)
        return 2
    results: dict[str, dict[str, dict[str, list[float]]]] = {}
    with tempfile.TemporaryDirectory(prefix="doppel-llama-bench-") as tmp:
        sites: dict[str, Path] = {}
        for name in args.flavors.split(","):
            flavor = llamabuild.choose_flavor(flags, override=name.strip())
            if not flavor.requires <= flags:
                print(f"skip {flavor.name}: this CPU lacks {sorted(flavor.requires - flags)}")
                continue
            site = install(flavor, args.wheelhouse, Path(tmp), args.build)
            if site is None:
                print(f"skip {flavor.name}: no wheel in {args.wheelhouse} (use --build)")
                continue
            sites[flavor.name] = site
        for _ in range(args.rounds):
            for model_name, model in models.items():
                for flavor_name, site in sites.items():  # alternate builds within each round
                    r = one(site, model, args.threads)
                    slot = results.setdefault(flavor_name, {}).setdefault(
                        model_name, {"prompt_tps": [], "gen_tps": []})
                    slot["prompt_tps"].append(r["prompt_tps"])
                    slot["gen_tps"].append(r["gen_tps"])
                    if "AMX" in r["system_info"] and "AMX_INT8 = 1" in r["system_info"]:
                        print(f"WARNING: {flavor_name} reports AMX: {r['system_info']}")

    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    summary = {"cpu": cpu, "threads": args.threads, "rounds": args.rounds, "builds": {}}
    base = results.get("x86-64-avx2", {})
    for flavor_name, per_model in results.items():
        summary["builds"][flavor_name] = {}
        for model_name, series in per_model.items():
            row = {k: round(statistics.median(v), 1) for k, v in series.items()}
            if base and model_name in base:
                for k in ("prompt_tps", "gen_tps"):
                    row[k + "_vs_avx2"] = round(statistics.median(series[k])
                                                / statistics.median(base[model_name][k]), 3)
            summary["builds"][flavor_name][model_name] = row
    if args.json:
        print(json.dumps(summary, indent=1))
        return 0
    print(f"CPU: {cpu}; {args.threads} threads; median of {args.rounds} alternating rounds")
    print(f"{'build':16} {'model':16} {'prompt tok/s':>13} {'gen tok/s':>10} "
          f"{'prompt ×avx2':>13} {'gen ×avx2':>10}")
    for flavor_name, per_model in summary["builds"].items():
        for model_name, row in per_model.items():
            print(f"{flavor_name:16} {model_name:16} {row['prompt_tps']:13.1f} "
                  f"{row['gen_tps']:10.1f} {row.get('prompt_tps_vs_avx2', 1.0):13.3f} "
                  f"{row.get('gen_tps_vs_avx2', 1.0):10.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
