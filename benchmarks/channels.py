"""Channels: how fast webhooks are acknowledged, and how long a customer on a channel waits.

1. Acknowledgements: signed WhatsApp deliveries (one message each, all different) posted by
   wrk (C; a Python client would take the CPU the server needs) at 2, 8 and 32 connections to a
   real uvicorn server in its own process, while the demo agent answers them on the fake chat
   backend made slow (a drafted answer waits ~0.3 s on the "model"): webhooks acknowledged
   per second and ack latency p50/p95/p99, client side. Target (issue 15): >= 500 acks/s on 2
   cores, p99 < 50 ms, independent of model time. Then every message the server recorded
   must be answered exactly once (the fake Graph API counts the replies; the outbox paces
   them as WhatsApp asks, so the backlog takes minutes). Two layouts, measured in the same
   run: `inline`, the server answers what it acknowledges (the default), and `split`, the
   server only acknowledges (DOPPEL_CHANNEL_ANSWERS=false) and a `doppel channels work`
   process beside it answers and sends.
2. End to end on the embedded model: Telegram updates to the demo agent one at a time, the
   delay from posting the update to the reply reaching the fake Bot API, beside the time from
   the acknowledgement to the turn recorded: what receiving and sending add.

    .venv/bin/python benchmarks/channels.py [--messages 6000] [--seconds 5] [--connections 2 8 32]
        [--layouts inline split] [--questions 8] [--skip-model | --skip-acks] [--json OUT]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.api import Server as ApiServer  # noqa: E402

TOKEN = "EAAG-bench-access-token-0123456789"
APP_SECRET = "0123456789abcdef0123456789abcdef"
PHONE_ID = "106540352242922"
TG_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
QUESTIONS = ["How much is an almond croissant?", "Are you open on Sunday?",
             "Do you have gluten-free bread?", "Where are you?", "Do you deliver?",
             "Can I order a birthday cake?", "What's in the country sourdough?",
             "Do you take card?"]


def serve(home: str, port: int, mode: str) -> None:
    """The child process: the demo agent, connected to a channel, served by uvicorn."""
    import uvicorn

    from doppel.config import Settings
    from doppel.demo import EXAMPLES, build_demo
    from doppel.serve import create_app
    from doppel.service import Doppel
    from doppel.testing import FakeChatBackend

    settings = Settings(home=Path(home), models_home=Settings().models_dir, seed=1234,
                        channel_answers=mode != "fake-split")
    if mode.startswith("fake"):  # each turn waits ~0.3 s on the "model": acks must not
        app = Doppel(settings, backend=FakeChatBackend(["An Almond Croissant is $5.25."],
                                                       delay=0.05))
    else:
        app = Doppel(settings)
    build_demo(app, EXAMPLES)
    agent = app.agents.get("juniper-rye")
    if mode.startswith("fake"):
        secrets = {"access_token": TOKEN, "app_secret": APP_SECRET}
        asyncio.run(app.channels.connect(agent, "whatsapp", PHONE_ID, secrets))
    else:
        asyncio.run(app.channels.connect(agent, "telegram", "", {"bot_token": TG_TOKEN}))
    app.__dict__.pop("channels")  # the server's loop starts its own hub (and HTTP client)
    uvicorn.run(create_app(doppel=app), host="127.0.0.1", port=port, log_level="error",
                access_log=False)


def work(home: str) -> None:
    """The split layout's worker: `doppel channels work` on the benchmark's fake model."""
    import os

    from doppel.cli.channels import _work
    from doppel.config import Settings
    from doppel.service import Doppel
    from doppel.testing import FakeChatBackend

    os.nice(10)  # as `doppel channels work` does by default
    settings = Settings(home=Path(home), models_home=Settings().models_dir, seed=1234)
    app = Doppel(settings, backend=FakeChatBackend(["An Almond Croissant is $5.25."],
                                                   delay=0.05))
    asyncio.run(_work(app))


class Server(ApiServer):
    script = __file__
    ready_s = 300.0

    def __init__(self, mode: str, env: dict[str, str]) -> None:
        super().__init__(mode, env)
        self.env["DOPPEL_PUBLIC_URL"] = self.base


class Worker:
    """`benchmarks/channels.py --work HOME` beside the server (None: no worker)."""

    def __init__(self, home: str | None, env: dict[str, str]) -> None:
        self.home, self.env = home, env
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Worker:
        if self.home is None:
            return self
        import os

        self.proc = subprocess.Popen([sys.executable, __file__, "--work", self.home],
                                     env=os.environ | self.env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while not (Path(self.home) / "channels.sock").exists():  # leading, doorbell up
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("the channel worker did not start")
            time.sleep(0.1)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def _post_all(base: str, n: int, concurrency: int, prefix: str = "bench"
                    ) -> tuple[float, list[float], int]:
    from doppel.testing import meta_signature, whatsapp_message

    bodies = []
    for i in range(n):
        payload = whatsapp_message(PHONE_ID, QUESTIONS[i % len(QUESTIONS)],
                                   wa_id=f"1555{i % 200:07d}", message_id=f"wamid.{prefix}{i}")
        raw = json.dumps(payload).encode()
        bodies.append((raw, meta_signature(APP_SECRET, raw)))
    latencies: list[float] = []
    failed = 0
    queue: asyncio.Queue[tuple[bytes, str]] = asyncio.Queue()
    for b in bodies:
        queue.put_nowait(b)
    url = f"{base}/channels/whatsapp/juniper-rye"
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        async def worker() -> None:
            nonlocal failed
            while not queue.empty():
                raw, sig = queue.get_nowait()
                started = time.perf_counter()
                r = await client.post(url, content=raw, headers={
                    "Content-Type": "application/json", "X-Hub-Signature-256": sig})
                latencies.append((time.perf_counter() - started) * 1000)
                failed += r.status_code != 200

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return elapsed, latencies, failed


WRK_SCRIPT = """
local reqs, i = {}, 0
init = function(args)
  for line in io.lines(args[1]) do
    local sig, body = line:match("^(%S+) (.*)$")
    reqs[#reqs + 1] = wrk.format("POST", nil, {["Content-Type"] = "application/json",
                                               ["X-Hub-Signature-256"] = sig}, body)
  end
