"""Serving benchmarks, over real HTTP to a real uvicorn server in its own process.

1. Throughput: persisted chat turns per second at 1, 8 and 64 concurrent clients, and p50/p95
   latency, with the fake chat backend (so the figure is doppel's own serving cost: HTTP,
   auth, limits, retrieval, prompt, grounding, SQLite persist). Run once with the fake
   embedder (target >= 500 turns/s on 2 cores) and once with the real MiniLM embedder.
2. The embedded model through the server vs llama-cpp-python called directly with the same
   prompt, sampling, seed and output length: tokens/s ratio (target >= 0.95) and time to first
   token (streaming, client side), with composed answers off so every turn drafts; and, served
   as by default, the first text a customer sees for every answered question, composed
   answers included (target <= 500 ms p50).

    .venv/bin/python benchmarks/api.py [--seconds 5] [--questions 12] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUESTION = "How much is an almond croissant?"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- the server process ---------------------------------------------------------------------

def service(home: str, mode: str):  # type: ignore[no-untyped-def]
    """The Doppel service a benchmark server runs: real models, or the shipped fakes."""
    from doppel.config import Settings
    from doppel.service import Doppel
    from doppel.testing import FakeChatBackend, FakeEmbedder

    settings = Settings(home=Path(home), models_home=Settings().models_dir, seed=1234)
    if mode == "embedded":
        return Doppel(settings)
    fake_embedder = mode.startswith("fake") and "real-embedder" not in mode
    if fake_embedder:
        settings.min_relevance = 0.05  # the fake embedder's cosine is plain word overlap
    return Doppel(settings, backend=FakeChatBackend(["An Almond Croissant is $5.25."]),
                  embedder=FakeEmbedder() if fake_embedder else None)


def worker_app():  # type: ignore[no-untyped-def]
    """App factory for multi-process serving (uvicorn --workers imports it by name)."""
    from doppel.serve import create_app

    return create_app(doppel=service(os.environ["BENCH_HOME"], os.environ["BENCH_MODE"]))


def serve(home: str, port: int, mode: str) -> None:
    """Runs in the child process: build the agent and serve it (mode 'fake-2w': 2 workers)."""
    import uvicorn

    from doppel.demo import EXAMPLES, build_demo
    from doppel.serve import create_app

    app = service(home, mode)
    build_demo(app, EXAMPLES)
    if mode.endswith("-2w"):
        os.environ |= {"BENCH_HOME": home, "BENCH_MODE": mode}
        uvicorn.run("api:worker_app", factory=True, app_dir=str(Path(__file__).parent),
                    host="127.0.0.1", port=port, workers=2, log_level="error",
                    access_log=False)
        return
    uvicorn.run(create_app(doppel=app), host="127.0.0.1", port=port, log_level="error",
                access_log=False)


def stream_turn(base: str, question: str, user: str
                ) -> tuple[float | None, float, dict[str, int], dict[str, object]]:
    """One streamed turn to the demo agent, client side: (seconds to the first text or None,
    seconds in all, the usage, doppel's extra fields)."""
    started = time.perf_counter()
    first: float | None = None
    usage: dict[str, int] = {}
    extra: dict[str, object] = {}
    with httpx.stream("POST", f"{base}/v1/chat/completions", timeout=120, json={
            "model": "juniper-rye", "stream": True, "user": user,
            "stream_options": {"include_usage": True},
            "messages": [{"role": "user", "content": question}]}) as r:
        for line in r.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            event = json.loads(line[6:])
            choices = event.get("choices") or []
            if choices and choices[0]["delta"].get("content") and first is None:
                first = time.perf_counter() - started
            usage = event.get("usage") or usage
            extra = event.get("doppel") or extra
    return first, time.perf_counter() - started, usage, extra


class Server:
    """A benchmark's server: `script --serve HOME PORT MODE` in its own process, ready when
    /readyz says so (benchmarks/channels.py runs its own script the same way)."""

    script = __file__
    ready_s = 180.0

    def __init__(self, mode: str, env: dict[str, str] | None = None,
                 home: str | None = None) -> None:
        """`home`: an existing data directory, kept afterwards (a restart on the same data);
        default: a temporary one, removed when the server stops."""
        self.mode = mode
        self.env = env or {}
        self.home: Any = (tempfile.TemporaryDirectory(prefix="doppel-api-bench-")
                          if home is None else SimpleNamespace(name=home, cleanup=lambda: None))
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        env = os.environ | {
            "DOPPEL_RATE_PER_KEY_PER_MINUTE": "100000000",
            "DOPPEL_RATE_PER_USER_PER_MINUTE": "100000000",
            "DOPPEL_QUEUE_MAX_WAITING": "10000", "PYTHONUNBUFFERED": "1"} | self.env
        self.proc = subprocess.Popen(
            [sys.executable, self.script, "--serve", self.home.name, str(self.port), self.mode],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + self.ready_s
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(self.proc.stderr.read().decode()[-2000:])  # type: ignore
            time.sleep(0.2)
        raise RuntimeError("server did not become ready")

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)
        self.home.cleanup()


# --- 1. throughput ----------------------------------------------------------------------------

async def load(base: str, clients: int, seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
        async def worker(i: int) -> None:
            nonlocal errors
            n = 0
            while time.perf_counter() < stop:
                started = time.perf_counter()
                r = await http.post("/v1/chat/completions", json={
                    "model": "juniper-rye", "user": f"bench-{i}-{n % 4}",
                    "messages": [{"role": "user", "content": QUESTION}]})
                if r.status_code == 200:
                    latencies.append(time.perf_counter() - started)
                else:
                    errors += 1
                n += 1

        began = time.perf_counter()
        await asyncio.gather(*[worker(i) for i in range(clients)])
        elapsed = time.perf_counter() - began
    latencies.sort()
    return {"clients": clients, "turns": len(latencies), "errors": errors,
            "turns_per_s": round(len(latencies) / elapsed, 1),
            "p50_ms": round(statistics.median(latencies) * 1000, 2) if latencies else 0,
            "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))] * 1000, 2)
            if latencies else 0}


WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model": "juniper-rye", "user": "wrk", "messages": [{"role": "user", "content": "%s"}]}'
done = function(summary, latency, requests)
  io.write(string.format("RESULT %%d %%d %%.3f %%.3f %%d\\n", summary.requests,
    summary.duration, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    summary.errors.status))
end
""" % QUESTION  # noqa: E501  # the Lua body is one line


def load_wrk(base: str, clients: int, seconds: float) -> dict[str, float]:
    """The same load from wrk (C, one thread): the load generator barely uses the CPU that
    the server needs, which a Python client on a 2-core machine cannot say of itself."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(WRK_SCRIPT)
    out = subprocess.run(["wrk", "-t1", f"-c{clients}", f"-d{max(1, round(seconds))}s", "-s",
                          f.name, f"{base}/v1/chat/completions"], capture_output=True, text=True,
                         check=True).stdout
    os.unlink(f.name)
    line = next(ln for ln in out.splitlines() if ln.startswith("RESULT"))
    requests, duration_us, p50, p95, errors = line.split()[1:]
    return {"clients": clients, "turns": int(requests) - int(errors), "errors": int(errors),
            "turns_per_s": round((int(requests) - int(errors)) / (int(duration_us) / 1e6), 1),
            "p50_ms": float(p50), "p95_ms": float(p95)}


def persisted_turns(home: str, database_url: str = "") -> int:
    from doppel.store import open_database

    db = open_database(database_url, Path(home) / "doppel.db", pool_size=1)
    try:
        return int(db.connect().execute("SELECT COUNT(*) FROM turns").fetchone()[0])
    finally:
        db.close()


def throughput(mode: str, seconds: float, use_wrk: bool,
               database_url: str = "") -> list[dict[str, float]]:
    env = {"DOPPEL_DATABASE_URL": database_url} if database_url else {}
    with Server(mode, env) as server:
        asyncio.run(load(server.base, 4, 1.0))  # warm-up
        rows = []
        for clients in (1, 8, 64):
            before = persisted_turns(server.home.name, database_url)
            row = (load_wrk(server.base, clients, seconds) if use_wrk
                   else asyncio.run(load(server.base, clients, seconds)))
            # every answered turn was written to the database
            row["persisted"] = persisted_turns(server.home.name, database_url) - before
            rows.append(row)
        return rows


# --- 2. the embedded model through the server ---------------------------------------------------

def model_comparison(n_questions: int) -> dict[str, object]:
    import yaml

    from doppel.agents.prompt import build_prompt, instructions
    from doppel.config import Settings
    from doppel.demo import EXAMPLES, build_demo
    from doppel.models.base import ChatMessage
    from doppel.models.embedded import EmbeddedBackend
    from doppel.models.prepare import model_paths
    from doppel.service import Doppel

    questions = [q["question"] for q in yaml.safe_load(
        (ROOT / "examples/eval/bakery.yaml").read_text())["answerable"]][:n_questions]
    rows = []
    shown: list[tuple[str, float]] = []
    # 1. What a customer waits for, as served by default (composed answers on): the first text
    #    on the wire, client side, for every question answered, whatever made the answer.
    with Server("embedded") as server:
        httpx.post(f"{server.base}/v1/chat/completions", timeout=120, json={
            "model": "juniper-rye", "user": "warm-up",
            "messages": [{"role": "user", "content": "Do you sell birthday candles?"}]})
        for i, q in enumerate(questions):
            first, _, _, extra = stream_turn(server.base, q, f"s{i}")
            path = str(extra.get("path") or "")
            if path not in ("dont_know", "refused") and first is not None:
                shown.append((path, first))
    # 2. The model through the server against llama-cpp-python: every question drafted by the
    #    model (composed answers off), so the two generate the same tokens.
    with Server("embedded", {"DOPPEL_COMPOSE_ANSWERS": "false"}) as server:
        # Replay the server's prompt assembly in this process (same data, same settings).
        settings = Settings(home=Path(server.home.name) / "replay",
                            models_home=Settings().models_dir, seed=1234)
        replay = Doppel(settings)
        build_demo(replay, EXAMPLES)
        agent = replay.agents.get("juniper-rye")
        # One warm-up turn (not measured): the first generation after start-up evaluates the
        # whole prompt cold; every later turn finds the agent's instructions cached, as the
        # direct calls below do.
        httpx.post(f"{server.base}/v1/chat/completions", timeout=120, json={
            "model": "juniper-rye", "user": "warm-up",
            "messages": [{"role": "user", "content": "Do you sell birthday candles?"}]})
        for i, q in enumerate(questions):
            first, total, usage, extra = stream_turn(server.base, q, f"q{i}")
            timings = extra.get("timings_ms", {}) if isinstance(extra, dict) else {}
            if extra.get("path") in ("approved", "composed", "dont_know") or not usage.get(
                    "completion_tokens"):
                continue
            rows.append({"question": q, "path": extra.get("path"), "server_total_s": total,
                         "client_ttft_s": first, "server_ttft_ms": timings.get("ttft_ms"),
                         "completion_tokens": usage["completion_tokens"],
                         "server_generate_ms": timings.get("generate_ms")})
        # Direct: llama-cpp-python in this process, same prompt and token count, after the
        # server is gone (the two never share the CPU).
    backend = EmbeddedBackend(model_paths(settings).chat, n_ctx=settings.n_ctx,
                              n_threads=settings.n_threads)
    for row in rows:
        passages = replay.index.search(agent.id, row["question"], settings.retrieval_k)
        prompt = build_prompt(agent.spec, row["question"], passages, [], backend,
                              max_answer_tokens=settings.max_answer_tokens,
                              passage_budget=settings.prompt_passage_tokens)
        tokens = backend.prompt_tokens(prompt.messages)
        _, stop = backend.render(prompt.messages)

        def direct() -> tuple[float, float]:
            started = time.perf_counter()
            first = None
            for _ in backend._llama.create_completion(
                    prompt=tokens, max_tokens=row["completion_tokens"],
                    temperature=settings.temperature, top_p=settings.top_p, top_k=40, min_p=0.05,
                    repeat_penalty=settings.repeat_penalty, seed=1234, stop=stop, stream=True):
                if first is None:
                    first = time.perf_counter() - started
            return time.perf_counter() - started, first or 0.0

        # Same cache state as the server between turns: the agent's fixed instructions
        # evaluated, the rest of the prompt not.
        prime = backend.prompt_tokens([ChatMessage("system", instructions(agent.spec)),
                                       ChatMessage("user", "Hello")])
        backend._executor.submit(lambda: list(backend._llama.create_completion(
            prime, max_tokens=1, stream=True))).result()
        row["direct_total_s"], row["direct_ttft_s"] = backend._executor.submit(direct).result()
    server_tok_s = sum(r["completion_tokens"] for r in rows) / sum(r["server_total_s"]
                                                                   for r in rows)
    direct_tok_s = sum(r["completion_tokens"] for r in rows) / sum(r["direct_total_s"]
                                                                   for r in rows)
    return {"turns": len(rows), "server_tokens_per_s": round(server_tok_s, 1),
            "direct_tokens_per_s": round(direct_tok_s, 1),
            "ratio": round(server_tok_s / direct_tok_s, 3),
            "first_text_ms_p50_all_answers": round(statistics.median(
                f for _, f in shown) * 1000, 1) if shown else None,
            "first_text_paths": {p: sum(1 for q, _ in shown if q == p)
                                 for p in sorted({q for q, _ in shown})},
            "client_ttft_ms_p50": round(statistics.median(
                r["client_ttft_s"] for r in rows if r["client_ttft_s"]) * 1000, 1),
            "server_model_ttft_ms_p50": round(statistics.median(
                r["server_ttft_ms"] for r in rows if r["server_ttft_ms"]), 1),
            "direct_ttft_ms_p50": round(statistics.median(
                r["direct_ttft_s"] for r in rows) * 1000, 1),
            "rows": rows}


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--questions", type=int, default=12)
    parser.add_argument("--skip-model", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--python-client", action="store_true",
                        help="load from httpx even when wrk (apt-get install wrk) is there")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--store", choices=("sqlite", "postgres", "both"), default="sqlite",
                        help="postgres: the throughput runs on a PostgreSQL + pgvector started "
                        "for the run (doppel.testing.postgres); both: SQLite then PostgreSQL")
    args = parser.parse_args()

    import shutil

    use_wrk = shutil.which("wrk") is not None and not args.python_client
    if args.json:  # keep stdout for the JSON document
        import contextlib

        sys.stdout = sys.stderr
        stack = contextlib.ExitStack()
        stack.callback(lambda: setattr(sys, "stdout", sys.__stdout__))
    results: dict[str, object] = {
        "load_generator": "wrk" if use_wrk else "httpx (Python, shares the 2 cores)"}
    if not args.skip_throughput and args.store in ("sqlite", "both"):
        results |= {
            "fake_backend_fake_embedder": throughput("fake", args.seconds, use_wrk),
            "fake_backend_fake_embedder_2_workers": throughput("fake-2w", args.seconds,
                                                               use_wrk),
            "fake_backend_real_embedder": throughput("fake-real-embedder", args.seconds,
                                                     use_wrk)}
    if not args.skip_throughput and args.store in ("postgres", "both"):
        from doppel.testing.postgres import PostgresServer

        with PostgresServer.start() as pg:
            results["postgres_fake_backend_fake_embedder"] = throughput(
                "fake", args.seconds, use_wrk, pg.create_database("one"))
            results["postgres_fake_backend_fake_embedder_2_workers"] = throughput(
                "fake-2w", args.seconds, use_wrk, pg.create_database("two"))
    if not args.skip_model:
        results["embedded_model"] = model_comparison(args.questions)
    if args.json:
        sys.stdout = sys.__stdout__
        print(json.dumps(results, indent=2))
        return
    print(f"load generator: {results['load_generator']}")
    for name in [n for n in ("fake_backend_fake_embedder", "fake_backend_fake_embedder_2_workers",
                             "fake_backend_real_embedder", "postgres_fake_backend_fake_embedder",
                             "postgres_fake_backend_fake_embedder_2_workers") if n in results]:
        print(f"\n{name.replace('_', ' ')}: persisted turns over HTTP")
        print(f"{'clients':>8} {'turns/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'errors':>7} "
              f"{'persisted':>10}")
        for row in results[name]:  # type: ignore[union-attr]
            print(f"{row['clients']:>8} {row['turns_per_s']:>9} {row['p50_ms']:>8} "
                  f"{row['p95_ms']:>8} {row['errors']:>7} {row['persisted']:>10}")
    for name, label in [(n, lb) for n, lb in (("fake_backend_fake_embedder", "1 process"),
                        ("fake_backend_fake_embedder_2_workers", "2 processes")) if n in results]:
        best = max(r["turns_per_s"] for r in results[name])  # type: ignore
        print(f"target >= 500 turns/s (fake backend, {label}): "
              f"{'PASS' if best >= 500 else 'FAIL'} ({best})")
    if "embedded_model" in results:
        m = results["embedded_model"]
        print(f"\nembedded model through the server ({m['turns']} generated turns): "  # type: ignore
              f"{m['server_tokens_per_s']} tok/s vs direct {m['direct_tokens_per_s']} tok/s "  # type: ignore
              f"-> {m['ratio']}x (target >= 0.95: {'PASS' if m['ratio'] >= 0.95 else 'FAIL'})")  # type: ignore
        print(f"first text a customer sees, p50 over all {sum(m['first_text_paths'].values())} "  # type: ignore[union-attr]
              f"answered questions: {m['first_text_ms_p50_all_answers']} ms "
              f"(paths {m['first_text_paths']}; target <= 500 ms)")
        print(f"time to first token p50: client (first streamed sentence) "
              f"{m['client_ttft_ms_p50']} ms, server (first model token) "  # type: ignore
              f"{m['server_model_ttft_ms_p50']} ms, direct {m['direct_ttft_ms_p50']} ms")  # type: ignore


if __name__ == "__main__":
    main()
