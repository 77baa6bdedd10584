"""The SQLite store: migrations, pragmas, transactions, on real files (what both stores must do
alike is tested on both in test_store_engines.py)."""

from __future__ import annotations

import sqlite3
import threading
import types
from pathlib import Path

import pytest

import doppel.store.base as base_module
from doppel.errors import StoreError
from doppel.store import IntegrityError, available_migrations
from doppel.store.sqlite import SQLiteConnection, _split_sql
from doppel.store.sqlite import SQLiteDatabase as Database

MIGRATIONS_DIR = Path(base_module.__file__).resolve().parent / "migrations"
MIGRATION_FILES = sorted(p.name for p in MIGRATIONS_DIR.glob("[0-9][0-9][0-9][0-9]_*.sql"))
TABLES = {"agents", "documents", "chunks", "chunks_fts", "approved_answers", "conversations",
          "turns", "schema_migrations"}


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}


@pytest.fixture
def db(tmp_path: Path):
    database = Database(tmp_path / "sub" / "doppel.db")
    yield database
    database.close()


def add_agent(conn: SQLiteConnection, slug: str) -> int:
    return int(conn.execute("INSERT INTO agents(slug, spec_json) VALUES (?, '{}')",
                            (slug,)).lastrowid)


def test_fresh_file_gets_every_migration(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "doppel.db"
    assert not path.exists()
    db = Database(path)
    try:
        assert path.is_file()  # parent folders are created
        assert MIGRATION_FILES, "no migration files shipped"
        assert db.schema_version() == len(MIGRATION_FILES) == len(available_migrations())
        rows = db.connect().execute(
            "SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
        assert [f"{v:04d}_{n}.sql" for v, n in rows] == MIGRATION_FILES
        assert TABLES <= tables(path)
    finally:
        db.close()


def test_migrations_are_idempotent_on_reopen(tmp_path: Path) -> None:
    path = tmp_path / "doppel.db"
    first = Database(path)
    with first.transaction() as tx:
        add_agent(tx, "kept")
    assert first.migrate() == []  # nothing pending on the same object either
    first.close()

    for _ in range(2):
        again = Database(path)
        try:
            assert again.migrate() == []
            assert again.schema_version() == len(MIGRATION_FILES)
            assert again.connect().execute(
                "SELECT COUNT(*) FROM schema_migrations").fetchone()[0] == len(MIGRATION_FILES)
            assert again.connect().execute("SELECT slug FROM agents").fetchall()[0][0] == "kept"
        finally:
            again.close()


def test_wal_mode_is_on(db: Database) -> None:
    assert db.connect().execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    # WAL is a property of the file: an independent connection sees it too
    with sqlite3.connect(db.path) as other:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_foreign_keys_are_enforced(db: Database) -> None:
    conn = db.connect()
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    with pytest.raises(IntegrityError):
        with db.transaction() as tx:
            tx.execute("INSERT INTO documents(agent_id, source, loader, sha256) "
                       "VALUES (999, 'x.md', 'markdown', 'abc')")
    assert conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0] == 0
    # and deleting an agent cascades to its documents
    with db.transaction() as tx:
        agent_id = add_agent(tx, "shop")
        tx.execute("INSERT INTO documents(agent_id, source, loader, sha256) "
                   "VALUES (?, 'x.md', 'markdown', 'abc')", (agent_id,))
    with db.transaction() as tx:
        tx.execute("DELETE FROM agents WHERE id = ?", (agent_id,))
    assert conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0] == 0


def test_failing_transaction_rolls_back(db: Database) -> None:
    with db.transaction() as tx:
        add_agent(tx, "before")

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with db.transaction() as tx:
            add_agent(tx, "written-then-undone")
            tx.execute("UPDATE agents SET knowledge_version = 42 WHERE slug = 'before'")
            raise Boom()

    conn = db.connect()
    assert not conn.raw.in_transaction
    assert [r[0] for r in conn.execute("SELECT slug FROM agents")] == ["before"]
    assert conn.execute("SELECT knowledge_version FROM agents").fetchone()[0] == 0
    # nothing reached the file either: a fresh connection sees the same
    with sqlite3.connect(db.path) as other:
        assert [r[0] for r in other.execute("SELECT slug FROM agents")] == ["before"]
    # and the connection is usable for the next transaction
    with db.transaction() as tx:
        add_agent(tx, "after")
    assert conn.execute("SELECT COUNT(*) FROM agents").fetchone()[0] == 2


def test_sql_error_inside_a_transaction_rolls_back(db: Database) -> None:
    with pytest.raises(IntegrityError):
        with db.transaction() as tx:
            add_agent(tx, "dup")
            add_agent(tx, "dup")  # UNIQUE(slug)
    assert db.connect().execute("SELECT COUNT(*) FROM agents").fetchone()[0] == 0


