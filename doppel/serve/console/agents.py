"""The owner's agents: the list, the new-agent wizard's first step, and an agent's overview."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from doppel.agents.spec import AgentSpec, slugify
from doppel.errors import ValidationError
from doppel.serve.console.deps import OwnedAgent, Posted, SignedIn, redirect, render, service
from doppel.serve.console.forms import (
    FormError,
    email_field,
    field,
    message,
    phone_field,
    typed,
    web_field,
)

__all__ = ["agents_page", "create", "free_slug", "new_page", "overview", "router"]

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("/agents", response_class=HTMLResponse)
def agents_page(request: Request, session: SignedIn) -> Response:
    app = service(request)
    agents = [(a, app.agents.stats(a)) for a in app.agents.list(session.owner.id)]
    return render(request, "agents.html", session=session, agents=agents)


@router.get("/new", response_class=HTMLResponse)
def new_page(request: Request, session: SignedIn) -> Response:
    return render(request, "new.html", session=session, values={}, error="")


@router.post("/new")
async def create(request: Request, form: Posted, session: SignedIn) -> Response:
    app = service(request)
    try:
        name = field(form, "name", "Name", 120, required=True)
        kind = field(form, "kind", "Who is it for?", 20) or "business"
        if kind not in ("creator", "business"):
            raise FormError("Who is it for?", "choose a business or a creator")
        contact = {"email": email_field(form, "email", "E-mail"),
                   "phone": phone_field(form, "phone", "Phone"),
                   "url": web_field(form, "url", "Website")}
        spec = AgentSpec.parse({
            "slug": free_slug(request, name), "name": name, "kind": kind, "contact": contact,
            "greeting": f"Hi! I'm {name}'s assistant. Ask me anything."})
    except ValidationError as exc:
        return render(request, "new.html", 422, session=session, values=typed(form),
                      error=message(exc))
    agent = app.agents.create(spec, session.owner.id)
    return redirect(f"/console/agents/{agent.slug}/import?wizard=1")


def free_slug(request: Request, name: str) -> str:
    """A slug made from `name` that no agent has yet ('-2', '-3'... appended)."""
    base = slugify(name)
    slug, n = base, 2
    while service(request).agents.find(slug) is not None:
        slug, n = f"{base[:60]}-{n}", n + 1
    return slug


@router.get("/agents/{slug}", response_class=HTMLResponse)
def overview(request: Request, agent: OwnedAgent, session: SignedIn) -> Response:
    base = str(request.base_url).rstrip("/")
    return render(request, "overview.html", session=session, agent=agent, tab="overview",
                  stats=service(request).agents.stats(agent), base=base)
