"""`doppel migrate`, `doppel backup FILE`, `doppel restore FILE`: the store, on either engine.

A backup is a SQLite file whichever store the server uses: one file that any doppel opens,
and the way an installation moves from SQLite to PostgreSQL (`doppel backup` on the laptop,
`doppel restore` with `DOPPEL_DATABASE_URL` set). For a large PostgreSQL installation,
PostgreSQL's own `pg_dump` is the better backup; this one is for moving and for small ones.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

import click

from doppel.cli.base import fail, handle_errors, load_settings
from doppel.config import Settings
from doppel.store import Database, available_migrations, open_database
from doppel.store.copy import copy_database, holds_data
from doppel.store.sqlite import SQLiteDatabase

__all__ = ["backup", "migrate", "restore"]


def _store(ctx: click.Context, *, migrate: bool = True) -> Database:
    settings: Settings = ctx.ensure_object(dict).get("settings") or load_settings()
    settings.ensure_home()
    return open_database(settings.database_url, settings.db_path,
                         pool_size=settings.database_pool_size, migrate=migrate)


def _is_doppel_database(path: Path) -> bool:
    """A SQLite file holding doppel's tables (checked before anything migrates it: an empty
    file would otherwise become an empty doppel database)."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as probe:
            names = {str(r[0]) for r in probe.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError:
        return False
    return {"schema_migrations", "agents", "owners"} <= names


@click.command()
@click.pass_context
@handle_errors
def migrate(ctx: click.Context) -> None:
    """Apply the store's pending migrations (every command does; this one says which)."""
    db = _store(ctx, migrate=False)
    try:
        applied = db.migrate()
        latest = len(available_migrations(db.kind))
        click.echo(f"{db.describe()}: " + (f"applied {', '.join(applied)}; " if applied
                                           else "nothing to apply; ")
                   + f"schema v{db.schema_version()} of {latest}")
    finally:
        db.close()


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.pass_context
@handle_errors
def backup(ctx: click.Context, file: Path) -> None:
    """Write everything in the store to FILE, a new SQLite file (a consistent snapshot, taken
    while the server keeps running)."""
    if file.exists():
        fail(f"{file} exists: give a new file name")
    if not file.parent.is_dir():
        fail(f"{file.parent} is not a folder")
    db = _store(ctx)
    # Written beside the target and renamed at the end: never a half-written backup.
    partial = file.with_name(f".{file.name}.partial-{os.getpid()}")
    try:
        target = SQLiteDatabase(partial)
        try:
            report = copy_database(db, target)
            target.connect().execute("VACUUM")
        finally:
            target.close()
        os.replace(partial, file)
    finally:
        for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
            leftover.unlink(missing_ok=True)
        db.close()
    click.echo(f"backed up {report.rows.get('agents', 0)} agent(s), {report.total} rows "
               f"from {db.describe()} to {file}")


@click.command()
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.pass_context
@handle_errors
def restore(ctx: click.Context, file: Path) -> None:
    """Load a backup FILE (or a SQLite doppel.db) into the store, which must be empty: the
    way to move from SQLite to PostgreSQL. All or nothing."""
    db = _store(ctx)
    try:
        if holds_data(db):
            fail(f"{db.describe()} already holds agents or owners: restore into an empty "
                 "store")
        with tempfile.TemporaryDirectory(prefix="doppel-restore-") as folder:
            # A copy, migrated to this doppel's schema: the file itself is never changed.
            work = Path(folder) / "backup.db"
            shutil.copyfile(file, work)
            if not _is_doppel_database(work):
                fail(f"{file} is not a doppel database (a `doppel backup` file or a doppel.db)")
            source = SQLiteDatabase(work)
            try:
                report = copy_database(source, db)
            finally:
                source.close()
    finally:
        db.close()
    click.echo(f"restored {report.rows.get('agents', 0)} agent(s), {report.total} rows "
               f"into {db.describe()}")
