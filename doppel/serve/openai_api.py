"""The OpenAI-compatible API under /v1: chat completions (plain and streaming) and models.

`model` is the agent's slug. The conversation thread comes from the `X-Doppel-Thread` header or
the `user` field; without either, a stateless client's conversation is recognised by its first
user message. Threads are namespaced by API key; anonymous threads are as private as their id
(the chat page uses a random UUID per browser), and without a header they are also bound to the
client's address.
Citations and the answer path travel in extra fields that standard clients ignore.
"""

from __future__ import annotations

import asyncio
import calendar
import contextlib
import hashlib
import json
import secrets
import time
from collections.abc import AsyncIterator, Awaitable
from typing import Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from doppel.agents.turn import Citation, TurnEvent, TurnResult
from doppel.models.base import GenerationParams
from doppel.safety import public_shields
from doppel.serve.auth import Principal, chat_agent, principal, visible_agents
from doppel.serve.errors import APIError
from doppel.serve.limits import address_bucket
from doppel.service import Doppel

router = APIRouter(prefix="/v1")
T = TypeVar("T")


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(p.text or "" for p in self.content if p.type == "text")
        return self.content or ""


class StreamOptions(BaseModel):
    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    # Unknown fields (frequency_penalty, logprobs, ...) are accepted and ignored, as clients
    # send them routinely.
    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1, max_length=64)
    messages: list[MessageIn] = Field(min_length=1, max_length=256)
    stream: bool = False
    stream_options: StreamOptions | None = None
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, gt=0, le=1)
    max_tokens: int | None = Field(None, ge=1, le=4096)
    max_completion_tokens: int | None = Field(None, ge=1, le=4096)
    stop: str | list[str] | None = None
    seed: int | None = None
    user: str | None = Field(None, max_length=256)
    n: int = Field(1, ge=1, le=1, description="Only one choice is generated.")

    @field_validator("stop")
    @classmethod
    def _stop(cls, value: str | list[str] | None) -> str | list[str] | None:
        if isinstance(value, list) and len(value) > 4:
            raise ValueError("at most 4 stop sequences")
        return value


def _app(request: Request) -> Doppel:
    return request.app.state.doppel  # type: ignore[no-any-return]


@router.get("/models")
def list_models(request: Request, who: Principal = Depends(principal),
                limit: int | None = Query(None, ge=1, le=1000),
                after: str = Query("", max_length=200)) -> dict[str, Any]:
    """One page of the agents the caller may chat with, in slug order; `has_more` and
    `last_id` (pass it as `after`) page through the rest, as OpenAI's list objects do. A
    key's page holds up to 1,000 (OpenAI's clients read one page: an owner's agents fit);
    an anonymous caller's, of every owner's public agents, 100."""
    most = 100 if who.key is None else 1000
    agents, more = visible_agents(_app(request), who, after=after,
                                  limit=min(limit or most, most))
    return {"object": "list", "data": [_model(a.slug, a.created_at) for a in agents],
            "has_more": more, "last_id": agents[-1].slug if agents else None}


@router.get("/models/{model_id}")
def get_model(model_id: str, request: Request,
              who: Principal = Depends(principal)) -> dict[str, Any]:
    agent = chat_agent(_app(request), who, model_id)
    return _model(agent.slug, agent.created_at)


def _model(slug: str, created_at: str) -> dict[str, Any]:
    created = calendar.timegm(time.strptime(created_at[:19], "%Y-%m-%dT%H:%M:%S"))  # UTC
    return {"id": slug, "object": "model", "created": created, "owned_by": "doppel"}


