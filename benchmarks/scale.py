"""How the cost of an agent grows with the number of agents, on SQLite and on PostgreSQL.

For each store, agents are added in steps up to the last of `--levels` (10k, 100k, 1M):

- `--api-agents` (1,000) agents with knowledge: the demo bakery's files ingested through the
  real ingestion path (fake embedder: the text, chunks, FTS and vectors are stored as in
  production, only the vectors come from the test embedder), each its own owner, public;
- the rest registered in bulk (one owner each, the spec a business's form would make; 5,000 rows
  per transaction), as a migration from another platform would create them. They have no
  knowledge: knowledge's cost per chunk is `benchmarks/store.py`'s (1M chunks).

At each level:
- registration rate: agents/s in bulk, and through `AgentRepo.create` one at a time (a sample;
  what the console's form and `doppel create` do: validate, insert, read back);
- disk bytes per idle agent (the database's growth over the agents added);
- agent lookup p50/p95 (`AgentRepo.get` of a random slug among all agents, the spec parsed);
- a real server (uvicorn in its own process, fake chat backend, shields on) started on the
  store: its RSS after start-up (an idle agent should cost no RAM: flat across levels), and
  after a first turn to `--cold` agents it had never seen (RAM per active agent);
- a cold agent's first turn against the same agent's next turn (fake model, over HTTP): the
  overhead a long-idle agent pays (target <= 10 ms);
- the anonymous listings (`GET /`, `GET /v1/models`), which must not grow with the agents.

Then, at the last level, the API under load from wrk across the 1,000 agents (random agent and
customer per request): 1 and 4 uvicorn workers, shields on and off; turns/s counted from the
database (persisted), p50/p95/p99, errors. Targets: shields on >= 400, off >= 1,000 turns/s;
PostgreSQL within 20 % of SQLite with 1 worker, ahead of it with 4.

PostgreSQL is `doppel.testing.postgres`'s server (18.6 + pgvector 0.8.6, Unix socket, fsync off,
shared_buffers 64MB): durability settings differ from SQLite's (WAL, synchronous=NORMAL), which
favours PostgreSQL's writes; the figures say what each engine costs doppel, not a tuned server.

Run:  .venv/bin/python benchmarks/scale.py [--levels 10000,100000,1000000]
      [--store sqlite|postgres|both] [--api-agents 1000] [--seconds 10] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from api import Server  # noqa: E402

QUESTIONS = ["How much is an almond croissant?", "Do you have gluten-free bread?",
             "When are you open on Saturday?", "Can I order a birthday cake?"]
BATCH = 5000


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 3)


# --- the server process -------------------------------------------------------------------------

def service():  # type: ignore[no-untyped-def]
    """The Doppel a benchmark server runs: the store in SCALE_HOME / DOPPEL_DATABASE_URL, the
    shipped fakes for the model and the embedder."""
    from doppel.config import Settings
    from doppel.service import Doppel
    from doppel.testing import FakeChatBackend, FakeEmbedder

    settings = Settings(home=Path(os.environ["SCALE_HOME"]), models_home=Settings().models_dir,
                        seed=1234)
    settings.min_relevance = 0.05  # the fake embedder's cosine is plain word overlap
    return Doppel(settings, backend=FakeChatBackend(["An Almond Croissant is $5.25."]),
                  embedder=FakeEmbedder())


def worker_app():  # type: ignore[no-untyped-def]
    from doppel.serve import create_app

    return create_app(doppel=service())


def serve(home: str, port: int, workers: int) -> None:
    import uvicorn

    os.environ["SCALE_HOME"] = home
    uvicorn.run("scale:worker_app", factory=True, app_dir=str(Path(__file__).parent),
                host="127.0.0.1", port=port, workers=workers if workers > 1 else None,
                log_level="error", access_log=False)


class ScaleServer(Server):
    """api.Server's start-and-wait, running this script's `--serve HOME PORT WORKERS`."""

    script = __file__

    def __init__(self, home: str, workers: int, env: dict[str, str]) -> None:
        super().__init__(str(workers), env, home=home)

    def rss_bytes(self) -> int:
        """Resident memory of the server: the process and its workers, if any."""
        pids = [self.proc.pid]
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        if children.exists():
            pids += [int(p) for p in children.read_text().split()]
        total = 0
        for pid in pids:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        return total


# --- building the agents ------------------------------------------------------------------------

def open_app(home: Path, database_url: str):  # type: ignore[no-untyped-def]
    os.environ["SCALE_HOME"] = str(home)
    if database_url:
        os.environ["DOPPEL_DATABASE_URL"] = database_url
    else:
        os.environ.pop("DOPPEL_DATABASE_URL", None)
    return service()


def add_knowledge_agents(app: Any, n: int) -> dict[str, float]:
    """n agents with the bakery's files, each with its own owner, through the real paths."""
    from doppel.agents.spec import AgentSpec
    from doppel.demo import EXAMPLES

    t0 = time.perf_counter()
    for i in range(n):
        owner = app.owners.create(f"owner-shop-{i}")
        app.create_agent(AgentSpec(slug=f"shop-{i}", name=f"Shop {i}", public=True),
                         [EXAMPLES], owner_id=owner.id)
    chunks = int(app.db.connect().execute("SELECT COUNT(*) FROM chunks").fetchone()[0])
    return {"agents": n, "chunks": chunks, "seconds": time.perf_counter() - t0}


