"""What an import leaves behind: no password or token from a URL anywhere, a record of every
upload even when it is interrupted (each file imported whole or not at all), and jobs of dead
workers recovered even when their pid now belongs to another process.

Through the owner API and the console over real HTTP (uvicorn on 127.0.0.1), and on the
import jobs themselves where the process has to be "stopped" half-way.
"""

from __future__ import annotations

import io
import json
import logging
import os
import socket
import threading
import time
import zipfile
from collections.abc import Callable, Iterator

import httpx
import pytest

from doppel.agents.spec import AgentSpec
from doppel.knowledge import imports as jobs_module
from doppel.knowledge.imports import ImportJob
from doppel.knowledge.loaders import LoadedDocument, MarkdownLoader
from doppel.service import Doppel
from doppel.testing import FakeWebsite
from tests.test_console import _csrf, sign_in, wait_job

# On SQLite and on a real PostgreSQL + pgvector (conftest.py's `both_stores`).
pytestmark = pytest.mark.both_stores

SECRETS = ("s3cr3t-start", "hunter2", "deadbeef", "k3y-gone", "user:pass@")


def _admin(app: Doppel) -> dict[str, str]:
    return {"Authorization": f"Bearer {app.keys['alice']}"}  # type: ignore[attr-defined]


def _poll(server: str, app: Doppel, job_id: int) -> dict[str, object]:
    for _ in range(400):
        job = httpx.get(f"{server}/api/agents/bakery/imports/{job_id}", headers=_admin(app),
                        timeout=30).json()
        if job["finished"]:
            return job  # type: ignore[no-any-return]
        time.sleep(0.05)
    raise AssertionError("the import did not finish")


def _stored(app: Doppel) -> str:
    """Everything the database holds about imports and documents, as one text."""
    db = app.db.connect()
    rows = [dict(r) for r in db.execute("SELECT * FROM import_jobs")]
    rows += [dict(r) for r in db.execute("SELECT source, title FROM documents")]
    return json.dumps(rows, ensure_ascii=False)


# --- 2. no credentials from a URL ---------------------------------------------------------------