@router.post("/chat/completions", response_model=None)
async def chat_completions(body: ChatCompletionRequest, request: Request,
                           who: Principal = Depends(principal),
                           x_doppel_thread: str | None = Header(None, max_length=128)
                           ) -> Response:
    app = _app(request)
    agent = chat_agent(app, who, body.model)
    if body.messages[-1].role != "user":
        raise APIError(422, "the last message must come from the user", param="messages")
    question = body.messages[-1].text().strip()
    if not question:
        raise APIError(422, "the last user message is empty", param="messages")
    limits = request.app.state.limits
    limits["key"].check(who.rate_key)
    thread = _thread(who, body, x_doppel_thread)
    if (bucket := _user_bucket(who, body, x_doppel_thread)) is not None:
        limits["user"].check(bucket)

    s = app.settings
    params = GenerationParams(
        max_tokens=body.max_completion_tokens or body.max_tokens or s.max_answer_tokens,
        temperature=s.temperature if body.temperature is None else body.temperature,
        top_p=body.top_p or s.top_p, repeat_penalty=s.repeat_penalty,
        stop=tuple([body.stop] if isinstance(body.stop, str) else body.stop or ()),
        seed=body.seed if body.seed is not None else s.seed)
    events = app.runtime.stream(agent, question, thread, params,
                                known_user=bool(x_doppel_thread or body.user))
    completion_id = "chatcmpl-" + secrets.token_hex(12)
    created = int(time.time())
    metrics = request.app.state.metrics

    if not body.stream:
        try:
            result = await _unless_client_leaves(request, _last(events))
        except _ClientLeft:
            return Response(status_code=_CLIENT_LEFT)
        metrics.record_result(result)
        return JSONResponse({
            "id": completion_id, "object": "chat.completion", "created": created,
            "model": agent.slug,
            "choices": [{"index": 0, "finish_reason": _finish(result),
                         "message": {"role": "assistant", "content": result.answer}}],
            "usage": _usage(result), "citations": [_citation(c) for c in result.citations],
            "doppel": _extra(result)})

    # Take the first event before answering, so that a full queue or a bad request is still an
    # HTTP error rather than a broken stream. Waiting for it is waiting in the model's queue:
    # a client that leaves meanwhile gives its place up. Once streaming, Starlette cancels the
    # body iterator when the client disconnects, and that cancellation reaches the queue and
    # the model through the runtime's generator.
    try:
        first = await _unless_client_leaves(request, events.__anext__())
    except _ClientLeft:
        return Response(status_code=_CLIENT_LEFT)
    include_usage = bool(body.stream_options and body.stream_options.include_usage)

    async def sse() -> AsyncIterator[bytes]:
        base = {"id": completion_id, "object": "chat.completion.chunk", "created": created,
                "model": agent.slug}

        def event(payload: dict[str, Any]) -> bytes:
            return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n".encode()

        yield event(base | {"choices": [{"index": 0, "delta": {"role": "assistant"},
                                         "finish_reason": None}]})
        current: TurnEvent | None = first
        try:
            while current is not None:
                if current.kind == "delta" and current.text:
                    yield event(base | {"choices": [{"index": 0,
                                                     "delta": {"content": current.text},
                                                     "finish_reason": None}]})
                elif current.kind == "done" and current.result is not None:
                    result = current.result
                    metrics.record_result(result)
                    yield event(base | {
                        "choices": [{"index": 0, "delta": {},
                                     "finish_reason": _finish(result)}],
                        "citations": [_citation(c) for c in result.citations],
                        "doppel": _extra(result)})
                    if include_usage:
                        yield event(base | {"choices": [], "usage": _usage(result)})
                current = await anext(events, None)
        finally:
            await events.aclose()
        yield b"data: [DONE]\n\n"

    return StreamingResponse(sse(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


# nginx's "client closed request": nobody reads it, but the metrics and logs count it.
_CLIENT_LEFT = 499


class _ClientLeft(Exception):
    """The client disconnected before its answer was ready."""


async def _unless_client_leaves(request: Request, work: Awaitable[T]) -> T:
    """Await `work`, cancelling it as soon as the client disconnects (then raise _ClientLeft).

    A turn waiting in the model's queue leaves it when cancelled, and a running one stops
    generating: an abandoned request must not cost the model anything (clients that time out
    and retry would otherwise fill the queue with turns nobody reads).
    """
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:  # also when this handler is cancelled itself (server shutdown)
        watcher.cancel()
        if not task.done():
            task.cancel()
    if not task.cancelled() and task.done():
        return task.result()
    # Let the turn unwind (the queue slot is released, the model told to stop) before answering.
    with contextlib.suppress(asyncio.CancelledError):
        await task
    raise _ClientLeft()


async def _disconnected(request: Request) -> None:
    """Returns when the client disconnects. The body has been read by now, so the next ASGI
    message is the disconnect."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def _last(events: AsyncIterator[TurnEvent]) -> TurnResult:
    result = None
    async for event in events:
        if event.kind == "done":
            result = event.result
    assert result is not None
    return result


def _user_bucket(who: Principal, body: ChatCompletionRequest, header: str | None) -> str | None:
    """The per-end-user rate-limit bucket of a chat request, or None for the key's bucket only.

    Anonymous callers: the client's address (an IPv6 client's /64), never the thread header or
    `user`, which the caller chooses freely: a new one per request would be a new bucket.
    Keyed callers: often a shop's own backend serving all of its customers from one address,
    so the address means nothing. The key holder is accountable for its key, whose own bucket
    (DOPPEL_RATE_PER_KEY_PER_MINUTE) caps it whatever it claims; within that, each end user it
    names in `user` (or the thread header) gets a bucket of its own, so that one of its
    customers cannot spend the whole key's allowance. No name: the key's bucket alone.
    """
    if who.key is None:
        return f"anon:{address_bucket(who.client)}"
    named = body.user or header
    return f"key:{who.key.id}:user:{named}" if named else None


def _thread(who: Principal, body: ChatCompletionRequest, header: str | None) -> str:
    raw = header or body.user
    if not raw:
        first_user = next((m.text() for m in body.messages if m.role == "user"), "")
        raw = "h-" + hashlib.sha256(first_user.encode("utf-8")).hexdigest()[:16]
    owner = f"k{who.key.id}" if who.key else f"anon-{who.client}" if not header else "anon"
    return f"{owner}:{raw}"


def _usage(result: TurnResult) -> dict[str, int]:
    return {"prompt_tokens": result.prompt_tokens,
            "completion_tokens": result.completion_tokens,
            "total_tokens": result.prompt_tokens + result.completion_tokens}


def _citation(c: Citation) -> dict[str, Any]:
    return {"number": c.number, "chunk_id": c.chunk_id, "source": c.source, "heading": c.heading,
            "title": c.title, "label": c.label().split("] ", 1)[-1], "start": c.start,
            "end": c.end, "text": c.text}


def _finish(result: TurnResult) -> str:
    # OpenAI's own value for "a filter decided this answer": clients can tell a refusal apart.
    return "content_filter" if result.path == "refused" else "stop"


def _extra(result: TurnResult) -> dict[str, Any]:
    extra = {"turn_id": result.id, "path": result.path, "thread": result.thread,
             "timings_ms": result.timings, "shields": public_shields(result.shields)}
    if "erased" in result.grounding:  # "forget me": the client forgets its copy too
        extra["erased"] = True
    return extra
