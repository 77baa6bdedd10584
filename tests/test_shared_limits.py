"""Several workers, one truth: with DOPPEL_REDIS_URL the rate limits and the sign-in throttle
are counted in a real Redis for every process together; without Redis reachable, each
process falls back to its own count and keeps answering."""

from __future__ import annotations

import logging
import threading
import time
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


# --- the model server's slots, shared by every process ------------------------------------------

class InFlight:
    """Counts the generations a model server is running at once, across every backend (every
    "process", each on its own event loop) that sends to it."""

    def __init__(self) -> None:
        self.now = 0
        self.most = 0
        self._lock = threading.Lock()

    def enter(self) -> None:
        with self._lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def leave(self) -> None:
        with self._lock:
            self.now -= 1

    def backend(self, delay: float = 0.15) -> FakeChatBackend:
        counter = self

        class Counted(FakeChatBackend):
            async def chat(self, messages: Any, params: Any) -> Any:
                counter.enter()
                try:
                    return await super().chat(messages, params)
                finally:
                    counter.leave()

            async def stream(self, messages: Any, params: Any) -> Any:  # a turn streams
                counter.enter()
                try:
                    async for chunk in super().stream(messages, params):
                        yield chunk
                finally:
                    counter.leave()

        return Counted(["Our sourdough is $6."], delay=delay)


def _generate_at_once(backends: list[Any], n: int) -> None:
    import asyncio

    from doppel.models.base import ChatMessage, GenerationParams

    async def run() -> None:
        await asyncio.gather(*[backends[i % len(backends)].chat(
            [ChatMessage("user", f"q{i}")], GenerationParams()) for i in range(n)])

    asyncio.run(run())


def test_generations_to_a_remote_model_are_bounded_across_processes(redis_server: Any) -> None:
    """Two processes' queues (4 generations each), each with its own client of the same
    model server's 3 slots: never more than 3 at the model server, and every slot given
    back; without the shared slots, up to 8."""
    import asyncio

    from doppel.models.queue import FairQueue, QueuedBackend
    from doppel.models.shared_slots import SharedSlots

    shared, alone = InFlight(), InFlight()
    server = "http://vllm.internal:8000/v1"
    _generate_at_once([QueuedBackend(shared.backend(), FairQueue(4, 64),
                                     SharedSlots(redis_server.url, server, 3))
                       for _ in range(2)], 12)
    _generate_at_once([QueuedBackend(alone.backend(), FairQueue(4, 64)) for _ in range(2)], 12)
    assert shared.most == 3
    assert alone.most == 8

    async def held() -> int:
        await asyncio.sleep(0.1)  # the last releases run in their own tasks
        return await SharedSlots(redis_server.url, server, 3).held()

    assert asyncio.run(held()) == 0


def test_a_client_that_leaves_mid_stream_gives_its_slot_back_at_once(redis_server: Any) -> None:
    """A chat page closed mid-answer: the request is cancelled (anyio's cancel scope, as
    Starlette cancels a streaming response), and its slot comes back at once, not when the
    lease ends."""
    import anyio

    from doppel.models.base import ChatMessage, GenerationParams
    from doppel.models.queue import FairQueue, QueuedBackend
    from doppel.models.shared_slots import SharedSlots

    slots = SharedSlots(redis_server.url, "http://left.internal/v1", 1)
    backend = QueuedBackend(InFlight().backend(delay=0.2), FairQueue(2, 64), slots)

    async def run() -> tuple[int, int]:
        with anyio.move_on_after(0.3):
            async for _ in backend.stream([ChatMessage("user", "hi")], GenerationParams()):
                pass
        during = await slots.held()
        await anyio.sleep(0.2)
        return during, await slots.held()

    during, after = anyio.run(run)
    assert after == 0  # given back in well under the 30-second lease


