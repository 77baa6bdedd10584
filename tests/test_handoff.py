"""A person takes the conversation and gives it back, end to end: the customer asks for a
person (in words, or with the chat page's button), the owner is e-mailed (a real SMTP server
on 127.0.0.1) and sees it in the handoff inbox, replies, the customer sees the reply live in
Chromium, the agent stays silent, the owner hands back, the customer is told."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from doppel.agents.handoff import BACK_NOTICE, asks_for_person
from doppel.agents.spec import HandoffPolicy
from doppel.service import Doppel

from .conftest import needs_chromium

# On SQLite and on a real PostgreSQL + pgvector (conftest.py's `both_stores`).
pytestmark = pytest.mark.both_stores


class Mailbox:
    """aiosmtpd's real SMTP server on 127.0.0.1, keeping what it receives."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[Any] = []
        box = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
                box.messages.append(envelope)
                return "250 OK"

        with socket.socket() as probe:  # a free port: aiosmtpd checks its own by connecting
            probe.bind(("127.0.0.1", 0))
            self._port = int(probe.getsockname()[1])
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self._port)

    def __enter__(self) -> Mailbox:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    @property
    def port(self) -> int:
        return self._port

    def wait(self, n: int, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.messages) < n and time.monotonic() < deadline:
            time.sleep(0.05)


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with Mailbox() as box:
        yield box


@pytest.fixture
def shop(server_app: Doppel, mailbox: Mailbox) -> Doppel:
    s = server_app.settings
    s.smtp_host, s.smtp_port, s.smtp_starttls = "127.0.0.1", mailbox.port, False
    agent = server_app.agents.get("bakery")
    server_app.agents.update(agent.spec.model_copy(update={"handoff": HandoffPolicy(
        reply_time="we usually reply within an hour", notify_email="owner@bakery.example",
        topics=["refunds"])}))
    return server_app


def _chat(server: str, text: str, thread: str) -> dict[str, Any]:
    response = httpx.post(f"{server}/v1/chat/completions", headers={"X-Doppel-Thread": thread},
                          json={"model": "bakery", "messages": [{"role": "user", "content": text}]},
                          timeout=30)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _owner(shop: Doppel) -> dict[str, str]:
    return {"Authorization": f"Bearer {shop.keys['alice']}"}  # type: ignore[attr-defined]


@pytest.mark.parametrize("text", [
    "can I talk to a real person?", "I want to speak to a human", "get me a human",
    "human please", "Could I speak with the owner?", "is there a real person there?",
    "agent", "transfer me to customer service"])
def test_asking_for_a_person_in_any_wording(text: str) -> None:
    assert asks_for_person(text)


@pytest.mark.parametrize("text", [
    "does a person need to book ahead?", "how many people fit at a table?",
    "is the owner a baker?", "what do humans eat"])
def test_other_messages_about_people_are_not_a_request(text: str) -> None:
    assert not asks_for_person(text)


def test_handoff_round_trip_over_http(server: str, shop: Doppel, mailbox: Mailbox) -> None:
    thread = "customer-1"
    asked = _chat(server, "Can I talk to a real person please?", thread)
    notice = asked["choices"][0]["message"]["content"]
    assert asked["doppel"]["path"] == "handoff"
    assert "within an hour" in notice and "person" in notice
    mailbox.wait(1)
    assert len(mailbox.messages) == 1 and mailbox.messages[0].rcpt_tos == ["owner@bakery.example"]
    assert b"asked for a person" in mailbox.messages[0].content

    inbox = httpx.get(f"{server}/api/agents/bakery/handoffs", headers=_owner(shop)).json()
    assert inbox["waiting"] == 1
    (held,) = inbox["data"]
    assert held["state"] == "waiting_for_human" and "asked for a person" in held["state_reason"]
    assert held["last"][-1]["question"] == "Can I talk to a real person please?"

    # While a person is asked for, the agent says nothing: the message waits for the person.
    silent = _chat(server, "How much is the almond croissant?", thread)
    assert silent["choices"][0]["message"]["content"] == ""
    assert silent["doppel"]["path"] == "handoff"

    reply = httpx.post(f"{server}/api/agents/bakery/conversations/{held['id']}/reply",
                       headers=_owner(shop), json={"text": "Hi, it's Alice! $5.25 today."})
    assert reply.status_code == 201
    got = httpx.get(f"{server}/v1/messages", params={"model": "bakery"},
                    headers={"X-Doppel-Thread": thread}).json()
    assert got["state"] == "human"
    assert [(m["kind"], m["text"]) for m in got["data"]] == [
        ("human", "Hi, it's Alice! $5.25 today.")]
    # another customer's thread sees nothing of it
    other = httpx.get(f"{server}/v1/messages", params={"model": "bakery"},
                      headers={"X-Doppel-Thread": "someone-else"}).json()
    assert other["data"] == []

    back = httpx.post(f"{server}/api/agents/bakery/conversations/{held['id']}/handback",
                      headers=_owner(shop))
    assert back.json() == {"state": "agent"}
    after = httpx.get(f"{server}/v1/messages", params={"model": "bakery",
                                                       "after": got["data"][-1]["id"]},
                      headers={"X-Doppel-Thread": thread}).json()
    assert [m["text"] for m in after["data"]] == [BACK_NOTICE] and after["state"] == "agent"
    answered = _chat(server, "thanks! and the sourdough price?", thread)
    assert answered["doppel"]["path"] != "handoff"
    assert answered["choices"][0]["message"]["content"]