def test_a_password_in_an_import_url_is_never_stored_or_shown(
        server: str, server_app: Doppel, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    # (a loopback address, refused before any request: these tests never leave the machine)
    for url in ("http://user:pass@127.0.0.1:9/", "user:pass@127.0.0.1:9/menu"):
        r = httpx.post(f"{server}/api/agents/bakery/imports", headers=_admin(server_app),
                       json={"url": url}, timeout=30)
        assert r.status_code == 202, r.text
        job = _poll(server, server_app, int(r.json()["id"]))
        assert job["state"] == "failed" and "nothing could be imported" in str(job["error"])
        assert "127.0.0.1:9/" in str(job["error"]) and "127.0.0.1:9/" in str(job["label"])
        assert "user:pass@" not in json.dumps(r.json()) + json.dumps(job)
    listing = httpx.get(f"{server}/api/agents/bakery/imports", headers=_admin(server_app),
                        timeout=30).text
    client = sign_in(server, server_app.keys["alice"])  # type: ignore[attr-defined]
    pages = client.get("/console/agents/bakery/import").text + "".join(
        client.get(f"/console/agents/bakery/imports/{j['id']}").text
        for j in json.loads(listing)["data"])
    # the console refuses such an address on its form, and does not show it back
    token = _csrf(pages)
    r = client.post("/console/agents/bakery/import-url",
                    data={"csrf": token, "url": "http://user:pass@example.com/"})
    assert r.status_code == 422 and "password" in r.text
    for text in (listing, pages, r.text, _stored(server_app), caplog.text):
        assert "user:pass@" not in text


def test_tokens_in_crawled_urls_are_redacted_everywhere(
        server: str, server_app: Doppel, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with FakeWebsite() as web:
        base = f"http://127.0.0.1:{web.port}"
        web.routes.update({
            "/": "<html><body><main><h1>Rye</h1><p>Fresh rye bread every morning.</p>"
                 f"<a href='http://admin:hunter2@127.0.0.1:{web.port}/private.html'>staff</a>"
                 "<a href='/menu.html?sig=deadbeef&id=3'>Menu</a>"
                 "<a href='/gone.html?api_key=k3y-gone'>Old</a></main></body></html>",
            "/menu.html": "<html><body><main><h2>Menu</h2><p>A rye loaf costs $7.50.</p>"
                          "</main></body></html>"})
        server_app.settings.fetch_allow = f"127.0.0.1:{web.port}"
        server_app.settings.crawl_delay_s = 0
        client = sign_in(server, server_app.keys["alice"])  # type: ignore[attr-defined]
        token = _csrf(client.get("/console/agents/bakery/import").text)
        r = client.post("/console/agents/bakery/import-url",
                        data={"csrf": token, "url": f"{base}/?token=s3cr3t-start"})
        page = wait_job(client, str(r.url))
        assert "Import finished: 2 imported" in page
        assert any("?token=s3cr3t-start" in p for p in web.requests)  # the site got it
    job = server_app.imports.list(server_app.agents.get("bakery").id, 1)[0]
    report = json.dumps(job.public(), ensure_ascii=False)
    assert "credentials" in report and "HTTP 404" in report  # each link still reported
    assert "id=3" in report or "id_3" in report                # ordinary parameters kept
    api = httpx.get(f"{server}/api/agents/bakery/imports/{job.id}", headers=_admin(server_app),
                    timeout=30).text
    pages = page + client.get("/console/agents/bakery/import").text
    for text in (report, api, pages, _stored(server_app), caplog.text):
        for secret in SECRETS:
            assert secret not in text, (secret, text[:2000])


# --- 3. an interrupted upload leaves a record ---------------------------------------------------

class _Trap:
    """A Markdown loader that runs `action` first (raise, or block)."""

    name = "markdown"

    def __init__(self, action: Callable[[], None]) -> None:
        self.action = action

    def load(self, data: bytes, filename: str) -> LoadedDocument:
        self.action()
        return MarkdownLoader().load(data, filename)


@pytest.fixture
def traps(monkeypatch: pytest.MonkeyPatch) -> dict[str, Callable[[], None]]:
    """Files whose name contains a key are read by a loader that first runs its action."""
    from doppel.knowledge import ingest

    actions: dict[str, Callable[[], None]] = {}
    real = ingest.loader_for

    def loader_for(source: str, data: bytes | None = None) -> object:
        for key, action in actions.items():
            if key in source:
                return _Trap(action)
        return real(source, data)

    monkeypatch.setattr(ingest, "loader_for", loader_for)
    return actions


def _md(n: int) -> bytes:
    return f"# Note {n}\n\nThe bakery's note number {n} says rye bread is baked daily.\n".encode()


def _documents(app: Doppel, agent_id: int) -> set[str]:
    rows = app.db.connect().execute(
        "SELECT d.source, COUNT(c.id) FROM documents d LEFT JOIN chunks c ON c.document_id = d.id "
        "WHERE d.agent_id = ? GROUP BY d.id", (agent_id,)).fetchall()
    assert all(n > 0 for _, n in rows), "a document without its chunks"
    return {str(r[0]) for r in rows}


def test_api_upload_with_a_failing_loader_is_recorded_as_a_job(
        server: str, server_app: Doppel, traps: dict[str, Callable[[], None]]) -> None:
    def boom() -> None:
        raise RuntimeError("the loader broke")

    traps["boom"] = boom
    files = [("files", (name, _md(i), "text/markdown"))
             for i, name in enumerate(["a.md", "b.md", "boom.md", "d.md"])]
    r = httpx.post(f"{server}/api/agents/bakery/files", headers=_admin(server_app),
                   files=files, timeout=60)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [f["status"] for f in body["files"]] == ["added", "added", "skipped", "added"]
    assert "RuntimeError" in body["files"][2]["reason"]
    assert set(body["files"][0]) == {"source", "status", "chunks", "reason", "flagged", "items",
                                     "skipped_items", "private"}  # + the private count
    job = _poll(server, server_app, int(body["job"]["id"]))
    assert job["state"] == "done" and job["kind"] == "files"
    assert [i["source"] for i in job["items"]] == ["a.md", "b.md", "boom.md", "d.md"]  # type: ignore
    agent = server_app.agents.get("bakery")
    assert _documents(server_app, agent.id) == {"prices.csv", "a.md", "b.md", "d.md"}


def test_a_stopped_upload_keeps_what_was_imported_and_says_what_was_not(
        app: Doppel, traps: dict[str, Callable[[], None]]) -> None:
    agent = app.agents.create(AgentSpec(slug="stops", name="Stops"))

    def stop() -> None:
        raise KeyboardInterrupt  # the server being stopped in the middle of a file

    traps["stop"] = stop
    files = [("a.md", _md(1)), ("b.md", _md(2)), ("stop.md", _md(3)), ("d.md", _md(4))]
    with pytest.raises(KeyboardInterrupt):
        app.imports.run_upload(agent, files)
    job = app.imports.list(agent.id, 1)[0]
    assert job.state == "failed" and "interrupted" in job.error and "2 of 4" in job.error
    assert [(i["source"], i["status"]) for i in job.items] == [
        ("a.md", "added"), ("b.md", "added"), ("stop.md", "skipped"), ("d.md", "skipped")]
    assert "not imported" in job.items[2]["reason"]
    assert _documents(app, agent.id) == {"a.md", "b.md"}  # nothing of stop.md, no half file


def test_an_export_zip_is_imported_whole_or_not_at_all(
        app: Doppel, traps: dict[str, Callable[[], None]]) -> None:
    agent = app.agents.create(AgentSpec(slug="zips", name="Zips"))

    def stop() -> None:
        raise KeyboardInterrupt

    traps["stop"] = stop
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as zf:
        for name in ("one.md", "stop.md", "three.md"):
            zf.writestr(f"export/{name}", _md(len(name)).decode())
    with pytest.raises(KeyboardInterrupt):
        app.imports.run_upload(agent, [("export.zip", data.getvalue())])
    assert _documents(app, agent.id) == set()  # one.md was read first, but not written alone
    job = app.imports.list(agent.id, 1)[0]
    assert job.state == "failed" and job.items[0]["source"] == "export.zip"
    del traps["stop"]
    reports = app.ingestor.ingest_upload(agent, "export.zip", data.getvalue())
    assert [r.status for r in reports] == ["added"] * 3


def _multipart(names: list[str]) -> tuple[bytes, str]:
    boundary = "doppel-test-boundary"
    body = b""
    for i, name in enumerate(names):
        body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; "
                 f"filename=\"{name}\"\r\nContent-Type: text/markdown\r\n\r\n").encode()
        body += _md(i) + b"\r\n"
    return body + f"--{boundary}--\r\n".encode(), boundary


def test_a_client_that_disconnects_mid_upload_leaves_a_record(
        server: str, server_app: Doppel, traps: dict[str, Callable[[], None]]) -> None:
    entered, release = threading.Event(), threading.Event()

    def block() -> None:
        entered.set()
        release.wait(30)

    traps["slow"] = block
    body, boundary = _multipart(["a.md", "slow.md", "c.md"])
    host, port = server.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.sendall((f"POST /api/agents/bakery/files HTTP/1.1\r\nHost: {host}:{port}\r\n"
                  f"Authorization: Bearer {server_app.keys['alice']}\r\n"  # type: ignore
                  f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                  f"Content-Length: {len(body)}\r\n\r\n").encode() + body)
    try:
        assert entered.wait(30), "the upload never reached slow.md"
    finally:
        sock.close()  # the client goes away while slow.md is being read
    time.sleep(1.0)   # the server notices (it looks every 0.2 s)
    release.set()
    agent = server_app.agents.get("bakery")
    job: ImportJob | None = None
    for _ in range(400):
        job = server_app.imports.list(agent.id, 1)[0]
        if job.finished:
            break
        time.sleep(0.05)
    assert job is not None and job.state == "failed", job
    assert "connection closed" in job.error and "2 of 3" in job.error
    assert [(i["source"], i["status"]) for i in job.items] == [
        ("a.md", "added"), ("slow.md", "added"), ("c.md", "skipped")]
    assert _documents(server_app, agent.id) == {"prices.csv", "a.md", "slow.md"}


# --- 4. a reused pid is not a live worker -------------------------------------------------------

@pytest.fixture
def running(app: Doppel) -> Iterator[Callable[[str], ImportJob]]:
    agent = app.agents.create(AgentSpec(slug="workers", name="Workers"))

    def job(worker: str) -> ImportJob:
        created = app.imports._create(agent, "files", worker, 1, queue=False)
        with app.db.transaction() as tx:
            tx.execute("UPDATE import_jobs SET state = 'running', worker = ? WHERE id = ?",
                       (worker, created.id))
        return created

    yield job


def test_a_job_whose_pid_was_reused_is_recovered(app: Doppel,
                                                 running: Callable[[str], ImportJob]) -> None:
    host, parent = socket.gethostname(), os.getppid()
    token = jobs_module._start_token(parent)
    assert token, "this test needs /proc"
    reused = [running(f"{host}:{pid}:{token}1") for pid in (parent, 1)]  # other start times
    alive = running(f"{host}:{parent}:{token}")  # the very process: still running
    assert app.imports.recover() == 2
    for job in reused:
        assert app.imports.get(job.id).state == "failed"
        assert "restart" in app.imports.get(job.id).error
    assert app.imports.get(alive.id).state == "running"


def test_a_job_records_which_process_runs_it(app: Doppel) -> None:
    agent = app.agents.create(AgentSpec(slug="mine", name="Mine"))
    job = app.imports._create(agent, "files", "x", 1)
    worker = app.db.connect().execute("SELECT worker FROM import_jobs WHERE id = ?",
                                      (job.id,)).fetchone()[0]
    host, pid, token = worker.split(":", 2)
    assert host == socket.gethostname() and int(pid) == os.getpid()
    assert token == jobs_module._start_token(os.getpid()) and "@" in token
