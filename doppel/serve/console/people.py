"""The People tab: conversations waiting for or held by a person (read the transcript, reply,
hand back), the leads the agent collected, and booking requests to confirm or decline."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from doppel.channels import CHANNELS
from doppel.channels.store import parse_thread
from doppel.errors import NotFoundError, ValidationError
from doppel.serve.console.deps import OwnedAgent, Posted, SignedIn, redirect, render, service
from doppel.serve.console.forms import field, message
from doppel.service import Doppel

__all__ = ["router"]

router = APIRouter(prefix="/console", include_in_schema=False)


def _held(app: Doppel, agent_id: int) -> list[dict[str, Any]]:
    """Each conversation for a person, with its messages in order: the customer's, the
    agent's, the person's and the notices."""
    out = []
    for held in app.conversations.held(agent_id):
        lines: list[tuple[str, str, str]] = []
        for t in app.conversations.turns(agent_id, conversation_id=held["id"], limit=30):
            lines.append((t.created_at, "customer", t.user_message))
            if t.answer:
                lines.append((t.created_at + "~", "agent", t.answer))
        for m in app.conversations.messages(held["id"]):
            lines.append((m.created_at, "person" if m.kind == "human" else "notice",
                          (f"{m.author}: " if m.author else "") + m.text))
        where = parse_thread(held["thread"])
        out.append(held | {"lines": [(who, text) for _, who, text in sorted(lines)],
                           "channel": CHANNELS.get(where[0]).title if where and where[0] in
                           CHANNELS else "the web chat"})
    return out


@router.get("/agents/{slug}/people", response_class=HTMLResponse)
async def people_page(request: Request, agent: OwnedAgent, session: SignedIn,
                      error: str = "", on: int = 0, done: str = "") -> Response:
    app = service(request)
    held = await asyncio.to_thread(_held, app, agent.id)
    leads = await asyncio.to_thread(app.records.leads, agent.id, 100)
    bookings = await asyncio.to_thread(app.records.bookings, agent.id, 100)
    return render(request, "people.html", 422 if error else 200, session=session, agent=agent,
                  tab="people", held=held, leads=leads, bookings=bookings, error=error,
                  error_on=on, done=done)


@router.post("/agents/{slug}/people/{conversation_id}/reply")
async def people_reply(request: Request, conversation_id: int, form: Posted,
                       agent: OwnedAgent, session: SignedIn) -> Response:
    app = service(request)
    try:
        text = field(form, "text", "Your reply", 4000, required=True)
        # The customer sees the business's contact name, never the owner's sign-in name.
        await asyncio.to_thread(app.reply_as_person, agent, conversation_id, text,
                                agent.spec.contact.name or agent.spec.name)
    except ValidationError as exc:
        return await people_page(request, agent, session, error=message(exc),
                                 on=conversation_id)
    except NotFoundError:
        return await people_page(request, agent, session,
                                 error="That conversation is not this agent's.")
    return redirect(f"/console/agents/{agent.slug}/people?done=replied#c{conversation_id}")


@router.post("/agents/{slug}/people/{conversation_id}/handback")
async def people_handback(request: Request, conversation_id: int, form: Posted,
                          agent: OwnedAgent, session: SignedIn) -> Response:
    try:
        await asyncio.to_thread(service(request).hand_back, agent, conversation_id)
    except NotFoundError:
        return await people_page(request, agent, session,
                                 error="That conversation is not this agent's.")
    return redirect(f"/console/agents/{agent.slug}/people?done=handed-back")


@router.post("/agents/{slug}/bookings/{booking_id}")
async def booking_decide(request: Request, booking_id: int, form: Posted,
                         agent: OwnedAgent, session: SignedIn) -> Response:
    decision = str(form.get("status") or "")
    if decision not in ("confirmed", "declined"):
        return await people_page(request, agent, session, error="Choose confirm or decline.")
    found, calendar = await asyncio.to_thread(service(request).decide_booking, agent,
                                              booking_id, decision)  # type: ignore[arg-type]
    if not found:
        return await people_page(request, agent, session,
                                 error="That booking request is not this agent's.")
    if calendar == "the calendar could not be updated":
        return redirect(f"/console/agents/{agent.slug}/people?done={decision}-calendar-failed")
    return redirect(f"/console/agents/{agent.slug}/people?done={decision}")
