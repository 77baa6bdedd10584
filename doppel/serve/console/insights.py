"""The read-only tabs, from `doppel.agents.insights` (which the owner JSON API serves too):
Conversations (searchable, each turn with its path and citations), Safety (what the shields
refused or rewrote) and Analytics (server-rendered SVG charts)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from doppel.serve.console.deps import ConsoleError, OwnedAgent, SignedIn, render, service

__all__ = ["MAX_ID", "MAX_PAGE", "PAGE", "analytics_page", "conversation_page",
           "conversations_page", "router", "safety_page"]

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
                      session: SignedIn) -> Response:
    turns = service(request).conversations.turns(
        agent.id, conversation_id=conversation_id, limit=1000) \
        if 0 < conversation_id <= MAX_ID else []
    if not turns:
        raise ConsoleError(404, f"There is no conversation #{conversation_id}.")
    return render(request, "conversation.html", session=session, agent=agent,
                  tab="conversations", turns=turns, conversation_id=conversation_id)


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
