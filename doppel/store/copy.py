"""Copy an installation's data from one store to another: SQLite to PostgreSQL (moving to the
scale path), either to a SQLite file (a backup, an agent's offline export), and back.

The source is read in one consistent snapshot; the target is written in one transaction and
must hold no data yet, so a copy that fails leaves the target as it was. Tables go parents
first (foreign keys hold at every row), ids are kept (links between rows survive), and a
PostgreSQL target's identity sequences continue after the highest copied id. Columns the two
engines store differently are converted: the chunks' embeddings (a pgvector `vector` on
PostgreSQL, float32 bytes on SQLite). Generated columns (PostgreSQL's tsvector) and SQLite's
FTS5 table are not copied: each target builds its own from the chunks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from doppel.errors import StoreError
from doppel.store.base import Connection, Database

# Parents before children. A table a newer migration adds must be listed here: the test that
# compares this list with the schema fails until it is.
TABLES = (
    "owners", "api_keys", "agents", "documents", "chunks", "approved_answers", "conversations",
    "turns", "tool_calls", "human_messages", "leads", "booking_requests", "agent_secrets",
    "inbox_dismissals", "owner_invites", "console_sessions", "import_jobs", "import_uploads",
    "students", "fact_overrides", "user_memory", "erasures", "channel_links", "channel_inbound",
    "channel_outbox",
)
# Per agent, what an agent's export keeps (and how each table reaches the agent).
AGENT_SCOPED = {
    "agents": "id = ?",
    "documents": "agent_id = ?",
    "chunks": "agent_id = ?",
    "approved_answers": "agent_id = ?",
    "students": "agent_id = ?",
    "fact_overrides": "agent_id = ?",
}
# Not in an export: customers' conversations, leads, bookings and memory, the owner's keys,
# sessions and secrets (an exported folder is meant to be handed around).
_BATCH = 500


@dataclass
class CopyReport:
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def columns(conn: Connection, table: str) -> list[str]:
    """A table's stored columns, in order (generated ones left out)."""
    if conn.kind == "postgres":
        rows = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = "
            "current_schema() AND table_name = ? AND is_generated = 'NEVER' "
            "ORDER BY ordinal_position", (table,)).fetchall()
    else:
        rows = conn.execute(f"SELECT name FROM pragma_table_info('{table}')").fetchall()
    return [str(r[0]) for r in rows]


def _converter(source: str, target: str, table: str, column: str
               ) -> Callable[[Any], Any] | None:
    if (table, column) != ("chunks", "embedding") or source == target:
        return None
    if target == "postgres":
        return lambda blob: np.frombuffer(blob, dtype=np.float32)
    return lambda vector: np.asarray(vector.to_numpy() if hasattr(vector, "to_numpy")
                                     else vector, dtype=np.float32).tobytes()


def holds_data(db: Database) -> bool:
    conn = db.connect()
    return any(conn.execute(f"SELECT 1 FROM {t} LIMIT 1").fetchone() is not None
               for t in ("owners", "agents"))


def copy_database(source: Database, target: Database, *, agent_id: int | None = None,
                  progress: Callable[[str, int], None] | None = None) -> CopyReport:
    """Every row of `source` into the empty `target` (or one agent's knowledge only, for an
    export); StoreError when the target holds data or the schemas differ."""
    if source.schema_version() != target.schema_version():
        raise StoreError(f"the two databases are at different schema versions "
                         f"({source.schema_version()} and {target.schema_version()}): "
                         "run `doppel migrate` on the older one")
    if holds_data(target):
        raise StoreError(f"{target.describe()} already holds agents or owners: copy into an "
                         "empty database")
    report = CopyReport()
    tables = [t for t in TABLES if agent_id is None or t in AGENT_SCOPED]
    with snapshot(source) as read, target.transaction() as write:
        for table in tables:
            have, want = columns(read, table), set(columns(write, table))
            names = [c for c in have if c in want]
            if not names:
                raise StoreError(f"table {table} is missing from {target.describe()}")
            if agent_id is not None and table == "agents":
                names.remove("owner_id")  # an export has no owners
            convert = [_converter(source.kind, target.kind, table, c) for c in names]
            scope = f"({AGENT_SCOPED[table]})" if agent_id is not None else "TRUE"
            sql = (f"INSERT INTO {table}({', '.join(names)}) "
                   f"VALUES ({', '.join('?' * len(names))})")
            count = 0
            for rows in _batches(read, table, names, scope,
                                 (agent_id,) if agent_id is not None else ()):
                write.executemany(sql, [tuple(f(v) if f is not None and v is not None else v
                                              for f, v in zip(convert, row)) for row in rows])
                count += len(rows)
            report.rows[table] = count
            if progress is not None:
                progress(table, count)
        if target.kind == "postgres":
            for table in tables:
                if "id" in columns(write, table):
                    write.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"GREATEST((SELECT MAX(id) FROM {table}), 1), "
                        f"(SELECT MAX(id) FROM {table}) IS NOT NULL)")
    return report


def _batches(conn: Connection, table: str, names: list[str], scope: str,
             args: tuple[Any, ...]) -> Iterator[list[Any]]:
    """The table's rows in batches (by id where it has one: a million chunks never sit in
    memory at once)."""
    select = f"SELECT {', '.join(names)} FROM {table} WHERE {scope}"
    if "id" not in names:
        rows = conn.execute(select, args).fetchall()
        for start in range(0, len(rows), _BATCH):
            yield rows[start:start + _BATCH]
        return
    key = names.index("id")
    last = None
    while True:
        rows = conn.execute(
            select + ("" if last is None else " AND id > ?") + " ORDER BY id LIMIT ?",
            (*args, *(() if last is None else (last,)), _BATCH)).fetchall()
        if not rows:
            return
        yield rows
        last = rows[-1][key]


@contextmanager
def snapshot(db: Database) -> Iterator[Connection]:
    """A connection that reads one consistent state of the database while others write."""
    if db.kind == "postgres":
        from doppel.store.postgres import PostgresDatabase

        assert isinstance(db, PostgresDatabase)
        with db.pool.connection() as raw, raw.transaction():
            raw.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            from doppel.store.postgres import PostgresConnection
            yield PostgresConnection(raw)
        return
    conn = db.connect()
    raw = getattr(conn, "raw", None)
    if raw is None:
        raise StoreError("cannot take a snapshot of this store")
    raw.execute("BEGIN")  # deferred: in WAL mode, the first read fixes what it sees
    try:
        yield conn
    finally:
        raw.execute("COMMIT")
