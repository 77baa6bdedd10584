"""What both stores must do alike, on each: SQLite and a real PostgreSQL + pgvector server.

The repositories write one SQL dialect (doppel.store.base); these tests hold the two engines
to it: the same schema from the same numbered migrations, transactions that roll back whole,
one IntegrityError, RETURNING, upserts, the dialect's expressions, a bounded pool, and the
copy between them (backup, restore, the move to PostgreSQL).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from doppel.errors import StoreError
from doppel.store import Database, IntegrityError, available_migrations, now_iso, open_database
from doppel.store.copy import TABLES, columns, copy_database
from doppel.store.sqlite import SQLiteDatabase

pytestmark = pytest.mark.both_stores


@pytest.fixture
def db(database_url: str, tmp_path: Path) -> Iterator[Database]:
    database = open_database(database_url, tmp_path / "doppel.db", pool_size=3)
    yield database
    database.close()


def add_agent(db: Database, slug: str) -> int:
    with db.transaction() as tx:
        return int(tx.execute("INSERT INTO agents(slug, spec_json) VALUES (?, '{}') "
                              "RETURNING id", (slug,)).fetchone()[0])


def tables(db: Database) -> set[str]:
    if db.kind == "postgres":
        sql = ("SELECT table_name FROM information_schema.tables WHERE table_schema = "
               "current_schema()")
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
    return {str(r[0]) for r in db.connect().execute(sql).fetchall()}


def test_the_same_migrations_for_both_engines() -> None:
    sqlite = [(v, n) for v, n, _ in available_migrations("sqlite")]
    postgres = [(v, n) for v, n, _ in available_migrations("postgres")]
    assert sqlite == postgres and len(sqlite) >= 14


def test_a_fresh_database_gets_every_migration_and_the_shared_schema(db: Database,
                                                                     tmp_path: Path) -> None:
    assert db.schema_version() == len(available_migrations(db.kind))
    assert db.migrate() == []  # idempotent
    # Every table the copy tool knows, with the same stored columns as SQLite's.
    reference = SQLiteDatabase(tmp_path / "reference.db")
    try:
        assert set(TABLES) <= tables(db)
        assert set(TABLES) == tables(reference) - {
            "schema_migrations", "sqlite_sequence"} - {
            t for t in tables(reference) if t.startswith("chunks_fts")}
        for table in TABLES:
            assert columns(db.connect(), table) == columns(reference.connect(), table), table
    finally:
        reference.close()


def test_a_failed_transaction_leaves_nothing(db: Database) -> None:
    add_agent(db, "before")
    with pytest.raises(ZeroDivisionError):
        with db.transaction() as tx:
            tx.execute("INSERT INTO agents(slug, spec_json) VALUES ('undone', '{}')")
            tx.execute("UPDATE agents SET knowledge_version = 42 WHERE slug = 'before'")
            1 / 0  # noqa: B018
    rows = db.connect().execute("SELECT slug, knowledge_version FROM agents").fetchall()
    assert [(r["slug"], r[1]) for r in rows] == [("before", 0)]
    add_agent(db, "after")  # and the store is usable at once


def test_constraint_errors_are_one_exception_and_roll_back(db: Database) -> None:
    with pytest.raises(IntegrityError, match="(?i)unique"):
        with db.transaction() as tx:
            tx.execute("INSERT INTO agents(slug, spec_json) VALUES ('dup', '{}')")
            tx.execute("INSERT INTO agents(slug, spec_json) VALUES ('dup', '{}')")
    with pytest.raises(IntegrityError):  # a foreign key
        with db.transaction() as tx:
            tx.execute("INSERT INTO documents(agent_id, source, loader, sha256) "
                       "VALUES (999, 'x.md', 'markdown', 'abc')")
    assert db.connect().execute("SELECT COUNT(*) FROM agents").fetchone()[0] == 0


def test_reads_inside_a_transaction_see_its_writes_and_others_do_not(db: Database) -> None:
    seen: list[int] = []
    with db.transaction() as tx:
        tx.execute("INSERT INTO agents(slug, spec_json) VALUES ('draft', '{}')")
        # the same thread reads through connect(): the transaction's own connection
        assert db.connect().execute("SELECT COUNT(*) FROM agents").fetchone()[0] == 1
        if db.kind == "postgres":  # SQLite's readers wait on the write lock's file instead
            worker = threading.Thread(target=lambda: seen.append(
                db.connect().execute("SELECT COUNT(*) FROM agents").fetchone()[0]))
            worker.start()
            worker.join()
            assert seen == [0]
    assert db.connect().execute("SELECT COUNT(*) FROM agents").fetchone()[0] == 1


def test_returning_upserts_and_conflicts(db: Database) -> None:
    agent = add_agent(db, "shop")
    with db.transaction() as tx:
        first = tx.execute("INSERT INTO conversations(agent_id, thread) VALUES (?, ?) "
                           "ON CONFLICT DO NOTHING RETURNING id", (agent, "t")).fetchone()
        again = tx.execute("INSERT INTO conversations(agent_id, thread) VALUES (?, ?) "
                           "ON CONFLICT DO NOTHING RETURNING id", (agent, "t")).fetchone()
        assert first is not None and again is None
        for value in ("one-value-of-16+", "another-value-16+"):
            tx.execute("INSERT INTO agent_secrets(agent_id, name, value, updated_at) "
                       "VALUES (?, ?, ?, ?) ON CONFLICT(agent_id, name) DO UPDATE SET "
                       "value = excluded.value", (agent, "x.key", value, now_iso()))
    row = db.connect().execute("SELECT value FROM agent_secrets").fetchone()
    assert row["value"] == "another-value-16+" and row[0] == row["VALUE"]


def test_text_with_question_marks_and_percent_signs_is_not_a_placeholder(db: Database) -> None:
    row = db.connect().execute("SELECT 'is it 100% open?', ?, 'it''s ?'",
                               ("a ? and a %s",)).fetchone()
    assert tuple(row) == ("is it 100% open?", "a ? and a %s", "it's ?")


def test_the_dialect_expressions_agree(db: Database) -> None:
    agent = add_agent(db, "shop")
    with db.transaction() as tx:
        conv = tx.execute("INSERT INTO conversations(agent_id, thread) VALUES (?, 't') "
                          "RETURNING id", (agent,)).fetchone()[0]
        tx.execute("INSERT INTO turns(conversation_id, agent_id, user_message, answer, path, "
                   "shields_json, created_at) VALUES (?, ?, 'q', 'a', 'refused', ?, ?)",
                   (conv, agent, '{"input": {"action": "block"}, "output": [1, 2]}',
                    "2026-12-06T23:30:00.000Z"))
    d = db.dialect
    row = db.connect().execute(
        f"SELECT {d.json_text('shields_json', 'input', 'action')}, "
        f"{d.json_array_length('shields_json', 'output')}, {d.json_text('shields_json', 'x')}, "
        f"{d.local_day('created_at')}, {d.local_day('created_at')} FROM turns",
        (60, -60)).fetchone()
    assert tuple(row) == ("block", 2, None, "2026-12-07", "2026-12-06")
    # SUM and AVG are numbers, as on SQLite (not PostgreSQL's Decimals)
    total, mean = db.connect().execute(
        "SELECT SUM(prompt_tokens) + 3, AVG(LENGTH(answer)) FROM turns").fetchone()
    assert (total, mean) == (3, 1.0) and isinstance(total, int)


def test_timestamps_sort_as_text_and_match_the_defaults(db: Database) -> None:
    agent = add_agent(db, "shop")
    stored = db.connect().execute("SELECT created_at FROM agents WHERE id = ?",
                                  (agent,)).fetchone()[0]
    mine = now_iso()
    assert len(stored) == len(mine) == 24 and stored.endswith("Z") and stored <= mine


def test_the_first_owner_is_written_once_under_concurrency(db: Database) -> None:
    from doppel.owners import OwnerRepo

    repo = OwnerRepo(db)
    results: list[object] = []
    barrier = threading.Barrier(4)

    def sign_up(i: int) -> None:
        barrier.wait()
        results.append(repo.create_first(f"owner{i}", "a long enough password 1"))

    workers = [threading.Thread(target=sign_up, args=(i,)) for i in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert sum(r is not None for r in results) == 1
    assert len(repo.list()) == 1


def test_many_threads_share_a_bounded_pool(db: Database) -> None:
    add_agent(db, "shop")
    errors: list[BaseException] = []

    def read() -> None:
        try:
            for _ in range(20):
                assert db.connect().execute("SELECT COUNT(*) FROM agents").fetchone()[0] == 1
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    workers = [threading.Thread(target=read) for _ in range(12)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    if db.kind == "postgres":
        from doppel.store.postgres import PostgresDatabase

        assert isinstance(db, PostgresDatabase)
        assert db.pool.get_stats()["pool_size"] <= 3  # 12 threads, never more than the pool


def test_a_copy_keeps_every_row_and_link_and_a_full_target_is_refused(
        db: Database, tmp_path: Path) -> None:
    from doppel.knowledge.index import KnowledgeIndex

    agent = add_agent(db, "shop")
    vectors = np.eye(3, 384, dtype=np.float32)
    with db.transaction() as tx:
        doc = tx.execute("INSERT INTO documents(agent_id, source, loader, sha256) VALUES "
                         "(?, 'p.md', 'markdown', 'h') RETURNING id", (agent,)).fetchone()[0]
        from doppel.knowledge.chunking import Chunk
        KnowledgeIndex.insert_chunks(tx, agent, doc, [
            Chunk(i, "Prices", f"croissants cost {i}", 0, 5) for i in range(3)], vectors)
    backup = SQLiteDatabase(tmp_path / "backup.db")
    report = copy_database(db, backup)
    assert report.rows["chunks"] == 3 and report.rows["agents"] == 1
    # the copy's full-text index and vectors work: SQLite's FTS5 was filled by its triggers
    assert backup.connect().execute(
        "SELECT COUNT(*) FROM chunks_fts WHERE chunks_fts MATCH 'croissant'").fetchone()[0] == 3
    blob = backup.connect().execute("SELECT embedding FROM chunks ORDER BY id").fetchone()[0]
    assert np.array_equal(np.frombuffer(blob, dtype=np.float32), vectors[0])
    with pytest.raises(StoreError, match="already holds"):
        copy_database(db, backup)
    # and back into an empty store of the engine under test: new rows continue after the ids
    db.close()
    again = open_database(*_fresh(db, tmp_path))
    try:
        copy_database(backup, again)
        new = add_agent(again, "second")
        assert new > agent
        assert again.connect().execute(
            "SELECT COUNT(*) FROM chunks WHERE agent_id = ?", (agent,)).fetchone()[0] == 3
    finally:
        again.close()
        backup.close()


def _fresh(db: Database, tmp_path: Path) -> tuple[str, Path]:
    if db.kind == "sqlite":
        return "", tmp_path / "fresh.db"
    from doppel.store.postgres import PostgresDatabase

    assert isinstance(db, PostgresDatabase)
    import psycopg

    name = "fresh_" + tmp_path.name.replace("-", "_")[-40:].lower()
    with psycopg.connect(db.url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = db.url.replace("/" + psycopg.conninfo.conninfo_to_dict(db.url)["dbname"] + "?",
                         f"/{name}?")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    return url, tmp_path / "unused.db"


def test_a_database_that_goes_away_is_a_503_not_a_traceback(tmp_path: Path) -> None:
    """PostgreSQL stops under a running server: requests get 503 with a message that names
    no host, and the server keeps running."""
    import httpx

    from doppel.config import Settings
    from doppel.errors import StoreUnavailable
    from doppel.serve import create_app
    from doppel.service import Doppel
    from doppel.testing import FakeChatBackend, FakeEmbedder, ServerThread
    from doppel.testing.postgres import PostgresServer

    server = PostgresServer.start()
    try:
        settings = Settings(home=tmp_path / "home", database_url=server.create_database("gone"),
                            database_pool_size=2, shields=False)
        app = Doppel(settings, backend=FakeChatBackend(), embedder=FakeEmbedder())
        owner = app.owners.create("alice")
        _, key = app.owners.create_key(owner.id, ["admin"])
        with ServerThread(create_app(doppel=app, preload=False)) as base:
            assert httpx.get(f"{base}/api/agents", headers={
                "Authorization": f"Bearer {key}"}).status_code == 200
            server.stop()
            r = httpx.get(f"{base}/api/agents", headers={"Authorization": f"Bearer {key}"},
                          timeout=60)
            assert r.status_code == 503 and r.json()["error"]["code"] == "store_unavailable"
            assert str(server.base) not in r.text and "Traceback" not in r.text
            assert httpx.get(f"{base}/healthz").status_code in (200, 503)
        with pytest.raises(StoreUnavailable):
            app.agents.list()
        app.close()
    finally:
        server.stop()


def test_one_leader_at_a_time_and_a_lost_lease_is_noticed(db: Database) -> None:
    first = db.try_lead("work")
    assert first is not None and first.held()
    assert db.try_lead("work") is None  # held by this lease (another process, another host)
    assert db.try_lead("other") is not None  # a different name is a different lease
    if db.kind == "postgres":  # the lock lives with its connection
        pid = first.conn.info.backend_pid  # type: ignore[attr-defined]
        db.connect().execute("SELECT pg_terminate_backend(?)", (pid,))
        assert not first.held()
    else:
        first.release()
    again = db.try_lead("work")
    assert again is not None and again.held()
    again.release()


def test_the_public_column_is_filled_from_the_specs_of_existing_agents(db: Database) -> None:
    """Migration 0016 on a store that already holds agents: `public` read from each spec."""
    with db.transaction() as tx:  # back to version 15: no column, no record of 0016
        tx.execute("DROP INDEX agents_public")
        tx.execute("DROP INDEX agents_owner_slug")
        tx.execute("ALTER TABLE agents DROP COLUMN public")
        tx.execute("DELETE FROM schema_migrations WHERE version = 16")
        for slug, spec in (("open", '{"slug": "open", "name": "O", "public": true}'),
                           ("closed", '{"slug": "closed", "name": "C", "public": false}'),
                           ("older", '{"slug": "older", "name": "D"}')):
            tx.execute("INSERT INTO agents(slug, spec_json) VALUES (?, ?)", (slug, spec))
    assert "0016_public_agents" in db.migrate()
    rows = db.connect().execute("SELECT slug, public FROM agents ORDER BY slug").fetchall()
    assert [(r["slug"], r["public"]) for r in rows] == [("closed", 0), ("older", 0), ("open", 1)]