def test_another_owner_cannot_reply_or_read(server: str, shop: Doppel) -> None:
    _chat(server, "I want to speak to a human", "c2")
    held = shop.conversations.held(shop.agents.get("bakery").id)
    bob = {"Authorization": f"Bearer {shop.keys['bob']}"}  # type: ignore[attr-defined]
    assert httpx.get(f"{server}/api/agents/bakery/handoffs", headers=bob).status_code == 403
    r = httpx.post(f"{server}/api/agents/bakery/conversations/{held[0]['id']}/reply",
                   headers=bob, json={"text": "hi"})
    assert r.status_code == 403
    r = httpx.post(f"{server}/api/agents/bikes/conversations/{held[0]['id']}/reply",
                   headers=bob, json={"text": "hi"})
    assert r.status_code == 404  # not a conversation of bob's agent
    r = httpx.post(f"{server}/api/agents/bakery/conversations/{held[0]['id']}/reply",
                   headers=_owner(shop), json={"text": ""})
    assert r.status_code == 422


def test_owner_topics_and_repeated_dont_knows_go_to_a_person(shop: Doppel) -> None:
    agent = shop.agents.get("bakery")
    topic = asyncio.run(shop.runtime.turn(agent, "I need a refund for my cake order", "c3"))
    assert topic.path == "handoff" and topic.grounding["handoff"]["reason"] == "about refunds"

    shop.settings.handoff_after_dont_knows = 2
    first = asyncio.run(shop.runtime.turn(agent, "Do you sell bicycles?", "c4"))
    assert first.path == "dont_know"
    second = asyncio.run(shop.runtime.turn(agent, "What about kayaks?", "c4"))
    assert second.path == "handoff"
    assert "don't know" in second.answer and "asked a person" in second.answer


def test_a_person_who_does_not_reply_gives_the_conversation_back(shop: Doppel) -> None:
    agent = shop.agents.get("bakery")
    asyncio.run(shop.runtime.turn(agent, "human please", "c5"))
    held = asyncio.run(shop.runtime.turn(agent, "hello?", "c5"))
    assert held.path == "handoff" and held.answer == ""
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=shop.settings.handoff_timeout_min + 1)
    shop.runtime.now = lambda: later
    back = asyncio.run(shop.runtime.turn(agent, "How much is the almond croissant?", "c5"))
    assert back.path != "handoff"
    assert shop.conversations.holder(back.conversation_id).state == "agent"
    notices = shop.conversations.messages(back.conversation_id)
    assert [m.text for m in notices] == [BACK_NOTICE]


def test_handoff_can_be_switched_off(shop: Doppel) -> None:
    agent = shop.agents.get("bakery")
    shop.agents.update(agent.spec.model_copy(update={"handoff": HandoffPolicy(enabled=False)}))
    result = asyncio.run(shop.runtime.turn(shop.agents.get("bakery"), "human please", "c6"))
    assert result.path != "handoff"



