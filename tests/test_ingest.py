"""Ingestion end to end on a real SQLite file: reports, updates, bad input, isolation, deletion."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from doppel.agents.repo import Agent
from doppel.agents.spec import AgentSpec
from doppel.config import Settings
from doppel.service import Doppel
from doppel.testing import FakeChatBackend, FakeEmbedder

# On SQLite and on a real PostgreSQL + pgvector (conftest.py's `both_stores`).
pytestmark = pytest.mark.both_stores

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "bakery"
KNOWLEDGE_FILES = sorted(p.name for p in EXAMPLES.iterdir() if p.name != "agent.yaml")


def new_agent(app: Doppel, slug: str) -> Agent:
    return app.agents.create(AgentSpec(slug=slug, name=slug.title()))


def copy_examples(tmp_path: Path) -> Path:
    folder = tmp_path / "bakery"
    shutil.copytree(EXAMPLES, folder)
    return folder


def count(app: Doppel, sql: str, *args: object) -> int:
    return int(app.db.connect().execute(sql, args).fetchone()[0])


def fts_rows(app: Doppel, agent: Agent) -> int:
    """The agent's rows in the full-text index (on PostgreSQL: chunks whose generated tsvector
    holds words, a column of the row itself)."""
    if app.db.kind == "postgres":
        return count(app, "SELECT COUNT(*) FROM chunks WHERE agent_id = ? AND "
                     "length(search) > 0", agent.id)
    return count(app, "SELECT COUNT(*) FROM chunks_fts WHERE agent = ?", f"a{agent.id}")


def chunk_texts(app: Doppel, agent: Agent, source: str | None = None) -> list[str]:
    sql = ("SELECT c.text FROM chunks c JOIN documents d ON d.id = c.document_id "
           "WHERE c.agent_id = ?")
    args: list[object] = [agent.id]
    if source is not None:
        sql += " AND d.source = ?"
        args.append(source)
    return [r[0] for r in app.db.connect().execute(sql, args).fetchall()]


def assert_fts_matches_chunks(app: Doppel) -> None:
    """Every chunk has exactly one FTS row with its text, and no FTS row is orphaned (SQLite's
    FTS5 table; PostgreSQL's tsvector is a generated column of the chunk's own row)."""
    conn = app.db.connect()
    if app.db.kind == "postgres":
        assert conn.execute("SELECT COUNT(*) FROM chunks WHERE search IS NULL").fetchone()[0] == 0
        return
    chunks = {r[0]: (f"a{r[1]}", r[2]) for r in
              conn.execute("SELECT id, agent_id, text FROM chunks").fetchall()}
    fts = {r[0]: (r[1], r[2]) for r in
           conn.execute("SELECT rowid, agent, text FROM chunks_fts").fetchall()}
    assert fts == chunks


# --- the bakery -----------------------------------------------------------------------------------

def test_ingesting_the_bakery_adds_every_file(app: Doppel) -> None:
    agent = new_agent(app, "bakery")
    seen = []
    report = app.ingestor.ingest(agent, [EXAMPLES], progress=seen.append)

    assert sorted(f.source for f in report.files) == KNOWLEDGE_FILES  # agent.yaml is ignored
    assert seen == report.files
    for f in report.files:
        assert f.status == "added", f.line()
        assert f.chunks > 0
    assert report.count("skipped") == 0
    assert report.chunks == sum(f.chunks for f in report.files)
    assert report.summary() == (f"{len(KNOWLEDGE_FILES)} added, 0 updated, 0 unchanged, "
                                f"0 skipped; {report.chunks} chunks written")
    stats = app.agents.stats(agent)
    assert stats["documents"] == len(KNOWLEDGE_FILES)
    assert stats["chunks"] == report.chunks
    assert stats["approved_answers"] == 17
    assert_fts_matches_chunks(app)
    # the loaders' names are recorded per document
    loaders = dict(app.db.connect().execute(
        "SELECT source, loader FROM documents WHERE agent_id = ?", (agent.id,)).fetchall())
    assert loaders["allergens.pdf"] == "pdf" and loaders["policies.html"] == "html"
    assert loaders["prices.csv"] == "csv" and loaders["faq.yaml"] == "faq"
    # and the content is searchable
    hits = app.index.search(agent.id, "wholesale minimum order per week", 3)
    assert any(h.source == "policies.html" and "$150 per week" in h.text for h in hits)
    hits = app.index.search(agent.id, "Hazelnut Financier allergens", 4)
    assert any(h.source == "allergens.pdf" for h in hits)


def test_reingesting_unchanged_files_reports_unchanged(app: Doppel) -> None:
    agent = new_agent(app, "bakery")
    first = app.ingestor.ingest(agent, [EXAMPLES])
    version = app.agents.get("bakery").knowledge_version
    ids = count(app, "SELECT MAX(id) FROM chunks")

    again = app.ingestor.ingest(agent, [EXAMPLES])

    assert [f.status for f in again.files] == ["unchanged"] * len(first.files)
    assert again.chunks == 0
    assert again.files[0].line() == f"unchanged {again.files[0].source}"
    assert app.agents.get("bakery").knowledge_version == version
    assert count(app, "SELECT MAX(id) FROM chunks") == ids  # nothing rewritten
    assert app.agents.stats(agent)["chunks"] == first.chunks
    assert len(app.answers.list(agent.id)) == 17


def test_changed_file_is_updated_and_old_chunks_are_gone(app: Doppel, tmp_path: Path) -> None:
    folder = copy_examples(tmp_path)
    agent = new_agent(app, "bakery")
    app.ingestor.ingest(agent, [folder])
    old = "Millbrook Transit bus line 12 stops at Alder & 5th"
    assert any(old in t for t in chunk_texts(app, agent, "hours-and-location.md"))
    doc_id = count(app, "SELECT id FROM documents WHERE source = 'hours-and-location.md'")

    page = folder / "hours-and-location.md"
    page.write_text(page.read_text().replace(
        old, "The Millbrook gondola zeppelin shuttle stops at Alder & 5th"))
    report = app.ingestor.ingest(agent, [folder])

    statuses = {f.source: f.status for f in report.files}
    assert statuses.pop("hours-and-location.md") == "updated"
    assert set(statuses.values()) == {"unchanged"}
    assert report.files[[f.source for f in report.files].index("hours-and-location.md")].chunks > 0
    # same document row, new content
    assert count(app, "SELECT id FROM documents WHERE source = 'hours-and-location.md'") == doc_id
    texts = chunk_texts(app, agent, "hours-and-location.md")
    assert not any(old in t for t in texts)
    assert any("gondola zeppelin shuttle" in t for t in texts)
    # through search: the old wording is nowhere, the new wording is found first
    for h in app.index.search(agent.id, "Millbrook Transit bus line 12", 8):
        assert "bus line 12" not in h.text
    hits = app.index.search(agent.id, "gondola zeppelin shuttle", 3)
    assert hits and hits[0].source == "hours-and-location.md"
    assert "gondola zeppelin shuttle" in hits[0].text
    assert_fts_matches_chunks(app)


def test_faq_entries_become_approved_answers_replaced_on_reingest(
        app: Doppel, tmp_path: Path) -> None:
    folder = copy_examples(tmp_path)
    agent = new_agent(app, "bakery")
    owner_id = app.answers.add(agent.id, "Who owns the bakery?", "Maya and Tomás Ortega.")
    app.ingestor.ingest(agent, [folder])

    answers = app.answers.list(agent.id)
    faq = [a for a in answers if a["source"] == "faq:faq.yaml"]
    assert len(faq) == 17
    assert {"question": "Is there Wi-Fi?", "source": "faq:faq.yaml"}.items() <= next(
        a for a in faq if a["question"] == "Is there Wi-Fi?").items()

    app.ingestor.ingest(agent, [folder])  # unchanged: no duplicates
    assert len(app.answers.list(agent.id)) == 18

    faq_file = folder / "faq.yaml"
    faq_file.write_text(faq_file.read_text().replace(
        "The network name and password are printed on your receipt.",
        "Ask at the counter for the password.")
        + "- question: Do you sell sandwiches?\n  answer: Only on Saturdays.\n")
    report = app.ingestor.ingest(agent, [folder])
    assert {f.source: f.status for f in report.files}["faq.yaml"] == "updated"

    answers = app.answers.list(agent.id)
    questions = [a["question"] for a in answers]
    assert len(questions) == len(set(questions)) == 19  # 18 FAQ entries + the owner's
    wifi = next(a for a in answers if a["question"] == "Is there Wi-Fi?")
    assert wifi["answer"] == ("Yes, Wi-Fi is free for customers. "
                              "Ask at the counter for the password.")
    assert any(a["question"] == "Do you sell sandwiches?" for a in answers)
    owner = [a for a in answers if a["source"] == "owner"]
    assert [a["id"] for a in owner] == [owner_id]  # the owner's answer survives
    # the approved-answer matcher sees the new answer
    match = app.index.match_approved(agent.id, app.index.embed_query("Is there Wi-Fi?"))
    assert match is not None and match.answer == wifi["answer"]
    assert match.source == "faq:faq.yaml"


def test_removing_a_document(app: Doppel) -> None:
    agent = new_agent(app, "bakery")
    app.ingestor.ingest(agent, [EXAMPLES])
    before = app.agents.stats(agent)
    n_faq = count(app, "SELECT n_chunks FROM documents WHERE source = 'faq.yaml'")

    assert app.ingestor.remove(agent, "faq.yaml") is True
    assert app.ingestor.remove(agent, "faq.yaml") is False

    after = app.agents.stats(agent)
    assert after["documents"] == before["documents"] - 1
    assert after["chunks"] == before["chunks"] - n_faq
    assert after["approved_answers"] == 0
    assert_fts_matches_chunks(app)


# --- bad input --------------------------------------------------------------------------------

def test_bad_files_are_skipped_with_reasons_and_good_files_ingested(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", models_home=tmp_path / "models",
                        max_file_bytes=10_000)
    app = Doppel(settings, backend=FakeChatBackend(), embedder=FakeEmbedder())
    try:
        folder = tmp_path / "docs"
        folder.mkdir()
        shutil.copy(EXAMPLES / "menu.md", folder / "menu.md")
        shutil.copy(EXAMPLES / "prices.csv", folder / "prices.csv")
        (folder / "empty.md").write_bytes(b"")
        (folder / "blank.txt").write_bytes(b"  \n\n \t\n")
        (folder / "binary.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(300))
        (folder / "huge.txt").write_text("All about bread. " * 1000)  # 17,000 bytes
        (folder / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
        (folder / "LICENSE").write_text("MIT")
        (folder / "broken.pdf").write_bytes((EXAMPLES / "allergens.pdf").read_bytes()[:1500])
        (folder / "bad.yaml").write_text("- question: [oops\n")
        (folder / "settings.yaml").write_text("port: 80\nhost: example\n")
        (folder / "header-only.csv").write_text("item,price\n")
        (folder / ".hidden.md").write_text("# Hidden\n\nNot knowledge.\n")
        unreadable = folder / "secret.md"
        unreadable.write_text("# Secret\n\nHidden text.\n")
        unreadable.chmod(0)
        agent = new_agent(app, "shop")

        report = app.ingestor.ingest(agent, [folder])
        unreadable.chmod(0o644)
    finally:
        app.close()
    by_source = {f.source: f for f in report.files}
    assert ".hidden.md" not in by_source
    assert by_source["menu.md"].status == "added" and by_source["menu.md"].chunks > 0
    assert by_source["prices.csv"].status == "added" and by_source["prices.csv"].chunks == 39

    expected = {
        "empty.md": "empty", "blank.txt": "empty", "binary.md": "binary", "huge.txt": "too large",
        "photo.jpg": "unsupported", "LICENSE": "unsupported", "broken.pdf": "PDF",
        "bad.yaml": "invalid YAML", "settings.yaml": "question/answer",
        "header-only.csv": "header",
    }
    for source, word in expected.items():
        entry = by_source[source]
        assert entry.status == "skipped", entry
        assert word in entry.reason, entry
        assert entry.chunks == 0
        assert entry.line() == f"skipped {source}: {entry.reason}"
    assert "10,000" not in by_source["huge.txt"].reason  # limit given in MB
    assert "DOPPEL_MAX_FILE_BYTES" in by_source["huge.txt"].reason
    assert "'.jpg'" in by_source["photo.jpg"].reason
    if os.geteuid() != 0:  # root reads anything, so the file is not unreadable for root
        assert by_source["secret.md"].status == "skipped"
        assert "unreadable" in by_source["secret.md"].reason
    assert report.count("skipped") >= len(expected)
    assert report.count("added") >= 2

    app = Doppel(settings, backend=FakeChatBackend(), embedder=FakeEmbedder())
    try:
        skipped = [f.source for f in report.files if f.status == "skipped"]
        stored = {r[0] for r in app.db.connect().execute("SELECT source FROM documents")}
        assert not stored & set(skipped)
        assert count(app, "SELECT COUNT(*) FROM chunks c JOIN documents d ON d.id = c.document_id "
                          "WHERE d.source IN (%s)" % ",".join("?" * len(skipped)), *skipped) == 0
        assert count(app, "SELECT COUNT(*) FROM approved_answers") == 0
        assert_fts_matches_chunks(app)
    finally:
        app.close()


def test_missing_file_is_skipped(app: Doppel, tmp_path: Path) -> None:
    agent = new_agent(app, "shop")
    report = app.ingestor.ingest(agent, [tmp_path / "nope.md"])
    assert [(f.source, f.status) for f in report.files] == [("nope.md", "skipped")]
    assert "no such file" in report.files[0].reason


def test_a_bad_new_version_keeps_the_old_one(app: Doppel, tmp_path: Path) -> None:
    folder = copy_examples(tmp_path)
    agent = new_agent(app, "bakery")
    app.ingestor.ingest(agent, [folder])
    before = sorted(chunk_texts(app, agent, "faq.yaml"))

    (folder / "faq.yaml").write_text("- question: [broken\n")
    report = app.ingestor.ingest(agent, [folder])

    entry = next(f for f in report.files if f.source == "faq.yaml")
    assert entry.status == "skipped" and "invalid YAML" in entry.reason
    assert sorted(chunk_texts(app, agent, "faq.yaml")) == before
    assert len(app.answers.list(agent.id)) == 17


class DroppingEmbedder(FakeEmbedder):
    """Loses the last vector of a batch that mentions 'explode': writing fails mid-transaction."""

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        vectors = super().embed(texts)
        if any("explode" in t for t in texts):
            return vectors[:-1]
        return vectors


def test_failure_while_writing_leaves_nothing_half_written(tmp_path: Path,
                                                           database_url: str) -> None:
    settings = Settings(home=tmp_path / "home", models_home=tmp_path / "models",
                        database_url=database_url)
    app = Doppel(settings, backend=FakeChatBackend(), embedder=DroppingEmbedder())
    try:
        agent = new_agent(app, "shop")
        good = "# Menu\n\n" + "\n\n".join(f"Bread number {i} is tasty." for i in range(40))
        assert app.ingestor.ingest_bytes(agent, good.encode(), "menu.md").status == "added"
        snapshot = (sorted(chunk_texts(app, agent)), app.agents.get("shop").knowledge_version)
        doc_id = count(app, "SELECT id FROM documents WHERE source = 'menu.md'")

        # a new document: several chunks, then the write fails after some rows went in
        bad = "# Boom\n\n" + "\n\n".join(f"Cake {i} may explode." for i in range(40))
        report = app.ingestor.ingest_bytes(agent, bad.encode(), "boom.md")
        assert report.status == "skipped" and "could not be processed" in report.reason
        assert count(app, "SELECT COUNT(*) FROM documents WHERE source = 'boom.md'") == 0
        assert not any("explode" in t for t in chunk_texts(app, agent))

        # an update of an existing document fails the same way: the old version stays whole
        assert app.ingestor.ingest_bytes(agent, bad.encode(), "menu.md").status == "skipped"
        assert count(app, "SELECT id FROM documents WHERE source = 'menu.md'") == doc_id
        assert (sorted(chunk_texts(app, agent)),
                app.agents.get("shop").knowledge_version) == snapshot
        assert_fts_matches_chunks(app)
        if app.db.kind == "sqlite":
            assert not app.db.connect().raw.in_transaction  # type: ignore[attr-defined]

        # and the database is still writable afterwards
        assert app.ingestor.ingest_bytes(agent, b"Fresh scones.", "scones.txt").status == "added"
    finally:
        app.close()


# --- isolation between agents -----------------------------------------------------------------

@pytest.fixture
def two_agents(app: Doppel, tmp_path: Path) -> tuple[Agent, Agent]:
    a = new_agent(app, "bakery")
    b = new_agent(app, "bikes")
    app.ingestor.ingest(a, [EXAMPLES])
    bikes = tmp_path / "bikes"
    bikes.mkdir()
    (bikes / "repairs.md").write_text(
        "# Bike repairs\n\n## Tune-ups\n\nA derailleur tune-up with cable tensioning costs $45.\n\n"
        "## Tyres\n\n- Tubeless sealant refill: $12\n- Puncture repair: $15\n")
    (bikes / "faq.json").write_text(
        '[{"question": "Do you fix carbon frames?", "answer": "No, only steel and aluminium."}]')
    report = app.ingestor.ingest(b, [bikes])
    assert report.count("added") == 2
    return a, b


def test_search_never_crosses_agents(app: Doppel, two_agents: tuple[Agent, Agent]) -> None:
    a, b = two_agents
    a_ids = {r[0] for r in app.db.connect().execute(
        "SELECT id FROM chunks WHERE agent_id = ?", (a.id,))}
    b_ids = {r[0] for r in app.db.connect().execute(
        "SELECT id FROM chunks WHERE agent_id = ?", (b.id,))}
    assert a_ids and b_ids and not a_ids & b_ids

    query = "derailleur tune-up cable tensioning tubeless sealant"
    own = app.index.search(b.id, query, 3)
    assert own and own[0].source == "repairs.md"  # the query really matches B's text
    for q in (query, "carbon frames", "derailleur", "bike repairs"):
        for hit in app.index.search(a.id, q, 10):
            assert hit.chunk_id in a_ids
            assert "derailleur" not in hit.text and "Tubeless" not in hit.text
    # the other way round
    for hit in app.index.search(b.id, "sourdough croissant opening hours Monday", 10):
        assert hit.chunk_id in b_ids

    # The full-text side itself: B's words among A's chunks match nothing, among B's they do
    # (SQLite: the agent's token in the FTS5 query; PostgreSQL: the agent_id filter)
    conn = app.db.connect()
    assert app.index._matching(conn, a.id, ["derailleur", "tubeless"]) == []
    b_hits = {r[0] for r in app.index._matching(conn, b.id, ["derailleur"])}
    assert b_hits and b_hits <= b_ids
    # approved answers are per agent too
    assert [x["question"] for x in app.answers.list(b.id)] == ["Do you fix carbon frames?"]
    match = app.index.match_approved(a.id, app.index.embed_query("Do you fix carbon frames?"))
    assert match is not None and match.question != "Do you fix carbon frames?"


def test_agent_with_no_knowledge_finds_nothing(app: Doppel,
                                               two_agents: tuple[Agent, Agent]) -> None:
    empty = new_agent(app, "empty")
    assert app.index.search(empty.id, "derailleur sourdough", 5) == []
    assert app.index.match_approved(empty.id, app.index.embed_query("Wi-Fi?")) is None


def test_deleting_an_agent_removes_its_knowledge(app: Doppel,
                                                 two_agents: tuple[Agent, Agent]) -> None:
    a, b = two_agents
    a_chunks = app.agents.stats(a)["chunks"]
    assert fts_rows(app, b) > 0

    app.agents.delete("bikes")

    assert app.agents.find("bikes") is None
    for table in ("documents", "chunks", "approved_answers"):
        assert count(app, f"SELECT COUNT(*) FROM {table} WHERE agent_id = ?", b.id) == 0
    assert fts_rows(app, b) == 0
    if app.db.kind == "sqlite":
        assert count(app, "SELECT COUNT(*) FROM chunks_fts WHERE chunks_fts MATCH 'derailleur'"
                     ) == 0
    assert_fts_matches_chunks(app)
    # the other agent is untouched
    assert app.agents.stats(a)["chunks"] == a_chunks == fts_rows(app, a)
    assert app.index.search(a.id, "sourdough", 1)


def test_new_agent_after_a_delete_searches_its_own_content(app: Doppel) -> None:
    old = new_agent(app, "old")
    app.ingestor.ingest_bytes(old, b"Zebras have quagga stripes.", "zebra.txt")
    assert app.index.search(old.id, "zebra", 1)  # fills the cache for this agent id
    app.agents.delete("old")

    new = new_agent(app, "new")
    app.ingestor.ingest_bytes(new, b"name,sound\nOwl,hoot\nCat,purr\nDog,woof\n", "animals.csv")
    hits = app.index.search(new.id, "purr", 3)
    assert hits[0].text == "name: Cat; sound: purr"
    assert {h.source for h in hits} == {"animals.csv"}
