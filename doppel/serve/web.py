"""The public chat page `/a/{slug}`, its passage links, and the embeddable widget script.

Server-rendered (Jinja) with a little vanilla JavaScript that calls the same OpenAI-compatible
endpoint as any client; no external CDN, nothing to build.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from doppel.agents.repo import Agent
from doppel.errors import NotFoundError
from doppel.service import Doppel

WEB = Path(__file__).resolve().parent.parent / "web"
templates = Jinja2Templates(directory=str(WEB / "templates"))
router = APIRouter()


def _public_agent(request: Request, slug: str) -> Agent:
    app: Doppel = request.app.state.doppel
    agent = app.agents.find(slug)
    if agent is None or not agent.spec.public:
        raise NotFoundError(f"no public agent named {slug!r}")
    return agent


@router.get("/a/{slug}", response_class=HTMLResponse)
def chat_page(slug: str, request: Request, embed: int = 0) -> Response:
    agent = _public_agent(request, slug)
    contact = agent.spec.contact
    human = (f"mailto:{contact.email}" if contact.email else f"tel:{contact.phone}"
             if contact.phone else contact.url)
    return templates.TemplateResponse(request, "chat.html", {
        "agent": agent.spec, "human_link": human, "embed": bool(embed)})


@router.get("/a/{slug}/passages/{chunk_id}", response_class=HTMLResponse)
def passage_page(slug: str, chunk_id: int, request: Request) -> Response:
    agent = _public_agent(request, slug)
    app: Doppel = request.app.state.doppel
    passage = app.passage(agent, chunk_id)
    if passage is None:
        raise NotFoundError(f"no passage #{chunk_id} for {slug!r}")
    return templates.TemplateResponse(request, "passage.html", {
        "agent": agent.spec, "passage": passage})


_WIDGET = (WEB / "static" / "widget.js").read_text(encoding="utf-8")


@router.get("/widget.js")
def widget() -> Response:
    return Response(_WIDGET, media_type="application/javascript",
                    headers={"Cache-Control": "public, max-age=300"})
