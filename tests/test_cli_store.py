"""`doppel migrate`, `doppel backup`, `doppel restore` through the CLI, on both stores; and the
move of an installation from SQLite to PostgreSQL (backup on one, restore on the other)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from doppel.agents.spec import AgentSpec
from doppel.cli import main
from doppel.config import Settings
from doppel.service import Doppel
from doppel.store import available_migrations
from doppel.testing import FakeChatBackend, FakeEmbedder

# On SQLite and on a real PostgreSQL + pgvector (conftest.py's `both_stores`).
pytestmark = pytest.mark.both_stores


def run(settings: Settings, *args: str) -> Result:
    return CliRunner().invoke(main, list(args), obj={"settings": settings})


def populate(settings: Settings) -> None:
    app = Doppel(settings, backend=FakeChatBackend(), embedder=FakeEmbedder())
    try:
        owner = app.owners.create("alice")
        app.owners.create_key(owner.id, ["admin"])
        agent = app.agents.create(AgentSpec(slug="bakery", name="Bakery"), owner.id)
        app.ingestor.ingest_bytes(agent, b"item,price\nAlmond Croissant,5.25\n", "prices.csv")
        app.answers.add(agent.id, "Do you deliver?", "Yes, within 5 miles.")
    finally:
        app.close()


def test_migrate_says_what_it_did(settings: Settings) -> None:
    first = run(settings, "migrate")
    assert first.exit_code == 0, first.output
    latest = len(available_migrations())
    assert f"schema v{latest} of {latest}" in first.output
    again = run(settings, "migrate")
    assert "nothing to apply" in again.output and again.exit_code == 0


def test_backup_then_restore_into_an_empty_store(settings: Settings, tmp_path: Path) -> None:
    populate(settings)
    backup = tmp_path / "backup.db"
    done = run(settings, "backup", str(backup))
    assert done.exit_code == 0 and "backed up 1 agent(s)" in done.output, done.output
    # never over an existing file, never into a store that holds data
    again = run(settings, "backup", str(backup))
    assert again.exit_code == 1 and again.output.startswith("error: ") and \
        "exists" in again.output and len(again.output.strip().splitlines()) == 1
    full = run(settings, "restore", str(backup))
    assert full.exit_code == 1 and "already holds" in full.output
    # a fresh SQLite data directory takes it whole
    fresh = Settings(home=tmp_path / "fresh", models_home=settings.models_home)
    restored = run(fresh, "restore", str(backup))
    assert restored.exit_code == 0 and "restored 1 agent(s)" in restored.output
    app = Doppel(fresh, backend=FakeChatBackend(), embedder=FakeEmbedder())
    try:
        agent = app.agents.get("bakery")
        assert [p.text for p in app.index.search(agent.id, "almond croissant", 1)]
        assert app.answers.list(agent.id)[0]["answer"] == "Yes, within 5 miles."
        owner = app.owners.find("alice")
        assert owner is not None and len(app.owners.list_keys(owner.id)) == 1
    finally:
        app.close()


def test_restore_refuses_a_file_that_is_not_a_backup(settings: Settings,
                                                     tmp_path: Path) -> None:
    for name, content in (("notes.txt", b"just text"), ("empty.db", b"")):
        bogus = tmp_path / name
        bogus.write_bytes(content)
        result = run(settings, "restore", str(bogus))
        assert result.exit_code == 1 and "not a doppel database" in result.output, \
            result.output
        assert "Traceback" not in result.output
    assert run(settings, "restore", str(tmp_path / "missing.db")).exit_code == 2  # click's own
    app = Doppel(settings, backend=FakeChatBackend(), embedder=FakeEmbedder())
    try:
        assert app.agents.list() == []  # nothing half-written
    finally:
        app.close()


def test_moving_from_sqlite_to_the_store_under_test(settings: Settings, tmp_path: Path,
                                                    store_kind: str, request: Any) -> None:
    """The documented move: `doppel backup` on the laptop's SQLite, `doppel restore` with
    DOPPEL_DATABASE_URL set (on SQLite: into another data directory)."""
    laptop = Settings(home=tmp_path / "laptop", models_home=settings.models_home)
    populate(laptop)
    backup = tmp_path / "move.db"
    assert run(laptop, "backup", str(backup)).exit_code == 0
    result = run(settings, "restore", str(backup))
    assert result.exit_code == 0, result.output
    app = Doppel(settings, backend=FakeChatBackend(), embedder=FakeEmbedder())
    try:
        assert app.db.kind == store_kind
        agent = app.agents.get("bakery")
        found = app.index.search(agent.id, "almond croissant price", 2)
        assert found and "5.25" in found[0].text
        # new rows get new ids after the copied ones
        later = app.agents.create(AgentSpec(slug="second", name="Second"))
        assert later.id > agent.id
    finally:
        app.close()
