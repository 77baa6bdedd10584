"""Rate limits and the failure throttle shared by every worker and host: Redis through the
`limits` library (moving windows: at most N hits in any 60 seconds), selected by
`DOPPEL_REDIS_URL`. Without it each process keeps its own (limits.py): with `--workers 4`,
four times the configured rate gets through.

Redis unreachable: each limiter falls back to its process's own in-memory one and logs it once
a minute, so the server keeps answering (a limit per process is still a limit) and comes back
to the shared count by itself when Redis answers again.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from doppel.redisconn import RedisWatch, check_redis_url
from doppel.serve.errors import APIError
from doppel.serve.limits import FailureThrottle, RateLimiter

log = logging.getLogger(__name__)

try:  # the `redis` extra: limits[redis]
    from limits import RateLimitItemPerMinute
    from limits.storage import storage_from_string
    from limits.strategies import MovingWindowRateLimiter
except ImportError as exc:  # pragma: no cover - the message is the point
    raise ImportError("DOPPEL_REDIS_URL is set, but the limits library is not installed: "
                      "pip install 'doppel[redis]'") from exc


def redis_storage(url: str) -> Any:
    """The `limits` storage for a redis:// (or rediss://, redis+unix://) URL."""
    try:
        check_redis_url(url)
    except ValueError as exc:
        raise ValueError(f"DOPPEL_REDIS_URL {exc}") from None
    return storage_from_string(url, socket_timeout=0.5, socket_connect_timeout=0.5)


class _Shared:
    def __init__(self, storage: Any, per_minute: int, namespace: str) -> None:
        self.item = RateLimitItemPerMinute(per_minute, namespace=f"doppel-{namespace}")
        self.limiter = MovingWindowRateLimiter(storage)
        self.watch = RedisWatch(log, "limiting per process")

    def _unavailable(self, exc: Exception) -> None:
        self.watch.failed(exc)

    def _retry_after(self, key: str) -> int:
        stats = self.limiter.get_window_stats(self.item, key)
        return max(1, math.ceil(stats.reset_time - time.time()))


class SharedRateLimiter(_Shared):
    """RateLimiter's interface, counted in Redis for all workers together."""

    def __init__(self, storage: Any, per_minute: int, namespace: str) -> None:
        super().__init__(storage, per_minute, namespace)
        self.local = RateLimiter(per_minute)

    def check(self, key: str, now: float | None = None) -> None:
        try:
            allowed = self.limiter.hit(self.item, key)
            wait = 0 if allowed else self._retry_after(key)
        except Exception as exc:  # Redis down or slow: this process's own limit instead
            self._unavailable(exc)
            self.local.check(key, now)
            return
        if wait:
            raise APIError(429, "rate limit reached; slow down", code="rate_limited",
                           headers={"Retry-After": str(wait)})


class SharedFailureThrottle(_Shared):
    """FailureThrottle's interface, counted in Redis for all workers together."""

    def __init__(self, storage: Any, per_minute: int, namespace: str) -> None:
        super().__init__(storage, per_minute, namespace)
        self.local = FailureThrottle(per_minute)

    def retry_after(self, key: str, now: float | None = None) -> int:
        try:
            if self.limiter.test(self.item, key):
                return 0
            return self._retry_after(key)
        except Exception as exc:
            self._unavailable(exc)
            return self.local.retry_after(key, now)

    def failed(self, key: str, now: float | None = None) -> None:
        self.local.failed(key, now)  # kept too: the fallback knows the recent failures
        try:
            self.limiter.hit(self.item, key)
        except Exception as exc:
            self._unavailable(exc)
