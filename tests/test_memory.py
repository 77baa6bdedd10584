"""Memory of the end user (opt-in) and "forget me", through real turns and the owner API on a
real server: facts a customer states are kept for that customer only, shown to the model as
their words (never as grounding evidence), editable by the owner; "forget me" and the owner's
delete erase the conversation and the memory, logged without content."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from doppel.agents.memory import ASK_CONFIRM, FORGOTTEN, asks_to_forget, remembered
from doppel.service import Doppel
from doppel.testing import FakeChatBackend

# On SQLite and on a real PostgreSQL + pgvector (conftest.py's `both_stores`).
pytestmark = pytest.mark.both_stores


def _turn(app: Doppel, message: str, thread: str) -> object:
    return asyncio.run(app.runtime.turn(app.agents.get("bakery"), message, thread))


@pytest.fixture
def remembering(server_app: Doppel) -> Doppel:
    agent = server_app.agents.get("bakery")
    server_app.agents.update(agent.spec.model_copy(update={"memory": True}))
    return server_app


def test_what_a_customer_says_about_themselves() -> None:
    assert remembered("Hi, my name is Sam Lee and I usually get the rye loaf.") == [
        ("name", "Sam Lee"), ("usual order", "rye loaf")]
    assert remembered("I'm allergic to hazelnuts, is the croissant ok?") == [
        ("allergy", "hazelnuts")]
    assert remembered("How much is the sourdough?") == []


@pytest.mark.parametrize("text", ["forget me", "please delete my data",
                                  "Can you erase this conversation?", "forget everything I said"])
def test_forget_me_in_any_wording(text: str) -> None:
    assert asks_to_forget(text)
    assert not asks_to_forget("I forgot my order number")


@pytest.mark.parametrize("text", ["Do you have forget me not bouquets?", "Please don't forget me!",
                                  "how do I delete my data?"])
def test_what_is_not_a_request_to_forget(text: str) -> None:
    assert not asks_to_forget(text)


def test_memory_is_per_customer_and_never_evidence(remembering: Doppel,
                                                   fake_backend: FakeChatBackend) -> None:
    _turn(remembering, "My name is Sam and I usually get the country sourdough.", "sam")
    agent = remembering.agents.get("bakery")
    conversation = remembering.conversations.find(agent.id, "sam")
    assert [(m.key, m.value) for m in remembering.memory.of_conversation(
        agent.id, conversation)] == [("name", "Sam"), ("usual order", "country sourdough")]
    # next time, the owner's greeting knows the customer; another customer is a stranger
    assert _turn(remembering, "hello", "sam").answer.startswith("Welcome back, Sam!")
    assert _turn(remembering, "hello", "jo").answer == "Hi from bakery!"
    # the model reads it as the customer's words, and it proves no fact
    fake_backend.script = ["Your usual Country Sourdough is $12.00."]
    remembering.settings.draft_unsure = "on"
    result = _turn(remembering, "how much is the country sourdough?", "sam")
    prompt = fake_backend.calls[-1][0].content
    assert "What this customer told you before" in prompt and "country sourdough" in prompt
    assert "$12.00" not in result.answer  # the content says 9.00: the draft is not shown


def test_memory_is_off_unless_the_owner_turns_it_on(server_app: Doppel) -> None:
    _turn(server_app, "My name is Sam.", "sam")
    agent = server_app.agents.get("bakery")
    assert server_app.memory.of_conversation(
        agent.id, server_app.conversations.find(agent.id, "sam")) == []


def test_forget_me_erases_the_conversation_and_memory(remembering: Doppel) -> None:
    _turn(remembering, "My name is Sam.", "sam")
    _turn(remembering, "How much is the almond croissant?", "sam")
    agent = remembering.agents.get("bakery")
    asked = _turn(remembering, "please forget me", "sam")
    assert asked.answer == ASK_CONFIRM  # it cannot be undone: asked once
    kept = _turn(remembering, "actually no, how much is the sourdough?", "sam")
    assert kept.answer != FORGOTTEN and remembering.conversations.find(agent.id, "sam")
    _turn(remembering, "please forget me", "sam")
    gone = _turn(remembering, "yes, delete", "sam")
    assert gone.answer == FORGOTTEN
    db = remembering.db.connect()
    assert remembering.conversations.find(agent.id, "sam") is None
    assert db.execute("SELECT COUNT(*) FROM turns WHERE user_message LIKE '%Sam%' OR "
                      "user_message LIKE '%forget%'").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM user_memory").fetchone()[0] == 0
    log = db.execute("SELECT * FROM erasures").fetchall()
    assert [(r["reason"], r["turns"], r["memory"]) for r in log] == [
        ("the customer asked", 5, 1)]
    assert "Sam" not in str([tuple(r) for r in log])  # counted, never the content
    # nor in this process's caches of text it has read (keyed by the texts themselves)
    from doppel.language import facts, words

    assert facts._extract_facts.cache_info().currsize == 0
    assert words.stem.cache_info().currsize == 0


def test_the_owner_reads_edits_and_erases_over_http(server: str, remembering: Doppel) -> None:
    alice = {"Authorization": f"Bearer {remembering.keys['alice']}"}  # type: ignore[attr-defined]
    bob = {"Authorization": f"Bearer {remembering.keys['bob']}"}  # type: ignore[attr-defined]
    _turn(remembering, "My name is Sam and I'm allergic to nuts.", "anon:sam")
    agent = remembering.agents.get("bakery")
    conversation = remembering.conversations.find(agent.id, "anon:sam")
    url = f"{server}/api/agents/bakery/conversations/{conversation}/memory"
    items = httpx.get(url, headers=alice).json()["data"]
    assert [(i["key"], i["value"]) for i in items] == [("name", "Sam"), ("allergy", "nuts")]
    assert httpx.get(url, headers=bob).status_code == 403
    first = items[0]["id"]
    assert httpx.put(f"{server}/api/agents/bakery/memory/{first}", headers=bob,
                     json={"value": "Mallory"}).status_code == 403
    r = httpx.put(f"{server}/api/agents/bakery/memory/{first}", headers=alice,
                  json={"value": "Samantha"})
    assert r.status_code == 200
    assert httpx.put(f"{server}/api/agents/bakery/memory/{first}", headers=alice,
                     json={"value": ""}).status_code == 422
    assert httpx.delete(f"{server}/api/agents/bakery/memory/{items[1]['id']}",
                        headers=alice).status_code == 204
    assert [i["value"] for i in httpx.get(url, headers=alice).json()["data"]] == ["Samantha"]
    assert httpx.delete(f"{server}/api/agents/bakery/conversations/{conversation}",
                        headers=bob).status_code == 403
    erased = httpx.delete(f"{server}/api/agents/bakery/conversations/{conversation}",
                          headers=alice).json()
    assert erased == {"erased": {"conversations": 1, "turns": 1, "memory": 1, "leads": 0,
                                 "bookings": 0}}
    assert remembering.conversations.find(agent.id, "anon:sam") is None
