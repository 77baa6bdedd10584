"""Import jobs: an owner's upload or website, ingested in the background with visible progress.

The console starts a job and shows its progress; the job's state and its per-item report live in
the `import_jobs` table, so whichever server worker answers the next poll can read them. Jobs
run one at a time on one background thread per process: ingestion embeds every chunk, and two
imports at once would only compete for the same CPU cores as the chat model.

Bad input never leaves half-written state: each item is written in its own transaction by the
ingestor (a zip is validated whole before any of its entries is), and a failed item is
reported with its reason while the others go on.
"""

from __future__ import annotations

import builtins

import json
import logging
import os
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from doppel.agents.repo import Agent
from doppel.config import Settings
from doppel.errors import DoppelError, NotFoundError, ValidationError
from doppel.knowledge.ingest import FileReport, Ingestor
from doppel.net import redact_url
from doppel.store.db import Database

log = logging.getLogger(__name__)

State = Literal["queued", "running", "done", "failed"]
MAX_WAITING_PER_AGENT = 3


@dataclass
class ImportJob:
    id: int
    agent_id: int
    kind: str
    label: str
    state: State
    done: int
    total: int
    current: str
    items: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""
    created_at: str = ""
    finished_at: str | None = None

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed")

    def count(self, status: str) -> int:
        return sum(1 for item in self.items if item.get("status") == status)

    @property
    def chunks(self) -> int:
        return sum(int(item.get("chunks") or 0) for item in self.items)

    def public(self) -> dict[str, Any]:
        return asdict(self) | {"finished": self.finished, "summary": {
            s: self.count(s) for s in ("added", "updated", "unchanged", "skipped")}}


def _report_json(report: FileReport) -> dict[str, Any]:
    item = asdict(report)
    item["line"] = report.line()
    return item


