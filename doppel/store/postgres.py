"""PostgreSQL, the store that scales out: psycopg 3 with a bounded `psycopg_pool` per process.

Selected by `DOPPEL_DATABASE_URL=postgresql://…`. The repositories' SQL is the common dialect
described in `doppel.store.base`; here `?` becomes `%s` (once per statement text), rows read
like sqlite3.Row, and NUMERIC results (SUM, AVG) come back as Python numbers, not Decimals.

Connections: a read outside a transaction borrows a pooled connection for that one statement
(autocommit) and hands it back before returning its rows, so a thread never holds a connection
between statements and the pool bounds the server's connections (Letta's users report 10,000
agents driving a database to 1,700 connections when each worker opens its own, letta#1598).
A transaction holds one connection for its block; reads inside it use that connection, so they
see its uncommitted writes, as they do on SQLite.

Knowledge chunks carry a pgvector `vector` and a generated `tsvector`; the index that searches
them is `doppel.knowledge.pgindex`.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from doppel.errors import StoreError, StoreUnavailable
from doppel.store.base import Database, IntegrityError, Params, available_migrations

try:  # the `postgres` extra: psycopg[binary], psycopg-pool, pgvector
    import psycopg
    import psycopg.errors
    from psycopg.adapt import Loader
    from psycopg_pool import ConnectionPool, PoolTimeout
except ImportError as exc:  # pragma: no cover - the message is the point
    raise StoreError("DOPPEL_DATABASE_URL names PostgreSQL, but its driver is not installed: "
                     "pip install 'doppel[postgres]'") from exc

# Any one migration at a time across every process that starts on this database.
_MIGRATION_LOCK = 0x646F7070656C  # "doppel"


@lru_cache(maxsize=8192)
def translate(sql: str) -> str:
    """`?` placeholders to psycopg's `%s`, and a literal `%` doubled, outside quoted text."""
    out: list[str] = []
    quote = ""
    for ch in sql:
        if quote:
            out.append("%%" if ch == "%" else ch)
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
            out.append(ch)
        elif ch == "?":
            out.append("%s")
        elif ch == "%":
            out.append("%%")
        else:
            out.append(ch)
    return "".join(out)


class PgRow:
    """A row by column name (case-insensitive, the first column of a name wins) or position,
    as sqlite3.Row reads."""

    __slots__ = ("_values", "_index")

    def __init__(self, values: Sequence[Any], index: dict[str, int]) -> None:
        self._values = tuple(values)
        self._index = index

    def __getitem__(self, key: int | str | slice) -> Any:
        if isinstance(key, str):
            try:
                return self._values[self._index[key.lower()]]
            except KeyError:
                raise IndexError(f"no column named {key!r}") from None
        return self._values[key]

    def keys(self) -> list[str]:
        return list(self._index)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other: object) -> bool:
        return tuple(self) == tuple(other) if isinstance(other, PgRow | tuple) else False

    def __hash__(self) -> int:
        return hash(self._values)

    def __repr__(self) -> str:
        return f"PgRow({self._values!r})"


def _row_factory(cursor: Any) -> Any:
    index: dict[str, int] = {}
    for i, column in enumerate(cursor.description or ()):
        index.setdefault(column.name.lower(), i)

    def make(values: Sequence[Any]) -> PgRow:
        return PgRow(values, index)
    return make


class _NumberLoader(Loader):
    """NUMERIC (what SUM and AVG of integers return) as int or float, like SQLite gives."""

    def load(self, data: Any) -> int | float:
        text = bytes(data)
        return float(text) if b"." in text or b"e" in text.lower() else int(text)


class _Buffered:
    """A finished statement's rows, read before its connection went back to the pool."""

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows = rows
        self._next = 0
        self.rowcount = rowcount

    def fetchone(self) -> Any:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def fetchall(self) -> list[Any]:
        rows, self._next = self._rows[self._next:], len(self._rows)
        return rows

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


def _unavailable(exc: Exception) -> StoreUnavailable:
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return StoreUnavailable(f"the database is unavailable ({detail})")


def _run(conn: Any, sql: str, params: Params, many: bool = False) -> _Buffered:
    try:
        with conn.cursor() as cur:
            if many:
                cur.executemany(translate(sql), params)
            else:
                cur.execute(translate(sql), params)
            rows = cur.fetchall() if cur.description is not None else []
            return _Buffered(rows, cur.rowcount)
    except psycopg.errors.IntegrityError as exc:
        raise IntegrityError(str(exc).strip().splitlines()[0]) from exc
    except psycopg.OperationalError as exc:
        raise _unavailable(exc) from exc


class PostgresConnection:
    """One pooled connection, held by a transaction."""

    kind = "postgres"
    __slots__ = ("raw",)

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Params = ()) -> _Buffered:
        return _run(self.raw, sql, params)

    def executemany(self, sql: str, rows: Sequence[Params]) -> _Buffered:
        return _run(self.raw, sql, rows, many=True)


class _PooledReads:
    """Outside a transaction: each statement on a connection borrowed for it alone."""

    kind = "postgres"
    __slots__ = ("_pool",)

    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    def execute(self, sql: str, params: Params = ()) -> _Buffered:
        with _borrowed(self._pool) as conn:
            return _run(conn, sql, params)

    def executemany(self, sql: str, rows: Sequence[Params]) -> _Buffered:
        with _borrowed(self._pool) as conn, conn.transaction():
            return _run(conn, sql, rows, many=True)


