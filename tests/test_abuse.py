"""Abuse of the public endpoints over real HTTP (uvicorn on 127.0.0.1): one anonymous client
filling the model's queue, abandoned requests that keep generating, and key guessing."""

from __future__ import annotations

import asyncio
import logging
import re
import time

import httpx
import pytest

from doppel.models.queue import FairQueue
from doppel.service import Doppel
from doppel.testing import FakeChatBackend
from tests._serving import serve

CHAT = "/v1/chat/completions"
QUESTION = "How much is an almond croissant?"
ANSWER = "The Almond Croissant is $5.25. It is baked fresh every morning in our own oven."


def _chat(content: str = "hello", stream: bool = False, **extra: object) -> dict[str, object]:
    return {"model": "bakery", "stream": stream,
            "messages": [{"role": "user", "content": content}]} | extra


def _statuses(base: str, requests: list[dict[str, object]]) -> list[int]:
    with httpx.Client(base_url=base, timeout=30, trust_env=False) as http:
        return [http.post(CHAT, **r).status_code for r in requests]  # type: ignore[arg-type]


def _turns(app: Doppel) -> int:
    return int(app.db.connect().execute("SELECT COUNT(*) FROM turns").fetchone()[0])


# --- 1. the per-user limit is not keyed on what the client chooses ------------------------------

def test_a_new_thread_or_user_per_request_does_not_escape_the_anonymous_limit(
        server_app: Doppel) -> None:
    with serve(server_app) as base:
        statuses = _statuses(base, [
            {"json": _chat(user=f"u-{i}")} if i % 2 else
            {"json": _chat(), "headers": {"X-Doppel-Thread": f"thread-{i}"}}
            for i in range(40)])
    assert statuses.count(200) == 30 and statuses[30:] == [429] * 10, statuses


def test_forwarded_for_is_not_believed_from_an_untrusted_peer(server_app: Doppel) -> None:
    with serve(server_app) as base:  # DOPPEL_TRUSTED_PROXIES is empty
        statuses = _statuses(base, [{"json": _chat(),
                                     "headers": {"X-Forwarded-For": f"198.51.100.{i}"}}
                                    for i in range(40)])
    assert statuses.count(200) == 30 and 429 in statuses, statuses


def test_a_trusted_proxy_names_the_client(server_app: Doppel) -> None:
    server_app.settings.trusted_proxies = "127.0.0.1, 10.0.0.0/8"
    with serve(server_app) as base:
        # Each client behind the proxy has its own bucket...
        distinct = _statuses(base, [{"json": _chat(),
                                     "headers": {"X-Forwarded-For": f"198.51.100.{i}"}}
                                    for i in range(40)])
        # ...and the right-most untrusted address is the client: what it put in front is not.
        spoofed = _statuses(base, [{"json": _chat(), "headers": {
            "X-Forwarded-For": f"192.0.2.{i}, 203.0.113.9, 10.1.2.3"}} for i in range(40)])
        # IPv6 clients hold a /64 each: rotating within it is one client.
        rotating = _statuses(base, [{"json": _chat(),
                                     "headers": {"X-Forwarded-For": f"2001:db8::{i:x}"}}
                                    for i in range(40)])
    assert distinct == [200] * 40, distinct
    assert spoofed.count(200) == 30 and 429 in spoofed, spoofed
    assert rotating.count(200) == 30 and 429 in rotating, rotating


def test_a_keyed_caller_limits_its_end_users_within_its_key_bucket(server_app: Doppel) -> None:
    server_app.settings.rate_per_key_per_minute = 40
    key = server_app.keys["alice"]  # type: ignore[attr-defined]
    auth = {"Authorization": f"Bearer {key}"}
    with serve(server_app) as base:
        one_user = _statuses(base, [{"json": _chat(user="customer-1"), "headers": auth}
                                    for _ in range(31)])
        others = _statuses(base, [{"json": _chat(user=f"customer-{i}"), "headers": auth}
                                  for i in range(2, 22)])
    # 30 a minute per end user of the key...
    assert one_user == [200] * 30 + [429], one_user
    # ...and however many end users it names, no more than its key's own 40 a minute.
    assert 5 <= others.count(200) <= 12 and others[-1] == 429, others


# --- 2. a request whose client has gone stops -----------------------------------------------------

