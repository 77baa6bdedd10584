"""Import jobs in the store's shared queue, on SQLite and PostgreSQL: several processes (here,
several services on one store), each job run once by whichever is free; a job whose process
died runs again elsewhere; a website address with a password is never stored."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from doppel.agents.spec import AgentSpec
from doppel.config import Settings
from doppel.service import Doppel
from doppel.testing import FakeChatBackend, FakeEmbedder

# On SQLite and on a real PostgreSQL + pgvector (conftest.py's `both_stores`).
pytestmark = pytest.mark.both_stores


@pytest.fixture
def services(settings: Settings) -> Iterator[list[Doppel]]:
    apps = [Doppel(settings, backend=FakeChatBackend(), embedder=FakeEmbedder())
            for _ in range(3)]
    apps[0].agents.create(AgentSpec(slug="bakery", name="Bakery"))
    yield apps
    for app in apps:
        app.close()


def files(n: int, tag: str) -> list[tuple[str, bytes]]:
    return [(f"{tag}-{i}.md", f"# {tag} {i}\n\nWe bake {tag} loaf number {i}.\n".encode())
            for i in range(n)]


def queue(app: Doppel, uploads: list[tuple[str, bytes]]) -> int:
    """A job put in the shared queue without this service running it."""
    agent = app.agents.get("bakery")
    return app.imports._create(agent, "files", "upload", len(uploads), uploads=uploads,
                               queue=False).id  # (past the per-agent limit, for the test)


def test_another_process_runs_a_queued_upload(services: list[Doppel]) -> None:
    first, second, _ = services
    job_id = queue(first, files(2, "rye"))
    assert first.imports.get(job_id).state == "queued"
    second.imports.start_worker()
    job = second.imports.wait(job_id, timeout=30)
    assert job.state == "done" and job.count("added") == 2
    row = first.db.connect().execute("SELECT worker, attempts FROM import_jobs WHERE id = ?",
                                     (job_id,)).fetchone()
    assert row[1] == 1 and row[0].startswith(socket.gethostname())
    # its files leave the store with the job's end
    assert first.db.connect().execute("SELECT COUNT(*) FROM import_uploads").fetchone()[0] == 0
    agent = first.agents.get("bakery")
    assert [p.text for p in first.index.search(agent.id, "rye loaf", 1)]


def test_each_job_runs_once_with_three_workers(services: list[Doppel]) -> None:
    jobs = [queue(services[0], files(2, f"batch{i}")) for i in range(3)]
    jobs += [queue(services[1], files(1, f"more{i}")) for i in range(3)]
    for app in services:  # three processes look at the queue at once
        app.imports.start_worker()
    done = [services[0].imports.wait(j, timeout=60) for j in jobs]
    assert [j.state for j in done] == ["done"] * 6
    attempts = services[0].db.connect().execute(
        "SELECT attempts FROM import_jobs ORDER BY id").fetchall()
    assert [r[0] for r in attempts] == [1] * 6  # none claimed twice
    assert services[0].agents.stats(services[0].agents.get("bakery"))["documents"] == 9


def test_a_job_whose_process_died_runs_again_elsewhere(services: list[Doppel]) -> None:
    first, second, _ = services
    job_id = queue(first, files(2, "spelt"))
    with first.db.transaction() as tx:  # claimed by a process that then died
        tx.execute("UPDATE import_jobs SET state = 'running', attempts = 1, worker = ? "
                   "WHERE id = ?", (f"{socket.gethostname()}:999999999:gone", job_id))
    assert second.imports.recover() == 0  # not failed: queued again
    job = second.imports.wait(job_id, timeout=30)
    assert job.state == "done" and job.count("added") == 2
    # after three deaths it fails for good, its files removed
    again = queue(first, files(1, "oat"))
    with first.db.transaction() as tx:
        tx.execute("UPDATE import_jobs SET state = 'running', attempts = 3, worker = ? "
                   "WHERE id = ?", (f"{socket.gethostname()}:999999999:gone", again))
    assert first.imports.recover() == 1
    assert first.imports.get(again).state == "failed"
    assert first.db.connect().execute("SELECT COUNT(*) FROM import_uploads").fetchone()[0] == 0


def test_a_running_job_of_a_live_process_is_left_alone(services: list[Doppel]) -> None:
    first, second, _ = services
    job_id = queue(first, files(1, "barley"))
    token = f"{socket.gethostname()}:{os.getppid()}"  # the test runner's parent: alive
    with first.db.transaction() as tx:
        tx.execute("UPDATE import_jobs SET state = 'running', worker = ? WHERE id = ?",
                   (token, job_id))
    assert second.imports.recover() == 0
    assert second.imports.get(job_id).state == "running"


def test_a_website_address_with_a_password_is_never_stored(services: list[Doppel]) -> None:
    first = services[0]
    agent = first.agents.get("bakery")
    secret = first.imports.start_url(agent, "http://user:hunter2@127.0.0.1:9/")
    plain = first.imports.start_url(agent, "http://127.0.0.1:9/menu")
    for job in (secret, plain):
        first.imports.wait(job.id, timeout=30)  # both fail: loopback is not allowed
    stored = [tuple(r) for r in first.db.connect().execute(
        "SELECT label, source, error, report_json, durable FROM import_jobs "
        "ORDER BY id").fetchall()]
    assert "hunter2" not in repr(stored)
    assert [r[4] for r in stored] == [0, 1]  # only the plain address was a queue job
    assert all(r[1] == "" for r in stored)  # and its address left with its end


def test_a_server_that_stops_puts_its_job_back(settings: Settings, tmp_path: Path) -> None:
    """close() while a queue job runs: the file in progress ends, the job is queued again
    with its files, and another process finishes it."""
    slow = threading.Event()

    class SlowEmbedder(FakeEmbedder):
        def embed(self, texts):  # type: ignore[no-untyped-def]
            slow.wait(5)
            return super().embed(texts)

    first = Doppel(settings, backend=FakeChatBackend(), embedder=SlowEmbedder())
    first.agents.create(AgentSpec(slug="bakery", name="Bakery"))
    job_id = queue(first, files(3, "wheat"))
    first.imports.start_worker()
    while first.imports.get(job_id).state != "running":
        time.sleep(0.01)
    closer = threading.Thread(target=first.close)
    closer.start()
    slow.set()
    closer.join(30)
    second = Doppel(settings, backend=FakeChatBackend(), embedder=FakeEmbedder())
    try:
        assert second.imports.get(job_id).state == "queued"
        second.imports.start_worker()
        job = second.imports.wait(job_id, timeout=30)
        assert job.state == "done"
        assert second.agents.stats(second.agents.get("bakery"))["documents"] == 3
    finally:
        second.close()
