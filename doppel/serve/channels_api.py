"""Channels over HTTP: the platforms' webhooks, and the owner's routes to connect them.

Webhooks (called by Meta and Telegram; no API key — each delivery proves itself with its
channel's signature or secret, checked before anything is read):
- `GET  /channels/{channel}/{agent}`: Meta's verification handshake (403 on a wrong token);
- `POST /channels/{channel}/{agent}`: a delivery; 200 as soon as it is recorded, the turn
  runs in the background; 401 and nothing processed on a missing or bad signature.

Owner routes (under /api, an admin key, the owner's own agents only):
- `GET    /api/agents/{slug}/channels`: every channel doppel offers, whether it is connected,
  its webhook URL, the secrets saved (names only) and the latest deliveries;
- `PUT    /api/agents/{slug}/channels/{channel}` `{"account": "...", "secrets": {...}}`:
  checked with the platform first ("Meta rejected the token: …" is a 400 and nothing is
  saved); a verify token doppel made is in the answer, once;
- `POST   /api/agents/{slug}/channels/{channel}/test` `{"to": "..."}`: a test message;
- `DELETE /api/agents/{slug}/channels/{channel}`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from doppel.agents.repo import Agent
from doppel.channels import CHANNELS, ChannelError, Unauthorized
from doppel.serve.auth import Principal, owned_agent, principal
from doppel.serve.errors import APIError
from doppel.service import Doppel

__all__ = ["channel_overview", "router"]

router = APIRouter()


def _app(request: Request) -> Doppel:
    return request.app.state.doppel  # type: ignore[no-any-return]


def _agent(app: Doppel, slug: str, channel: str) -> Agent:
    agent = app.agents.find(slug)
    if agent is None or channel not in CHANNELS:
        raise APIError(404, "no such webhook")
    return agent


@router.get("/channels/{channel}/{slug}", include_in_schema=False)
async def webhook_handshake(channel: str, slug: str, request: Request) -> PlainTextResponse:
    app = _app(request)
    agent = _agent(app, slug, channel)
    try:
        answer = await app.channels.handshake(agent, channel, dict(request.query_params))
    except Exception:  # not connected: the same 403 as a wrong token, nothing said
        answer = None
    if answer is None:
        raise APIError(403, "verification failed")
    return PlainTextResponse(answer)


@router.post("/channels/{channel}/{slug}", include_in_schema=False)
async def webhook(channel: str, slug: str, request: Request) -> dict[str, Any]:
    app = _app(request)
    agent = _agent(app, slug, channel)
    raw = await request.body()  # the signature is over these exact bytes
    headers = {k.lower(): v for k, v in request.headers.items()}
    try:
        new = await app.channels.receive(agent, channel, headers, raw)
    except Unauthorized:
        raise APIError(401, "the delivery's signature does not verify") from None
    return {"ok": True, "new": new}


class ConnectIn(BaseModel):
    account: str = Field("", max_length=64)
    secrets: dict[str, str] = Field(default_factory=dict)


class TestIn(BaseModel):
    to: str = Field("", max_length=128)


def channel_overview(app: Doppel, agent: Agent, base: str = "") -> list[dict[str, Any]]:
    """Each channel doppel offers, for the console and the API: connected or not, setup steps
    with the webhook URL, secrets saved (names only), the latest deliveries."""
    saved = {n for n, _ in app.runtime.secrets.names(agent.id)}
    links = {link.channel: link for link in app.channel_store.links(agent.id)}
    out = []
    for channel in CHANNELS:
        link = links.get(channel.name)
        webhook = app.channels.webhook_url(agent, channel.name, base)
        out.append({
            "channel": channel.name, "title": channel.title,
            "connected": link is not None, "account": link.account if link else "",
            "status": link.status if link else "not connected",
            "detail": link.status_detail if link else "",
            "account_label": channel.account_label, "webhook_url": webhook,
            "secrets": [{"name": n, "label": label,
                         "saved": f"channel_{channel.name}.{n}" in saved,
                         "optional": n in channel.optional_secrets}
                        for n, label in channel.secrets.items()],
            "setup": [step.format(webhook=webhook) for step in channel.setup],
            "inbound": app.channel_store.inbound(agent.id, channel.name, 10),
            "outbox": app.channel_store.outbox(agent.id, channel.name, 10)})
    return out


@router.get("/api/agents/{slug}/channels")
def list_channels(slug: str, request: Request,
                  who: Principal = Depends(principal)) -> dict[str, Any]:
    app = _app(request)
    return {"data": channel_overview(app, owned_agent(app, who, slug), str(request.base_url))}


@router.put("/api/agents/{slug}/channels/{channel}")
async def connect_channel(slug: str, channel: str, body: ConnectIn, request: Request,
                          who: Principal = Depends(principal)) -> dict[str, Any]:
    app = _app(request)
    agent = owned_agent(app, who, slug)
    try:
        return await app.channels.connect(agent, channel, body.account, body.secrets,
                                          str(request.base_url))
    except ChannelError as exc:
        raise APIError(400, str(exc), code="channel_rejected") from None


@router.post("/api/agents/{slug}/channels/{channel}/test")
async def test_channel(slug: str, channel: str, body: TestIn, request: Request,
                       who: Principal = Depends(principal)) -> dict[str, Any]:
    app = _app(request)
    agent = owned_agent(app, who, slug)
    try:
        return await app.channels.send_test(agent, channel, body.to.strip())
    except ChannelError as exc:
        raise APIError(400, f"the test message was not sent: {exc}",
                       code="channel_rejected") from None


@router.delete("/api/agents/{slug}/channels/{channel}", status_code=204)
async def disconnect_channel(slug: str, channel: str, request: Request,
                             who: Principal = Depends(principal)) -> None:
    app = _app(request)
    if not await app.channels.disconnect(owned_agent(app, who, slug), channel):
        raise APIError(404, f"{channel} is not connected to this agent")
