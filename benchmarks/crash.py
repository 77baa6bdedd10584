"""kill -9 under load: nothing a client was told is lost, nothing is done twice, no import
is left stuck.

A real server process (benchmarks/api.py's, the fake model and embedder, the demo agent)
answers chat turns from 8 client threads, each message unique, while an import job of 200
files that another process queued runs in it. After `--after` seconds the server gets SIGKILL,
and is started again on the same data (the same SQLite file, or the same PostgreSQL database).
Then:
- every turn a client saw acknowledged (HTTP 200, its `doppel.turn_id`) is in the database
  with that client's message, and no message was recorded twice;
- the import job is not 'running' any more: it was queued again by the restarted server and
  finished ('done'), or failed with a reason.

    .venv/bin/python benchmarks/crash.py [--store sqlite|postgres] [--after 4] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from api import Server  # noqa: E402


def start(home: str, database_url: str) -> Server:
    """benchmarks/api.py's server process on `home` (kept: the restart uses the same data)."""
    env = {"DOPPEL_DATABASE_URL": database_url} if database_url else {}
    return Server("fake", env, home=home).__enter__()


def queue_import(home: str, database_url: str) -> int:
    """An import another process queued (200 files), for the server's worker to take."""
    from doppel.config import Settings
    from doppel.demo import DEMO_SLUG
    from doppel.service import Doppel
    from doppel.testing import FakeEmbedder

    app = Doppel(Settings(home=Path(home), database_url=database_url), embedder=FakeEmbedder())
    try:
        agent = app.agents.get(DEMO_SLUG)
        files = [(f"crash-{i:03d}.md", (f"# Batch {i}\n\n" + "Sourdough and rye. " * 400)
                  .encode()) for i in range(200)]
        return app.imports._create(agent, "files", "200 files", len(files), uploads=files,
                                   queue=False).id
    finally:
        app.close()


def check(home: str, database_url: str, acknowledged: dict[int, str],
          job_id: int) -> dict[str, Any]:
    from doppel.store import open_database

    db = open_database(database_url, Path(home) / "doppel.db", pool_size=2)
    try:
        conn = db.connect()
        stored = {int(r[0]): str(r[1]) for r in conn.execute(
            "SELECT id, user_message FROM turns WHERE user_message LIKE 'crash-%'").fetchall()}
        lost = [t for t, m in acknowledged.items() if stored.get(t) != m]
        messages = list(stored.values())
        twice = len(messages) - len(set(messages))
        job = conn.execute("SELECT state, error, attempts FROM import_jobs WHERE id = ?",
                           (job_id,)).fetchone()
        return {"acknowledged": len(acknowledged), "stored": len(stored), "lost": len(lost),
                "recorded_twice": twice, "import_state": job[0], "import_error": job[1],
                "import_attempts": job[2]}
    finally:
        db.close()


def round_(store: str, after: float, database_url: str) -> dict[str, Any]:
    home = tempfile.mkdtemp(prefix="doppel-crash-")
    server = start(home, database_url)
    port = server.port
    job_id = queue_import(home, database_url)
    acknowledged: dict[int, str] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def client(n: int) -> None:
        i = 0
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            while not stop.is_set():
                message = f"crash-{n}-{i} how much is a croissant?"
                i += 1
                try:
                    r = http.post("/v1/chat/completions", json={
                        "model": "juniper-rye", "user": f"c{n}",
                        "messages": [{"role": "user", "content": message}]})
                except httpx.HTTPError:
                    continue  # the server is gone: nothing was promised
                if r.status_code == 200:
                    with lock:
                        acknowledged[int(r.json()["doppel"]["turn_id"])] = message

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    time.sleep(after)
    os.kill(server.proc.pid, signal.SIGKILL)
    server.proc.wait()
    stop.set()
    for t in threads:
        t.join()
    restarted = start(home, database_url)
    try:
        deadline = time.monotonic() + 120  # the restarted server's worker finishes the import
        result = check(home, database_url, acknowledged, job_id)
        while result["import_state"] in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(0.5)
            result = check(home, database_url, acknowledged, job_id)
    finally:
        restarted.__exit__(None, None, None)
    return {"store": store} | result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--after", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = []
    if args.store == "postgres":
        from doppel.testing.postgres import PostgresServer

        with PostgresServer.start() as pg:
            for i in range(args.rounds):
                results.append(round_("postgres", args.after, pg.create_database(f"crash{i}")))
                print(json.dumps(results[-1]), file=sys.stderr)
    else:
        for _ in range(args.rounds):
            results.append(round_("sqlite", args.after, ""))
            print(json.dumps(results[-1]), file=sys.stderr)
    ok = all(r["lost"] == 0 and r["recorded_twice"] == 0
             and r["import_state"] in ("done", "failed") for r in results)
    for r in results:
        print(f"{r['store']}: {r['acknowledged']} turns acknowledged before kill -9, "
              f"{r['lost']} lost, {r['recorded_twice']} recorded twice; the import in flight "
              f"ended {r['import_state']} after {r['import_attempts']} attempt(s)"
              + (f" ({r['import_error']})" if r["import_error"] else ""))
    print("PASS" if ok else "FAIL")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
