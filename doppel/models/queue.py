"""Fair admission of generations: a ChatBackend wrapper, like Starlette middleware.

The embedded model generates one answer at a time; a remote server takes a few at once. Waiting
requests are admitted round-robin by agent, so one busy agent cannot starve the others, and the
wait is bounded: past `max_waiting` a request is refused at once (the server answers 503 with
Retry-After) instead of piling up.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Sequence
from typing import Any

from doppel.errors import BackendError
from doppel.models.base import (
    ChatBackend,
    ChatMessage,
    ChatResult,
    GenerationParams,
    StreamChunk,
    ToolCall,
    ToolCallingBackend,
)
from doppel.models.shared_slots import SharedSlots

# Which agent the current task generates for (set by the turn runtime).
CURRENT_AGENT: contextvars.ContextVar[str] = contextvars.ContextVar("doppel_agent", default="")


class OverloadedError(BackendError):
    """Too many requests are waiting for the model; try again later."""

    def __init__(self, message: str, retry_after: int = 2) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class FairQueue:
    def __init__(self, concurrency: int = 1, max_waiting: int = 64) -> None:
        self.concurrency = concurrency
        self.max_waiting = max_waiting
        self.active = 0
        self._waiters: OrderedDict[str, deque[asyncio.Future[None]]] = OrderedDict()

    @property
    def waiting(self) -> int:
        return sum(len(q) for q in self._waiters.values())

    async def acquire(self, agent: str) -> None:
        if self.active < self.concurrency and not self.waiting:
            self.active += 1
            return
        if self.waiting >= self.max_waiting:
            raise OverloadedError(f"the model is busy ({self.waiting} requests waiting)")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(agent, deque()).append(future)
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # admitted just as we were cancelled: pass the slot on
            else:
                self._discard(agent, future)
            raise

    def release(self) -> None:
        self.active -= 1
        while self._waiters:
            agent, queue = next(iter(self._waiters.items()))
            future = queue.popleft()
            # rotate: this agent goes to the back of the line
            del self._waiters[agent]
            if queue:
                self._waiters[agent] = queue
            if not future.cancelled():
                self.active += 1
                future.set_result(None)
                return

    def _discard(self, agent: str, future: asyncio.Future[None]) -> None:
        queue = self._waiters.get(agent)
        if queue and future in queue:
            queue.remove(future)
            if not queue:
                del self._waiters[agent]


class QueuedBackend:
    """Wraps a ChatBackend so that generations go through a FairQueue, and then, when the
    installation shares its model server among processes (`shared`), through one of its
    slots (shared_slots.py)."""

    def __init__(self, inner: ChatBackend, queue: FairQueue,
                 shared: SharedSlots | None = None) -> None:
        self.inner = inner
        self.queue = queue
        self.shared = shared
        self.name = inner.name

    @contextlib.asynccontextmanager
    async def _admitted(self) -> AsyncIterator[None]:
        await self.queue.acquire(CURRENT_AGENT.get())
        try:
            lease = await self.shared.acquire() if self.shared is not None else None
            try:
                yield
            finally:
                if lease is not None:
                    lease.release()
        finally:
            self.queue.release()

    @property
    def model_name(self) -> str:
        return self.inner.model_name

    @property
    def context_window(self) -> int:
        return self.inner.context_window

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    async def chat(self, messages: Sequence[ChatMessage], params: GenerationParams) -> ChatResult:
        async with self._admitted():
            return await self.inner.chat(messages, params)

    async def stream(self, messages: Sequence[ChatMessage],
                     params: GenerationParams) -> AsyncIterator[StreamChunk]:
        async with self._admitted():
            inner = self.inner.stream(messages, params)
            try:
                async for chunk in inner:
                    yield chunk
            finally:
                await inner.aclose()  # type: ignore[attr-defined]

    async def call_tool(self, messages: Sequence[ChatMessage], tools: Sequence[dict[str, Any]],
                        params: GenerationParams) -> ToolCall | None:
        """The inner backend's native tool choice, queued like a generation; None when the
        inner backend has none."""
        if not isinstance(self.inner, ToolCallingBackend):
            return None
        async with self._admitted():
            return await self.inner.call_tool(messages, tools, params)

    async def aclose(self) -> None:
        await self.inner.aclose()
