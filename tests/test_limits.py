"""The fair generation queue and the rate limiter."""

from __future__ import annotations

import asyncio

import pytest

from doppel.models.queue import FairQueue, OverloadedError
from doppel.serve.errors import APIError
from doppel.serve.limits import RateLimiter


def test_waiting_requests_are_admitted_round_robin_by_agent() -> None:
    async def main() -> list[str]:
        queue = FairQueue(concurrency=1, max_waiting=100)
        order: list[str] = []
        await queue.acquire("busy")  # one generation running

        async def request(agent: str) -> None:
            await queue.acquire(agent)
            order.append(agent)
            await asyncio.sleep(0)
            queue.release()

        # the busy agent queues five requests before the quiet one sends its single request
        tasks = [asyncio.create_task(request("busy")) for _ in range(5)]
        await asyncio.sleep(0)
        tasks.append(asyncio.create_task(request("quiet")))
        await asyncio.sleep(0)
        queue.release()
        await asyncio.gather(*tasks)
        return order

    order = asyncio.run(main())
    assert order.index("quiet") <= 1, order  # served after at most one more busy request
    assert order.count("busy") == 5


def test_a_full_queue_refuses_at_once() -> None:
    async def main() -> None:
        queue = FairQueue(concurrency=1, max_waiting=2)
        await queue.acquire("a")
        waiters = [asyncio.create_task(queue.acquire("a")) for _ in range(2)]
        await asyncio.sleep(0)
        assert queue.waiting == 2
        with pytest.raises(OverloadedError) as refused:
            await queue.acquire("b")
        assert refused.value.retry_after >= 1
        for _ in range(3):
            queue.release()
            await asyncio.sleep(0)
        await asyncio.gather(*waiters)

    asyncio.run(main())


def test_a_cancelled_waiter_gives_its_place_back() -> None:
    async def main() -> None:
        queue = FairQueue(concurrency=1, max_waiting=5)
        await queue.acquire("a")
        waiter = asyncio.create_task(queue.acquire("a"))
        await asyncio.sleep(0)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert queue.waiting == 0
        queue.release()
        assert queue.active == 0
        await asyncio.wait_for(queue.acquire("b"), 1)  # the slot is free again

    asyncio.run(main())


def test_rate_limiter_refills_over_time_and_says_when_to_retry() -> None:
    limiter = RateLimiter(per_minute=60)  # one a second, bursts of 60
    for _i in range(60):
        limiter.check("k", now=100.0)
    with pytest.raises(APIError) as limited:
        limiter.check("k", now=100.0)
    assert limited.value.status == 429 and limited.value.headers["Retry-After"] == "1"
    limiter.check("other", now=100.0)  # buckets are per key
    limiter.check("k", now=101.5)  # 1.5 s later: one token back


def test_rate_limiter_memory_is_bounded() -> None:
    limiter = RateLimiter(per_minute=10, max_keys=100)
    for i in range(1000):
        limiter.check(f"ip-{i}", now=0.0)
    assert len(limiter._buckets) == 100


def test_failure_throttle_refuses_past_the_limit_until_the_window_passes() -> None:
    from doppel.serve.limits import FailureThrottle

    throttle = FailureThrottle(per_minute=3)
    for t in (0.0, 1.0, 2.0):
        assert throttle.retry_after("10.0.0.1", now=t) == 0
        throttle.failed("10.0.0.1", now=t)
    assert throttle.retry_after("10.0.0.1", now=2.5) == 58  # the first failure ages out at 60
    assert throttle.retry_after("10.0.0.2", now=2.5) == 0  # per address
    assert throttle.retry_after("10.0.0.1", now=59.9) == 1
    assert throttle.retry_after("10.0.0.1", now=60.0) == 0  # one more try, a minute on
    throttle.failed("10.0.0.1", now=60.0)
    assert throttle.retry_after("10.0.0.1", now=60.5) >= 1


def test_failure_throttle_memory_is_bounded() -> None:
    from doppel.serve.limits import FailureThrottle

    throttle = FailureThrottle(per_minute=3, max_keys=50)
    for i in range(500):
        throttle.failed(f"ip-{i}", now=0.0)
    assert len(throttle._failures) == 50