@contextmanager
def _borrowed(pool: ConnectionPool) -> Iterator[Any]:
    """A pooled connection; the pool timing out or the server gone is StoreUnavailable."""
    try:
        with pool.connection() as conn:
            yield conn
    except (PoolTimeout, psycopg.OperationalError) as exc:
        raise _unavailable(exc) from exc


class PostgresDialect:
    skip_locked = " FOR UPDATE SKIP LOCKED"

    def json_text(self, column: str, *path: str) -> str:
        return f"(({column})::jsonb #>> '{{{','.join(path)}}}')"

    def json_array_length(self, column: str, key: str) -> str:
        value = f"(({column})::jsonb -> '{key}')"
        return (f"(CASE WHEN jsonb_typeof({value}) = 'array' "
                f"THEN jsonb_array_length({value}) END)")

    def local_day(self, column: str) -> str:
        return (f"to_char(({column})::timestamptz AT TIME ZONE 'UTC' "
                f"+ make_interval(mins => ?::int), 'YYYY-MM-DD')")


def _configure(conn: Any) -> None:
    """Every new connection: UTC, numbers as numbers, pgvector's type."""
    from pgvector.psycopg import register_vector

    conn.adapters.register_loader("numeric", _NumberLoader)
    conn.execute("SET TIME ZONE 'UTC'")
    register_vector(conn)


class PostgresDatabase(Database):
    kind = "postgres"
    dialect = PostgresDialect()

    def __init__(self, url: str, *, pool_size: int = 10, timeout_s: float = 30.0,
                 migrate: bool = True) -> None:
        self.url = url
        self._local = threading.local()
        try:
            if migrate:
                self.migrate()
            else:
                self.schema_version()  # reachable?
        except psycopg.OperationalError as exc:
            raise StoreError(f"cannot reach the database {self.describe()}: "
                             f"{str(exc).strip().splitlines()[0]}") from None
        self.pool = ConnectionPool(
            url, min_size=1, max_size=max(pool_size, 1), timeout=timeout_s, name="doppel",
            kwargs={"autocommit": True, "row_factory": _row_factory},
            configure=_configure, open=True)

    def describe(self) -> str:
        info = psycopg.conninfo.conninfo_to_dict(self.url)
        host = str(info.get("host") or "localhost")
        where = host if host.startswith("/") else f"{host}:{info.get('port') or 5432}"
        return f"PostgreSQL {info.get('dbname') or info.get('user') or ''} at {where}"

    def connect(self) -> PostgresConnection | _PooledReads:
        tx: PostgresConnection | None = getattr(self._local, "tx", None)
        return tx if tx is not None else _PooledReads(self.pool)

    @contextmanager
    def transaction(self, serialize: str | None = None) -> Iterator[PostgresConnection]:
        if getattr(self._local, "tx", None) is not None:
            raise StoreError("a transaction is already open on this thread")
        with _borrowed(self.pool) as raw, raw.transaction():
            conn = PostgresConnection(raw)
            if serialize:
                raw.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (serialize,))
            self._local.tx = conn
            try:
                yield conn
            finally:
                self._local.tx = None

    def try_lead(self, name: str) -> _AdvisoryLease | None:
        # A session-level advisory lock on a connection of its own (not the pool's): every
        # process and host on this database sees it, and PostgreSQL releases it when the
        # holder's connection ends.
        conn = psycopg.connect(self.url, autocommit=True)
        got = conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (name,)).fetchone()
        if not got or not got[0]:
            conn.close()
            return None
        return _AdvisoryLease(conn)

    def schema_version(self) -> int:
        with psycopg.connect(self.url, autocommit=True) as conn:
            return _version(conn)

    def migrate(self) -> list[str]:
        applied: list[str] = []
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK,))
            try:
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                    "name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
                current = _version(conn)
                for version, name, sql in available_migrations("postgres"):
                    if version <= current:
                        continue
                    try:
                        with conn.transaction():
                            # One script, no parameters: the simple query protocol runs it
                            # whole (dollar-quoted function bodies included).
                            conn.execute(sql.encode())
                            conn.execute("INSERT INTO schema_migrations(version, name) "
                                         "VALUES (%s, %s)", (version, name))
                    except psycopg.Error as exc:
                        raise StoreError(f"migration {version:04d}_{name} failed: "
                                         f"{str(exc).strip().splitlines()[0]}") from exc
                    applied.append(f"{version:04d}_{name}")
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK,))
        return applied

    def close(self) -> None:
        pool = getattr(self, "pool", None)
        if pool is not None and not pool.closed:
            pool.close()


class _AdvisoryLease:
    def __init__(self, conn: Any) -> None:
        self.conn: Any = conn

    def held(self) -> bool:
        if self.conn is None:
            return False
        try:
            self.conn.execute("SELECT 1")
            return True
        except psycopg.Error:  # the session, and the advisory lock with it, is gone
            self.release()
            return False

    def release(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(psycopg.Error):
                self.conn.close()  # the session's advisory locks go with it
            self.conn = None


def _version(conn: Any) -> int:
    row = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    if not row[0]:
        return 0
    return int(conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
               .fetchone()[0])
