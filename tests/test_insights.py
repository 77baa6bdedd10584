"""The owner console's data: the unanswered inbox, analytics, safety events, search, the SVG
charts, and their owner API routes. Turns come from the real runtime on the shipped fakes
(FakeEmbedder's cosine is word overlap, so paraphrases here share their content words)."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import openai
import pytest

from doppel.agents.insights import (
    Insights,
    QuestionGroup,
    group_vectors,
    normalise,
    turn_latency_ms,
)
from doppel.agents.repo import Agent
from doppel.agents.spec import AgentSpec, Contact
from doppel.agents.turn import TurnResult
from doppel.config import Settings
from doppel.safety import ShieldPolicy
from doppel.safety.policy import CustomCategory
from doppel.serve.charts import bar_chart, daily_chart, hbar_chart, paths_chart, short_date
from doppel.service import Doppel
from doppel.testing import FakeChatBackend, FakeEmbedder

# On SQLite and on a real PostgreSQL + pgvector (conftest.py's `both_stores`).
pytestmark = pytest.mark.both_stores

SVG = "{http://www.w3.org/2000/svg}"
FAQ = """
- question: Do you have wifi?
  answer: Yes, free wifi for customers; the password is on your receipt.
"""
PRICES = "item,price\nCountry Sourdough,9.00\nAlmond Croissant,5.25\n"
BROOKLYN = ["Do you deliver to Brooklyn?", "Can you deliver to Brooklyn?",
            "do you deliver to brooklyn", "Do you deliver to Brooklyn on Sundays?"]


@pytest.fixture
def agent(app: Doppel, tmp_path: Path) -> Agent:
    folder = tmp_path / "content"
    folder.mkdir()
    (folder / "faq.yaml").write_text(FAQ)
    (folder / "prices.csv").write_text(PRICES)
    app.settings.min_relevance = 0.08  # the fake embedder's cosine is plain word overlap
    app.settings.compose_answers = False  # these turns script the model's drafts
    # Only shields that need no trained model: an owner rule matched by keyword, and PII.
    policy = ShieldPolicy(input=["topics"], output=["pii"], custom=[CustomCategory(
        name="politics", description="Politics and elections", keywords=["election"])])
    record = app.agents.create(AgentSpec(
        slug="bakery", name="Corner Bakery", greeting="Hi! Ask me anything.", shields=policy,
        contact=Contact(email="hi@corner.example")))
    app.ingestor.ingest(record, [folder])
    return record


def ask(app: Doppel, agent: Agent, message: str, thread: str) -> TurnResult:
    return asyncio.run(app.runtime.turn(agent, message, thread))


def brooklyn_and_parking(app: Doppel, agent: Agent) -> None:
    for i, question in enumerate([*BROOKLYN, "Where can I park nearby?"]):
        assert ask(app, agent, question, f"u{i}").path == "dont_know", question


# --- grouping -----------------------------------------------------------------------------------

def test_group_vectors_is_greedy_and_deterministic() -> None:
    e = FakeEmbedder()
    vectors = e.embed(["deliver brooklyn", "deliver brooklyn sunday", "park nearby",
                       "parking nearby", "wifi"])
    assert group_vectors(vectors, 0.8) == [[0, 1], [2, 3], [4]]
    assert group_vectors(vectors, 0.99) == [[0], [1], [2, 3], [4]]
    assert group_vectors(np.zeros((0, 8), dtype=np.float32), 0.8) == []
    assert normalise("  Do you   deliver?! ") == "do you deliver"
    # blocked matrix products give exactly the row-by-row grouping
    rng = np.random.default_rng(0)
    base = rng.normal(size=(40, 16))
    rows = np.repeat(base, 5, axis=0) + rng.normal(scale=0.35, size=(200, 16))
    rows = (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)
    one_by_one = group_vectors(rows, 0.8, block=1)
    assert 40 <= len(one_by_one) < 200
    assert group_vectors(rows, 0.8, block=7) == group_vectors(rows, 0.8) == one_by_one


def test_inbox_groups_paraphrases_and_keeps_unrelated_apart(app: Doppel, agent: Agent,
                                                            fake_backend: FakeChatBackend
                                                            ) -> None:
    brooklyn_and_parking(app, agent)
    assert ask(app, agent, "Do you have wifi?", "w").path == "approved"
    fake_backend.script = ["The Country Sourdough costs $9.00."]
    assert ask(app, agent, "How much is the country sourdough?", "g").path == "generated"
    inbox = Insights.of(app).inbox(agent.id)
    assert [g.count for g in inbox] == [4, 1]
    brooklyn, parking = inbox
    # the representative is the most asked question (two spellings of it), as last asked
    assert normalise(brooklyn.question) == "do you deliver to brooklyn"
    assert [(normalise(m.question), m.count) for m in brooklyn.members] == [
        ("do you deliver to brooklyn", 2), ("can you deliver to brooklyn", 1),
        ("do you deliver to brooklyn on sundays", 1)]
    assert brooklyn.paths == {"dont_know": 4} and len(brooklyn.conversation_ids) == 4
    assert brooklyn.first_seen <= brooklyn.last_seen
    assert parking.question == "Where can I park nearby?"


def test_an_unverifiable_answer_lands_in_the_inbox_too(app: Doppel, agent: Agent,
                                                        fake_backend: FakeChatBackend) -> None:
    fake_backend.script = ["The Country Sourdough is made with yak butter from Tibet."]
    # the draft failed the gate and no sentence of the content answers: the agent said it
    # did not know, and the question waits for the owner
    assert ask(app, agent, "Is the country sourdough made with butter?", "x").path == "dont_know"
    (group,) = Insights.of(app).inbox(agent.id)
    assert group.paths == {"dont_know": 1}


def test_answering_a_group_empties_it_and_the_agent_uses_the_answer(app: Doppel,
                                                                     agent: Agent) -> None:
    brooklyn_and_parking(app, agent)
    insights = Insights.of(app)
    group = insights.inbox(agent.id)[0]
    added = insights.answer_group(agent.id, group.question, "Yes, every day but Monday.")
    # the representative and its two other paraphrases (the duplicate spelling is skipped)
    assert len(added) == 3 and len({i for i, _ in added}) == 3
    assert [g.question for g in insights.inbox(agent.id)] == ["Where can I park nearby?"]
    for i, question in enumerate([*BROOKLYN, "Can you deliver to Brooklyn?"]):
        result = ask(app, agent, question, f"later{i}")
        assert result.path == "approved" and result.answer == "Yes, every day but Monday."


def test_why_paraphrases_are_approved_too(app: Doppel, agent: Agent) -> None:
    """"... on Sundays?" groups with "Do you deliver to Brooklyn?" (cosine 0.82) but is below the
    approved-answer threshold (0.86): approving only the representative leaves it unanswered."""
    brooklyn_and_parking(app, agent)
    insights = Insights.of(app)
    insights.answer_group(agent.id, "Do you deliver to Brooklyn?", "Yes.", also=[])
    left = [normalise(m.question) for g in insights.inbox(agent.id) for m in g.members]
    assert sorted(left) == ["do you deliver to brooklyn on sundays", "where can i park nearby"]
    assert ask(app, agent, "Do you deliver to Brooklyn on Sundays?", "s").path == "dont_know"


def test_dismissal_persists_and_can_be_undone(app: Doppel, agent: Agent,
                                              settings: Settings) -> None:
    brooklyn_and_parking(app, agent)
    insights = Insights.of(app)
    dismissed = insights.dismiss(agent.id, "do you deliver to BROOKLYN?")
    assert sorted(dismissed) == ["can you deliver to brooklyn", "do you deliver to brooklyn",
                                 "do you deliver to brooklyn on sundays"]
    again = Doppel(settings, embedder=FakeEmbedder())  # a restart: a fresh process' view
    try:
        assert [g.question for g in Insights.of(again).inbox(agent.id)] == [
            "Where can I park nearby?"]
    finally:
        again.close()
    assert insights.restore(agent.id, "Can you deliver to Brooklyn")
    assert {g.question for g in insights.inbox(agent.id)} == {"Can you deliver to Brooklyn?",
                                                              "Where can I park nearby?"}


def test_embeddings_are_computed_once_per_distinct_question(app: Doppel, agent: Agent) -> None:
    brooklyn_and_parking(app, agent)
    calls: list[int] = []
    real = app.embedder.embed

    def counting(texts: Sequence[str]) -> np.ndarray:
        calls.append(len(texts))
        return real(texts)

    app.embedder.embed = counting  # type: ignore[method-assign]
    insights = Insights(app)
    insights.inbox(agent.id)
    insights.inbox(agent.id)
    assert calls == [4]  # 5 turns, 4 distinct questions, one batch, then cached


# --- analytics ----------------------------------------------------------------------------------

def test_analytics_zero_filled_days_exact_paths_and_top_questions(
        app: Doppel, agent: Agent, fake_backend: FakeChatBackend) -> None:
    fake_backend.script = ["The Country Sourdough costs $9.00."]
    turns = [ask(app, agent, "Hi!", "a"),                                      # greeting
             ask(app, agent, "Do you have wifi?", "a"),                        # approved
             ask(app, agent, "How much is the country sourdough?", "b"),       # generated
             ask(app, agent, "Do you deliver to Brooklyn?", "c"),              # dont_know
             ask(app, agent, "Can you deliver to Brooklyn?", "d"),             # dont_know
             ask(app, agent, "Who will win the election?", "e"),               # refused
             ask(app, agent, "Do you have wifi?", "f")]                        # approved
    assert [t.path for t in turns] == ["approved", "approved", "generated", "dont_know",
                                       "dont_know", "refused", "approved"]
    stamps = ["2024-05-10T09:00:00.000Z"] * 3 + ["2024-05-12T10:00:00.000Z"] * 3 + [
        "2024-04-01T10:00:00.000Z"]  # the last one is outside the window
    with app.db.transaction() as tx:
        for turn, stamp in zip(turns, stamps):
            tx.execute("UPDATE turns SET created_at = ? WHERE id = ?", (stamp, turn.id))
    stats = Insights.of(app).analytics(agent.id, 7, today=date(2024, 5, 12))
    assert [(d.date, d.conversations, d.turns) for d in stats.days] == [
        ("2024-05-06", 0, 0), ("2024-05-07", 0, 0), ("2024-05-08", 0, 0), ("2024-05-09", 0, 0),
        ("2024-05-10", 2, 3), ("2024-05-11", 0, 0), ("2024-05-12", 3, 3)]
    assert (stats.turns, stats.conversations) == (6, 5)
    assert {p: c.count for p, c in stats.paths.items()} == {
        "approved": 2, "composed": 0, "generated": 1, "extractive": 0, "dont_know": 2,
        "refused": 1}
    assert stats.paths["approved"].share == round(2 / 6, 4)
    assert stats.refused == 1
    assert stats.shield_categories == {"politics": 1} and stats.shields == {"topics": 1}
    # greetings and refusals are not questions; the Brooklyn paraphrases are one
    top = [(sorted(normalise(m.question) for m in q.members), q.count)
           for q in stats.top_questions]
    assert top == [(["can you deliver to brooklyn", "do you deliver to brooklyn"], 2),
                   (["do you have wifi"], 1), (["how much is the country sourdough"], 1)]
    assert stats.latency["generated"].count == 1 and stats.latency["dont_know"].count == 2
    assert stats.latency["generated"].p95_ms >= stats.latency["generated"].median_ms > 0
    assert stats.to_dict()["days"][0] == {"date": "2024-05-06", "conversations": 0, "turns": 0}
    # day boundaries follow the owner's time zone: 23:30 UTC is the next day in Paris (+60)
    with app.db.transaction() as tx:
        tx.execute("UPDATE turns SET created_at = '2024-05-12T23:30:00.000Z' WHERE id = ?",
                   (turns[-1].id,))
    paris = Insights.of(app).analytics(agent.id, 2, today=date(2024, 5, 13),
                                       utc_offset_minutes=60, top=0)
    assert [(d.date, d.turns) for d in paris.days] == [("2024-05-12", 3), ("2024-05-13", 1)]


def test_latency_is_rebuilt_from_the_stored_laps() -> None:
    assert turn_latency_ms({}) is None
    assert turn_latency_ms({"total_ms": 12.5, "embed_ms": 1}) == 12.5
    # approved: the input-shield wait came after the last lap
    assert turn_latency_ms({"embed_ms": 2, "approved_ms": 1, "shields_wait_ms": 3}) == 6
    # generated: the prompt lap already contains that wait; ttft is not a lap
    assert turn_latency_ms({"embed_ms": 2, "approved_ms": 1, "retrieve_ms": 1, "prompt_ms": 4,
                            "shields_wait_ms": 3, "ttft_ms": 9, "generate_ms": 10,
                            "grounding_ms": 1}) == 19


# --- safety events ------------------------------------------------------------------------------

def test_safety_events_from_a_refused_turn_and_a_recorded_one(app: Doppel, agent: Agent) -> None:
    refused = ask(app, agent, "Who will win the election? Write to bob@example.org", "p")
    assert refused.path == "refused"
    conversation = app.conversations.get_or_create(agent.id, "q")
    app.conversations.record(
        conversation_id=conversation, agent_id=agent.id, user_message="how do I hurt someone",
        answer="Sorry, I can't help with that.", path="refused", draft=None, grounding={},
        passages=[], prompt_tokens=0, completion_tokens=0, timings={}, model="",
        shields={"input": {"action": "block", "categories": ["S1"], "verdicts": [
            {"shield": "hazard", "action": "block", "categories": ["S1"], "reason": "violent",
             "scores": {"S1": 0.97}, "latency_ms": 1.2},
            {"shield": "injection", "action": "allow", "scores": {}, "latency_ms": 0.1}]},
            "output": [{"sentence": 2, "action": "rewrite", "categories": ["privacy"],
                        "verdicts": [{"shield": "pii", "action": "rewrite",
                                      "categories": ["privacy"], "scores": {},
                                      "latency_ms": 0.1}]}]})
    ask(app, agent, "Do you have wifi?", "r")  # allowed: not an event
    page = Insights.of(app).safety_events(agent.id)
    assert page.total == 2 and page.counts == {"S1": 1, "politics": 1, "privacy": 1}
    newest, oldest = page.events
    assert newest.categories == ["S1", "privacy"]
    assert [(h.stage, h.shield, h.action, h.sentence) for h in newest.hits] == [
        ("input", "hazard", "block", None), ("output", "pii", "rewrite", 2)]
    assert oldest.turn_id == refused.id and oldest.categories == ["politics"]
    assert oldest.hits[0].shield == "topics" and oldest.hits[0].stage == "input"
    assert "bob@example.org" not in oldest.message  # stored redacted by the runtime
    only = Insights.of(app).safety_events(agent.id, category="s1")
    assert [e.turn_id for e in only.events] == [newest.turn_id] and only.total == 1
    assert Insights.of(app).safety_events(agent.id, limit=1, offset=1).events[0] == oldest


# --- search -------------------------------------------------------------------------------------

def test_search_conversations(app: Doppel, agent: Agent, fake_backend: FakeChatBackend) -> None:
    fake_backend.script = ["The Country Sourdough costs $9.00."]
    ask(app, agent, "How much is the country sourdough?", "s1")
    ask(app, agent, "Do you have wifi?", "s1")
    ask(app, agent, "Do you have wifi?", "s2")
    ask(app, agent, "100% rye?", "s3")
    insights = Insights.of(app)
    hits = insights.search_conversations(agent.id, "SOURDOUGH")
    assert [(h.thread, h.turns, h.matches, h.field) for h in hits] == [("s1", 2, 1, "question")]
    start, end = hits[0].highlight
    assert hits[0].snippet[start:end].lower() == "sourdough"
    # every word must appear; LIKE's wildcards are taken literally
    assert [h.thread for h in insights.search_conversations(agent.id, "wifi password")] == [
        "s2", "s1"]
    assert insights.search_conversations(agent.id, "wifi dragons") == []
    assert [h.thread for h in insights.search_conversations(agent.id, "100%")] == ["s3"]
    assert insights.search_conversations(agent.id, "_") == []
    assert len(insights.search_conversations(agent.id, "wifi", limit=1, offset=1)) == 1


# --- charts -------------------------------------------------------------------------------------

def titles_of(root: ET.Element) -> list[str]:
    """The chart's own <title>, then each bar's, in document order."""
    return [t.text or "" for t in root.iter(f"{SVG}title")]


def test_charts_are_well_formed_accessible_and_escaped() -> None:
    days = [("2024-05-01", 3), ("2024-05-02", 0), ("2024-05-03", 7)]
    root = ET.fromstring(daily_chart(days, title="Conversations <per> day", unit="chats"))
    assert root.get("role") == "img" and root.get("width") == "100%"
    assert root.get("viewBox", "").startswith("0 0 ")
    assert titles_of(root)[0] == "Conversations <per> day"
    assert "2024-05-03: 7" in "".join(root.find(f"{SVG}desc").itertext())  # type: ignore[union-attr]
    assert titles_of(root)[1:] == [
        "2024-05-01: 3 chats", "2024-05-02: 0 chats", "2024-05-03: 7 chats"]
    assert "May 3" in [t.text for t in root.iter(f"{SVG}text")]
    assert short_date("2024-05-03") == "May 3" and short_date("soon") == "soon"

    nasty = 'Tom & "Jerry" <script>alert(1)</script>\x00\ud800'
    svg = bar_chart([nasty, "b"], [1, 2], title=nasty)
    assert "<script>" not in svg
    root = ET.fromstring(svg)
    assert titles_of(root)[0] == 'Tom & "Jerry" <script>alert(1)</script>'
    assert titles_of(root)[1] == 'Tom & "Jerry" <script>alert(1)</script>: 1'  # first bar

    root = ET.fromstring(paths_chart({"approved": 5, "generated": 3, "extractive": 0,
                                      "dont_know": 2, "refused": 0}))
    titles = titles_of(root)[1:]
    assert titles[0] == "Your approved answer: 5 turns (50%)"
    assert titles[3] == "Didn't know: 2 turns (20%)"
    for empty in (daily_chart([], title="t"), daily_chart([("2024-05-01", 0)], title="t"),
                  hbar_chart([], title="t")):
        assert ET.fromstring(empty).findall(f"{SVG}rect") == []
    many = daily_chart([(f"2024-01-{d:02d}", d) for d in range(1, 32)] * 12, title="year")
    assert len(ET.fromstring(many).findall(f"{SVG}rect")) == 372


# --- the owner API ------------------------------------------------------------------------------

def key(app: Doppel, owner: str) -> str:
    return app.keys[owner]  # type: ignore[attr-defined,no-any-return]  # set by conftest


def chat(server: str, message: str, user: str) -> dict[str, Any]:
    reply = openai.OpenAI(base_url=f"{server}/v1", api_key="none", max_retries=0) \
        .chat.completions.create(model="bakery", user=user,
                                 messages=[{"role": "user", "content": message}])
    return {"answer": reply.choices[0].message.content,
            "path": (reply.model_extra or {})["doppel"]["path"]}


def test_owner_api_inbox_answer_dismiss(server: str, server_app: Doppel) -> None:
    api = httpx.Client(base_url=server,
                       headers={"Authorization": f"Bearer {key(server_app, 'alice')}"})
    for i, question in enumerate(BROOKLYN):
        assert chat(server, question, f"u{i}")["path"] == "dont_know"
    chat(server, "Where can I park nearby?", "p")
    inbox = api.get("/api/agents/bakery/inbox").json()
    assert inbox["total"] == 2 and inbox["data"][0]["count"] == 4
    group = inbox["data"][0]
    answered = api.post("/api/agents/bakery/inbox/answer", json={
        "question": group["question"], "answer": "Yes, we deliver to Brooklyn."})
    assert answered.status_code == 201, answered.text
    assert len(answered.json()["approved"]) == 3
    assert [g["question"] for g in api.get("/api/agents/bakery/inbox").json()["data"]] == [
        "Where can I park nearby?"]
    assert chat(server, "Do you deliver to Brooklyn on Sundays?", "v") == {
        "answer": "Yes, we deliver to Brooklyn.", "path": "approved"}
    dismissed = api.post("/api/agents/bakery/inbox/dismiss",
                         json={"question": "Where can I park nearby?"})
    assert dismissed.status_code == 200 and dismissed.json() == {
        "dismissed": ["where can i park nearby"]}
    assert api.get("/api/agents/bakery/inbox").json() == {
        "data": [], "total": 0, "days": 90, "threshold": 0.8}
    for bad in ({"question": "", "answer": "x"}, {"question": "x", "answer": ""},
                {"question": "x", "answer": "y", "also": ["a"] * 51},
                {"question": "   ", "answer": "y"}):
        r = api.post("/api/agents/bakery/inbox/answer", json=bad)
        assert r.status_code == 422 and r.json()["error"]["message"], bad
    assert api.post("/api/agents/bakery/inbox/dismiss", json={}).status_code == 422
    assert api.get("/api/agents/bakery/inbox?threshold=2").status_code == 422


def test_owner_api_analytics_safety_search(server: str, server_app: Doppel,
                                           fake_backend: FakeChatBackend) -> None:
    fake_backend.script = ["The Almond Croissant is $5.25."]
    api = httpx.Client(base_url=server,
                       headers={"Authorization": f"Bearer {key(server_app, 'alice')}"})
    chat(server, "Almond croissant price?", "a")
    chat(server, "Do you deliver to Brooklyn?", "b")
    stats = api.get("/api/agents/bakery/analytics", params={"days": 7}).json()
    assert len(stats["days"]) == 7 and stats["days"][-1]["turns"] == 2
    assert stats["paths"]["generated"]["count"] == 1 and stats["paths"]["dont_know"]["count"] == 1
    assert stats["turns"] == 2 and len(stats["top_questions"]) == 2
    assert api.get("/api/agents/bakery/analytics?tz_offset=-300").status_code == 200
    for bad in ("days=0", "days=366", "days=abc", "tz_offset=9999", "top=-1"):
        r = api.get(f"/api/agents/bakery/analytics?{bad}")
        assert r.status_code == 422 and r.json()["error"]["message"], bad
    safety = api.get("/api/agents/bakery/safety", params={"category": "S1"})
    assert safety.status_code == 200 and safety.json() == {"data": [], "total": 0, "counts": {}}
    assert api.get("/api/agents/bakery/safety?category=<b>").status_code == 422
    assert api.get("/api/agents/bakery/safety?limit=0").status_code == 422
    found = api.get("/api/agents/bakery/conversations", params={"q": "brooklyn"}).json()
    assert [c["matches"] for c in found["data"]] == [1] and "snippet" in found["data"][0]
    assert len(api.get("/api/agents/bakery/conversations").json()["data"]) == 2
    assert len(api.get("/api/agents/bakery/conversations?q=%20").json()["data"]) == 2
    assert api.get("/api/agents/bakery/conversations", params={"q": "x" * 201}).status_code == 422


def test_owner_api_insights_are_the_owners_own(server: str, server_app: Doppel) -> None:
    bob = httpx.Client(base_url=server,
                       headers={"Authorization": f"Bearer {key(server_app, 'bob')}"})
    for method, path, body in [
            ("GET", "/api/agents/bakery/inbox", None),
            ("POST", "/api/agents/bakery/inbox/answer", {"question": "q", "answer": "a"}),
            ("POST", "/api/agents/bakery/inbox/dismiss", {"question": "q"}),
            ("GET", "/api/agents/bakery/analytics", None),
            ("GET", "/api/agents/bakery/safety", None),
            ("GET", "/api/agents/bakery/conversations?q=x", None)]:
        r = bob.request(method, path, json=body)
        assert r.status_code == 403 and r.json()["error"]["code"] == "not_yours", path
        assert httpx.request(method, server + path, json=body).status_code == 401, path
    assert bob.get("/api/agents/ghost/inbox").status_code == 404
    assert bob.get("/api/agents/bikes/inbox").json()["data"] == []
    assert server_app.answers.list(server_app.agents.get("bakery").id) == []


def test_question_group_serialises(app: Doppel, agent: Agent) -> None:
    brooklyn_and_parking(app, agent)
    group = Insights.of(app).inbox(agent.id)[0]
    assert isinstance(group, QuestionGroup)
    data = group.to_dict()
    assert set(data) == {"question", "count", "first_seen", "last_seen", "paths",
                         "conversation_ids", "members"}
    assert data["members"][0]["count"] == 2


def test_an_answer_marked_wrong_waits_in_the_inbox_and_one_marked_right_leaves_it(
        app: Doppel, agent: Agent, fake_backend: FakeChatBackend) -> None:
    fake_backend.script = ["The Country Sourdough costs $9.00."]
    answered = ask(app, agent, "How much is the country sourdough?", "m")
    assert answered.path == "generated"
    insights = Insights.of(app)
    assert all(g.question != answered.question for g in insights.inbox(agent.id))
    assert app.conversations.mark(agent.id, answered.id, "wrong")
    assert [g.question for g in insights.inbox(agent.id)].count(answered.question) == 1
    # the owner's correction becomes an approved answer, and the question leaves the inbox
    insights.answer_group(agent.id, answered.question, "A loaf is $9.50 since Monday.")
    assert all(g.question != answered.question for g in insights.inbox(agent.id))
    assert ask(app, agent, "How much is the country sourdough?", "m2").answer == (
        "A loaf is $9.50 since Monday.")
    # an unanswered question marked right leaves the inbox; marks are per agent
    unknown = ask(app, agent, "Do you deliver to Brooklyn?", "m3")
    assert unknown.path == "dont_know"
    assert app.conversations.mark(agent.id, unknown.id, "right")
    assert all(g.question != unknown.question for g in insights.inbox(agent.id))
    assert not app.conversations.mark(agent.id + 999, unknown.id, "wrong")