class ImportJobs:
    def __init__(self, db: Database, ingestor: Ingestor, settings: Settings) -> None:
        self.db = db
        self.ingestor = ingestor
        self.settings = settings
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="doppel-import")
        self._lock = threading.Lock()

    def recover(self) -> int:
        """Mark as failed the jobs whose process died with them (at start-up). Jobs of other
        live workers on this machine are left alone: with `--workers N` a restarted worker
        must not fail its siblings' imports."""
        rows = self.db.connect().execute(
            "SELECT id, worker FROM import_jobs WHERE state IN ('queued', 'running')").fetchall()
        dead = [int(r["id"]) for r in rows if not _alive(str(r["worker"]))]
        with self.db.transaction() as tx:
            for job_id in dead:
                tx.execute(
                    "UPDATE import_jobs SET state = 'failed', error = 'interrupted by a server "
                    "restart; run the import again (what was imported is kept, and unchanged "
                    "files are skipped)', finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
                    "WHERE id = ?", (job_id,))
        return len(dead)

    # --- starting -------------------------------------------------------------------------------
    def start_files(self, agent: Agent, files: builtins.list[tuple[str, bytes]]) -> ImportJob:
        label = files[0][0] if len(files) == 1 else f"{len(files)} files"
        job = self._create(agent, "files", label, len(files))
        self._pool.submit(self._guard, job.id, self._run_files, job.id, agent, files)
        return job

    def start_url(self, agent: Agent, url: str) -> ImportJob:
        job = self._create(agent, "url", _label(url), self.settings.crawl_max_pages)
        self._pool.submit(self._guard, job.id, self._run_url, job.id, agent, url)
        return job

    def run_files(self, agent: Agent, files: builtins.list[tuple[str, bytes]]) -> ImportJob:
        """The same import, in the caller's thread (the CLI)."""
        job = self._create(agent, "files", files[0][0] if files else "nothing", len(files))
        self._guard(job.id, self._run_files, job.id, agent, files)
        return self.get(job.id)

    def run_url(self, agent: Agent, url: str) -> ImportJob:
        job = self._create(agent, "url", _label(url), self.settings.crawl_max_pages)
        self._guard(job.id, self._run_url, job.id, agent, url)
        return self.get(job.id)

    # --- reading --------------------------------------------------------------------------------
    def get(self, job_id: int, agent_id: int | None = None) -> ImportJob:
        row = self.db.connect().execute("SELECT * FROM import_jobs WHERE id = ?",
                                        (job_id,)).fetchone()
        if row is None or (agent_id is not None and row["agent_id"] != agent_id):
            raise NotFoundError(f"no import #{job_id}")
        return _job(row)

    def list(self, agent_id: int, limit: int = 20) -> list[ImportJob]:
        rows = self.db.connect().execute(
            "SELECT * FROM import_jobs WHERE agent_id = ? ORDER BY id DESC LIMIT ?",
            (agent_id, limit)).fetchall()
        return [_job(r) for r in rows]

    def wait(self, job_id: int, timeout: float = 60.0) -> ImportJob:
        """Block until the job ends (tests, the CLI)."""
        import time

        deadline = time.monotonic() + timeout
        while True:
            job = self.get(job_id)
            if job.finished or time.monotonic() > deadline:
                return job
            time.sleep(0.05)

    # --- running --------------------------------------------------------------------------------
    def _create(self, agent: Agent, kind: str, label: str, total: int) -> ImportJob:
        with self.db.transaction() as tx:
            # Uploads wait in memory until their turn: one agent may not pile them up.
            waiting = tx.execute("SELECT COUNT(*) FROM import_jobs WHERE agent_id = ? AND "
                                 "state IN ('queued', 'running')", (agent.id,)).fetchone()[0]
            if waiting >= MAX_WAITING_PER_AGENT:
                raise ValidationError(f"{waiting} imports are still waiting or running for "
                                      "this agent: wait for them to finish")
            cur = tx.execute("INSERT INTO import_jobs(agent_id, kind, label, state, total, "
                             "worker) VALUES (?,?,?,?,?,?)",
                             (agent.id, kind, label[:300], "queued", total, _worker()))
        return self.get(int(cur.lastrowid or 0))

    def _update(self, job_id: int, **values: Any) -> None:
        if "items" in values:
            values["report_json"] = json.dumps(values.pop("items"), ensure_ascii=False)
        columns = [f"{name} = ?" for name in values]
        if values.get("state") in ("done", "failed"):
            columns.append("finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')")
        with self.db.transaction() as tx:
            tx.execute(f"UPDATE import_jobs SET {', '.join(columns)} WHERE id = ?",
                       (*values.values(), job_id))

    def _guard(self, job_id: int, run: Any, *args: Any) -> None:
        """A job that fails unexpectedly ends as 'failed' with a reason, never as 'running'."""
        try:
            self._update(job_id, state="running")
            run(*args)
        except DoppelError as exc:
            self._update(job_id, state="failed", error=str(exc))
        except Exception as exc:
            log.exception("import #%d failed", job_id)
            self._update(job_id, state="failed",
                         error=f"the import stopped unexpectedly ({type(exc).__name__})")

    def _run_files(self, job_id: int, agent: Agent,
                   files: builtins.list[tuple[str, bytes]]) -> None:
        items: builtins.list[dict[str, Any]] = []
        for n, (name, data) in enumerate(files):
            self._update(job_id, current=name, done=n)
            for report in self.ingestor.ingest_upload(agent, name, data):
                items.append(_report_json(report))
            self._update(job_id, items=items)
        self._update(job_id, state="done", done=len(files), current="", items=items)

    def _run_url(self, job_id: int, agent: Agent, url: str) -> None:
        from doppel.knowledge.crawl import crawl

        def progress(page_url: str, done: int, limit: int) -> None:
            self._update(job_id, current=f"fetching {page_url}", done=done, total=limit)

        result = crawl(url, self.settings, progress=progress)
        items = [_report_json(FileReport(u, "skipped", reason=why)) for u, why in result.skipped]
        pages = result.pages  # blocks repeated across pages are already stripped
        self._update(job_id, total=len(pages), done=0, items=items)
        for n, page in enumerate(pages):
            self._update(job_id, current=f"reading {page.url}", done=n)
            items.append(_report_json(self.ingestor.ingest_bytes(agent, page.data, page.source)))
            self._update(job_id, items=items)
        if not pages:
            reason = result.skipped[0][1] if result.skipped else "no pages found"
            self._update(job_id, state="failed", current="", items=items,
                         error=f"nothing could be imported from {url}: {reason}")
            return
        self._update(job_id, state="done", done=len(pages), current="", items=items)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(worker: str) -> bool:
    """Whether the process that took a job still runs (on this machine; a job of another
    machine is assumed alive: there is no way to ask it from here)."""
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return host != socket.gethostname() and bool(host)
    if int(pid) == os.getpid():
        return False  # this process is starting: nothing of it runs yet
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _label(url: str) -> str:
    """What the job page shows: never a password or a token from the URL."""
    return redact_url(url) if "://" in url else url


def _job(row: Any) -> ImportJob:
    return ImportJob(id=int(row["id"]), agent_id=int(row["agent_id"]), kind=row["kind"],
                     label=row["label"], state=row["state"], done=int(row["done"]),
                     total=int(row["total"]), current=row["current"],
                     items=json.loads(row["report_json"] or "[]"), error=row["error"],
                     created_at=row["created_at"], finished_at=row["finished_at"])
