"""Persistence: SQLite by default (one file, WAL), PostgreSQL when `DOPPEL_DATABASE_URL` names
one; numbered migrations for each, one SQL dialect for the repositories (`base`)."""

from __future__ import annotations

from pathlib import Path

from doppel.errors import StoreError
from doppel.store.base import (
    Connection,
    Cursor,
    Database,
    Dialect,
    IntegrityError,
    Lease,
    Row,
    available_migrations,
    now_iso,
)

__all__ = ["Connection", "Cursor", "Database", "Dialect", "IntegrityError", "Lease", "Row",
           "available_migrations", "now_iso", "open_database"]

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def open_database(url: str = "", path: Path | str | None = None, *,
                  pool_size: int = 10, migrate: bool = True) -> Database:
    """The database a URL names (`postgresql://…`), else the SQLite file at `path`, with its
    pending migrations applied (`migrate=False`: as it is, for `doppel migrate` to report)."""
    if url:
        if not url.startswith(POSTGRES_SCHEMES):
            raise StoreError("DOPPEL_DATABASE_URL must start with postgresql:// (empty: the "
                             "SQLite file in the data directory)")
        from doppel.store.postgres import PostgresDatabase
        return PostgresDatabase(url, pool_size=pool_size, migrate=migrate)
    if path is None:
        raise StoreError("no database: give a postgresql:// URL or a SQLite path")
    from doppel.store.sqlite import SQLiteDatabase
    return SQLiteDatabase(path, migrate=migrate)
