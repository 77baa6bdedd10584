"""The same content on SQLite (FTS5 + numpy) and on PostgreSQL (tsvector + pgvector) finds the
same passages in the same order: an agent answers the same whichever store the operator runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from doppel.agents.spec import AgentSpec
from doppel.config import Settings
from doppel.service import Doppel
from doppel.testing import FakeChatBackend, FakeEmbedder

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "How much is an almond croissant?", "Are you open on Mondays?", "Do you have gluten free "
    "bread?", "What time do you close on Saturday?", "Can I order a birthday cake?",
    "Where are you?", "Do you deliver?", "sourdough price", "Is there parking?",
    "What's in the seeded rye?", "Can I pay by card?", "wholesale orders", "vegan options",
    "How do I contact you?", "Do you make baguettes?", "croissants",
]


@pytest.fixture
def stores(tmp_path: Path, postgres_server: Any) -> Iterator[tuple[Doppel, Doppel]]:
    url = postgres_server.create_database("parity_" + tmp_path.name.replace("-", "_")[-30:])
    apps = []
    for name, database_url in (("sqlite", ""), ("postgres", url)):
        settings = Settings(home=tmp_path / name, database_url=database_url)
        app = Doppel(settings, backend=FakeChatBackend(), embedder=FakeEmbedder())
        app.create_agent(AgentSpec(slug="bakery", name="Bakery"), [ROOT / "examples" / "bakery"])
        apps.append(app)
    yield apps[0], apps[1]
    for app in apps:
        app.close()


def test_both_stores_find_the_same_passages_in_the_same_order(
        stores: tuple[Doppel, Doppel]) -> None:
    sqlite, postgres = stores
    assert postgres.db.kind == "postgres" and sqlite.db.kind == "sqlite"
    for question in QUESTIONS:
        found = []
        for app in stores:
            agent = app.agents.get("bakery")
            found.append([(p.text, p.heading, round(p.score, 6), round(p.similarity, 4))
                          for p in app.index.search(agent.id, question, 6)])
        assert found[0] == found[1], question
        assert found[0], question


def test_another_agent_never_reaches_the_results(stores: tuple[Doppel, Doppel],
                                                 tmp_path: Path) -> None:
    _, postgres = stores
    other = tmp_path / "other"
    other.mkdir()
    (other / "prices.csv").write_text("item,price\nAlmond croissant,99.00\nCroissant,98.00\n")
    postgres.create_agent(AgentSpec(slug="rival", name="Rival"), [other])
    stranger = postgres.agents.get("rival")
    bakery = postgres.agents.get("bakery")
    for question in ("almond croissant price", "croissant"):
        texts = [p.text for p in postgres.index.search(bakery.id, question, 20)]
        assert texts and not any("99.00" in t or "98.00" in t for t in texts)
        assert all("99.00" in t or "98.00" in t for t in
                   (p.text for p in postgres.index.search(stranger.id, question, 20)))


def test_a_large_agent_is_searched_through_its_own_hnsw_and_gin_indexes(
        stores: tuple[Doppel, Doppel], monkeypatch: pytest.MonkeyPatch) -> None:
    """Past HNSW_MIN_CHUNKS an agent gets a partial HNSW index of its own, built in the
    background; searches then go through it, k rows every time (tiny here, so the same
    passages as the exact scan)."""
    import doppel.knowledge.pgindex as pgindex

    _, postgres = stores
    monkeypatch.setattr(pgindex, "HNSW_MIN_CHUNKS", 5)
    index = postgres.index
    assert isinstance(index, pgindex.PgKnowledgeIndex)
    agent = postgres.agents.get("bakery")
    before = [p.text for p in index.search(agent.id, "almond croissant", 4)]  # starts the build
    index.build_hnsw(agent.id, wait=True)  # (or waits for nothing: it is there)
    conn = postgres.db.connect()
    assert conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname = ?",
                        (index.hnsw_name(agent.id),)).fetchone()[0].endswith(
        f"WHERE (agent_id = {agent.id})")
    assert conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname = ?",
                        (index.gin_name(agent.id),)).fetchone()[0].endswith(
        f"USING gin (search) WHERE (agent_id = {agent.id})")
    version = index._version(conn, agent.id)
    assert index._uses_hnsw(conn, agent.id, version)
    # its full-text statements name the agent literally: a partial index is used only when
    # the planner sees the literal (its effect: benchmarks/store.py, a million chunks)
    assert index._agent_rows(agent.id) == (f"agent_id = {agent.id}", ())
    assert index._match(conn, agent.id, 1) == "search @@ (plainto_tsquery('english', ?))"
    for question in QUESTIONS:
        assert len(index.search(agent.id, question, 4)) == 4, question
        qv = index.embed_query(question)
        # as close as the exact scan's ten (the fake embedder's cosine is word overlap: many
        # chunks tie, and an approximate index may meet another of the tied ones first)
        near = [round(sim, 4) for _, sim in index._approximate(agent.id, qv, 10)]
        exact = [round(sim, 4) for _, sim in index._exact(conn, agent.id, qv, 10)]
        assert near == exact, question
    assert [p.text for p in index.search(agent.id, "almond croissant", 4)] == before
