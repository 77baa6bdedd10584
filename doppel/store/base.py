"""The store's interface: what every repository sees of a database, whichever engine holds it.

Two implementations: SQLite (`doppel.store.sqlite`, the default: one file, nothing to run) and
PostgreSQL (`doppel.store.postgres`, through psycopg 3 and a bounded `psycopg_pool`, selected by
`DOPPEL_DATABASE_URL=postgresql://…`). Repositories write one SQL dialect, the common ground of
both engines (as Synapse does for its SQLite and PostgreSQL homeservers):

- `?` placeholders (translated to psycopg's `%s` once per statement text);
- `INSERT … ON CONFLICT … DO NOTHING / DO UPDATE` and `RETURNING id` (SQLite >= 3.35), never
  `INSERT OR IGNORE` or `lastrowid`;
- timestamps are ISO-8601 text written by the application (`now_iso()`), so that they sort and
  compare the same way in both engines;
- the few expressions that differ (JSON fields, a local day of a timestamp) come from the
  database's `Dialect`.

Each engine has its own numbered migrations with the same numbers and names
(`migrations/NNNN_name.sql` for SQLite, `migrations/postgres/NNNN_name.sql`).
"""

from __future__ import annotations

import datetime as dt
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from importlib import resources
from typing import Any, Protocol

from doppel.errors import StoreError

_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

Params = Sequence[Any]


class IntegrityError(StoreError):
    """A constraint refused a write (a unique name taken, a foreign key missing): the same
    exception from either engine."""


class Row(Protocol):
    """A result row: by column name or by position (sqlite3.Row's interface)."""

    def __getitem__(self, key: int | str) -> Any: ...
    def keys(self) -> list[str]: ...
    def __iter__(self) -> Iterator[Any]: ...
    def __len__(self) -> int: ...


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """What a repository uses of a connection; `kind` names the engine ('sqlite' or 'postgres')
    for the few writes that differ (a vector column)."""

    kind: str

    def execute(self, sql: str, params: Params = ()) -> Cursor: ...
    def executemany(self, sql: str, rows: Sequence[Params]) -> Cursor: ...


class Dialect(Protocol):
    # Appended to a SELECT that picks a row to claim: PostgreSQL's "FOR UPDATE SKIP LOCKED"
    # (two processes never claim the same row, neither waits for the other); nothing on
    # SQLite, where a writing transaction runs alone.
    skip_locked: str

    def json_text(self, column: str, *path: str) -> str:
        """An expression for the text at `path` inside a JSON text column (NULL if absent)."""
        ...

    def json_array_length(self, column: str, key: str) -> str:
        """The length of the JSON array under a top-level key (NULL when it is not one)."""
        ...

    def local_day(self, column: str) -> str:
        """An expression for the 'YYYY-MM-DD' day of an ISO timestamp column, shifted by a
        parameter that is a UTC offset in minutes (the `?` it contains)."""
        ...


class Lease(Protocol):
    def held(self) -> bool:
        """Still this process's (PostgreSQL: its connection is alive; a lost connection has
        lost the lock with it)."""
        ...

    def release(self) -> None: ...


class Database(ABC):
    """A database of agents, their knowledge, conversations and everything else doppel keeps."""

    kind: str
    dialect: Dialect

    @abstractmethod
    def connect(self) -> Connection:
        """A connection for reads outside a transaction (inside one, the transaction's own)."""

    @abstractmethod
    def transaction(self, serialize: str | None = None) -> AbstractContextManager[Connection]:
        """A transaction: COMMIT at the end of the block, ROLLBACK on any error; never
        half-written state.

        `serialize`: transactions given the same name run one after another, for a check and
        a write that must not interleave (the first owner of an install, a claim). SQLite runs
        every writing transaction one at a time anyway; PostgreSQL takes a transaction-level
        advisory lock on the name."""

    @abstractmethod
    def try_lead(self, name: str) -> Lease | None:
        """Become the one process of the installation that does `name` (the channels' answers
        and sends), or None when another process holds it. Held until released or until the
        process (or its connection to PostgreSQL) dies, when another may take it."""

    @abstractmethod
    def schema_version(self) -> int: ...

    @abstractmethod
    def migrate(self) -> list[str]:
        """Apply pending migrations; returns the names applied."""

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def describe(self) -> str:
        """Where the data lives, for people (never a password)."""


def now_iso(moment: dt.datetime | None = None) -> str:
    """A UTC timestamp as every table stores it: '2026-12-07T13:40:36.123Z' (sorts as text)."""
    moment = (moment or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def available_migrations(kind: str = "sqlite") -> list[tuple[int, str, str]]:
    """(version, name, sql) for every shipped migration of one engine, in order."""
    folder = resources.files("doppel.store").joinpath("migrations")
    if kind != "sqlite":
        folder = folder.joinpath(kind)
    found = []
    for entry in folder.iterdir():
        m = _MIGRATION_NAME.match(entry.name)
        if m:
            found.append((int(m.group(1)), m.group(2), entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if versions != list(range(1, len(versions) + 1)):
        raise StoreError(f"migrations must be numbered 1..n without gaps, got {versions}")
    return found
