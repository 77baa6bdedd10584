"""Ingestion: files -> loader -> chunks -> embeddings -> the agent's index, with a per-file report.

Bad input never stops the run and never leaves half-written state: each file is parsed, chunked
and embedded first, then written in one transaction that replaces the document's previous
chunks (and FAQ answers). A file whose content is unchanged (same SHA-256) is left alone.

A .zip (an uploaded export, or one on disk) is checked whole first (archive.py); each of its
entries is read as '<zip name>/<path inside>', and all of them are written in one transaction:
an export interrupted half-way (the server stopping, the client leaving) is imported whole or
not at all. Every report says per item what was taken and what was left out, and why.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from doppel.config import Settings
from doppel.errors import IngestError
from doppel.knowledge.archive import expand, is_archive
from doppel.knowledge.chunking import Chunk, chunk_document
from doppel.knowledge.index import KnowledgeIndex
from doppel.knowledge.loaders import LoadedDocument, Loader, loader_for
from doppel.knowledge.owner import KnowledgeOwner
from doppel.safety.private import rule_subjects, withhold
from doppel.store import Connection, Database, now_iso

log = logging.getLogger(__name__)

Status = Literal["added", "updated", "unchanged", "skipped"]

# Files an owner's folder often holds that are not knowledge: skipped silently.
_IGNORED_NAMES = {"agent.yaml", "agent.yml", ".ds_store", "thumbs.db", "desktop.ini"}


@dataclass
class FileReport:
    source: str
    status: Status
    chunks: int = 0
    reason: str = ""
    # passages holding text addressed to AI assistants (possible prompt injection): kept,
    # but that text is cut out before any prompt and never followed
    flagged: int = 0
    # items taken (records: posts, products, rows, FAQ entries) and those left out, each as
    # (item, reason); plain lists and numbers, so `dataclasses.asdict` gives JSON
    items: int = 0
    skipped_items: list[tuple[str, str]] = field(default_factory=list)
    # lines that look like secrets (a password, a door code, a key) or that the owner's rules
    # forbid: kept, never said to a customer, listed masked in the review's facts
    private: int = 0

    def line(self) -> str:
        if self.status == "skipped":
            return f"skipped {self.source}: {self.reason}"
        detail = ""
        if self.status != "unchanged":
            taken = f"; {self.items} items" if self.items else ""
            left = (f", {len(self.skipped_items)} left out: {reasons(self.skipped_items)}"
                    if self.skipped_items else "")
            detail = f" ({self.chunks} chunks{taken}{left})"
        if self.flagged:
            detail += (f"; warning: {self.flagged} passage(s) contain instructions addressed "
                       "to AI assistants, which the agent will ignore")
        if self.private:
            detail += (f"; warning: {self.private} line(s) look private (a password, a code, a "
                       "key, or a subject your rules forbid): the agent will not say them; "
                       "check them under Review")
        return f"{self.status} {self.source}{detail}"


@dataclass
class IngestReport:
    files: list[FileReport] = field(default_factory=list)
    # The contact details found in the content and filled into an empty contact card, for the
    # owner to review ("phone": "(503) 555-0142").
    contact: dict[str, str] = field(default_factory=dict)

    def count(self, status: Status) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def chunks(self) -> int:
        return sum(f.chunks for f in self.files if f.status in ("added", "updated"))

    def summary(self) -> str:
        found = "; ".join(f"{k} {v}" for k, v in self.contact.items())
        return (f"{self.count('added')} added, {self.count('updated')} updated, "
                f"{self.count('unchanged')} unchanged, {self.count('skipped')} skipped; "
                f"{self.chunks} chunks written"
                + (f"\ncontact found in your content (check it in the agent's settings): "
                   f"{found}" if found else ""))


@dataclass
class _Prepared:
    """A file read, chunked and embedded: everything but the write, which is one transaction."""

    source: str
    loader: Loader
    digest: str
    existing: int | None  # the document's id when it replaces an earlier version
    doc: LoadedDocument
    chunks: list[Chunk]
    vectors: np.ndarray
    faq_vectors: np.ndarray
    flags: list[list[list[float]]] | None
    private: int = 0

    def report(self) -> FileReport:
        flagged = sum(1 for f in self.flags or [] if f)
        return FileReport(self.source, "updated" if self.existing is not None else "added",
                          len(self.chunks), flagged=flagged, items=self.doc.items,
                          skipped_items=self.doc.skipped, private=self.private)


def reasons(skipped: list[tuple[str, str]]) -> str:
    """Reasons, most common first: '2 × no text (media only), 1 × retweet (not your words)'."""
    counts = Counter(reason for _, reason in skipped)
    return ", ".join(f"{n} × {reason}" for reason, n in counts.most_common())


def collect_files(paths: Iterable[Path]) -> list[tuple[Path, str]]:
    """(file, source name) for every file under the given paths, hidden files excluded."""
    found: list[tuple[Path, str]] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
                for name in sorted(files):
                    if name.startswith(".") or name.lower() in _IGNORED_NAMES:
                        continue
                    file = Path(root) / name
                    found.append((file, file.relative_to(path).as_posix()))
        else:
            found.append((path, path.name))
    return found


class Ingestor:
    def __init__(self, db: Database, index: KnowledgeIndex, settings: Settings,
                 scan: Callable[[list[str]], list[list[list[float]]]] | None = None) -> None:
        self.db = db
        self.index = index
        self.settings = settings
        # Finds text addressed to AI assistants in each chunk (indirect prompt injection).
        self.scan = scan

    def ingest(self, agent: KnowledgeOwner, paths: Iterable[Path],
               progress: Callable[[FileReport], None] | None = None) -> IngestReport:
        """Files, folders and .zip exports on disk; `progress` sees each file's report as it is
        done. A folder of saved web pages is read as a site: blocks repeated on most of its
        pages are cut (`strip_saved_site`), as in a zip of them or a crawl."""
        files = collect_files(paths)
        pages = [(source, file.read_bytes()) for file, source in files
                 if source.lower().endswith((".html", ".htm")) and file.is_file()
                 and file.stat().st_size <= self.settings.max_file_bytes]
        saved_site = dict(strip_saved_site(pages)) if len(pages) >= 3 else {}
        report = IngestReport()
        for file, source in files:
            entries = ([self.ingest_bytes(agent, saved_site[source], source)]
                       if source in saved_site else self.ingest_path(agent, file, source))
            for entry in entries:  # a .zip: many
                report.files.append(entry)
                if progress:
                    progress(entry)
        return report

    def documents(self, agent_id: int) -> list[dict[str, Any]]:
        """The agent's documents, by source: source, loader, title, n_chunks, sha256,
        ingested_at."""
        rows = self.db.connect().execute(
            "SELECT source, loader, title, n_chunks, sha256, ingested_at FROM documents "
            "WHERE agent_id = ? ORDER BY source", (agent_id,)).fetchall()
        return [dict(r) for r in rows]

    def ingest_path(self, agent: KnowledgeOwner, file: Path, source: str) -> list[FileReport]:
        """One file on disk: a .zip is expanded (read in place, never whole into memory)."""
        if not is_archive(source):
            return [self.ingest_file(agent, file, source)]
        if not file.is_file():
            return [FileReport(source, "skipped", reason="no such file")]
        return self._ingest_archive(agent, source, file)

    def ingest_upload(self, agent: KnowledgeOwner, name: str, data: bytes) -> list[FileReport]:
        """An uploaded file: a .zip gives one report per entry (or one skipped report for the
        zip, with nothing imported, when the archive is refused); any other file one report."""
        if is_archive(name):
            return self._ingest_archive(agent, name, data)
        return [self.ingest_bytes(agent, data, name)]

    def _ingest_archive(self, agent: KnowledgeOwner, name: str,
                        data: bytes | Path) -> list[FileReport]:
        try:
            files, skipped = expand(name, data, self.settings)
        except IngestError as exc:
            return [FileReport(name, "skipped", reason=str(exc))]
        files = strip_saved_site(files)
        read = [self._prepare_safely(agent, content, source, None) for source, content in files]
        ready = [p for p in read if isinstance(p, _Prepared)]
        try:
            self._write(agent, ready)
        except Exception as exc:  # e.g. the disk is full: nothing of the archive was written
            log.exception("writing %s failed", name)
            reason = f"could not be saved ({type(exc).__name__}); nothing of {name} was imported"
            read = [FileReport(p.source, "skipped", reason=reason)
                    if isinstance(p, _Prepared) else p for p in read]
        reports = [p.report() if isinstance(p, _Prepared) else p for p in read]
        reports += [FileReport(source, "skipped", reason=why) for source, why in skipped]
        return reports

    def ingest_file(self, agent: KnowledgeOwner, file: Path, source: str) -> FileReport:
        try:
            return self._ingest_file(agent, file, source)
        except IngestError as exc:
            return FileReport(source, "skipped", reason=str(exc))

    def _ingest_file(self, agent: KnowledgeOwner, file: Path, source: str) -> FileReport:
        if not file.exists():
            raise IngestError("no such file")
        try:
            size = file.stat().st_size
            if size > self.settings.max_file_bytes:
                raise IngestError(f"too large ({_mb(size)}; the limit is "
                                  f"{_mb(self.settings.max_file_bytes)}, DOPPEL_MAX_FILE_BYTES)")
            data = file.read_bytes()
        except OSError as exc:
            raise IngestError(f"unreadable ({exc.strerror or type(exc).__name__})") from None
        return self.ingest_bytes(agent, data, source)

    def ingest_bytes(self, agent: KnowledgeOwner, data: bytes, source: str,
                     loader: Loader | None = None) -> FileReport:
        """Ingest one file's content under the given source name; never raises for bad input.

        `loader` forces how the file is read (e.g. `CatalogLoader(mapping)` with the owner's
        column mapping); the content is then read again even if unchanged, since the same bytes
        read another way give other chunks.
        """
        prepared = self._prepare_safely(agent, data, source, loader)
        if not isinstance(prepared, _Prepared):
            return prepared
        try:
            self._write(agent, [prepared])
        except Exception as exc:  # a database failure must not stop the other files
            log.exception("writing %s failed", source)
            return FileReport(source, "skipped", reason=f"could not be saved "
                              f"({type(exc).__name__}: {str(exc)[:120]})")
        return prepared.report()

    def _prepare_safely(self, agent: KnowledgeOwner, data: bytes, source: str,
                        forced: Loader | None) -> _Prepared | FileReport:
        """The file ready to write, or why not; never raises for bad input (a BaseException,
        the process being stopped, still goes through: nothing has been written yet)."""
        try:
            return self._prepare(agent, data, source, forced)
        except IngestError as exc:
            return FileReport(source, "skipped", reason=str(exc))
        except RecursionError:
            return FileReport(source, "skipped", reason="nested too deeply to read")
        except Exception as exc:  # a loader or model failure must not stop the other files
            log.exception("ingesting %s failed", source)
            return FileReport(source, "skipped",
                              reason=f"could not be processed ({type(exc).__name__}: "
                              f"{str(exc)[:120]})")

    def _prepare(self, agent: KnowledgeOwner, data: bytes, source: str,
                 forced: Loader | None) -> _Prepared | FileReport:
        try:
            if len(data) > self.settings.max_file_bytes:
                raise IngestError(f"too large ({_mb(len(data))})")
            if not data.strip():
                raise IngestError("empty file")
            loader = forced or loader_for(source, data)
            if loader is None:
                raise IngestError(f"unsupported file type '{Path(source).suffix or source}'")
            digest = hashlib.sha256(data).hexdigest()
            existing = self.db.connect().execute(
                "SELECT id, sha256 FROM documents WHERE agent_id = ? AND source = ?",
                (agent.id, source)).fetchone()
            if existing is not None and existing["sha256"] == digest and forced is None:
                return FileReport(source, "unchanged")
            doc = loader.load(data, source)
            chunks = chunk_document(doc, self.settings.chunk_chars)
            if not chunks and doc.skipped:
                return FileReport(source, "skipped", skipped_items=doc.skipped,
                                  reason=f"nothing usable ({reasons(doc.skipped)})")
            if not chunks:
                raise IngestError("no text found")
            vectors = self.index.embedder.embed([c.embedding_text() for c in chunks])
            faq_vectors = self.index.embedder.embed([e.question for e in doc.faq])
            flags = self.scan([c.text for c in chunks]) if self.scan else None
        except IngestError as exc:
            return FileReport(source, "skipped", reason=str(exc))
        subjects = rule_subjects(agent.spec.rules)
        private = sum(len(withhold(c.text, subjects)[1]) for c in chunks)
        return _Prepared(source, loader, digest,
                         int(existing["id"]) if existing is not None else None, doc, chunks,
                         vectors, faq_vectors, flags, private)

    def _write(self, agent: KnowledgeOwner, files: list[_Prepared]) -> None:
        """Write prepared files in one transaction: all of them or, on any error, none."""
        if not files:
            return
        with self.db.transaction() as tx:
            for file in files:
                self._write_one(tx, agent, file)
            self.index.bump_version(tx, agent.id)
        for file in files:
            flagged = file.report().flagged
            if flagged:
                log.warning("%s: %d passage(s) hold instructions addressed to AI assistants",
                            file.source, flagged)

    def _write_one(self, tx: Connection, agent: KnowledgeOwner, file: _Prepared) -> None:
        if file.existing is not None:
            document_id = file.existing
            self.index.delete_document(tx, document_id)
            tx.execute("UPDATE documents SET loader = ?, sha256 = ?, title = ?, n_chunks = ?, "
                       "ingested_at = ? WHERE id = ?",
                       (file.loader.name, file.digest, file.doc.title, len(file.chunks),
                        now_iso(), document_id))
        else:
            cur = tx.execute("INSERT INTO documents(agent_id, source, loader, sha256, title, "
                             "n_chunks) VALUES (?,?,?,?,?,?) RETURNING id",
                             (agent.id, file.source, file.loader.name, file.digest,
                              file.doc.title, len(file.chunks)))
            document_id = int(cur.fetchone()[0])
        self.index.insert_chunks(tx, agent.id, document_id, file.chunks, file.vectors,
                                 file.flags)
        self.index.insert_faq(tx, agent.id, document_id, file.doc.faq, file.faq_vectors)

    def remove(self, agent: KnowledgeOwner, source: str) -> bool:
        row = self.db.connect().execute(
            "SELECT id FROM documents WHERE agent_id = ? AND source = ?",
            (agent.id, source)).fetchone()
        if row is None:
            return False
        with self.db.transaction() as tx:
            self.index.delete_document(tx, int(row["id"]))
            tx.execute("DELETE FROM documents WHERE id = ?", (row["id"],))
            self.index.bump_version(tx, agent.id)
        return True


def strip_saved_site(files: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """A saved website (a folder or zip of pages): blocks repeated on most of its pages — a
    promo banner, a cookie notice — are cut, as for a crawled site (`crawl.py`)."""
    from doppel.knowledge.crawl import strip_repeated_blocks

    return strip_repeated_blocks(files)


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"