def idle_spec_json(i: int) -> str:
    from doppel.agents.spec import AgentSpec, Contact

    return AgentSpec(
        slug=f"idle-{i}", name=f"Corner Shop {i}", public=True,
        persona="Friendly and brief.", greeting=f"Hi! Welcome to Corner Shop {i}.",
        contact=Contact(phone=f"+44 20 7946 {i % 10000:04d}",
                        email=f"hello@shop{i}.example")).model_dump_json()


def register_bulk(db: Any, start: int, stop: int) -> float:
    """Agents idle-START … idle-(STOP-1), one owner each, BATCH per transaction; seconds."""
    t0 = time.perf_counter()
    for first in range(start, stop, BATCH):
        ids = range(first, min(stop, first + BATCH))
        with db.transaction() as tx:
            # One statement for the batch's owners; RETURNING's order is not the insert's on
            # every engine, hence the names.
            owner_of = {str(r[1]): int(r[0]) for r in tx.execute(
                "INSERT INTO owners(name) VALUES " + ", ".join(["(?)"] * len(ids))
                + " RETURNING id, name", [f"owner-idle-{i}" for i in ids]).fetchall()}
            tx.executemany("INSERT INTO agents(slug, spec_json, owner_id, public) "
                           "VALUES (?, ?, ?, 1)",
                           [(f"idle-{i}", idle_spec_json(i), owner_of[f"owner-idle-{i}"])
                            for i in ids])
    return time.perf_counter() - t0


def register_one_by_one(app: Any, start: int, n: int) -> float:
    """n agents through `Owners.create` + `AgentRepo.create` (validated, read back); agents/s."""
    from doppel.agents.spec import AgentSpec

    t0 = time.perf_counter()
    for i in range(start, start + n):
        owner = app.owners.create(f"owner-form-{i}")
        app.agents.create(AgentSpec.model_validate_json(idle_spec_json(i)).model_copy(
            update={"slug": f"form-{i}"}), owner.id)
    return n / (time.perf_counter() - t0)


def disk_bytes(db: Any, home: Path) -> int:
    if db.kind == "postgres":
        conn = db.connect()
        conn.execute("CHECKPOINT")
        return int(conn.execute("SELECT pg_database_size(current_database())").fetchone()[0])
    db.connect().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return sum(f.stat().st_size for f in home.iterdir() if f.name.startswith("doppel.db"))


