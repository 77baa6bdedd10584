"""Full-text ranking uses each agent's own statistics: another owner's content never changes
the order in which an agent's passages are found (nor, through it, the agent's answers)."""

from __future__ import annotations

from pathlib import Path

import pytest

from doppel.agents.spec import AgentSpec
from doppel.service import Doppel

# On SQLite and on a real PostgreSQL + pgvector (conftest.py's `both_stores`).
pytestmark = pytest.mark.both_stores

PRICES = "item,price_usd\nSourdough loaf,9.00\nRye loaf,7.00\nBaguette,4.00\n"
# Another owner whose every passage says "sourdough": across the whole table the word becomes
# common, so a table-wide BM25 would rank this bakery's rye row above its sourdough row.
OTHER = "\n".join(["item,price_usd"] + [f"Sourdough starter {i},{i}.00" for i in range(1, 60)])


def _order(app: Doppel, slug: str, query: str) -> list[tuple[str, float]]:
    """The passages found and their fused ranking scores (which carry the full-text rank)."""
    agent = app.agents.get(slug)
    return [(p.text, round(p.score, 9)) for p in app.index.search(agent.id, query, 3)]


def test_another_agents_content_does_not_change_an_agents_ranking(app: Doppel,
                                                                 tmp_path: Path) -> None:
    own = tmp_path / "own"
    own.mkdir()
    (own / "prices.csv").write_text(PRICES)
    app.create_agent(AgentSpec(slug="bakery", name="Bakery"), [own])
    query = "sourdough or rye?"
    before = _order(app, "bakery", query)
    other = tmp_path / "other"
    other.mkdir()
    (other / "prices.csv").write_text(OTHER)
    app.create_agent(AgentSpec(slug="starters", name="Starters"), [other])
    assert _order(app, "bakery", query) == before


def test_the_vector_cache_is_bounded_and_refills(app: Doppel, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite keeps agents' matrices least recently used first, within a byte budget; an
    agent whose matrix was dropped is searched as before (read again from the store)."""
    import doppel.knowledge.index as index_module

    if app.db.kind != "sqlite":
        pytest.skip("PostgreSQL searches its vectors in the database")
    slugs = [f"shop{i}" for i in range(4)]
    for slug in slugs:
        folder = tmp_path / slug
        folder.mkdir()
        (folder / "prices.csv").write_text(PRICES)
        app.create_agent(AgentSpec(slug=slug, name=slug), [folder])
    ids = [app.agents.get(s).id for s in slugs]
    first = [p.text for p in app.index.search(ids[0], "rye", 2)]
    one = app.index._vectors[ids[0]].matrix.nbytes
    monkeypatch.setattr(index_module, "VECTOR_CACHE_BYTES", 2 * one)
    for agent_id in ids[1:]:
        app.index.search(agent_id, "rye", 2)
    assert list(app.index._vectors) == ids[2:] and app.index._vector_bytes == 2 * one
    assert [p.text for p in app.index.search(ids[0], "rye", 2)] == first
