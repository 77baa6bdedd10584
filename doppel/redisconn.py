"""What the Redis-backed pieces share (issue 16): the URLs doppel accepts, the redis-py form of
one, and the warning that Redis did not answer, given at most once a minute.

The shared rate limits (doppel.serve.shared_limits, through the `limits` library) and the
shared generation slots (doppel.models.shared_slots, through redis-py) reach the same Redis
from different libraries; both fall back to their process's own counting while it is away.
"""

from __future__ import annotations

import logging
import time

__all__ = ["REDIS_SCHEMES", "RedisWatch", "check_redis_url", "redis_py_url"]

REDIS_SCHEMES = ("redis://", "rediss://", "redis+unix://")


def check_redis_url(url: str) -> str:
    """`url`, or a ValueError that says which URLs are accepted."""
    if not url.startswith(REDIS_SCHEMES):
        raise ValueError("must start with redis://, rediss:// or redis+unix://")
    return url


def redis_py_url(url: str) -> str:
    """The URL as redis-py reads it: `limits` writes a Unix socket redis+unix://, redis-py
    unix://."""
    check_redis_url(url)
    return "unix://" + url[len("redis+unix://"):] if url.startswith("redis+unix://") else url


class RedisWatch:
    """Notes that Redis did not answer: warns at most once a minute, with what this process
    does meanwhile, and says until when it is better not asked again."""

    def __init__(self, logger: logging.Logger, meanwhile: str, rest_s: float = 0.0) -> None:
        self.logger, self.meanwhile, self.rest_s = logger, meanwhile, rest_s
        self._logged = 0.0
        self.down_until = 0.0  # time.monotonic() before which Redis is left alone

    def failed(self, exc: Exception) -> None:
        now = time.monotonic()
        self.down_until = now + self.rest_s
        if now - self._logged > 60:
            self._logged = now
            self.logger.warning("Redis did not answer (%s): %s until it does",
                                type(exc).__name__, self.meanwhile)

    @property
    def resting(self) -> bool:
        return time.monotonic() < self.down_until