def lookups(app: Any, n_idle: int, n_shops: int, n: int, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    samples = []
    for _ in range(n):
        slug = (f"idle-{rng.randrange(n_idle)}" if rng.random() < 0.9 or not n_shops
                else f"shop-{rng.randrange(n_shops)}")
        t0 = time.perf_counter()
        app.agents.get(slug)
        samples.append(time.perf_counter() - t0)
    return {"p50_ms": pct(samples, 0.5), "p95_ms": pct(samples, 0.95),
            "p99_ms": pct(samples, 0.99)}


# --- over HTTP ----------------------------------------------------------------------------------

def turn(http: httpx.Client, slug: str, user: str, question: str) -> float:
    t0 = time.perf_counter()
    r = http.post("/v1/chat/completions", json={
        "model": slug, "user": user, "messages": [{"role": "user", "content": question}]})
    elapsed = time.perf_counter() - t0
    if r.status_code != 200:
        raise RuntimeError(f"{slug}: {r.status_code} {r.text[:300]}")
    return elapsed


def cold_and_warm(server: ScaleServer, agents: list[int]) -> dict[str, float]:
    """First turn to each agent (never asked since the server started) and its next turn."""
    cold, warm = [], []
    with httpx.Client(base_url=server.base, timeout=60) as http:
        turn(http, "shop-0", "warm-up", QUESTIONS[0])  # the process's own first turn
        turn(http, "shop-0", "warm-up", QUESTIONS[1])
        for i in agents:
            cold.append(turn(http, f"shop-{i}", f"cold-{i}", QUESTIONS[0]))
            warm.append(turn(http, f"shop-{i}", f"warm-{i}", QUESTIONS[0]))
    overhead = [c - w for c, w in zip(cold, warm, strict=True)]
    return {"cold_p50_ms": pct(cold, 0.5), "cold_p95_ms": pct(cold, 0.95),
            "warm_p50_ms": pct(warm, 0.5), "warm_p95_ms": pct(warm, 0.95),
            "overhead_p50_ms": pct(overhead, 0.5), "overhead_p95_ms": pct(overhead, 0.95)}


def listings(server: ScaleServer, n: int = 20) -> dict[str, float]:
    out: dict[str, float] = {}
    with httpx.Client(base_url=server.base, timeout=300) as http:
        for path in ("/", "/v1/models"):
            samples, size = [], 0
            for _ in range(n):
                t0 = time.perf_counter()
                r = http.get(path)
                samples.append(time.perf_counter() - t0)
                size = len(r.content)
                if time.perf_counter() - t0 > 5:  # one slow answer says enough
                    break
            out[f"GET {path} p50_ms"] = pct(samples, 0.5)
            out[f"GET {path} bytes"] = size
    return out


WRK_SCRIPT = """
local questions = {%s}
local agents = %d
math.randomseed(%d)
request = function()
  local body = string.format('{"model": "shop-%%d", "user": "c%%d", "messages": '
    .. '[{"role": "user", "content": "%%s"}]}', math.random(0, agents - 1),
    math.random(1, 1000000000), questions[math.random(1, #questions)])
  return wrk.format("POST", "/v1/chat/completions", {["Content-Type"] = "application/json"},
    body)
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %%d %%d %%.3f %%.3f %%.3f %%d %%d\\n", summary.requests,
    summary.duration, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout))
end
"""


def turns_in_db(db: Any) -> int:
    return int(db.connect().execute("SELECT COUNT(*) FROM turns").fetchone()[0])


def load(server: ScaleServer, db: Any, agents: int, clients: int, seconds: float
         ) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(WRK_SCRIPT % (", ".join(json.dumps(q) for q in QUESTIONS), agents, 7))
    before = turns_in_db(db)
    try:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{clients}", f"-d{max(1, round(seconds))}s", "--timeout", "30s",
             "-s", f.name, server.base], capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(f.name)
    line = next(ln for ln in out.splitlines() if ln.startswith("RESULT"))
    requests, duration_us, p50, p95, p99, status_errors, socket_errors = line.split()[1:]
    persisted = turns_in_db(db) - before
    return {"clients": clients, "requests": int(requests),
            "errors": int(status_errors) + int(socket_errors), "persisted": persisted,
            "turns_per_s": round(persisted / (int(duration_us) / 1e6), 1),
            "p50_ms": float(p50), "p95_ms": float(p95), "p99_ms": float(p99)}


