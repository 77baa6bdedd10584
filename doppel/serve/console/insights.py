"""The tabs that show what the agent said, from `doppel.agents.insights` (which the owner JSON
API serves too): Conversations (searchable, each answer with how it was made, its sources, and
the owner's right/wrong mark), Safety (what the shields refused or rewrote) and Analytics
(server-rendered SVG charts)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from doppel.serve.console.deps import (
    ConsoleError,
    OwnedAgent,
    Posted,
    SignedIn,
    redirect,
    render,
    service,
)

__all__ = ["MAX_ID", "MAX_PAGE", "PAGE", "analytics_page", "conversation_page",
           "conversations_page", "mark_turn", "router", "safety_page"]

router = APIRouter(prefix="/console", include_in_schema=False)

PAGE = 50
MAX_PAGE = 1_000_000  # conversations pages: past it the offset is no page anyone reads
MAX_ID = 2 ** 63 - 1  # SQLite's largest integer


@router.get("/agents/{slug}/conversations", response_class=HTMLResponse)
def conversations_page(request: Request, agent: OwnedAgent, session: SignedIn, q: str = "",
                       page: int = 1) -> Response:
    app = service(request)
    page = min(max(page, 1), MAX_PAGE)
    q = q.strip()[:200]
    rows: list[Any] = (
        app.insights.search_conversations(agent.id, q, PAGE, (page - 1) * PAGE) if q
        else app.conversations.list(agent.id, PAGE, (page - 1) * PAGE))
    return render(request, "conversations.html", session=session, agent=agent,
                  tab="conversations", rows=rows, q=q, page=page, more=len(rows) == PAGE)


@router.get("/agents/{slug}/conversations/{conversation_id}", response_class=HTMLResponse)
def conversation_page(conversation_id: int, request: Request, agent: OwnedAgent,
                      session: SignedIn, marked: str = "") -> Response:
    turns = service(request).conversations.turns(
        agent.id, conversation_id=conversation_id, limit=1000) \
        if 0 < conversation_id <= MAX_ID else []
    if not turns:
        raise ConsoleError(404, f"There is no conversation #{conversation_id}.")
    return render(request, "conversation.html", session=session, agent=agent,
                  tab="conversations", turns=turns, conversation_id=conversation_id,
                  marked=marked if marked in ("right", "wrong", "clear") else "")


@router.post("/agents/{slug}/turns/{turn_id}/mark")
async def mark_turn(turn_id: int, request: Request, form: Posted, agent: OwnedAgent,
                    session: SignedIn) -> Response:
    """The owner marks an answer right or wrong; a wrong one waits in the Unanswered tab for
    the right answer, which becomes an approved answer."""
    mark = str(form.get("mark") or "")
    if mark not in ("right", "wrong", "clear"):
        raise ConsoleError(400, "Choose right or wrong.")
    app = service(request)
    if not (0 < turn_id <= MAX_ID) or not await asyncio.to_thread(
            app.conversations.mark, agent.id, turn_id, "" if mark == "clear" else mark):
        raise ConsoleError(404, "There is no such answer.")
    back = str(form.get("back") or "")
    target = back if re.fullmatch(r"/console/agents/[a-z0-9-]+/conversations/\d+", back) \
        and back.startswith(f"/console/agents/{agent.slug}/") else \
        f"/console/agents/{agent.slug}/conversations"
    return redirect(f"{target}?marked={mark}#t{turn_id}")


@router.get("/agents/{slug}/safety", response_class=HTMLResponse)
def safety_page(request: Request, agent: OwnedAgent, session: SignedIn, category: str = "",
                days: int = 30) -> Response:
    from doppel.safety.taxonomy import HAZARDS

    days = min(max(days, 1), 365)
    events = service(request).insights.safety_events(
        agent.id, category=category[:40] or None, days=days, limit=100)
    return render(request, "safety.html", session=session, agent=agent, tab="safety",
                  page=events, category=category, days=days,
                  names={c.code: c.name for c in HAZARDS})


@router.get("/agents/{slug}/analytics", response_class=HTMLResponse)
async def analytics_page(request: Request, agent: OwnedAgent, session: SignedIn,
                         days: int = 30) -> Response:
    from doppel.serve import charts

    days = min(max(days, 1), 365)
    data = await asyncio.to_thread(service(request).insights.analytics, agent.id, days)
    per_day = charts.daily_chart([(d.date, d.conversations) for d in data.days],
                                 title="Conversations per day", unit="conversations")
    paths = charts.paths_chart({k: v.count for k, v in data.paths.items()})
    return render(request, "analytics.html", session=session, agent=agent, tab="analytics",
                  data=data, days=days, per_day=per_day, paths=paths)
