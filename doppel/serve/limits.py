"""Request limits: body size (an ASGI middleware) and token-bucket rate limits."""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict

from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
            await _too_large(send, limit, scope["path"])
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
                        await _too_large(send, limit, scope["path"])
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


async def _too_large(send: Send, limit: int, path: str = "") -> None:
    import json

    if path.startswith("/console"):
        # An owner in the console gets a page that explains, not a JSON error.
        mb = limit / 1024 / 1024
        body = (f"<!doctype html><meta charset=utf-8><link rel=stylesheet "
                f"href=/static/console.css><main class=page><section class=card><h1>That "
                f"upload is too large</h1><p class=error role=alert>One import can take at "
                f"most {mb:.0f} MB (DOPPEL_MAX_UPLOAD_BYTES). For a social-media export, "
                f"choose the JSON format and leave out photos and videos.</p><p><a "
                f"href=javascript:history.back()>Go back</a></p></section></main>").encode()
        content_type = b"text/html; charset=utf-8"
    else:
        body = json.dumps(error_body(413, f"request body larger than {limit} bytes",
                                     "request_too_large")).encode()
        content_type = b"application/json"
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", content_type),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