# --- one store ----------------------------------------------------------------------------------

@contextmanager
def store(kind: str, tmp: Path, pg: Any) -> Iterator[tuple[Path, str]]:
    home = tmp / kind
    home.mkdir()
    url = pg.create_database("scale") if kind == "postgres" else ""
    yield home, url


def run_store(kind: str, home: Path, url: str, args: argparse.Namespace) -> dict[str, Any]:
    app = open_app(home, url)
    db = app.db
    result: dict[str, Any] = {"store": kind, "levels": []}
    print(f"{kind}: {args.api_agents} agents with the bakery's files...", file=sys.stderr)
    result["knowledge_agents"] = add_knowledge_agents(app, args.api_agents)
    registered, forms = 0, 0  # idle agents in bulk; agents made one by one so far
    env = {"DOPPEL_DATABASE_URL": url} if url else {}
    for level in args.levels:
        before = disk_bytes(db, home)
        # every level holds exactly `level` agents: the knowledge agents, those made one by
        # one at this level and the ones before, and the bulk
        idle_target = level - args.api_agents - forms - args.sample
        print(f"{kind}: registering agents up to {level:,}...", file=sys.stderr)
        bulk_s = register_bulk(db, registered, idle_target)
        added = idle_target - registered
        one_by_one = register_one_by_one(app, level, args.sample)
        registered, forms = idle_target, forms + args.sample
        if db.kind == "postgres":
            db.connect().execute("VACUUM ANALYZE")  # as autovacuum would after a bulk load
        after = disk_bytes(db, home)
        row: dict[str, Any] = {
            "agents": level, "bulk_agents_per_s": round(added / bulk_s),
            "form_agents_per_s": round(one_by_one, 1),
            "disk_bytes_per_idle_agent": round((after - before) / (added + args.sample)),
            "disk_bytes_total": after,
            "lookup": lookups(app, registered, args.api_agents, args.lookups, level)}
        print(f"{kind}: serving {level:,} agents...", file=sys.stderr)
        with ScaleServer(str(home), 1, env) as server:
            row["server_rss_start_mb"] = round(server.rss_bytes() / 2**20, 1)
            cold = random.Random(level).sample(range(1, args.api_agents),
                                               min(args.cold, args.api_agents - 1))
            row["first_turns"] = cold_and_warm(server, cold)
            row["server_rss_after_mb"] = round(server.rss_bytes() / 2**20, 1)
            row["rss_per_active_agent_kb"] = round(
                (row["server_rss_after_mb"] - row["server_rss_start_mb"]) * 1024 / len(cold), 1)
            row |= listings(server)
        result["levels"].append(row)
        print(f"  {json.dumps(row)}", file=sys.stderr)
    if not args.skip_load and shutil.which("wrk"):
        result["load"] = []
        for workers in (1, 4):
            for shields in (True, False):
                extra = env | {"DOPPEL_SHIELDS": "true" if shields else "false",
                               "DOPPEL_RATE_PER_KEY_PER_MINUTE": "100000000",
                               "DOPPEL_RATE_PER_USER_PER_MINUTE": "100000000",
                               "DOPPEL_RATE_PER_IP_PER_MINUTE": "100000000"}
                with ScaleServer(str(home), workers, extra) as server:
                    with httpx.Client(base_url=server.base, timeout=60) as http:
                        # every worker's first turns, before the clock starts
                        for i in range(min(8 * workers, args.api_agents)):
                            turn(http, f"shop-{i}", "warm", QUESTIONS[i % len(QUESTIONS)])
                    for clients in args.clients:
                        r = load(server, db, args.api_agents, clients, args.seconds)
                        r |= {"workers": workers, "shields": shields}
                        print(f"  {json.dumps(r)}", file=sys.stderr)
                        result["load"].append(r)
    db.close()
    return result