def test_committed_writes_are_visible_to_other_threads(db: Database) -> None:
    with db.transaction() as tx:
        add_agent(tx, "main-thread")
    seen: list[object] = []

    def worker() -> None:
        conn = db.connect()
        seen.append(conn is not main_conn)
        seen.append([r[0] for r in conn.execute("SELECT slug FROM agents")])
        with db.transaction() as tx:
            add_agent(tx, "worker-thread")

    main_conn = db.connect()
    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert seen == [True, ["main-thread"]]
    assert {r[0] for r in main_conn.execute("SELECT slug FROM agents")} == {
        "main-thread", "worker-thread"}


# --- available_migrations ---------------------------------------------------------------------

def test_available_migrations_numbering() -> None:
    found = available_migrations()
    assert [v for v, _, _ in found] == list(range(1, len(MIGRATION_FILES) + 1))
    assert [f"{v:04d}_{n}.sql" for v, n, _ in found] == MIGRATION_FILES
    assert found[0][1] == "initial"
    assert "CREATE TABLE agents" in found[0][2]


def use_migrations(monkeypatch: pytest.MonkeyPatch, root: Path, files: dict[str, str]) -> None:
    """Point the store at a folder of migration files instead of the shipped ones."""
    (root / "migrations").mkdir(parents=True)
    for name, sql in files.items():
        (root / "migrations" / name).write_text(sql)
    monkeypatch.setattr(base_module, "resources", types.SimpleNamespace(files=lambda pkg: root))


def test_available_migrations_rejects_a_gap(monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    use_migrations(monkeypatch, tmp_path / "pkg", {
        "0001_first.sql": "CREATE TABLE a (x);", "0003_third.sql": "CREATE TABLE c (x);"})
    with pytest.raises(StoreError, match=r"1\.\.n without gaps.*\[1, 3\]"):
        available_migrations()


def test_available_migrations_rejects_not_starting_at_one(monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path) -> None:
    use_migrations(monkeypatch, tmp_path / "pkg", {"0002_second.sql": "CREATE TABLE b (x);"})
    with pytest.raises(StoreError):
        available_migrations()


def test_available_migrations_ignores_other_files_and_sorts(monkeypatch: pytest.MonkeyPatch,
                                                            tmp_path: Path) -> None:
    use_migrations(monkeypatch, tmp_path / "pkg", {
        "0002_second.sql": "CREATE TABLE b (x);", "0001_first.sql": "CREATE TABLE a (x);",
        "README.md": "notes", "0003_Bad-Name.sql": "CREATE TABLE z (x);", "01_short.sql": ""})
    assert [(v, n) for v, n, _ in available_migrations()] == [(1, "first"), (2, "second")]


def test_new_migration_is_applied_to_an_existing_file(monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    use_migrations(monkeypatch, tmp_path / "pkg", {
        "0001_first.sql":
            "-- a comment\nCREATE TABLE a (x TEXT);\nINSERT INTO a VALUES ('1;2');\n"})
    db = Database(path)
    assert db.schema_version() == 1
    db.close()
    (tmp_path / "pkg" / "migrations" / "0002_second.sql").write_text(
        "CREATE TABLE b (y);\nCREATE INDEX b_y ON b(y);\n")
    db = Database(path)
    try:
        assert db.schema_version() == 2
        assert {"a", "b"} <= tables(path)
        assert db.connect().execute("SELECT x FROM a").fetchall()[0][0] == "1;2"
        assert db.migrate() == []
    finally:
        db.close()


def test_failing_migration_rolls_back_and_raises_store_error(monkeypatch: pytest.MonkeyPatch,
                                                             tmp_path: Path) -> None:
    use_migrations(monkeypatch, tmp_path / "pkg", {
        "0001_first.sql": "CREATE TABLE a (x);",
        "0002_broken.sql": "CREATE TABLE half_done (x);\nCREATE TABLE oops (;\n",
    })
    with pytest.raises(StoreError, match="0002_broken"):
        Database(tmp_path / "app.db")
    names = tables(tmp_path / "app.db")
    assert "a" in names and "half_done" not in names
    with sqlite3.connect(tmp_path / "app.db") as conn:
        assert conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0] == 1


def test_split_sql_keeps_quoted_semicolons_and_drops_comments() -> None:
    script = ("-- header comment\nCREATE TABLE t (a TEXT DEFAULT 'x;y');\n\n"
              "CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n  UPDATE t SET a = 'z;';\nEND;\n")
    statements = _split_sql(script)
    assert len(statements) == 2
    assert statements[0] == "CREATE TABLE t (a TEXT DEFAULT 'x;y');"
    assert statements[1].startswith("CREATE TRIGGER") and statements[1].endswith("END;")


def test_shipped_migration_splits_into_complete_statements() -> None:
    _, _, sql = available_migrations()[0]
    statements = _split_sql(sql)
    assert all(sqlite3.complete_statement(s) for s in statements)
    assert sum(s.upper().startswith("CREATE TABLE") for s in statements) == 6
