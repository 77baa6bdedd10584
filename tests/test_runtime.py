"""The turn's four paths, streaming, persistence and history, on the shipped fakes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from doppel.agents.repo import Agent
from doppel.agents.spec import AgentSpec, Contact
from doppel.errors import ValidationError
from doppel.service import Doppel
from doppel.testing import FakeChatBackend

# On SQLite and on a real PostgreSQL + pgvector (conftest.py's `both_stores`).
pytestmark = pytest.mark.both_stores

FAQ = """
- question: Do you have wifi?
  answer: Yes, free wifi for customers; the password is on your receipt.
"""
HOURS = """# Hours

## Opening hours

| Day | Hours |
|-----|-------|
| Monday | Closed |
| Tuesday | 7:00 am – 5:00 pm |
| Saturday | 8:00 am – 4:00 pm |
"""
PRICES = "item,price\nCountry Sourdough,9.00\nAlmond Croissant,5.25\n"


@pytest.fixture
def agent(app: Doppel, tmp_path: Path) -> Agent:
    folder = tmp_path / "content"
    folder.mkdir()
    (folder / "faq.yaml").write_text(FAQ)
    (folder / "hours.md").write_text(HOURS)
    (folder / "prices.csv").write_text(PRICES)
    spec = AgentSpec(slug="bakery", name="Corner Bakery", greeting="Hi! Ask me anything.",
                     contact=Contact(name="the Corner Bakery team", phone="(503) 555-0100",
                                     email="hi@corner.example"))
    # The fake embedder's cosine is plain word overlap: a long chunk sharing one word with a
    # short question scores ~0.1, so the relevance floor is lowered to match it.
    app.settings.min_relevance = 0.08
    # These tests are about the model's draft and the gate: composed answers (which answer
    # prices and hours without the model) are tested in test_compose.py.
    app.settings.compose_answers = False
    record = app.agents.create(spec)
    report = app.ingestor.ingest(record, [folder])
    assert report.count("added") == 3
    return record


def ask(app: Doppel, agent: Agent, message: str, thread: str = "t1"):  # type: ignore[no-untyped-def]
    return asyncio.run(app.runtime.turn(agent, message, thread))


def test_approved_answer_is_used_verbatim(app: Doppel, agent: Agent,
                                          fake_backend: FakeChatBackend) -> None:
    result = ask(app, agent, "Do you have wifi?")
    assert result.path == "approved"
    assert result.answer == "Yes, free wifi for customers; the password is on your receipt."
    assert fake_backend.calls == []  # no generation


def test_owner_answer_added_later_takes_over(app: Doppel, agent: Agent) -> None:
    app.answers.add(agent.id, "Can I bring my dog?", "Dogs are welcome on the patio.")
    assert ask(app, agent, "Can I bring my dog?").answer == "Dogs are welcome on the patio."


def test_grounded_draft_is_generated(app: Doppel, agent: Agent,
                                     fake_backend: FakeChatBackend) -> None:
    fake_backend.script = ["The Country Sourdough costs $9.00."]
    result = ask(app, agent, "How much is the country sourdough?")
    assert result.path == "generated"
    assert result.answer == "The Country Sourdough costs $9.00."
    assert result.grounding["grounded"] is True
    assert any(c.source == "prices.csv" for c in result.citations)
    # the prompt carried the passage with the price
    system = fake_backend.calls[0][0].content
    assert "9.00" in system and "Corner Bakery" in system


def test_invented_price_falls_back_to_a_quote(app: Doppel, agent: Agent,
                                              fake_backend: FakeChatBackend) -> None:
    fake_backend.script = ["The Country Sourdough costs $7.50."]
    result = ask(app, agent, "How much is the country sourdough?")
    assert result.path == "extractive"
    assert "7.50" not in result.answer
    # The row's price in a sentence, cited by a marker, never the file's path
    assert "9.00" in result.answer and "[1]" in result.answer
    assert "prices.csv" not in result.answer and "item:" not in result.answer
    assert result.citations[0].source == "prices.csv"
    assert "money '$7.50'" in result.grounding["unsupported"]
    assert result.draft == "The Country Sourdough costs $7.50."  # kept for review


def test_flipped_negation_falls_back(app: Doppel, agent: Agent,
                                     fake_backend: FakeChatBackend) -> None:
    fake_backend.script = ["Yes, we are open on Monday."]
    result = ask(app, agent, "Are you open on Monday?")
    assert result.path == "extractive"
    assert result.grounding["contradictions"]
    assert "open on Monday" not in result.answer
    assert "closed" in result.answer.lower()


def test_out_of_scope_question_is_dont_know_with_contact(app: Doppel, agent: Agent,
                                                        fake_backend: FakeChatBackend) -> None:
    result = ask(app, agent, "Who won the football world cup in 1966?")
    assert result.path == "dont_know"
    assert "don't know" in result.answer and "(503) 555-0100" in result.answer
    assert fake_backend.calls == []


def test_answer_without_verifiable_facts_is_not_trusted(app: Doppel, agent: Agent,
                                                       fake_backend: FakeChatBackend) -> None:
    fake_backend.script = ["We have lots of lovely things, come by!"]
    result = ask(app, agent, "What does an almond croissant cost?")
    assert result.path == "extractive"
    assert "5.25" in result.answer


def test_streaming_never_shows_an_unsupported_sentence(app: Doppel, agent: Agent,
                                                       fake_backend: FakeChatBackend) -> None:
    fake_backend.script = ["An almond croissant is $5.25. A latte is $3.10. Come early!"]
    agent_ = app.agents.get("bakery")

    async def collect() -> list[str]:
        return [e.text async for e in app.runtime.stream(agent_, "Croissant price?", "s")
                if e.kind == "delta"]

    deltas = asyncio.run(collect())
    shown = "".join(deltas)
    assert deltas[0].startswith("An almond croissant is $5.25.")
    assert "3.10" not in shown and "Come early" not in shown
    turn = app.conversations.turns(agent_.id, "s")[-1]
    assert turn.path == "extractive" and turn.answer == shown.strip()


def test_filler_is_shown_only_with_a_verified_fact(app: Doppel, agent: Agent,
                                                  fake_backend: FakeChatBackend) -> None:
    fake_backend.script = ["Great question! The Almond Croissant is $5.25.",
                           "Great question! Come and see us."]
    first = ask(app, agent, "What does an almond croissant cost?", thread="x")
    assert first.path == "generated"
    assert first.answer == "Great question! The Almond Croissant is $5.25."
    second = ask(app, agent, "What does an almond croissant cost?", thread="y")
    assert second.path == "extractive"
    assert "Great question" not in second.answer and "5.25" in second.answer


def test_greeting_gets_the_owners_greeting(app: Doppel, agent: Agent) -> None:
    result = ask(app, agent, "hello!")
    assert result.path == "approved" and result.answer == "Hi! Ask me anything."


def test_turns_are_persisted_with_timings_and_passages(app: Doppel, agent: Agent,
                                                       fake_backend: FakeChatBackend) -> None:
    fake_backend.script = ["The Country Sourdough costs $9.00."]
    result = ask(app, agent, "How much is the country sourdough?")
    (row,) = app.conversations.turns(agent.id, "t1")
    assert row.id == result.id and row.path == "generated"
    assert row.passages and row.passages[0]["source"]
    for stage in ("embed_ms", "retrieve_ms", "prompt_ms", "generate_ms", "grounding_ms"):
        assert stage in row.timings
    assert row.prompt_tokens > 0 and row.completion_tokens > 0
    assert row.model == "fake-model"


def test_threads_are_separate_and_history_is_bounded(app: Doppel, agent: Agent,
                                                     fake_backend: FakeChatBackend) -> None:
    app.settings.history_turns = 1
    fake_backend.script = ["The Country Sourdough costs $9.00."]
    for _ in range(3):
        ask(app, agent, "How much is the country sourdough?", thread="a")
    ask(app, agent, "How much is the country sourdough?", thread="b")
    last_prompt = fake_backend.calls[2]  # third turn in thread a
    assert [m.role for m in last_prompt] == ["system", "user", "assistant", "user"]
    assert [m.role for m in fake_backend.calls[3]] == ["system", "user"]  # thread b is new
    assert len(app.conversations.turns(agent.id, "a")) == 3


def test_follow_up_questions_retrieve_with_the_previous_question(
        app: Doppel, agent: Agent, fake_backend: FakeChatBackend) -> None:
    fake_backend.script = ["The Almond Croissant is $5.25.", "The Almond Croissant is $5.25."]
    ask(app, agent, "What does an almond croissant cost?", thread="f")
    result = ask(app, agent, "and that one?", thread="f")
    assert result.path == "generated"
    assert any("Almond Croissant" in c.text for c in result.citations)


@pytest.mark.parametrize("message", ["is there a travel charge for that one?",
                                     "and what about the one with the almonds on top?"])
def test_a_longer_follow_up_that_points_back_retrieves_with_the_previous_question(
        app: Doppel, agent: Agent, fake_backend: FakeChatBackend, message: str) -> None:
    fake_backend.script = ["The Almond Croissant is $5.25.", "The Almond Croissant is $5.25."]
    ask(app, agent, "What does an almond croissant cost?", thread="l")
    result = ask(app, agent, message, thread="l")
    assert any("Almond Croissant" in c.text for c in result.citations)


def test_a_short_unrelated_question_does_not_borrow_the_previous_one(
        app: Doppel, agent: Agent, fake_backend: FakeChatBackend) -> None:
    fake_backend.script = ["The Almond Croissant is $5.25."]
    ask(app, agent, "What does an almond croissant cost?", thread="g")
    assert ask(app, agent, "Capital of France?", thread="g").path == "dont_know"


def test_agents_never_see_each_others_knowledge(app: Doppel, agent: Agent, tmp_path: Path,
                                                fake_backend: FakeChatBackend) -> None:
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    (other_dir / "secret.md").write_text("# Secret\n\nThe vault code is 4711 zebra.\n")
    other = app.agents.create(AgentSpec(slug="other", name="Other"))
    app.ingestor.ingest(other, [other_dir])
    fake_backend.script = ["The vault code is 4711."]
    result = ask(app, agent, "What is the vault code zebra?")
    assert "4711" not in result.answer
    assert all(c.source != "secret.md" for c in result.citations)


def test_empty_and_oversized_messages_are_rejected(app: Doppel, agent: Agent) -> None:
    with pytest.raises(ValidationError):
        ask(app, agent, "   ")
    with pytest.raises(ValidationError):
        ask(app, agent, "x" * 5000)
    assert app.conversations.turns(agent.id) == []


@pytest.mark.parametrize("message", ["hello do you deliver", "hi how much is parking",
                                     "ok and on sundays"])
def test_a_greeting_followed_by_a_question_is_answered(app: Doppel, agent: Agent,
                                                       message: str) -> None:
    assert ask(app, agent, message).answer != "Hi! Ask me anything."


def test_a_huge_max_tokens_is_clamped_to_the_context(app: Doppel, agent: Agent,
                                                      fake_backend: FakeChatBackend) -> None:
    from doppel.models.base import GenerationParams

    seen: list[int] = []
    original = fake_backend.stream

    def spy(messages, params):  # type: ignore[no-untyped-def]
        seen.append(params.max_tokens)
        return original(messages, params)

    fake_backend.stream = spy  # type: ignore[method-assign]
    fake_backend.script = ["The Almond Croissant is $5.25."]
    result = asyncio.run(app.runtime.turn(agent, "What does an almond croissant cost?", "m",
                                          GenerationParams(max_tokens=4096)))
    assert result.path == "generated"
    assert seen and seen[0] < fake_backend.context_window


def test_an_approved_answer_about_one_day_does_not_answer_another(app: Doppel,
                                                                  agent: Agent) -> None:
    """Embeddings barely see the day: MiniLM scores "open on Sunday?" vs "open on Monday?"
    at 0.91. The owner's Sunday answer must only answer Sunday."""
    app.answers.add(agent.id, "Is the bakery open on Sunday mornings?",
                    "No, on Sundays we rest. See you Monday!")
    app.settings.approved_threshold = 0.5  # the fake embedder's cosine is word overlap
    sunday = ask(app, agent, "Is the bakery open on Sunday mornings?")
    assert sunday.path == "approved"
    monday = ask(app, agent, "Is the bakery open on Monday mornings?")
    assert monday.path != "approved" and "we rest" not in monday.answer


def test_an_active_student_answers_with_a_short_prompt_and_is_still_fact_checked(
        app: Doppel, agent: Agent, fake_backend: FakeChatBackend) -> None:
    """A distilled student sees only its short system prompt and the question (its adapter
    named in the request), while the retrieved passages stay the grounding check's evidence."""
    seen: list[str | None] = []
    app.runtime.student_for = lambda a: (seen.append(a.slug), a.slug)[1]
    fake_backend.script = ["The Country Sourdough costs $9.00."]
    result = ask(app, agent, "How much is the country sourdough?")
    system = fake_backend.calls[-1][0].content
    assert "Passages" not in system and "You are the assistant of Corner Bakery." in system
    assert seen == ["bakery"] and result.path == "generated"
    assert result.prompt_tokens < 80

    fake_backend.script = ["The Country Sourdough costs $3.00."]  # the student invents a price
    result = ask(app, agent, "How much is the country sourdough?", thread="t2")
    assert result.path == "extractive" and "$3.00" not in result.answer