def report(results: list[dict[str, Any]]) -> None:
    for r in results:
        k = r["knowledge_agents"]
        print(f"\n== {r['store']} == ({k['agents']} agents with knowledge, {k['chunks']:,} chunks,"
              f" ingested in {k['seconds']:.0f} s)")
        print(f"{'agents':>10} {'bulk/s':>8} {'form/s':>7} {'disk B/agent':>12} "
              f"{'lookup p50':>10} {'p95 ms':>7} {'RSS MB':>7} {'KB/active':>9} "
              f"{'cold p50':>8} {'warm p50':>8} {'over p50':>8} {'over p95':>8} "
              f"{'GET / ms':>9} {'/v1/models':>10}")
        for lv in r["levels"]:
            ft = lv["first_turns"]
            print(f"{lv['agents']:>10,} {lv['bulk_agents_per_s']:>8} "
                  f"{lv['form_agents_per_s']:>7} {lv['disk_bytes_per_idle_agent']:>12} "
                  f"{lv['lookup']['p50_ms']:>10} {lv['lookup']['p95_ms']:>7} "
                  f"{lv['server_rss_start_mb']:>7} {lv['rss_per_active_agent_kb']:>9} "
                  f"{ft['cold_p50_ms']:>8} {ft['warm_p50_ms']:>8} {ft['overhead_p50_ms']:>8} "
                  f"{ft['overhead_p95_ms']:>8} {lv['GET / p50_ms']:>9} "
                  f"{lv['GET /v1/models p50_ms']:>10}")
    loads = [(r["store"], x) for r in results for x in r.get("load", [])]
    if not loads:
        return
    print(f"\nAPI under load, {results[0]['knowledge_agents']['agents']} agents, "
          f"{results[0]['levels'][-1]['agents']:,} registered (wrk, fake model)")
    print(f"{'store':>9} {'workers':>7} {'shields':>7} {'clients':>7} {'turns/s':>8} "
          f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'errors':>6} {'persisted':>9}")
    for kind, x in loads:
        print(f"{kind:>9} {x['workers']:>7} {'on' if x['shields'] else 'off':>7} "
              f"{x['clients']:>7} {x['turns_per_s']:>8} {x['p50_ms']:>7} {x['p95_ms']:>7} "
              f"{x['p99_ms']:>7} {x['errors']:>6} {x['persisted']:>9}")
    best = {(kind, x["workers"], x["shields"]): 0.0 for kind, x in loads}
    for kind, x in loads:
        key = (kind, x["workers"], x["shields"])
        best[key] = max(best[key], x["turns_per_s"])
    for (kind, workers, shields), value in sorted(best.items()):
        target = 400 if shields else 1000
        print(f"best {kind}, {workers} worker(s), shields {'on' if shields else 'off'}: "
              f"{value} turns/s (target >= {target}: {'PASS' if value >= target else 'FAIL'})")
    for workers in (1, 4):
        for shields in (True, False):
            sq, pg = best.get(("sqlite", workers, shields)), best.get(("postgres", workers,
                                                                        shields))
            if sq and pg:
                print(f"postgres / sqlite, {workers} worker(s), shields "
                      f"{'on' if shields else 'off'}: {pg / sq:.2f}")


def main() -> int:
    if len(sys.argv) == 5 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default="10000,100000,1000000",
                        type=lambda s: [int(x) for x in s.split(",")])
    parser.add_argument("--store", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--api-agents", type=int, default=1000)
    parser.add_argument("--sample", type=int, default=500,
                        help="agents created one at a time at each level")
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--cold", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", default="8,64", type=lambda s: [int(x) for x in s.split(",")])
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    kinds = ["sqlite", "postgres"] if args.store == "both" else [args.store]
    results = []
    from doppel.testing.postgres import PostgresServer

    with tempfile.TemporaryDirectory(prefix="doppel-scale-") as tmp:
        pg = PostgresServer.start() if "postgres" in kinds else None
        try:
            for kind in kinds:
                with store(kind, Path(tmp), pg) as (home, url):
                    results.append(run_store(kind, home, url, args))
                    if args.json:
                        args.json.write_text(json.dumps(results, indent=1))
        finally:
            if pg is not None:
                pg.stop()
    report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
