"""Import jobs: an owner's upload or website, ingested in the background with visible progress.

The console starts a job and shows its progress; the job's state and its per-item report live in
the `import_jobs` table, so whichever server worker answers the next poll can read them. Jobs
run one at a time on one background thread per process: ingestion embeds every chunk, and two
imports at once would only compete for the same CPU cores as the chat model.

The queue is the store's (issue 16: several workers or hosts, one queue): an upload's files are
written with its job (`import_uploads`), and every process's worker claims the oldest queued
job — on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so no two take the same one and none waits
for another. Whichever process is free runs it; a job whose process died is queued again (three
attempts), and a server that stops puts its running job back in the queue. A website whose
address holds a password or a token is never stored: its job runs in the process that took it,
as do the synchronous imports (the owner API's upload, the CLI).

Bad input never leaves half-written state: each item is written in its own transaction by the
ingestor (a zip is validated whole, and its entries are written together), and a failed item is
reported with its reason while the others go on.

The owner API's synchronous upload is recorded as a job too (`run_upload`): when the client
leaves or the server stops half-way, the job ends 'failed' and its report lists the files that
were imported and those that were not — and a process killed outright leaves a 'running' job
that `recover` fails at the next start, its report as far as it got.

Nothing a job stores (label, progress, error, report) holds the user info or secret-looking
parameters of a URL: every write goes through `_update`, which redacts them.
"""

from __future__ import annotations

import builtins
import json
import logging
import os
import socket
import threading
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO, Literal

from doppel.config import Settings
from doppel.errors import DoppelError, NotFoundError, ValidationError
from doppel.knowledge.archive import is_archive
from doppel.knowledge.ingest import FileReport, Ingestor
from doppel.knowledge.owner import KnowledgeOwner
from doppel.net import redact_secrets
from doppel.store import Database, now_iso

log = logging.getLogger(__name__)