@pytest.mark.parametrize(("peer", "forwarded", "trusted", "client"), [
    ("203.0.113.5", "1.2.3.4", "", "203.0.113.5"),  # nothing trusted: the header is ignored
    ("203.0.113.5", "1.2.3.4", "10.0.0.0/8", "203.0.113.5"),  # the peer is no proxy of ours
    ("10.0.0.2", "1.2.3.4", "10.0.0.0/8", "1.2.3.4"),
    ("10.0.0.2", "6.6.6.6, 1.2.3.4", "10.0.0.0/8", "1.2.3.4"),  # the left part is the client's
    ("10.0.0.2", "6.6.6.6, 1.2.3.4, 10.0.0.9", "10.0.0.0/8", "1.2.3.4"),  # two proxies deep
    ("10.0.0.2", "10.0.0.7, 10.0.0.9", "10.0.0.0/8", "10.0.0.7"),  # all proxies: the first
    ("10.0.0.2", None, "10.0.0.0/8", "10.0.0.2"),
    ("10.0.0.2", " , ", "10.0.0.0/8", "10.0.0.2"),
    ("10.0.0.2", "1.2.3.4:5678", "10.0.0.0/8", "1.2.3.4"),
    ("10.0.0.2", "[2001:db8::1]:443", "10.0.0.0/8", "2001:db8::1"),
    ("10.0.0.2", "not-an-address", "10.0.0.0/8", "10.0.0.2"),  # garbage: the proxy itself
    ("::1", "1.2.3.4", "127.0.0.1,::1", "1.2.3.4"),
])
def test_client_address_believes_forwarded_for_only_from_trusted_proxies(
        peer: str, forwarded: str | None, trusted: str, client: str) -> None:
    from doppel.serve.security import client_address, parse_networks

    assert client_address(peer, forwarded, parse_networks(trusted)) == client


def test_anonymous_ipv6_clients_are_limited_by_their_64() -> None:
    from doppel.serve.limits import address_bucket

    assert address_bucket("2001:db8:1:2:aaaa::1") == address_bucket("2001:db8:1:2:bbbb::9")
    assert address_bucket("2001:db8:1:3::1") != address_bucket("2001:db8:1:2::1")
    assert address_bucket("192.0.2.7") == "192.0.2.7"
    assert address_bucket("unknown") == "unknown"


@pytest.mark.parametrize(("header", "name"), [
    ("Example.COM", "example.com"), ("example.com:8080", "example.com"),
    ("localhost.", "localhost"), ("[::1]:8080", "::1"), ("[::1]", "::1"),
    ("127.0.0.1:80", "127.0.0.1"), ("", ""), ("[::1", ""),
])
def test_host_names_are_compared_without_port_case_or_trailing_dot(header: str,
                                                                    name: str) -> None:
    from doppel.serve.security import host_name

    assert host_name(header) == name


@pytest.mark.parametrize(("values", "allowed"), [
    ({}, {"localhost", "127.0.0.1", "::1"}),
    ({"host": "::1"}, {"localhost", "127.0.0.1", "::1"}),
    ({"host": "localhost", "public_url": "https://chat.shop.example"},
     {"localhost", "127.0.0.1", "::1", "chat.shop.example"}),
    ({"host": "0.0.0.0"}, None), ({"host": "::"}, None),
    ({"host": "0.0.0.0", "public_url": "https://chat.shop.example"}, None),
    ({"host": "192.168.1.20"}, {"192.168.1.20"}),
    ({"host": "192.168.1.20", "public_url": "http://shop.lan:8080"}, {"192.168.1.20", "shop.lan"}),
    ({"allowed_hosts": "A.example, b.example ,", "host": "0.0.0.0"}, {"a.example", "b.example"}),
])
def test_allowed_hosts_follow_the_setting(tmp_path: object, values: dict[str, str],
                                          allowed: set[str] | None) -> None:
    from doppel.config import Settings
    from doppel.serve.security import allowed_hosts

    settings = Settings(home=tmp_path, **values)  # type: ignore[arg-type]
    assert allowed_hosts(settings) == (None if allowed is None else frozenset(allowed))