def shoot(page: object, name: str) -> None:
    """With DOPPEL_SCREENSHOTS=DIR, the walk-through's screenshots (the README's come from
    `DOPPEL_SCREENSHOTS=docs/console make test PYTEST_ARGS=tests/test_handoff.py`)."""
    import os
    from pathlib import Path

    folder = os.environ.get("DOPPEL_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)  # type: ignore


def test_the_console_people_tab_replies_and_hands_back(server: str, shop: Doppel) -> None:
    from .test_console import _csrf, sign_in

    _chat(server, "can I talk to a real person?", "console-1")
    _chat(server, "I need to change my cake order", "console-1")
    owner = sign_in(server, shop.keys["alice"])  # type: ignore[attr-defined]
    page = owner.get("/console/agents/bakery/people")
    assert page.status_code == 200
    assert "can I talk to a real person?" in page.text
    assert "I need to change my cake order" in page.text  # what came while waiting
    (held,) = shop.conversations.held(shop.agents.get("bakery").id)
    # an empty reply is a message on the form, and nothing is sent
    bad = owner.post(f"/console/agents/bakery/people/{held['id']}/reply",
                     data={"csrf": _csrf(page.text), "text": "  "})
    assert bad.status_code == 422 and "Your reply" in bad.text
    assert shop.conversations.messages(held["id"]) == []
    sent = owner.post(f"/console/agents/bakery/people/{held['id']}/reply",
                      data={"csrf": _csrf(page.text), "text": "Alice here: which day?"})
    assert sent.status_code == 200 and "Sent." in sent.text
    got = httpx.get(f"{server}/v1/messages", params={"model": "bakery"},
                    headers={"X-Doppel-Thread": "console-1"}).json()
    assert [m["text"] for m in got["data"]] == ["Alice here: which day?"]
    back = owner.post(f"/console/agents/bakery/people/{held['id']}/handback",
                      data={"csrf": _csrf(page.text)})
    assert back.status_code == 200 and "Handed back" in back.text
    assert shop.conversations.holder(held["id"]).state == "agent"
    owner.close()


def test_the_owners_webhook_gets_signed_notifications(shop: Doppel, tmp_path: object) -> None:
    from doppel.testing import FakeWebhook

    shop.settings.fetch_allow = "127.0.0.1"  # the operator allows the loopback receiver
    agent = shop.agents.get("bakery")
    with FakeWebhook("hook-secret-for-the-tests-0001") as hook:
        shop.agents.update(agent.spec.model_copy(update={"handoff": HandoffPolicy(
            webhook_url="https://hooks.bakery.example/doppel")}))
        # an owner can only name a public address: the test's receiver is set as stored
        spec = shop.agents.get("bakery").spec
        stored = spec.model_copy(update={"handoff": spec.handoff.model_copy(update={
            "webhook_url": hook.url})})
        shop.agents.update(stored)
        shop.runtime.secrets.set(agent.id, "handoff.webhook_secret",
                                 "hook-secret-for-the-tests-0001")
        asyncio.run(_turn_and_settle(shop, "human please", "w1"))
        assert hook.rejected == 0 and len(hook.received) == 1
        assert hook.received[0]["agent"] == "bakery"
        assert "asked for a person" in hook.received[0]["text"]


async def _turn_and_settle(app: Doppel, message: str, thread: str) -> None:
    await app.runtime.turn(app.agents.get("bakery"), message, thread)
    await asyncio.gather(*app.runtime._notifications)


def test_an_owner_cannot_point_the_webhook_at_the_server() -> None:
    from pydantic import ValidationError as PydanticError

    for url in ("http://127.0.0.1:8080/x", "http://169.254.169.254/latest", "http://10.0.0.5/"):
        with pytest.raises(PydanticError, match="public web address"):
            HandoffPolicy(webhook_url=url)


# Last in the module: Playwright's sync API keeps an event loop running in this thread once the
# module's browser is open, and the tests above call asyncio.run().
@needs_chromium
def test_handoff_in_a_real_browser(server: str, shop: Doppel, browser: object,
                                   mailbox: Mailbox) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(f"{server}/a/bakery")
    page.click("button#human")
    notice = page.locator(".msg.bot.done").last
    notice.wait_for(timeout=10_000)
    assert "person" in notice.inner_text()
    mailbox.wait(1)
    assert len(mailbox.messages) == 1
    agent = shop.agents.get("bakery")
    (held,) = shop.conversations.held(agent.id)
    # the agent stays silent: no answer bubble for a message while a person is asked for
    page.fill("#q", "Are you there?")
    page.click("form#ask button")
    page.wait_for_timeout(500)
    assert page.locator(".msg.bot").count() == 2  # the greeting and the notice only
    # the owner, signed in to the console, sees the conversation in the People tab, replies
    owner = browser.new_context(viewport={"width": 1100, "height": 800})  # type: ignore
    console = owner.new_page()
    console.goto(f"{server}/console/login")
    console.fill("input[name=key]", shop.keys["alice"])  # type: ignore[attr-defined]
    console.click("button[type=submit]")
    console.wait_for_url(f"{server}/console/agents")
    console.goto(f"{server}/console/agents/bakery/people")
    assert "Are you there?" in console.locator(".transcript").inner_text()
    shoot(console, "15-people-waiting")
    console.fill("textarea[name=text]", "Alice here — how can I help?")
    console.click("form[action$='/reply'] button[type=submit]")
    console.locator(".notice").wait_for(timeout=10_000)
    reply = page.locator(".msg.human")
    reply.wait_for(timeout=10_000)  # polled while a person holds the conversation
    assert "Alice here — how can I help?" in reply.inner_text()
    shoot(page, "16-customer-sees-the-reply")
    owner.close()
    httpx.post(f"{server}/api/agents/bakery/conversations/{held['id']}/handback",
               headers=_owner(shop))
    page.locator(".msg.notice").wait_for(timeout=10_000)
    assert BACK_NOTICE in page.locator(".msg.notice").inner_text()
    shoot(page, "17-assistant-is-back")
    page.close()