State = Literal["queued", "running", "done", "failed"]
MAX_WAITING_PER_AGENT = 3
MAX_ATTEMPTS = 3  # a job whose process died this many times fails for good
POLL_S = 2.0  # an idle worker looks for jobs queued by other processes this often
MAX_ID = 2 ** 63 - 1  # SQLite's largest integer: a larger id in an address is no job at all
# An uploaded file: its name and its content, in memory or still in the upload's spool file.
Upload = tuple[str, bytes | BinaryIO]


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
    """`owner_of` (agent id -> the agent, None when deleted) lets this process run jobs that
    others queued; without it, jobs run only in the process that took them (as before)."""

    def __init__(self, db: Database, ingestor: Ingestor, settings: Settings,
                 owner_of: Callable[[int], KnowledgeOwner | None] | None = None) -> None:
        self.db = db
        self.ingestor = ingestor
        self.settings = settings
        self.owner_of = owner_of
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="doppel-import")
        self._lock = threading.Lock()
        # Set by close(): a running file import stops after the file in progress and says so.
        self._closing = threading.Event()
        self._wake = threading.Event()
        self._worker: threading.Thread | None = None

    def recover(self) -> int:
        """At start-up: the jobs whose process died with them go back to the queue when their
        input was kept (another process runs them), else fail; returns how many failed. Jobs
        of other live workers on this machine are left alone: with `--workers N` a restarted
        worker must not touch its siblings' imports."""
        rows = self.db.connect().execute(
            "SELECT id, worker, state, durable, attempts FROM import_jobs WHERE state IN "
            "('queued', 'running')").fetchall()
        requeue: builtins.list[int] = []
        dead: builtins.list[int] = []
        for r in rows:
            if r["durable"] and (r["state"] == "queued" or not r["worker"]):
                continue  # waiting in the shared queue, for any process
            if _alive(str(r["worker"])):
                continue
            (requeue if r["durable"] and r["attempts"] < MAX_ATTEMPTS else dead).append(
                int(r["id"]))
        with self.db.transaction() as tx:
            for job_id in requeue:
                tx.execute("UPDATE import_jobs SET state = 'queued', worker = '', current = "
                           "'waiting to start again' WHERE id = ?", (job_id,))
            for job_id in dead:
                tx.execute(
                    "UPDATE import_jobs SET state = 'failed', error = 'interrupted by a server "
                    "restart; run the import again (what was imported is kept, and unchanged "
                    "files are skipped)', finished_at = ?, source = '' WHERE id = ?",
                    (now_iso(), job_id))
                tx.execute("DELETE FROM import_uploads WHERE job_id = ?", (job_id,))
        if requeue:
            self.start_worker()
        return len(dead)

    # --- the shared queue -----------------------------------------------------------------------
    def start_worker(self) -> None:
        """This process takes queued jobs (its own and other processes'), one at a time."""
        if self.owner_of is None:
            return
        with self._lock:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="doppel-import-queue",
                                                daemon=True)
                self._worker.start()
        self._wake.set()

    def _work(self) -> None:
        while not self._closing.is_set():
            try:
                claimed = self._claim()
            except Exception as exc:  # the store is unreachable: try again later
                log.warning("import queue: %s", exc)
                claimed = None
            if claimed is None:
                self._wake.wait(POLL_S)
                self._wake.clear()
                continue
            self._run_claimed(*claimed)

    def _claim(self) -> tuple[int, int, str, str] | None:
        """The oldest queued job of the shared queue, now this process's: (id, agent id,
        kind, source)."""
        with self.db.transaction() as tx:
            row = tx.execute(
                "UPDATE import_jobs SET state = 'running', worker = ?, attempts = attempts + 1 "
                "WHERE id = (SELECT id FROM import_jobs WHERE state = 'queued' AND durable = 1 "
                f"ORDER BY id LIMIT 1{self.db.dialect.skip_locked}) "
                "RETURNING id, agent_id, kind, source", (_worker(),)).fetchone()
        return (int(row[0]), int(row[1]), str(row[2]), str(row[3])) if row else None

    def _run_claimed(self, job_id: int, agent_id: int, kind: str, source: str) -> None:
        assert self.owner_of is not None
        # Whichever way it ends, _update drops its input (uploads, address) with the end.
        owner = self.owner_of(agent_id)
        if owner is None:
            self._update(job_id, state="failed", error="the agent was deleted")
        elif kind == "files":
            rows = self.db.connect().execute(
                "SELECT name, data FROM import_uploads WHERE job_id = ? ORDER BY ord",
                (job_id,)).fetchall()
            files: builtins.list[Upload] = [(str(r[0]), bytes(r[1])) for r in rows]
            self._guard(job_id, self._run_files, job_id, owner, files, None)
        else:
            self._guard(job_id, self._run_url, job_id, owner, source)

    # --- starting -------------------------------------------------------------------------------
    def start_files(self, agent: KnowledgeOwner,
                    files: builtins.list[tuple[str, bytes]]) -> ImportJob:
        if self.owner_of is not None:  # into the shared queue, files and all
            job = self._create(agent, "files", _files_label(files), len(files), uploads=files)
            self.start_worker()
            return job
        job = self._create(agent, "files", _files_label(files), len(files))
        self._pool.submit(self._guard, job.id, self._run_files, job.id, agent, files, None)
        return job

    def run_upload(self, agent: KnowledgeOwner, files: Sequence[Upload],
                   stop: threading.Event | None = None) -> ImportJob:
        """A synchronous upload (the owner API), in the caller's thread, recorded as a job.

        `stop` set (the client went away): the file in progress is finished, the others are
        reported as not imported and the job ends 'failed'. Not held to MAX_WAITING_PER_AGENT,
        which bounds uploads waiting in memory for the background thread: this one waits for
        nothing."""
        job = self._create(agent, "files", _files_label(files), len(files), queue=False)
        self._guard(job.id, self._run_files, job.id, agent, files, stop)
        return self.get(job.id)

    def start_url(self, agent: KnowledgeOwner, url: str) -> ImportJob:
        url = _with_scheme(url)
        if self.owner_of is not None and _label(url) == url:  # no secret in it: storable
            job = self._create(agent, "url", _label(url), self.settings.crawl_max_pages,
                               source=url)
            self.start_worker()
            return job
        job = self._create(agent, "url", _label(url), self.settings.crawl_max_pages)
        self._pool.submit(self._guard, job.id, self._run_url, job.id, agent, url)
        return job

    def run_files(self, agent: KnowledgeOwner,
                  files: builtins.list[tuple[str, bytes]]) -> ImportJob:
        """The same import, in the caller's thread (the CLI)."""
        job = self._create(agent, "files", _files_label(files), len(files))
        self._guard(job.id, self._run_files, job.id, agent, files, None)
        return self.get(job.id)

    def run_url(self, agent: KnowledgeOwner, url: str) -> ImportJob:
        url = _with_scheme(url)
        job = self._create(agent, "url", _label(url), self.settings.crawl_max_pages)
        self._guard(job.id, self._run_url, job.id, agent, url)
        return self.get(job.id)

    # --- reading --------------------------------------------------------------------------------
    def get(self, job_id: int, agent_id: int | None = None) -> ImportJob:
        if not 0 < job_id <= MAX_ID:
            raise NotFoundError(f"no import #{job_id}")
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
    def _create(self, agent: KnowledgeOwner, kind: str, label: str, total: int, *,
                queue: bool = True, uploads: Sequence[tuple[str, bytes]] | None = None,
                source: str = "") -> ImportJob:
        """A queued job. With `uploads` or a `source`, a job of the shared queue (any process
        may run it; unowned by a worker until one claims it), written with its input in one
        transaction."""
        durable = uploads is not None or bool(source)
        # the count and the insert must not interleave with another request's for this agent
        with self.db.transaction(serialize=f"imports:{agent.id}") as tx:
            # Uploads wait in memory until their turn: one agent may not pile them up.
            waiting = tx.execute("SELECT COUNT(*) FROM import_jobs WHERE agent_id = ? AND "
                                 "state IN ('queued', 'running')", (agent.id,)).fetchone()[0]
            if queue and waiting >= MAX_WAITING_PER_AGENT:
                raise ValidationError(f"{waiting} imports are still waiting or running for "
                                      "this agent: wait for them to finish")
            cur = tx.execute("INSERT INTO import_jobs(agent_id, kind, label, state, total, "
                             "worker, durable, source) VALUES (?,?,?,?,?,?,?,?) RETURNING id",
                             (agent.id, kind, redact_secrets(label)[:300], "queued", total,
                              "" if durable else _worker(), int(durable), source))
            job_id = int(cur.fetchone()[0])
            if uploads:
                tx.executemany("INSERT INTO import_uploads(job_id, ord, name, data) "
                               "VALUES (?, ?, ?, ?)",
                               [(job_id, i, name, data) for i, (name, data) in enumerate(uploads)])
        return self.get(job_id)

    def _update(self, job_id: int, **values: Any) -> None:
        """Write job columns. Every text a job stores passes here, so this is where URLs lose
        their passwords and tokens: the label, progress, error and report all show them."""
        for name in ("current", "error", "label"):
            if name in values:
                values[name] = redact_secrets(str(values[name]))
        if "items" in values:
            values["report_json"] = json.dumps(_redacted(values.pop("items")),
                                               ensure_ascii=False)
        ending = values.get("state") in ("done", "failed")
        if ending:  # its input is no longer needed: it leaves with the end, in one transaction
            values["finished_at"] = now_iso()
            values["source"] = ""
        columns = [f"{name} = ?" for name in values]
        with self.db.transaction() as tx:
            tx.execute(f"UPDATE import_jobs SET {', '.join(columns)} WHERE id = ?",
                       (*values.values(), job_id))
            if ending:
                tx.execute("DELETE FROM import_uploads WHERE job_id = ?", (job_id,))

    def _guard(self, job_id: int, run: Any, *args: Any) -> None:
        """A job that fails unexpectedly ends as 'failed' with a reason, never as 'running'."""
        try:
            self._update(job_id, state="running")
            run(*args)
        except DoppelError as exc:
            self._update(job_id, state="failed", error=str(exc))
        except Exception as exc:
            # The traceback's last line quotes the exception, which may quote a URL.
            log.error("import #%d failed\n%s", job_id,
                      redact_secrets("".join(traceback.format_exception(exc))))
            self._update(job_id, state="failed",
                         error=f"the import stopped unexpectedly ({type(exc).__name__})")

    def _run_files(self, job_id: int, agent: KnowledgeOwner, files: Sequence[Upload],
                   stop: threading.Event | None) -> None:
        items: builtins.list[dict[str, Any]] = []
        n = 0
        try:
            for n, (name, content) in enumerate(files):
                why = self._stopped(stop)
                if why:
                    self._interrupted(job_id, files, n, items, why)
                    return
                self._update(job_id, current=name, done=n)
                data = self._read(name, content)
                reports = ([data] if isinstance(data, FileReport)
                           else self.ingestor.ingest_upload(agent, name, data))
                items.extend(_report_json(report) for report in reports)
                self._update(job_id, items=items, done=n + 1)
        except BaseException as exc:
            # The process is being stopped (or a file could not even be read): the file in
            # progress was not written (one transaction), so the report says what was.
            self._interrupted(job_id, files, n, items,
                              f"the import was interrupted ({type(exc).__name__})")
            raise
        self._update(job_id, state="done", done=len(files), current="", items=items)

    def _stopped(self, stop: threading.Event | None) -> str:
        if stop is not None and stop.is_set():
            return "the connection closed before the upload was finished"
        if self._closing.is_set():
            return "the server stopped"
        return ""

    def _interrupted(self, job_id: int, files: Sequence[Upload], n: int,
                     items: builtins.list[dict[str, Any]], why: str) -> None:
        """End a file import that stopped before file `n`: those left are reported too. A job
        of the shared queue whose server stops goes back to the queue instead (its files were
        kept; those imported already are skipped as unchanged when it runs again)."""
        if self._closing.is_set() and self.owner_of is not None and self.db.connect().execute(
                "SELECT durable FROM import_jobs WHERE id = ?", (job_id,)).fetchone()[0]:
            self._update(job_id, state="queued", worker="", current="waiting to start again")
            return
        reason = f"not imported: {why}"
        items = items + [_report_json(FileReport(name, "skipped", reason=reason))
                         for name, _ in files[n:]]
        self._update(job_id, state="failed", current="", done=n, items=items,
                     error=f"{why}, after {n} of {len(files)} files; what was imported is "
                     "kept (listed below): send the rest again (unchanged files are skipped)")

    def _read(self, name: str, content: bytes | BinaryIO) -> bytes | FileReport:
        """The file's bytes, or why not. A file is read only up to its limit: an export zip
        may be as large as the whole upload, any other file as large as max_file_bytes."""
        limit = (self.settings.max_upload_bytes if is_archive(name)
                 else self.settings.max_file_bytes)
        data = content if isinstance(content, bytes) else content.read(limit + 1)
        if len(data) > limit:
            return FileReport(name, "skipped", reason=f"too large (the limit is {limit} bytes)")
        return data

    def _run_url(self, job_id: int, agent: KnowledgeOwner, url: str) -> None:
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
                         error=f"nothing could be imported from {_label(url)}: {reason}")
            return
        self._update(job_id, state="done", done=len(pages), current="", items=items)

    def close(self) -> None:
        self._closing.set()
        self._wake.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self._worker is not None:
            self._worker.join(timeout=30)  # the file in progress ends; the job is re-queued