def test_a_dead_processs_slot_comes_back_when_its_lease_ends(redis_server: Any) -> None:
    import asyncio

    from doppel.models.shared_slots import SharedSlots

    slots = SharedSlots(redis_server.url, "lease-test", 1, lease_s=0.4, poll_s=(0.01, 0.05))

    async def run() -> float:
        dead = await slots.acquire()
        assert dead is not None
        dead._renewing.cancel()  # its process was killed: no renewal, no release
        t0 = time.monotonic()
        alive = await slots.acquire()
        waited = time.monotonic() - t0
        assert alive is not None
        await asyncio.sleep(0.6)  # a live holder renews: its slot stays taken past the lease
        assert await slots.held() == 1
        alive.release()
        await asyncio.sleep(0.05)
        assert await slots.held() == 0
        return waited

    waited = asyncio.run(run())
    assert 0.2 < waited < 1.5


def test_without_redis_generations_go_on_per_process(tmp_path: Any,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    from doppel.models.queue import FairQueue, QueuedBackend
    from doppel.models.shared_slots import SharedSlots

    slots = SharedSlots(f"redis+unix://{tmp_path}/no-redis.sock", "http://gone.internal/v1", 1)
    counted = InFlight()
    with caplog.at_level(logging.WARNING):
        _generate_at_once([QueuedBackend(counted.backend(0.05), FairQueue(2, 64), slots)], 4)
    assert counted.most == 2  # the process's own bound still holds
    assert any("Redis did not answer" in r.getMessage() for r in caplog.records)


def test_two_servers_share_the_model_servers_slots(settings: Settings, redis_server: Any
                                                   ) -> None:
    """Through the HTTP boundary: two server processes' worth of doppel, 3 slots in all."""
    from concurrent.futures import ThreadPoolExecutor

    settings.redis_url = redis_server.url
    settings.remote_concurrency = 4
    settings.remote_concurrency_total = 3
    settings.compose_answers = False  # every turn drafts with the model
    settings.shields = False
    settings.min_relevance = 0.05
    settings.rate_per_user_per_minute = 10_000
    counted = InFlight()
    first = Doppel(settings, backend=counted.backend(0.1), embedder=FakeEmbedder())
    agent = first.agents.create(AgentSpec(slug="loaves", name="Loaves", public=True))
    first.ingestor.ingest_bytes(agent, b"# Bread\n\nOur sourdough is $6 a loaf.\n", "bread.md")
    second = Doppel(settings, backend=counted.backend(0.1), embedder=FakeEmbedder())
    try:
        with ServerThread(create_app(doppel=first, preload=False)) as a, \
                ServerThread(create_app(doppel=second, preload=False)) as b, \
                ThreadPoolExecutor(12) as pool:
            codes = list(pool.map(lambda i: httpx.post(
                f"{(a, b)[i % 2]}/v1/chat/completions", timeout=30, json={
                    "model": "loaves", "user": f"c{i}",
                    "messages": [{"role": "user", "content": "How much is the sourdough?"}]}
            ).status_code, range(12)))
        assert codes == [200] * 12
        assert counted.most == 3
    finally:
        first.close()
        second.close()


def test_shared_slots_without_redis_are_a_clear_error(settings: Settings) -> None:
    with pytest.raises(ValueError, match="set DOPPEL_REDIS_URL too"):
        Settings(home=settings.home, remote_concurrency_total=4)


def test_one_check_of_redis_urls_and_one_watch_for_a_redis_that_does_not_answer(
        caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from doppel.config import Settings
    from doppel.redisconn import RedisWatch, check_redis_url, redis_py_url

    assert redis_py_url("redis+unix:///run/redis.sock") == "unix:///run/redis.sock"
    assert redis_py_url("rediss://cache:6380/1") == "rediss://cache:6380/1"
    for bad in ("http://cache:6379", "unix:///run/redis.sock"):
        with pytest.raises(ValueError, match="must start with redis://"):
            check_redis_url(bad)
    with pytest.raises(ValueError, match="must start with redis://"):
        Settings(redis_url="memcached://cache")
    watch = RedisWatch(logging.getLogger("doppel.test"), "counting alone", rest_s=60)
    assert not watch.resting
    with caplog.at_level(logging.WARNING, logger="doppel.test"):
        watch.failed(ConnectionError())
        watch.failed(TimeoutError())  # within the minute: no second warning
    said = [r.getMessage() for r in caplog.records if r.name == "doppel.test"]
    assert said == ["Redis did not answer (ConnectionError): counting alone until it does"]
    assert watch.resting  # not asked again for rest_s
