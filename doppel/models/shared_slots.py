"""Generation slots shared by every worker and host: at most N generations in flight to one
remote model server, whatever the number of doppel processes (issue 16).

Each process's FairQueue (queue.py) keeps its own fairness and its bounded wait; a request it
admits then takes one of the installation's slots, held in Redis as a sorted set of leases
(member: a random token; score: the lease's end, in Redis's own clock, so hosts' clocks never
matter). Taking a slot drops expired leases and adds one only while fewer than N remain, in
one Lua script (atomic on the server). A holder renews its lease while it generates, so a long
stream keeps its slot, and a process killed mid-generation loses its slots when their leases
end (`lease_s`, 30 s by default) instead of holding them for ever.

Redis unreachable: the request goes on with its process's own admission only (each process
still bounded by DOPPEL_REMOTE_CONCURRENCY), logged once a minute, as the shared rate limits do,
and Redis is left alone for DOWN_S seconds after each failure. The scripts read Redis's clock
before writing: Redis 5 or later (its default effect replication).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any

from doppel.redisconn import RedisWatch, redis_py_url

log = logging.getLogger(__name__)

DOWN_S = 5.0  # how long a Redis that failed is left alone

# KEYS[1]: the slots; ARGV: token, limit, lease in ms. 1: taken, 0: all slots held.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
  redis.call('PEXPIRE', KEYS[1], 2 * tonumber(ARGV[3]))
  return 1
end
return 0
"""

# KEYS[1]: the slots; ARGV: token, lease in ms. 1: renewed, 0: the lease had ended.
_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local held = redis.call('ZSCORE', KEYS[1], ARGV[1])
if held and tonumber(held) > now then
  redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
  redis.call('PEXPIRE', KEYS[1], 2 * tonumber(ARGV[2]))
  return 1
end
return 0
"""


def redis_client(url: str) -> Any:
    """An asyncio redis-py client for a redis:// (rediss://, redis+unix://) URL, with short
    timeouts: a slow Redis must not hold generations up."""
    from redis.asyncio import Redis

    return Redis.from_url(redis_py_url(url), socket_timeout=0.5, socket_connect_timeout=0.5)


@dataclass
class _Redis:
    client: Any
    take: Any    # _TAKE, registered (EVALSHA, EVAL on a server that lost it)
    renew: Any   # _RENEW


class Lease:
    """One slot held: renewed in the background until released."""

    def __init__(self, slots: SharedSlots, token: str) -> None:
        self.slots = slots
        self.token = token
        self._renewing = asyncio.ensure_future(self._renew())

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(self.slots.lease_s / 3)
            try:
                if not await self.slots._conn().renew(keys=[self.slots.key], args=[
                        self.token, int(self.slots.lease_s * 1000)]):
                    log.warning("a generation outlived its slot's lease (%s); it goes on",
                                self.slots.key)
                    return
            except Exception as exc:  # noqa: BLE001 - Redis away: the lease simply ends
                self.slots._unavailable(exc)

    def release(self) -> None:
        """Give the slot back. Synchronous on purpose: a request whose client went away is
        cancelled, and under anyio's cancel scopes an await in its clean-up may be cancelled
        again (not reproduced over HTTP here, but nothing guarantees otherwise), which would
        leave the slot taken until its lease ended. The ZREM runs in a task of its own
        instead (kept referenced until it is done)."""
        self._renewing.cancel()
        task = asyncio.ensure_future(self._remove())
        _RELEASING.add(task)
        task.add_done_callback(_RELEASING.discard)

    async def _remove(self) -> None:
        try:
            await self.slots._conn().client.zrem(self.slots.key, self.token)
        except Exception as exc:  # noqa: BLE001 - the lease ends by itself
            self.slots._unavailable(exc)


# Releases under way (a task that nothing references may be collected before it runs).
_RELEASING: set[asyncio.Future[None]] = set()


class SharedSlots:
    """At most `limit` leases at once among every process using `key` on one Redis."""

    def __init__(self, url: str, server: str, limit: int, *, lease_s: float = 30.0,
                 poll_s: tuple[float, float] = (0.005, 0.05)) -> None:
        """`server`: the model server the slots are for (its base URL): every process and
        backend name that sends to one server shares its slots."""
        import redis.asyncio  # noqa: F401 - a missing `redis` package fails here, at start-up

        self.url = url
        self.key = "doppel:model-slots:" + hashlib.sha256(server.encode()).hexdigest()[:24]
        self.limit = limit
        self.lease_s = lease_s
        self.poll_s = poll_s
        # After a failure Redis is not asked again for DOWN_S: a Redis that does not answer
        # costs a connect timeout per request, half a second added to every generation.
        self.watch = RedisWatch(log, "generations admitted per process", rest_s=DOWN_S)
        # An asyncio client belongs to its event loop: one per loop (a server has one; a
        # test or a CLI may run several in turn).
        self._loop: asyncio.AbstractEventLoop | None = None
        self._redis: _Redis | None = None

    def _conn(self) -> _Redis:
        loop = asyncio.get_running_loop()
        if self._redis is None or self._loop is not loop:
            client = redis_client(self.url)
            self._loop, self._redis = loop, _Redis(client, client.register_script(_TAKE),
                                                   client.register_script(_RENEW))
        return self._redis

    def _unavailable(self, exc: Exception) -> None:
        self.watch.failed(exc)

    async def acquire(self) -> Lease | None:
        """A slot, waiting while all are held (polling, a few ms at first, then up to
        poll_s[1]); None when Redis cannot be reached (admitted by this process alone)."""
        if self.watch.resting:
            return None
        token = secrets.token_hex(8)
        delay = self.poll_s[0]
        while True:
            try:
                taken = await self._conn().take(keys=[self.key], args=[
                    token, self.limit, int(self.lease_s * 1000)])
            except Exception as exc:  # noqa: BLE001 - any Redis failure: go on locally
                self._unavailable(exc)
                return None
            if taken:
                return Lease(self, token)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.poll_s[1])

    async def held(self) -> int:
        """Leases held now (expired ones not counted)."""
        now_ms = int(time.time() * 1000)  # approximate: for tests and /metrics only
        return int(await self._conn().client.zcount(self.key, now_ms, "+inf"))
