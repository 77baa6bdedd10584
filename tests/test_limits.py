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
    for i in range(60):
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