end
request = function()
  i = i + 1
  return reqs[((i - 1) % #reqs) + 1]
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %.3f %.3f %.3f %d\\n", summary.requests,
    summary.duration, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, summary.errors.status + summary.errors.timeout))
end
"""


def _wrk(base: str, n: int, concurrency: int, seconds: int, prefix: str = "wrk"
         ) -> tuple[int, float, list[float], int]:
    """wrk (C, one thread) posting n different signed deliveries for `seconds`: the load
    generator takes little of the CPU the server needs. (requests, s, [p50, p95, p99], errors)"""
    from doppel.testing import meta_signature, whatsapp_message

    folder = tempfile.TemporaryDirectory(prefix="doppel-wrk-")
    lines = []
    for i in range(n):
        payload = whatsapp_message(PHONE_ID, QUESTIONS[i % len(QUESTIONS)],
                                   wa_id=f"1555{i % 500:07d}", message_id=f"wamid.{prefix}{i}")
        raw = json.dumps(payload)
        lines.append(f"{meta_signature(APP_SECRET, raw.encode())} {raw}")
    bodies, script = Path(folder.name) / "bodies.txt", Path(folder.name) / "post.lua"
    bodies.write_text("\n".join(lines) + "\n")
    script.write_text(WRK_SCRIPT)
    out = subprocess.run(["wrk", "-t1", f"-c{concurrency}", f"-d{seconds}s", "--latency",
                          "-s", str(script), f"{base}/channels/whatsapp/juniper-rye", "--",
                          str(bodies)], capture_output=True, text=True, check=True).stdout
    folder.cleanup()
    line = next(ln for ln in out.splitlines() if ln.startswith("RESULT"))
    requests, duration_us, p50, p95, p99, errors = line.split()[1:]
    return (int(requests), int(duration_us) / 1e6, [float(p50), float(p95), float(p99)],
            int(errors))


def acks(n: int, connections: list[int], seconds: int, layout: str) -> dict[str, float]:
    from doppel.testing import FakeGraphAPI

    print(f"-- layout {layout}: " + ("the server acknowledges and answers" if layout == "inline"
                                    else "the server acknowledges, a channel worker answers"),
          flush=True)
    mode = "fake" if layout == "inline" else "fake-split"
    with FakeGraphAPI(TOKEN, {PHONE_ID: {"verified_name": "Juniper & Rye"}}) as graph, \
            Server(mode, {"DOPPEL_GRAPH_API_URL": graph.base_url}) as server, \
            Worker(server.home.name if layout == "split" else None,
                   {"DOPPEL_GRAPH_API_URL": graph.base_url}):
        # warm-up (connections, the first delivery's imports)
        asyncio.run(_post_all(server.base, 50, 4, prefix="warm"))
        first = time.perf_counter()
        out: dict[str, float] = {}
        for concurrency in connections:
            if shutil.which("wrk"):
                requests, elapsed, (p50, p95, p99), failed = _wrk(
                    server.base, n, concurrency, seconds, prefix=f"c{concurrency}x")
                how = "wrk"
            else:  # a Python client: it takes much of the CPU the server would use
                elapsed, latencies, failed = asyncio.run(_post_all(
                    server.base, n, concurrency, prefix=f"c{concurrency}x"))
                requests, (p50, p95, p99) = n, (pct(latencies, q) for q in (.5, .95, .99))
                how = "httpx (install wrk for a fair figure)"
            print(f"acknowledged {requests} webhooks in {elapsed:.2f} s ({how}, {concurrency} "
                  f"connections): {requests / elapsed:.0f}/s, p50 {p50:.1f} ms, p95 "
                  f"{p95:.1f} ms, p99 {p99:.1f} ms, failed {failed}", flush=True)
            out |= {f"{layout}_acks_per_s_c{concurrency}": requests / elapsed,
                    f"{layout}_ack_p50_ms_c{concurrency}": p50,
                    f"{layout}_ack_p99_ms_c{concurrency}": p99,
                    f"{layout}_failed_c{concurrency}": failed}
        # every message is answered, once: the model is slow, so wait for the backlog. (wrk
        # stops with requests in flight that it does not count: the server's own table says
        # how many different messages it acknowledged.)
        import sqlite3

        def recorded() -> tuple[int, int, int]:
            with sqlite3.connect(Path(server.home.name) / "doppel.db") as db:
                inbound = db.execute("SELECT COUNT(*) FROM channel_inbound").fetchone()[0]
                # not yet answered, or answered and still paced in the outbox (WhatsApp: about
                # one message per 6 s to one customer after a short burst, 80/s per number)
                open_ = db.execute("SELECT COUNT(*) FROM channel_inbound WHERE state IN "
                                   "('received', 'processing')").fetchone()[0] + db.execute(
                    "SELECT COUNT(*) FROM channel_outbox WHERE state = 'pending'").fetchone()[0]
                twice = db.execute("SELECT COUNT(*) FROM (SELECT inbound_id FROM "
                                   "channel_outbox WHERE kind = 'reply' GROUP BY inbound_id "
                                   "HAVING COUNT(*) > 1)").fetchone()[0]
            return int(inbound), int(open_), int(twice)

        deadline = time.monotonic() + 1800
        while recorded()[1] and time.monotonic() < deadline:
            time.sleep(1)
        total, _, twice = recorded()
        with sqlite3.connect(Path(server.home.name) / "doppel.db") as db:
            held = db.execute("SELECT COUNT(*) FROM channel_inbound WHERE state = 'held'"
                              ).fetchone()[0]
        answered = time.perf_counter() - first
        replied = [b.get("to") for _, b in graph.sent]
        print(f"{total} different messages recorded: {len(replied)} replies sent, {held} "
              f"held for a person (handed off), messages with two replies: {twice}; the "
              f"last {answered:.0f} s after the first delivery (paced)", flush=True)
        return out | {f"{layout}_replies": len(replied), f"{layout}_messages": total,
                      f"{layout}_twice": twice}


def end_to_end(questions: int) -> dict[str, float]:
    from doppel.testing import FakeTelegramAPI, telegram_update

    delays, turns = [], []
    with FakeTelegramAPI(TG_TOKEN) as telegram, \
            Server("embedded", {"DOPPEL_TELEGRAM_API_URL": telegram.base_url}) as server:
        for i in range(questions):
            question = QUESTIONS[i % len(QUESTIONS)]
            before = len(telegram.sent)
            started = time.perf_counter()
            telegram.deliver(telegram_update(1000 + i, 5000 + i, question))
            while len(telegram.sent) == before:
                time.sleep(0.005)
            delays.append((time.perf_counter() - started) * 1000)
            db = Path(server.home.name) / "doppel.db"
            import sqlite3

            with sqlite3.connect(db) as conn:
                # acknowledged -> the turn recorded (the agent's own work, queue included)
                received, recorded = conn.execute(
                    "SELECT i.received_at, t.created_at FROM channel_inbound i JOIN turns t "
                    "ON t.id = i.turn_id ORDER BY i.id DESC LIMIT 1").fetchone()
            took = (dt.datetime.fromisoformat(recorded.replace("Z", "+00:00"))
                    - dt.datetime.fromisoformat(received.replace("Z", "+00:00")))
            turns.append(took.total_seconds() * 1000)
    p50_e2e, p50_turn = statistics.median(delays), statistics.median(turns)
    print(f"embedded model, Telegram update -> reply at the Bot API: p50 {p50_e2e:.0f} ms, "
          f"p95 {pct(delays, .95):.0f} ms (n={len(delays)}); from the acknowledgement to the "
          f"turn recorded p50 {p50_turn:.0f} ms: receiving and sending add "
          f"{p50_e2e - p50_turn:.0f} ms (x{p50_e2e / max(p50_turn, 1e-9):.2f})", flush=True)
    return {"e2e_p50_ms": p50_e2e, "e2e_p95_ms": pct(delays, .95), "turn_p50_ms": p50_turn}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4])
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--work":
        work(sys.argv[2])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=6000,
                        help="different deliveries (wrk cycles through them)")
    parser.add_argument("--seconds", type=int, default=5, help="wrk's run")
    parser.add_argument("--connections", type=int, nargs="+", default=[2, 8, 32],
                        help="wrk's connections: 2 loads past the 500/s target without "
                        "saturating the box, 8 and 32 saturate it")
    parser.add_argument("--layouts", nargs="+", choices=["inline", "split"],
                        default=["inline", "split"])
    parser.add_argument("--questions", type=int, default=8)
    parser.add_argument("--skip-model", action="store_true", help="acknowledgements only")
    parser.add_argument("--skip-acks", action="store_true", help="the embedded model only")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    out: dict[str, float] = {}
    if not args.skip_acks:
        for layout in args.layouts:
            out |= acks(args.messages, args.connections, args.seconds, layout)
        if len(args.layouts) == 2:
            for c in args.connections:
                print(f"split vs inline at {c} connections: acks/s "
                      f"x{out[f'split_acks_per_s_c{c}'] / out[f'inline_acks_per_s_c{c}']:.2f}, "
                      f"p99 x{out[f'split_ack_p99_ms_c{c}'] / out[f'inline_ack_p99_ms_c{c}']:.2f}",
                      flush=True)
    if not args.skip_model:
        out |= end_to_end(args.questions)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
