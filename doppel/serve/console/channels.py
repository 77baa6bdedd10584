"""The Channels tab: connect the agent to WhatsApp, Messenger, Instagram or Telegram step by
step (the webhook URL to paste, the verify token shown once), send a test message, see the
latest deliveries, disconnect. The same checks as the owner API (doppel.channels.hub): a token
the platform rejects is said on the form ("Meta rejected the token: …") and nothing is saved."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from doppel.channels import CHANNELS
from doppel.errors import DoppelError
from doppel.serve.channels_api import channel_overview
from doppel.serve.console.deps import OwnedAgent, Posted, SignedIn, redirect, render, service
from doppel.serve.console.forms import FormError, field

__all__ = ["router"]

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("/agents/{slug}/channels", response_class=HTMLResponse)
async def channels_page(request: Request, agent: OwnedAgent, session: SignedIn,
                        error: str = "", on: str = "", done: str = "",
                        shown: dict[str, str] | None = None) -> Response:
    app = service(request)
    channels = await asyncio.to_thread(channel_overview, app, agent, str(request.base_url))
    return render(request, "channels.html", 422 if error else 200, session=session,
                  agent=agent, tab="channels", channels=channels, error=error, error_on=on,
                  done=done, shown=shown or {})


def _known(channel: str) -> bool:
    return channel in CHANNELS


@router.post("/agents/{slug}/channels/{channel}/connect")
async def channels_connect(request: Request, channel: str, form: Posted, agent: OwnedAgent,
                           session: SignedIn) -> Response:
    if not _known(channel):
        return await channels_page(request, agent, session, error="No such channel.")
    app = service(request)
    spec = CHANNELS.get(channel)
    try:
        account = field(form, "account", spec.account_label, 64)
        secrets = {name: field(form, name, label, 512) for name, label in spec.secrets.items()}
        out = await app.channels.connect(agent, channel, account,
                                         {k: v for k, v in secrets.items() if v},
                                         str(request.base_url))
    except (FormError, DoppelError) as exc:
        return await channels_page(request, agent, session, error=str(exc), on=channel)
    shown = {"channel": spec.title, "verify_token": out["verify_token"]} if (
        "verify_token" in out) else {}
    if shown:  # shown once, on this page: not in a URL, not again
        return await channels_page(request, agent, session, done="connected", on=channel,
                                   shown=shown)
    return redirect(f"/console/agents/{agent.slug}/channels?done=connected#{channel}")


@router.post("/agents/{slug}/channels/{channel}/test")
async def channels_test(request: Request, channel: str, form: Posted, agent: OwnedAgent,
                        session: SignedIn) -> Response:
    if not _known(channel):
        return await channels_page(request, agent, session, error="No such channel.")
    try:
        to = field(form, "to", "Send to", 128)
        await service(request).channels.send_test(agent, channel, to)
    except (FormError, DoppelError) as exc:
        return await channels_page(request, agent, session,
                                   error=f"The test message was not sent: {exc}", on=channel)
    return redirect(f"/console/agents/{agent.slug}/channels?done=tested#{channel}")


@router.post("/agents/{slug}/channels/{channel}/disconnect")
async def channels_disconnect(request: Request, channel: str, form: Posted, agent: OwnedAgent,
                              session: SignedIn) -> Response:
    if not _known(channel):
        return await channels_page(request, agent, session, error="No such channel.")
    await service(request).channels.disconnect(agent, channel)
    return redirect(f"/console/agents/{agent.slug}/channels?done=disconnected")
