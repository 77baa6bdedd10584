"""SQLite, the default store: one file in the data directory, WAL, numbered migrations.

Migrations are the files ``migrations/NNNN_name.sql``, applied in order inside one transaction
each and recorded in ``schema_migrations``. Never edit an applied migration: add a new one.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from doppel.errors import StoreError
from doppel.store.base import Database, IntegrityError, Params, available_migrations

# RETURNING (3.35) and upserts (3.24) are the common SQL the repositories write.
MIN_SQLITE = (3, 35, 0)


class SQLiteDialect:
    skip_locked = ""

    def json_text(self, column: str, *path: str) -> str:
        return f"json_extract({column}, '$.{'.'.join(path)}')"

    def json_array_length(self, column: str, key: str) -> str:
        return f"json_array_length({column}, '$.{key}')"

    def local_day(self, column: str) -> str:
        return f"strftime('%Y-%m-%d', {column}, ? || ' minutes')"


class SQLiteConnection:
    """A sqlite3 connection as the store's `Connection`: constraint errors become the store's
    IntegrityError, whatever the engine."""

    kind = "sqlite"
    __slots__ = ("raw",)

    def __init__(self, raw: sqlite3.Connection) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Params = ()) -> sqlite3.Cursor:
        try:
            return self.raw.execute(sql, params)
        except sqlite3.IntegrityError as exc:
            raise IntegrityError(str(exc)) from exc

    def executemany(self, sql: str, rows: Sequence[Params]) -> sqlite3.Cursor:
        try:
            return self.raw.executemany(sql, rows)
        except sqlite3.IntegrityError as exc:
            raise IntegrityError(str(exc)) from exc


class SQLiteDatabase(Database):
    """One SQLite file. Connections are per thread (sqlite3 objects are not thread-safe)."""

    kind = "sqlite"
    dialect = SQLiteDialect()

    def __init__(self, path: Path | str, *, migrate: bool = True) -> None:
        if sqlite3.sqlite_version_info < MIN_SQLITE:
            raise StoreError(f"SQLite {sqlite3.sqlite_version} is too old: doppel needs "
                             f"{'.'.join(map(str, MIN_SQLITE))} or later (Python's sqlite3)")
        self.path = Path(path)
        self._local = threading.local()
        self._write_lock = threading.RLock()
        if self.path != Path(":memory:"):
            self.path.parent.mkdir(parents=True, exist_ok=True)
        if migrate:
            self.migrate()

    def describe(self) -> str:
        return f"SQLite {self.path}"

    def raw(self) -> sqlite3.Connection:
        """This thread's sqlite3 connection (for SQLite's own tools: the online backup)."""
        return self.connect().raw

    def connect(self) -> SQLiteConnection:
        conn: SQLiteConnection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                raw = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                      check_same_thread=False)
            except sqlite3.Error as exc:
                raise StoreError(f"cannot open database {self.path}: {exc}") from exc
            raw.row_factory = sqlite3.Row
            raw.execute("PRAGMA journal_mode=WAL")
            raw.execute("PRAGMA synchronous=NORMAL")  # safe with WAL; fsync at checkpoints
            raw.execute("PRAGMA foreign_keys=ON")
            raw.execute("PRAGMA busy_timeout=30000")
            conn = SQLiteConnection(raw)
            self._local.conn = conn
        return conn

    @contextmanager
    def transaction(self, serialize: str | None = None) -> Iterator[SQLiteConnection]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error: never half-written state.
        Writing transactions are serialized already (one writer at a time), whatever
        `serialize` names."""
        conn = self.connect()
        with self._write_lock:
            conn.raw.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.raw.execute("ROLLBACK")
                raise
            else:
                conn.raw.execute("COMMIT")

    def try_lead(self, name: str) -> _FileLease | None:
        # An flock beside the database file: every process on this data directory sees it,
        # and the kernel releases it when the holder dies.
        folder = self.path.parent if self.path != Path(":memory:") else Path(".")
        fd = os.open(folder / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return None
        return _FileLease(fd)

    def schema_version(self) -> int:
        conn = self.connect()
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'schema_migrations'"
                        ).fetchone() is None:
            return 0
        row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()
        return int(row[0])

    def migrate(self) -> list[str]:
        conn = self.connect()
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
            "name TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)")
        current = self.schema_version()
        applied = []
        for version, name, sql in available_migrations("sqlite"):
            if version <= current:
                continue
            try:
                with self.transaction() as tx:
                    # executescript would COMMIT our transaction; run statements one by one.
                    for statement in _split_sql(sql):
                        tx.execute(statement)
                    tx.execute("INSERT INTO schema_migrations(version, name) VALUES (?, ?)",
                               (version, name))
            except (sqlite3.Error, IntegrityError) as exc:
                raise StoreError(f"migration {version:04d}_{name} failed: {exc}") from exc
            applied.append(f"{version:04d}_{name}")
        return applied

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.raw.close()
            self._local.conn = None


class _FileLease:
    def __init__(self, fd: int) -> None:
        self.fd: int | None = fd

    def held(self) -> bool:
        return self.fd is not None  # an flock lasts as long as this process

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements (sqlite3.complete_statement knows about quotes)."""
    statements, buf = [], ""
    for line in script.splitlines(keepends=True):
        if not buf and line.strip().startswith("--"):
            continue
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                statements.append(buf.strip())
            buf = ""
    if buf.strip():
        statements.append(buf.strip())
    return statements
