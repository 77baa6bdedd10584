"""Channels end to end: a real uvicorn server on 127.0.0.1, the platforms faked by real HTTP
servers on 127.0.0.1 (doppel.testing.FakeGraphAPI, FakeTelegramAPI), every delivery through
the webhook route, every reply through the outbox to the fake."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from doppel.channels import CHANNELS, Incoming, split_text
from doppel.channels.hub import UNSUPPORTED, plain
from doppel.channels.store import stamp, thread_of
from doppel.service import Doppel
from doppel.testing import (
    FakeGraphAPI,
    FakeTelegramAPI,
    ServerThread,
    instagram_message,
    messenger_echo,
    messenger_message,
    meta_signature,
    telegram_update,
    whatsapp_message,
    whatsapp_status,
)

from .conftest import needs_chromium

# On SQLite and on a real PostgreSQL + pgvector (conftest.py's `both_stores`).
pytestmark = pytest.mark.both_stores

TG_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
META_TOKEN = "EAAG-page-access-token-0123456789abcdef"
APP_SECRET = "0123456789abcdef0123456789abcdef"
PHONE_ID, PAGE_ID, IG_ID = "106540352242922", "1029384756", "17841400000000001"


def wait_for(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


class World:
    def __init__(self, app: Doppel, base: str, graph: FakeGraphAPI,
                 telegram: FakeTelegramAPI) -> None:
        self.app, self.base, self.graph, self.telegram = app, base, graph, telegram
        self.alice = {"Authorization": f"Bearer {app.keys['alice']}"}  # type: ignore[attr-defined]
        self.bob = {"Authorization": f"Bearer {app.keys['bob']}"}  # type: ignore[attr-defined]

    def connect(self, channel: str, account: str = "", **secrets: str) -> httpx.Response:
        return httpx.put(f"{self.base}/api/agents/bakery/channels/{channel}", headers=self.alice,
                         json={"account": account, "secrets": secrets}, timeout=30)

    def connect_meta(self, channel: str, account: str) -> str:
        r = self.connect(channel, account, access_token=META_TOKEN, app_secret=APP_SECRET)
        assert r.status_code == 200, r.text
        return str(r.json()["verify_token"])

    def post_meta(self, channel: str, body: dict[str, Any], secret: str = APP_SECRET,
                  signature: str | None = None) -> httpx.Response:
        raw = json.dumps(body, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"}
        sig = meta_signature(secret, raw) if signature is None else signature
        if sig:
            headers["X-Hub-Signature-256"] = sig
        return httpx.post(f"{self.base}/channels/{channel}/bakery", content=raw,
                          headers=headers, timeout=30)

    def rows(self, sql: str, *args: Any) -> list[Any]:
        return list(self.app.db.connect().execute(sql, args).fetchall())

    def one(self, sql: str, *args: Any) -> Any:
        """The first column of the first row, or None while there is none."""
        rows = self.rows(sql, *args)
        return rows[0][0] if rows else None

    def turns(self) -> int:
        return int(self.rows("SELECT COUNT(*) FROM turns")[0][0])

    def agent_id(self) -> int:
        return self.app.agents.get("bakery").id


@pytest.fixture
def world(server_app: Doppel) -> Iterator[World]:
    with FakeGraphAPI(META_TOKEN, {PHONE_ID: {"verified_name": "Bakery"},
                                   PAGE_ID: {"name": "Bakery Page"},
                                   IG_ID: {"username": "bakery"}}) as graph, \
            FakeTelegramAPI(TG_TOKEN) as telegram:
        server_app.settings.graph_api_url = graph.base_url
        server_app.settings.telegram_api_url = telegram.base_url
        server_app.settings.channel_poll_s = 0.1
        from doppel.serve import create_app

        app = create_app(doppel=server_app, preload=False)
        with ServerThread(app) as base:
            server_app.settings.public_url = base
            yield World(server_app, base, graph, telegram)


# --- Telegram -----------------------------------------------------------------------------

def test_telegram_connects_answers_and_delivers_each_update_once(world: World) -> None:
    r = world.connect("telegram", bot_token=TG_TOKEN)
    assert r.status_code == 200, r.text
    assert r.json()["account"] == "@bakery_bot"
    assert world.telegram.webhook == f"{world.base}/channels/telegram/bakery"
    assert len(world.telegram.secret) >= 32  # doppel made the secret token Telegram sends back
    update = telegram_update(5001, 777, "How much is the Almond Croissant?")
    assert world.telegram.deliver(update).status_code == 200
    sent = wait_for(lambda: world.telegram.sent)
    assert sent[0]["chat_id"] == "777"
    answer = world.rows("SELECT answer FROM turns ORDER BY id DESC LIMIT 1")[0][0]
    # the answer as the web chat shows it, less the citation marks a chat bubble cannot show
    assert "[1]" in answer and sent[0]["text"] == plain(answer) and "[1]" not in sent[0]["text"]
    # the same update again, and twice at once: no new turn, no new reply
    before = world.turns()
    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(
        world.telegram.deliver(update).status_code)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200, 200, 200]
    time.sleep(0.5)
    assert world.turns() == before and len(world.telegram.sent) == 1
    # the conversation is the customer's own, in the console's views like the web chat's
    thread = world.rows("SELECT thread FROM conversations ORDER BY id DESC LIMIT 1")[0][0]
    assert thread == thread_of("telegram", "777")


def test_telegram_refuses_a_wrong_secret_and_a_wrong_token(world: World) -> None:
    r = world.connect("telegram", bot_token="987654321:WRONGtokenWRONGtokenWRONGtoken00")
    assert r.status_code == 400
    assert r.json()["error"]["message"] == "Telegram rejected the token: Unauthorized"
    listed = httpx.get(f"{world.base}/api/agents/bakery/channels", headers=world.alice).json()
    telegram = next(c for c in listed["data"] if c["channel"] == "telegram")
    assert not telegram["connected"] and not any(s["saved"] for s in telegram["secrets"])
    assert world.connect("telegram", bot_token=TG_TOKEN).status_code == 200
    bad = world.telegram.deliver(telegram_update(9, 5, "hi"), secret="not-the-secret")
    assert bad.status_code == 401
    assert world.rows("SELECT COUNT(*) FROM channel_inbound")[0][0] == 0
    # a group chat is not answered; a photo gets a plain "text only" reply
    world.telegram.deliver(telegram_update(10, -100, "hello all", chat_type="group"))
    world.telegram.deliver(telegram_update(11, 42, None))
    sent = wait_for(lambda: world.telegram.sent)
    assert [(m["chat_id"], m["text"]) for m in sent] == [("42", UNSUPPORTED)]


def test_telegram_429_is_retried_after_retry_after_and_the_token_is_never_logged(
        world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    assert world.connect("telegram", bot_token=TG_TOKEN).status_code == 200
    world.telegram.throttle(1, after=1)
    started = time.monotonic()
    world.telegram.deliver(telegram_update(20, 55, "hello"))
    wait_for(lambda: world.telegram.sent)
    assert time.monotonic() - started >= 1.0  # waited as Telegram asked
    # (the row is marked sent just after Telegram's answer: wait for it, not for the fake)
    wait_for(lambda: [tuple(r) for r in world.rows(
        "SELECT attempts, state FROM channel_outbox")] == [(2, "sent")])
    assert TG_TOKEN.split(":")[1] not in caplog.text
    listed = httpx.get(f"{world.base}/api/agents/bakery/channels", headers=world.alice).text
    assert TG_TOKEN.split(":")[1] not in listed and world.telegram.secret not in listed


# --- WhatsApp -----------------------------------------------------------------------------

def test_whatsapp_handshake_and_signatures(world: World) -> None:
    verify = world.connect_meta("whatsapp", PHONE_ID)
    url = f"{world.base}/channels/whatsapp/bakery"
    ok = httpx.get(url, params={"hub.mode": "subscribe", "hub.verify_token": verify,
                                "hub.challenge": "1158201444"})
    assert ok.status_code == 200 and ok.text == "1158201444"
    wrong = httpx.get(url, params={"hub.mode": "subscribe", "hub.verify_token": "nope",
                                   "hub.challenge": "1"})
    assert wrong.status_code == 403
    body = whatsapp_message(PHONE_ID, "Grüße! Habt ihr Croissants? 🥐")  # non-ASCII body
    assert world.post_meta("whatsapp", body, signature="").status_code == 401
    assert world.post_meta("whatsapp", body, secret="another-app-secret-0000000000").status_code \
        == 401
    assert world.rows("SELECT COUNT(*) FROM channel_inbound")[0][0] == 0  # nothing processed
    assert world.post_meta("whatsapp", body).status_code == 200
    texts = wait_for(world.graph.texts)
    assert texts and world.graph.sent[0][0] == f"/{PHONE_ID}/messages"
    assert world.graph.sent[0][1]["to"] == "15551230001"
    # the saved verify token is not shown again
    listed = httpx.get(f"{world.base}/api/agents/bakery/channels", headers=world.alice).text
    assert verify not in listed and META_TOKEN not in listed and APP_SECRET not in listed


def test_whatsapp_bsuid_batches_statuses_and_other_numbers(world: World) -> None:
    world.connect_meta("whatsapp", PHONE_ID)
    one = whatsapp_message(PHONE_ID, "hello", user_id="US.13491208655302741918",
                           with_phone=False)
    two = whatsapp_message(PHONE_ID, "Do you sell sourdough?", wa_id="15559990000")
    other = whatsapp_message("999999999", "for another number")
    # one delivery, three entries: every entry and message is handled, another number's not
    batch = {"object": "whatsapp_business_account",
             "entry": one["entry"] + two["entry"] + other["entry"]}
    assert world.post_meta("whatsapp", batch).status_code == 200
    wait_for(lambda: len(world.graph.sent) == 2)
    recipients = sorted(b.get("recipient") or b.get("to") for _, b in world.graph.sent)
    assert recipients == ["15559990000", "US.13491208655302741918"]
    assert "to" not in next(b for _, b in world.graph.sent if "recipient" in b)
    sent_id = world.rows("SELECT external_id FROM channel_outbox ORDER BY id LIMIT 1")[0][0]
    world.post_meta("whatsapp", whatsapp_status(PHONE_ID, sent_id, "read"))
    wait_for(lambda: world.one("SELECT delivery FROM channel_outbox WHERE external_id = ?",
                               sent_id) == "read")


def test_whatsapp_window_rate_limits_and_a_person_who_took_over(world: World) -> None:
    world.connect_meta("whatsapp", PHONE_ID)
    world.graph.fail(130429)  # the number's rate limit: retried, not lost
    world.post_meta("whatsapp", whatsapp_message(PHONE_ID, "hello"))
    wait_for(lambda: world.one("SELECT attempts FROM channel_outbox") == 1)
    (row,) = world.rows("SELECT state, error FROM channel_outbox")
    assert row[0] == "pending" and "130429" in row[1]
    world.app.db.connect().execute("UPDATE channel_outbox SET next_at = '2000-01-01T00:00:00Z'")
    wait_for(world.graph.texts)
    # a person's reply from the console after the 24-hour window: held for the owner
    agent_id = world.agent_id()
    conversation = world.app.conversations.find(agent_id, thread_of("whatsapp", "15551230001"))
    assert conversation is not None
    world.app.db.connect().execute("UPDATE channel_inbound SET received_at = "
                                   "'2020-01-01T00:00:00.000Z'")
    r = httpx.post(f"{world.base}/api/agents/bakery/conversations/{conversation}/reply",
                   headers=world.alice, json={"text": "Sorry for the wait - yes we do!"})
    assert r.status_code == 201
    wait_for(lambda: world.one("SELECT state FROM channel_outbox WHERE kind = 'person'")
             == "held")
    assert len(world.graph.texts()) == 1
    # the customer writes again: the window is open, the held reply goes, the agent is quiet
    world.post_meta("whatsapp", whatsapp_message(PHONE_ID, "hello again?"))
    wait_for(lambda: "Sorry for the wait - yes we do!" in world.graph.texts())
    time.sleep(0.3)
    assert len(world.graph.texts()) == 2  # the person holds the conversation
    # the platform's own error for a closed window holds the reply too
    world.app.hand_back(world.app.agents.get("bakery"), conversation)
    wait_for(lambda: len(world.graph.texts()) == 3)  # the "assistant is back" notice
    world.graph.fail(131047)
    world.post_meta("whatsapp", whatsapp_message(PHONE_ID, "what about rye bread"))
    wait_for(lambda: world.one("SELECT COUNT(*) FROM channel_outbox WHERE state = 'held' "
                               "AND kind = 'reply'") == 1)


def test_whatsapp_business_app_echo_means_a_person_has_it(world: World) -> None:
    world.connect_meta("whatsapp", PHONE_ID)
    echo = {"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{
        "field": "smb_message_echoes", "value": {
            "messaging_product": "whatsapp", "metadata": {"phone_number_id": PHONE_ID},
            "message_echoes": [{"from": "15550000000", "to": "15551230001", "id": "wamid.E1",
                                "type": "text", "text": {"body": "Hi, it's Ana here"}}]}}]}]}
    assert world.post_meta("whatsapp", echo).status_code == 200
    conversation = wait_for(lambda: world.app.conversations.find(
        world.agent_id(), thread_of("whatsapp", "15551230001")))
    wait_for(lambda: world.app.conversations.holder(conversation).state == "human")
    world.post_meta("whatsapp", whatsapp_message(PHONE_ID, "thanks Ana, when do you open?"))
    wait_for(lambda: world.one("SELECT state FROM channel_inbound WHERE kind = 'message'")
             == "held")
    assert world.graph.sent == []  # the agent said nothing


# --- Messenger and Instagram --------------------------------------------------------------

def test_messenger_handover_person_reply_and_handback(world: World) -> None:
    world.connect_meta("messenger", PAGE_ID)
    world.post_meta("messenger", messenger_message(PAGE_ID, "psid-1",
                                                   "can I talk to a real person?"))
    wait_for(lambda: any(p.endswith("pass_thread_control") for p, _ in world.graph.sent))
    paths = [p for p, _ in world.graph.sent]
    assert paths == [f"/{PAGE_ID}/messages", f"/{PAGE_ID}/pass_thread_control"]
    notice = world.graph.sent[0][1]["message"]
    assert "person" in notice["text"] and notice["metadata"] == "doppel"
    assert world.graph.sent[1][1]["target_app_id"] == 263902037430900
    # our own echo is skipped; the owner's reply from the console goes out on Messenger
    world.post_meta("messenger", messenger_echo(PAGE_ID, "psid-1", notice["text"],
                                                metadata="doppel"))
    conversation = world.app.conversations.find(world.agent_id(),
                                                thread_of("messenger", "psid-1"))
    assert conversation is not None
    assert world.app.conversations.holder(conversation).state == "waiting_for_human"
    from .test_console import sign_in

    people = sign_in(world.base, world.app.keys["alice"]).get(  # type: ignore[attr-defined]
        "/console/agents/bakery/people").text
    assert "on Messenger" in people and "can I talk to a real person?" in people
    httpx.post(f"{world.base}/api/agents/bakery/conversations/{conversation}/reply",
               headers=world.alice, json={"text": "Hi, this is Ana from the bakery."})
    wait_for(lambda: "Hi, this is Ana from the bakery." in world.graph.texts())
    httpx.post(f"{world.base}/api/agents/bakery/conversations/{conversation}/handback",
               headers=world.alice)
    wait_for(lambda: world.graph.sent[-1][1].get("message", {}).get("text", "").startswith(
        "You're chatting with the automated assistant"))
    assert any(p.endswith("take_thread_control") for p, _ in world.graph.sent)


def test_messenger_inbox_echo_and_handover_events(world: World) -> None:
    world.connect_meta("messenger", PAGE_ID)
    world.post_meta("messenger", messenger_echo(PAGE_ID, "psid-2", "Hello from the inbox"))
    conversation = wait_for(lambda: world.app.conversations.find(
        world.agent_id(), thread_of("messenger", "psid-2")))
    wait_for(lambda: world.app.conversations.holder(conversation).state == "human")
    back = {"object": "page", "entry": [{"id": PAGE_ID, "time": 1, "messaging": [{
        "sender": {"id": "psid-2"}, "recipient": {"id": PAGE_ID}, "timestamp": 1,
        "pass_thread_control": {"new_owner_app_id": "1", "metadata": "done"}}]}]}
    r = world.post_meta("messenger", back)
    assert r.status_code == 200, r.text
    wait_for(lambda: world.app.conversations.holder(conversation).state == "agent")
    # the same hand-back again (Meta redelivers): no second notice to the customer
    assert world.post_meta("messenger", back).status_code == 200
    notices = world.rows("SELECT COUNT(*) FROM human_messages WHERE conversation_id = ? "
                         "AND kind = 'notice'", conversation)[0][0]
    assert notices == 1
    # The customer has not written (only the owner, in the inbox): outside the 24-hour
    # window the notice is dropped, and the conversation stays with the agent.
    error = wait_for(lambda: world.one("SELECT error FROM channel_outbox WHERE kind = "
                                       "'notice' AND state = 'failed'"))
    assert "customer-service window" in error
    assert world.app.conversations.holder(conversation).state == "agent"


def test_instagram_splits_long_replies_in_order(world: World) -> None:
    world.connect_meta("instagram", IG_ID)
    world.post_meta("instagram", instagram_message(IG_ID, "igsid-9", "hi"))
    wait_for(world.graph.texts)
    conversation = world.app.conversations.find(world.agent_id(),
                                                thread_of("instagram", "igsid-9"))
    long = " ".join(f"Sentence number {i} about our sourdough." for i in range(70))
    httpx.post(f"{world.base}/api/agents/bakery/conversations/{conversation}/reply",
               headers=world.alice, json={"text": long})
    wait_for(lambda: len(world.graph.texts()) >= 4)
    parts = world.graph.texts()[1:]
    assert all(len(p) <= 1000 for p in parts) and " ".join(parts) == long


# --- the owner's side ---------------------------------------------------------------------

def test_owners_see_only_their_own_channels_and_unknown_webhooks_are_404(world: World) -> None:
    assert httpx.get(f"{world.base}/api/agents/bakery/channels",
                     headers=world.bob).status_code == 403
    assert httpx.put(f"{world.base}/api/agents/bakery/channels/telegram", headers=world.bob,
                     json={"secrets": {"bot_token": TG_TOKEN}}).status_code == 403
    assert world.post_meta("whatsapp", whatsapp_message(PHONE_ID, "hi")).status_code == 404
    assert httpx.post(f"{world.base}/channels/fax/bakery", content=b"{}").status_code == 404
    r = world.connect("whatsapp", "not-a-number", access_token=META_TOKEN, app_secret=APP_SECRET)
    assert r.status_code == 422 and "digits" in r.json()["error"]["message"]
    r = world.connect("whatsapp", PHONE_ID, access_token="EAAG-wrong-token-0000000000",
                      app_secret=APP_SECRET)
    assert r.status_code == 400
    assert r.json()["error"]["message"].startswith("Meta rejected the token: Invalid OAuth")
    r = world.connect("messenger", PAGE_ID, access_token=META_TOKEN)
    assert r.status_code == 422 and "app_secret" in r.json()["error"]["message"]


def test_test_message_and_disconnect(world: World) -> None:
    world.connect("telegram", bot_token=TG_TOKEN)
    r = httpx.post(f"{world.base}/api/agents/bakery/channels/telegram/test", headers=world.alice,
                   json={})
    assert r.status_code == 422 and "nobody has written" in r.json()["error"]["message"]
    world.telegram.deliver(telegram_update(1, 31, "hello"))
    wait_for(lambda: world.telegram.sent)
    r = httpx.post(f"{world.base}/api/agents/bakery/channels/telegram/test", headers=world.alice,
                   json={})
    assert r.status_code == 200 and r.json()["to"] == "31"
    assert httpx.delete(f"{world.base}/api/agents/bakery/channels/telegram",
                        headers=world.alice).status_code == 204
    assert world.telegram.webhook == ""
    assert not any(n.startswith("channel_telegram.") for n, _ in
                   world.app.runtime.secrets.names(world.agent_id()))


def test_a_restart_answers_what_was_received_and_sends_what_was_not_sent(
        server_app: Doppel) -> None:
    from doppel.serve import create_app

    with FakeTelegramAPI(TG_TOKEN) as telegram:
        s = server_app.settings
        s.telegram_api_url, s.public_url, s.channel_poll_s = telegram.base_url, "", 0.1
        agent = server_app.agents.get("bakery")
        asyncio.run(server_app.channels.connect(agent, "telegram", "", {"bot_token": TG_TOKEN}))
        store = server_app.channel_store
        # the process stopped while answering one message and before sending another reply
        (first,) = store.record(agent.id, "telegram", [Incoming("1:1", "61", "hello")])
        store.claim(first)
        store.enqueue(agent.id, "telegram", "62", None, "reply", ["an unsent reply"])
        server_app.__dict__.pop("channels", None)  # a fresh hub, as in a new process
        with ServerThread(create_app(doppel=server_app, preload=False)):
            wait_for(lambda: len(telegram.sent) == 2)
        assert sorted(m["chat_id"] for m in telegram.sent) == ["61", "62"]
        assert store.unfinished() == []


def test_every_builtin_channel_is_registered_and_text_splits_at_boundaries() -> None:
    assert {"whatsapp", "messenger", "instagram", "telegram"} <= set(CHANNELS.names())
    text = "First paragraph here.\n\nSecond one is a little longer. It has two sentences."
    assert split_text(text, 30) == ["First paragraph here.", "Second one is a little longer.",
                                    "It has two sentences."]
    assert split_text("one two three four", 9) == ["one two", "three", "four"]
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]
    assert split_text("short", 4096) == ["short"]


def test_the_console_channels_tab_connects_tests_and_shows_deliveries(world: World) -> None:
    from .test_console import _csrf, sign_in

    console = sign_in(world.base, world.app.keys["alice"])  # type: ignore[attr-defined]
    page = console.get("/console/agents/bakery/channels")
    assert page.status_code == 200
    assert f"{world.base}/channels/whatsapp/bakery" in page.text and "@BotFather" in page.text
    csrf = _csrf(page.text)
    # a token the platform rejects: said on the form, nothing saved
    wrong = console.post("/console/agents/bakery/channels/whatsapp/connect", data={
        "csrf": csrf, "account": PHONE_ID, "access_token": "EAAG-wrong-token-0000000000",
        "app_secret": APP_SECRET})
    assert wrong.status_code == 422
    assert "Meta rejected the token: Invalid OAuth access token" in wrong.text
    assert world.app.channel_store.links(world.agent_id()) == []
    # the verify token doppel made is shown once, on the page, and never again
    ok = console.post("/console/agents/bakery/channels/whatsapp/connect", data={
        "csrf": csrf, "account": PHONE_ID, "access_token": META_TOKEN,
        "app_secret": APP_SECRET})
    assert ok.status_code == 200 and "not shown again" in ok.text
    token = ok.text.split("<code>")[1].split("</code>")[0]
    assert httpx.get(f"{world.base}/channels/whatsapp/bakery", params={
        "hub.mode": "subscribe", "hub.verify_token": token,
        "hub.challenge": "42"}).text == "42"
    assert token not in console.get("/console/agents/bakery/channels").text
    world.post_meta("whatsapp", whatsapp_message(PHONE_ID, "hello from whatsapp"))
    wait_for(world.graph.texts)
    tested = console.post("/console/agents/bakery/channels/whatsapp/test", data={"csrf": csrf})
    assert tested.status_code == 200 and "Test message sent" in tested.text
    assert "hello from whatsapp" in tested.text  # the latest deliveries
    assert world.graph.texts()[-1].startswith("This is a test message")


class Installation:
    """A data directory with the bakery connected to the fake Telegram, and real `doppel`
    processes started on it (`serve`, `channels work`) with the model behind a fake
    OpenAI-compatible server."""

    def __init__(self, tmp_path: Any, model_url: str, telegram: FakeTelegramAPI,
                 **env: str) -> None:
        import os
        import socket

        from doppel.agents.spec import AgentSpec
        from doppel.config import Settings

        from .conftest import shared_models_dir

        self.home, self.logs = tmp_path / "home", tmp_path
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = os.environ | {
            "DOPPEL_HOME": str(self.home), "DOPPEL_MODELS_HOME": str(shared_models_dir()),
            "DOPPEL_CHAT_BACKEND": "openai", "DOPPEL_OPENAI_BASE_URL": model_url,
            "DOPPEL_OPENAI_MODEL": "fake", "DOPPEL_COMPOSE_ANSWERS": "false",
            "DOPPEL_TELEGRAM_API_URL": telegram.base_url, "DOPPEL_PUBLIC_URL": self.base,
            "DOPPEL_CHANNEL_POLL_S": "0.1", "DOPPEL_SHIELDS": "false"} | env
        settings = Settings(home=self.home, models_home=shared_models_dir(),
                            telegram_api_url=telegram.base_url, public_url=self.base)
        app = Doppel(settings)
        agent, _ = app.create_agent(AgentSpec(slug="bakery", name="Bakery"), [])
        app.ingestor.ingest_bytes(agent, b"item,price\nCountry Sourdough,9.00\n", "prices.csv")
        asyncio.run(app.channels.connect(agent, "telegram", "", {"bot_token": TG_TOKEN}))
        app.close()

    def start(self, *command: str) -> subprocess.Popen[bytes]:
        """`doppel COMMAND`, its output in files (a pipe nobody reads fills and blocks it)."""
        self.runs = getattr(self, "runs", 0) + 1
        out, err = (self.logs / f"{command[0]}-{self.runs}.{x}" for x in ("out", "err"))
        with out.open("wb") as stdout, err.open("wb") as stderr:
            process = subprocess.Popen([sys.executable, "-m", "doppel", *command],
                                       env=self.env, stdout=stdout, stderr=stderr)
        process.out, process.err = out, err  # type: ignore[attr-defined]
        return process

    @staticmethod
    def said(process: subprocess.Popen[bytes]) -> str:
        return str(process.out.read_text() + process.err.read_text())  # type: ignore

    def serve(self) -> subprocess.Popen[bytes]:
        process = self.start("serve", "--port", str(self.port))

        def ready() -> bool:
            assert process.poll() is None, self.said(process)
            try:
                return httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False
        wait_for(ready, timeout=120)
        return process

    def states(self) -> list[str]:
        with sqlite3.connect(self.home / "doppel.db") as db:
            return [r[0] for r in db.execute("SELECT state FROM channel_inbound ORDER BY id")]

    def answers(self) -> list[str]:
        with sqlite3.connect(self.home / "doppel.db") as db:
            return [r[0] for r in db.execute("SELECT answer FROM turns ORDER BY id")]


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def test_kill_9_between_receipt_and_reply_then_restart_sends_the_reply_once(
        tmp_path: Any) -> None:
    """A real `doppel serve` process, killed with SIGKILL while the model is drafting the
    reply to a message it has acknowledged; the restarted server answers it, once."""
    from doppel.testing import FakeOpenAIServer

    def slow(body: dict[str, Any]) -> str:
        time.sleep(4)  # the model drafting: long enough to kill the server meanwhile
        return "Our country sourdough is a naturally leavened loaf."

    with FakeOpenAIServer(slow) as model, FakeTelegramAPI(TG_TOKEN) as telegram:
        site = Installation(tmp_path, model.base_url, telegram)
        first = site.serve()
        try:
            assert telegram.deliver(telegram_update(7001, 88, "Tell me about the sourdough")
                                    ).status_code == 200
            wait_for(lambda: site.states() == ["processing"] and model.requests)
            stop(first, signal.SIGKILL)  # mid-draft: acknowledged, not answered
        finally:
            stop(first, signal.SIGKILL)
        assert telegram.sent == [] and site.states() == ["processing"]
        second = site.serve()
        try:
            wait_for(lambda: telegram.sent, timeout=60)
            time.sleep(1.0)  # nothing more comes
            assert site.states() == ["answered"]
            answers = site.answers()
            assert len(answers) == 1 and answers[0]  # the killed turn never recorded
            assert [(m["chat_id"], m["text"]) for m in telegram.sent] == [
                ("88", plain(answers[0]))]
        finally:
            stop(second)


def test_a_channel_worker_answers_what_servers_only_acknowledge(tmp_path: Any) -> None:
    """`doppel channels work` beside a `doppel serve` told not to answer: the server records
    and acknowledges, the worker answers at once (rung, not polled: the poll is 30 s); while
    no worker runs, messages wait, none lost; a new worker answers them."""
    from doppel.testing import FakeOpenAIServer

    with FakeOpenAIServer(lambda body: "Our sourdough is $9.00.") as model, \
            FakeTelegramAPI(TG_TOKEN) as telegram:
        site = Installation(tmp_path, model.base_url, telegram,
                            DOPPEL_CHANNEL_ANSWERS="false", DOPPEL_CHANNEL_POLL_S="30")
        server = site.serve()
        worker = site.start("channels", "work")
        try:
            wait_for(lambda: "answering and sending" in site.said(worker), timeout=60)
            assert "another process" not in site.said(worker)
            started = time.monotonic()
            telegram.deliver(telegram_update(8001, 71, "How much is the sourdough?"))
            wait_for(lambda: telegram.sent, timeout=15)
            assert time.monotonic() - started < 15 and site.states() == ["answered"]
            stop(worker)  # SIGTERM: a clean stop
            assert worker.returncode == 0, site.said(worker)
            telegram.deliver(telegram_update(8002, 72, "And the rye?"))
            wait_for(lambda: len(site.states()) == 2)
            time.sleep(1.0)
            assert site.states() == ["answered", "received"] and len(telegram.sent) == 1
            worker = site.start("channels", "work")
            wait_for(lambda: len(telegram.sent) == 2, timeout=60)
            assert [m["chat_id"] for m in telegram.sent] == ["71", "72"]
            assert site.states() == ["answered", "answered"] and len(site.answers()) == 2
        finally:
            stop(worker)
            stop(server)


def test_the_24_hour_window_to_the_minute(world: World) -> None:
    world.connect_meta("whatsapp", PHONE_ID)
    agent = world.app.agents.get("bakery")
    store = world.app.channel_store
    now = dt.datetime.now(dt.UTC)
    for user, age in (("15550000001", dt.timedelta(hours=23, minutes=59)),
                      ("15550000002", dt.timedelta(hours=24, minutes=1))):
        store.record(agent.id, "whatsapp", [Incoming(f"wamid.{user}", user, "hi")])
        world.app.db.connect().execute(
            "UPDATE channel_inbound SET state = 'answered', received_at = ? WHERE user_key = ?",
            (stamp(now - age), user))
        conversation = world.app.conversations.get_or_create(agent.id,
                                                             thread_of("whatsapp", user))
        world.app.reply_as_person(agent, conversation, f"A reply to {user}", "Ana")
    wait_for(lambda: world.one("SELECT COUNT(*) FROM channel_outbox WHERE state != 'pending'")
             == 2)
    states = dict(world.rows("SELECT user_key, state FROM channel_outbox"))
    assert states == {"15550000001": "sent", "15550000002": "held"}
    assert world.graph.texts() == ["A reply to 15550000001"]


@pytest.mark.parametrize("code", [131056, 2])
def test_pair_rate_limits_and_meta_outages_are_retried_never_lost(world: World,
                                                                   code: int) -> None:
    world.connect_meta("whatsapp", PHONE_ID)
    world.graph.fail(code, times=2)
    FakeGraphAPI.deliver(f"{world.base}/channels/whatsapp/bakery",
                         whatsapp_message(PHONE_ID, "¿Tenéis pan sin gluten? 🍞"), APP_SECRET)
    wait_for(lambda: world.one("SELECT attempts FROM channel_outbox") == 1)
    for _ in range(2):  # make each retry due now instead of in 2 s, 4 s, ...
        world.app.db.connect().execute(
            "UPDATE channel_outbox SET next_at = '2000-01-01T00:00:00Z' WHERE state='pending'")
        time.sleep(0.4)
    wait_for(world.graph.texts)
    assert world.one("SELECT attempts || ' ' || state FROM channel_outbox") == "3 sent"
    assert len(world.graph.texts()) == 1


def test_statuses_and_echoes_get_no_reply_and_telegram_outages_are_retried(
        world: World) -> None:
    world.connect_meta("whatsapp", PHONE_ID)
    world.post_meta("whatsapp", whatsapp_status(PHONE_ID, "wamid.unknown", "delivered"))
    world.connect_meta("messenger", PAGE_ID)
    world.post_meta("messenger", messenger_echo(PAGE_ID, "psid-5", "ours", metadata="doppel"))
    time.sleep(0.5)
    assert world.graph.sent == [] and world.turns() == 0
    world.connect("telegram", bot_token=TG_TOKEN)
    world.telegram.fail(502)
    world.telegram.deliver(telegram_update(77, 12, "hello"))
    wait_for(lambda: world.one("SELECT attempts FROM channel_outbox") == 1)
    world.app.db.connect().execute("UPDATE channel_outbox SET next_at = '2000-01-01T00:00:00Z'")
    wait_for(lambda: world.telegram.sent)
    assert len(world.telegram.sent) == 1


def test_two_server_processes_answer_each_message_once_and_one_takes_over(
        server_app: Doppel, monkeypatch: pytest.MonkeyPatch) -> None:
    """`doppel serve --workers 2` in miniature: a second service on the same data directory
    records what it receives, the leading one answers it; when the leader stops, it leads."""
    from doppel.channels.hub import ChannelHub
    from doppel.serve import create_app
    from doppel.testing import FakeChatBackend, FakeEmbedder

    monkeypatch.setattr(ChannelHub, "LEAD_RETRY_S", 0.2)
    with FakeTelegramAPI(TG_TOKEN) as telegram:
        s = server_app.settings
        s.telegram_api_url, s.channel_poll_s = telegram.base_url, 0.1
        agent = server_app.agents.get("bakery")
        asyncio.run(server_app.channels.connect(agent, "telegram", "", {"bot_token": TG_TOKEN},
                                                "http://127.0.0.1"))
        server_app.__dict__.pop("channels")
        other = Doppel(s.model_copy(), backend=FakeChatBackend(), embedder=FakeEmbedder())
        headers = {"Content-Type": "application/json",
                   "X-Telegram-Bot-Api-Secret-Token": telegram.secret}
        try:
            with ServerThread(create_app(doppel=other, preload=False)) as second:
                with ServerThread(create_app(doppel=server_app, preload=False)) as first:
                    wait_for(lambda: other.channels.leading)
                    assert not server_app.channels.leading
                    raw = json.dumps(telegram_update(3001, 901, "hello there")).encode()
                    for _ in range(2):  # the same update to both processes, twice
                        for base in (first, second):
                            assert httpx.post(f"{base}/channels/telegram/bakery", content=raw,
                                              headers=headers).status_code == 200
                    wait_for(lambda: telegram.sent)
                    time.sleep(0.5)
                    assert [m["chat_id"] for m in telegram.sent] == ["901"]
                # `second` still serves; the leader is gone when `other` stops below: first
                # check the follower's own deliveries are answered by the leader
                httpx.post(f"{second}/channels/telegram/bakery", headers=headers,
                           content=json.dumps(telegram_update(3002, 902, "hi")).encode())
                wait_for(lambda: len(telegram.sent) == 2)
            # the leader stopped: a new process on the same data directory takes over
            with ServerThread(create_app(doppel=server_app, preload=False)) as third:
                wait_for(lambda: server_app.channels.leading)
                httpx.post(f"{third}/channels/telegram/bakery", headers=headers,
                           content=json.dumps(telegram_update(3003, 903, "hey")).encode())
                wait_for(lambda: len(telegram.sent) == 3)
                assert [m["chat_id"] for m in telegram.sent] == ["901", "902", "903"]
        finally:
            other.close()


# --- in a real browser (last in this module: Playwright keeps an event loop while open) -----

@needs_chromium
def test_an_owner_connects_telegram_in_the_console_in_a_real_browser(world: World,
                                                                      browser: object) -> None:
    from .test_browser_console import shoot

    context = browser.new_context(viewport={"width": 1100, "height": 900})  # type: ignore
    page = context.new_page()
    page.goto(f"{world.base}/console/login")
    page.fill("input[name=key]", world.app.keys["alice"])  # type: ignore[attr-defined]
    page.click("button[type=submit]")
    page.wait_for_url(f"{world.base}/console/agents")
    page.goto(f"{world.base}/console/agents/bakery/channels")
    telegram = page.locator("section#telegram")
    telegram.locator("input[name=bot_token]").fill(TG_TOKEN)
    telegram.locator("form[action$='/connect'] button[type=submit]").click()
    page.locator(".notice").wait_for(timeout=15_000)
    assert "Connected" in page.locator(".notice").inner_text()
    assert world.telegram.webhook.endswith("/channels/telegram/bakery")
    world.telegram.deliver(telegram_update(42, 4242, "How much is the Almond Croissant?"))
    wait_for(lambda: world.telegram.sent)
    page.goto(f"{world.base}/console/agents/bakery/channels#telegram")
    deliveries = page.locator("section#telegram .deliveries").inner_text()
    assert "How much is the Almond Croissant?" in deliveries and "answered" in deliveries
    assert TG_TOKEN.split(":")[1] not in page.content()
    shoot(page, "18-channels")
    context.close()


def test_a_leader_that_loses_its_lease_stops_and_leads_again(world: World) -> None:
    """PostgreSQL: the advisory lock lives with its connection. When that connection ends
    (here: terminated by the server), the hub notices within a poll, stops leading, takes the
    lease again (no one else holds it) and goes on answering."""
    if world.app.db.kind != "postgres":
        pytest.skip("SQLite's lease is an flock that lasts as long as the process")
    assert world.connect("telegram", bot_token=TG_TOKEN).status_code == 200
    hub = world.app.channels
    wait_for(lambda: hub.leading)
    lease = hub._lease
    pid = lease.conn.info.backend_pid  # type: ignore[union-attr]
    world.app.db.connect().execute("SELECT pg_terminate_backend(?)", (pid,))
    wait_for(lambda: hub._lease is not None and hub._lease is not lease)
    world.telegram.deliver(telegram_update(4001, 77, "still there?"))
    sent = wait_for(lambda: world.telegram.sent)
    assert [m["chat_id"] for m in sent] == ["77"]