def _wait_idle(queue: FairQueue, seconds: float = 25.0) -> float:
    """Seconds until nothing runs or waits on the queue (or the limit)."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if queue.active == 0 and queue.waiting == 0:
            break
        time.sleep(0.02)
    return time.monotonic() - started


async def _abandon(base: str, n: int, stream: bool, timeout: float) -> list[str]:
    async with httpx.AsyncClient(base_url=base, timeout=timeout, trust_env=False,
                                 limits=httpx.Limits(max_connections=n)) as http:
        async def one(i: int) -> str:
            try:
                if stream:
                    async with http.stream("POST", CHAT,
                                           json=_chat(QUESTION, True, user=f"u{i}")) as r:
                        async for _ in r.aiter_bytes():
                            pass
                else:
                    await http.post(CHAT, json=_chat(QUESTION, user=f"u{i}"))
                return "answered"
            except httpx.TimeoutException:
                return "gave up"

        return await asyncio.gather(*(one(i) for i in range(n)))


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_abandoned_requests_never_reach_the_model(server_app: Doppel,
                                                  fake_backend: FakeChatBackend,
                                                  stream: bool) -> None:
    fake_backend.script = [ANSWER]
    fake_backend.delay = 0.1  # ~1.6 s a generation; the clients give up after 0.4 s
    server_app.settings.remote_concurrency = 1  # like the embedded model: one at a time
    with serve(server_app) as base:
        queue = server_app.queues["default"]  # type: ignore[index]
        outcomes = asyncio.run(_abandon(base, 12, stream, timeout=0.4))
        assert outcomes == ["gave up"] * 12
        idle_after = _wait_idle(queue)
        generations = len(fake_backend.calls)
        stored = _turns(server_app)
        # the queue is not left holding a slot: a patient client is served
        r = httpx.post(base + CHAT, json=_chat(QUESTION), timeout=30, trust_env=False)
    assert queue.active == 0 and queue.waiting == 0
    assert idle_after < 3, idle_after  # not 12 generations draining one after another
    assert generations <= 3, generations
    assert stored <= generations  # nothing stored for a turn that never reached the model
    assert r.status_code == 200 and _turns(server_app) == stored + 1


def test_a_stream_closed_midway_stops_generating(server_app: Doppel,
                                                fake_backend: FakeChatBackend) -> None:
    fake_backend.script = [ANSWER + " " + " ".join(["Ask us about it."] * 10)]
    fake_backend.delay = 0.1  # ~6 s for the whole answer
    server_app.settings.remote_concurrency = 1
    with serve(server_app) as base:
        queue = server_app.queues["default"]  # type: ignore[index]
        with httpx.Client(base_url=base, timeout=30, trust_env=False) as http:
            with http.stream("POST", CHAT, json=_chat(QUESTION, True)) as r:
                assert r.status_code == 200
                for line in r.iter_lines():
                    if '"content"' in line:
                        break  # the first sentence is here; the reader leaves
        idle_after = _wait_idle(queue)
    assert idle_after < 1.0, idle_after
    assert len(fake_backend.calls) == 1


# --- 3. key guessing ---------------------------------------------------------------------------

def test_bad_api_keys_are_throttled_per_address_and_logged_without_the_key(
        server_app: Doppel, caplog: pytest.LogCaptureFixture) -> None:
    server_app.settings.auth_failures_per_minute = 3
    good = server_app.keys["alice"]  # type: ignore[attr-defined]
    with caplog.at_level(logging.WARNING), serve(server_app) as base, \
            httpx.Client(base_url=base, timeout=30, trust_env=False) as http:
        guesses = [http.get("/v1/models", headers={"Authorization": f"Bearer dk_guess{i}_x"})
                   for i in range(5)]
        after = http.get("/v1/models", headers={"Authorization": f"Bearer {good}"})
        anonymous = http.get("/v1/models")
    assert [g.status_code for g in guesses] == [401, 401, 401, 429, 429]
    assert int(guesses[3].headers["Retry-After"]) >= 1
    assert guesses[3].json()["error"]["type"] == "rate_limit_error"
    # a good key from a throttled address waits too, or a guesser would just keep trying
    assert after.status_code == 429
    assert anonymous.status_code == 200  # public agents still answer strangers
    failures = [r.getMessage() for r in caplog.records if "127.0.0.1" in r.getMessage()]
    assert len(failures) >= 3, [r.getMessage() for r in caplog.records]
    assert not any("dk_guess" in r.getMessage() or good in r.getMessage()
                   for r in caplog.records)


def _login_form(http: httpx.Client) -> dict[str, str]:
    page = http.get("/console/login")
    m = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert m
    return {"csrf": m.group(1), "next": "/console/agents"}


def test_failed_sign_ins_are_throttled_with_a_message_on_the_form(server_app: Doppel) -> None:
    server_app.settings.auth_failures_per_minute = 3
    good = server_app.keys["alice"]  # type: ignore[attr-defined]
    with serve(server_app) as base, httpx.Client(base_url=base, timeout=30,
                                                 trust_env=False) as http:
        tries = [http.post("/console/login", data=_login_form(http) | {"key": f"dk_no{i}_x"})
                 for i in range(4)]
        good_try = http.post("/console/login", data=_login_form(http) | {"key": good})
        api = http.get("/v1/models", headers={"Authorization": f"Bearer {good}"})
    assert [t.status_code for t in tries] == [401, 401, 401, 429]
    blocked = tries[3]
    assert int(blocked.headers["Retry-After"]) >= 1
    assert "Too many failed sign-ins" in blocked.text and 'name="key"' in blocked.text
    assert good_try.status_code == 429 and "doppel_session" not in good_try.headers.get(
        "set-cookie", "")
    assert api.status_code == 429  # one count per address for the console and the API
