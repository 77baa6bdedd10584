"""Several workers, one truth: with DOPPEL_REDIS_URL the rate limits and the sign-in throttle
are counted in a real Redis for every process together; without Redis reachable, each
process falls back to its own count and keeps answering."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from doppel.agents.spec import AgentSpec
from doppel.config import Settings
from doppel.serve import create_app
from doppel.service import Doppel
from doppel.testing import FakeChatBackend, FakeEmbedder, ServerThread


@pytest.fixture
def workers(settings: Settings, redis_server: Any) -> Iterator[list[str]]:
    """Two server processes' worth of doppel (two apps, two services) on one data directory
    and one Redis, as `doppel serve --workers 2` would run."""
    settings.redis_url = redis_server.url
    settings.rate_per_key_per_minute = 5
    settings.shields = False
    first = Doppel(settings, backend=FakeChatBackend(), embedder=FakeEmbedder())
    owner = first.owners.create("alice")
    _, key = first.owners.create_key(owner.id, ["admin"])
    first.agents.create(AgentSpec(slug=f"shop-{id(settings)}", name="Shop", public=True),
                        owner.id)
    second = Doppel(settings, backend=FakeChatBackend(), embedder=FakeEmbedder())
    with ServerThread(create_app(doppel=first, preload=False)) as a, \
            ServerThread(create_app(doppel=second, preload=False)) as b:
        yield [a, b, key, f"shop-{id(settings)}"]
    first.close()
    second.close()


def ask(base: str, key: str, agent: str) -> httpx.Response:
    return httpx.post(f"{base}/v1/chat/completions", headers={"Authorization": f"Bearer {key}"},
                      json={"model": agent, "messages": [{"role": "user", "content": "hi"}]},
                      timeout=30)


def test_a_keys_rate_is_counted_across_workers(workers: list[str]) -> None:
    a, b, key, agent = workers
    codes = [ask(base, key, agent).status_code for base in (a, b, a, b, a)]
    assert codes == [200] * 5
    refused = [ask(base, key, agent) for base in (b, a)]
    assert [r.status_code for r in refused] == [429, 429]
    assert int(refused[0].headers["Retry-After"]) >= 1
    assert refused[0].json()["error"]["code"] == "rate_limited"


def test_bad_keys_are_throttled_across_workers(workers: list[str], settings: Settings) -> None:
    a, b, _, agent = workers
    wrong = "dk_00000000_" + "x" * 43
    for i in range(settings.auth_failures_per_minute):
        assert ask((a, b)[i % 2], wrong, agent).status_code == 401
    throttled = ask(b, wrong, agent)
    assert throttled.status_code == 429 and throttled.json()["error"]["code"] == \
        "auth_throttled"


def test_without_redis_each_worker_still_limits(settings: Settings, redis_server: Any,
                                                caplog: pytest.LogCaptureFixture) -> None:
    from doppel.testing.redis import RedisServer

    gone = RedisServer.start()
    settings.redis_url = gone.url
    settings.rate_per_key_per_minute = 3
    settings.shields = False
    app = Doppel(settings, backend=FakeChatBackend(), embedder=FakeEmbedder())
    owner = app.owners.create("bob")
    _, key = app.owners.create_key(owner.id, ["admin"])
    app.agents.create(AgentSpec(slug="bikes", name="Bikes", public=True), owner.id)
    gone.stop()  # Redis goes away while the server runs
    try:
        with caplog.at_level(logging.WARNING), \
                ServerThread(create_app(doppel=app, preload=False)) as base:
            codes = [ask(base, key, "bikes").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        assert any("Redis did not answer" in r.getMessage() for r in caplog.records)
    finally:
        app.close()


def test_a_malformed_redis_url_is_a_clear_error(settings: Settings) -> None:
    settings.redis_url = "http://cache.internal:6379"
    app = Doppel(settings, backend=FakeChatBackend(), embedder=FakeEmbedder())
    try:
        with pytest.raises(ValueError, match="DOPPEL_REDIS_URL must start with redis://"):
            create_app(doppel=app, preload=False)
    finally:
        app.close()
