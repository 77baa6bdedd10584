"""Request limits: body size (an ASGI middleware), token-bucket rate limits, and the throttle
on failed sign-ins and bad API keys."""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict, deque
from html import escape
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from doppel.config import Settings
from doppel.serve.errors import APIError, error_body


class RateLimiter:
    """Token buckets keyed by string: `rate` requests per minute, bursts up to `rate`.

    Bounded memory: the least recently used buckets are dropped past `max_keys`.
    """

    def __init__(self, per_minute: int, max_keys: int = 100_000) -> None:
        self.capacity = float(per_minute)
        self.refill = per_minute / 60.0  # tokens per second
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, key: str, now: float | None = None) -> None:
        """Take one token, or raise a 429 APIError with Retry-After."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.pop(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.refill)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                wait = math.ceil((1.0 - tokens) / self.refill)
                raise APIError(429, "rate limit reached; slow down", code="rate_limited",
                               headers={"Retry-After": str(max(1, wait))})
            self._buckets[key] = (tokens - 1.0, now)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)


def rate_limiter(settings: Settings, per_minute: int, namespace: str) -> RateLimiter:
    """This process's limiter, or one shared by every worker through Redis when
    DOPPEL_REDIS_URL is set (shared_limits.py)."""
    if settings.redis_url:
        from doppel.serve.shared_limits import SharedRateLimiter, redis_storage
        return SharedRateLimiter(redis_storage(settings.redis_url), per_minute,
                                 namespace)  # type: ignore[return-value]
    return RateLimiter(per_minute)


def failure_throttle(settings: Settings, namespace: str) -> FailureThrottle:
    """As rate_limiter, for failed sign-ins and bad keys."""
    per_minute = settings.auth_failures_per_minute
    if settings.redis_url:
        from doppel.serve.shared_limits import SharedFailureThrottle, redis_storage
        return SharedFailureThrottle(redis_storage(settings.redis_url), per_minute,
                                     namespace)  # type: ignore[return-value]
    return FailureThrottle(per_minute)


def address_bucket(address: str) -> str:
    """The rate-limit bucket of a client address: an IPv6 client is its /64, since anyone
    given one address holds the whole /64 and could rotate through it."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # ::ffff:192.0.2.7 is 192.0.2.7
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class FailureThrottle:
    """Failed authentications per client address in a sliding window (one minute).

    Past `per_minute` failures every further attempt from the address is refused until the
    oldest failure leaves the window, whether or not its key would be good: otherwise a guesser
    would simply keep trying. Attempts refused this way are not counted, so an owner behind the
    same address waits at most a minute. Bounded memory, like RateLimiter.
    """

    def __init__(self, per_minute: int, window: float = 60.0, max_keys: int = 100_000) -> None:
        self.limit = per_minute
        self.window = window
        self.max_keys = max_keys
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, key: str, now: float | None = None) -> int:
        """0 when `key` may try now, else the whole seconds until it may."""
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._failures.get(key)
            if times is None:
                return 0
            while times and times[0] <= now - self.window:
                times.popleft()
            if not times:
                del self._failures[key]
                return 0
            if len(times) < self.limit:
                return 0
            return max(1, math.ceil(times[0] + self.window - now))

    def failed(self, key: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._failures.pop(key, None) or deque(maxlen=self.limit)
            times.append(now)
            self._failures[key] = times
            while len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)


class BodyLimitMiddleware:
    """Refuses request bodies over a limit with 413, by Content-Length or while streaming,
    before a handler reads them: a 2 GB upload is never written anywhere."""

    def __init__(self, app: ASGIApp, *, default: int, uploads: int,
                 upload_paths: tuple[str, ...] = ("/files",)) -> None:
        self.app = app
        self.default = default
        self.uploads = uploads
        self.upload_paths = upload_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.uploads if scope["path"].endswith(self.upload_paths) else self.default
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await _too_large(send, limit, scope["path"], headers.get(b"referer"))
            return
        seen = 0
        started = refused = False

        async def limited_receive() -> Message:
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # A chunked body went over: answer 413 now and tell the app the client
                    # left, so it stops reading; whatever it sends afterwards is dropped.
                    if not started and not refused:
                        refused = True
                        await _too_large(send, limit, scope["path"],
                                         headers.get(b"referer"))
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except Exception:
            if not refused:
                raise


def _back(referer: bytes | None) -> str:
    """Where "Go back" leads: the console page the upload came from (its path only, so never
    another site), else the agents list. A link, not javascript:, which the CSP forbids."""
    path = urlsplit((referer or b"").decode("latin-1")).path
    return escape(path if path.startswith("/console/") else "/console/agents", quote=True)


async def _too_large(send: Send, limit: int, path: str = "",
                     referer: bytes | None = None) -> None:
    import json

    if path.startswith("/console"):
        # An owner in the console gets a page that explains, not a JSON error.
        mb = limit / 1024 / 1024
        body = (f"<!doctype html><meta charset=utf-8><link rel=stylesheet "
                f"href=/static/console.css><main class=page><section class=card><h1>That "
                f"upload is too large</h1><p class=error role=alert>One import can take at "
                f"most {mb:.0f} MB (DOPPEL_MAX_UPLOAD_BYTES). For a social-media export, "
                f"choose the JSON format and leave out photos and videos.</p><p><a "
                f"href=\"{_back(referer)}\">Go back</a></p></section></main>").encode()
        content_type = b"text/html; charset=utf-8"
    else:
        body = json.dumps(error_body(413, f"request body larger than {limit} bytes",
                                     "request_too_large")).encode()
        content_type = b"application/json"
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", content_type),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