# --- which process runs a job -------------------------------------------------------------------
# A job names its worker as 'host:pid:start', start saying when that process began. A pid alone
# is not enough: after a restart the pid may belong to another process, and a job checked by
# pid alone would stay 'running' for ever.

def _worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{_start_token(os.getpid()) or ''}"


def _start_token(pid: int) -> str | None:
    """When process `pid` started: field 22 of /proc/<pid>/stat (clock ticks since boot) and the
    boot's id, which tells two boots apart. None where /proc cannot say (not Linux, hidepid):
    the pid alone decides there, as before."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # Field 2, the command name, is in parentheses and may itself hold spaces or ')'.
    fields = stat[stat.rfind(")") + 1:].split()
    if len(fields) < 20 or not fields[19].isdigit():
        return None
    return f"{fields[19]}@{_boot_id()}"


@cache
def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _alive(worker: str) -> bool:
    """Whether the process that took a job still runs (on this machine; a job of another
    machine is assumed alive: there is no way to ask it from here)."""
    host, _, rest = worker.partition(":")
    pid, _, token = rest.partition(":")  # jobs written before the start token: 'host:pid'
    if host != socket.gethostname() or not pid.isdigit():
        return host != socket.gethostname() and bool(host)
    if int(pid) == os.getpid():
        return False  # this process is starting: nothing of it runs yet
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:
        pass  # alive, and another user's
    if token:
        now = _start_token(int(pid))
        if now is not None and now != token:
            return False  # the pid now belongs to a process that started later
    return True


def _with_scheme(url: str) -> str:
    """'bakery.example' as typed, with the https:// the crawl would give it: a URL with its
    scheme is one whose user info the redaction can find."""
    url = url.strip()
    return url if "://" in url else "https://" + url


def _label(url: str) -> str:
    """What the job page shows: never a password or a token from the URL."""
    return redact_secrets(url)


def _redacted(value: Any) -> Any:
    """Every string in a report (sources, reasons, lines, items left out), redacted."""
    if isinstance(value, str):
        return redact_secrets(value)
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(v) for v in value]
    return value


def _files_label(files: Sequence[Upload]) -> str:
    if not files:
        return "nothing"
    return files[0][0] if len(files) == 1 else f"{len(files)} files"


def _job(row: Any) -> ImportJob:
    return ImportJob(id=int(row["id"]), agent_id=int(row["agent_id"]), kind=row["kind"],
                     label=row["label"], state=row["state"], done=int(row["done"]),
                     total=int(row["total"]), current=row["current"],
                     items=json.loads(row["report_json"] or "[]"), error=row["error"],
                     created_at=row["created_at"], finished_at=row["finished_at"])
