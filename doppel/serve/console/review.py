"""The Review & try tab: the facts the agent found (each with what it belongs to; the owner can
change or remove a line), its voice profile (measured, then edited), a test chat, and
publishing."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from doppel.agents.repo import Agent
from doppel.agents.spec import AgentSpec
from doppel.errors import BackendError, ContextOverflowError, DoppelError, ValidationError
from doppel.knowledge.facts import FactOverrides, facts_found
from doppel.serve.console.deps import OwnedAgent, Posted, SignedIn, redirect, render, service
from doppel.serve.console.forms import FormError, field, field_lines, flag, message, typed
from doppel.serve.sessions import Session

__all__ = ["VOICE_FIELDS", "change_fact", "derive_voice", "publish", "review_page", "router",
           "save_voice",
           "trouble", "try_agent", "voice_from_form"]

log = logging.getLogger(__name__)

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("/agents/{slug}/review", response_class=HTMLResponse)
def review_page(request: Request, agent: OwnedAgent, session: SignedIn) -> Response:
    return _review(request, session, agent)


def _review(request: Request, session: Session, agent: Agent, status: int = 200,
            trial: dict[str, Any] | None = None, voice_error: str = "",
            voice_typed: dict[str, str] | None = None, publish_error: str = "",
            facts_error: str = "") -> Response:
    app = service(request)
    return render(request, "review.html", status, session=session, agent=agent, tab="review",
                  facts=facts_found(app.db, agent.id, rules=agent.spec.rules),
                  stats=app.agents.stats(agent), trial=trial, voice_error=voice_error,
                  voice_typed=voice_typed or {}, publish_error=publish_error,
                  facts_error=facts_error, fact_done=request.query_params.get("fact", ""))


def trouble(request: Request, exc: Exception) -> str:
    """What the owner is told of a failure: a model backend's error names the operator's hosts
    and carries the upstream's reply, so it goes to the log and the owner gets a plain line."""
    if isinstance(exc, BackendError) and not isinstance(exc, ContextOverflowError):
        log.error("model backend error on %s: %s", request.url.path, exc)
        return "The model is unavailable right now; try again in a minute."
    return str(exc)


@router.post("/agents/{slug}/facts")
async def change_fact(request: Request, form: Posted, agent: OwnedAgent,
                      session: SignedIn) -> Response:
    """The owner changes a line the agent reads as fact, removes it, or undoes a change."""
    app = service(request)
    action = str(form.get("action") or "")
    try:
        line = field(form, "line", "Line", 4000, required=True)
        if action == "change":
            replacement = field(form, "replacement", "Your version", 4000, required=True)
        elif action in ("remove", "undo"):
            replacement = ""
        else:
            raise FormError("Facts", "choose change, remove or undo")
    except ValidationError as exc:
        return _review(request, session, agent, 422, facts_error=message(exc))
    overrides = FactOverrides(app.db)
    if action == "undo":
        await asyncio.to_thread(overrides.undo, agent.id, line)
    else:
        await asyncio.to_thread(overrides.set, agent.id, line, replacement)
    return redirect(f"/console/agents/{agent.slug}/review?fact={action}#facts")


@router.post("/agents/{slug}/try")
async def try_agent(request: Request, form: Posted, agent: OwnedAgent,
                    session: SignedIn) -> Response:
    try:
        question = field(form, "q", "Test question", 2000)
    except ValidationError as exc:
        return _review(request, session, agent, 422, trial={
            "error": message(exc), "question": typed(form).get("q", "")})
    if not question:
        return _review(request, session, agent, 422, trial={"error": "Type a question."})
    try:
        result = await service(request).runtime.turn(agent, question,
                                                     thread=f"console:{session.owner.id}")
    except DoppelError as exc:
        return _review(request, session, agent, 422, trial={"error": trouble(request, exc),
                                                            "question": question})
    return _review(request, session, agent, trial={"question": question, "result": result})


@router.post("/agents/{slug}/voice/derive")
async def derive_voice(request: Request, form: Posted, agent: OwnedAgent,
                       session: SignedIn) -> Response:
    try:
        await service(request).derive_voice(agent)
    except (ValueError, DoppelError) as exc:
        return _review(request, session, agent, 422, voice_error=trouble(request, exc))
    return redirect(f"/console/agents/{agent.slug}/review#voice")


@router.post("/agents/{slug}/voice")
async def save_voice(request: Request, form: Posted, agent: OwnedAgent,
                     session: SignedIn) -> Response:
    try:
        voice = voice_from_form(agent, form)
        spec = AgentSpec.parse(agent.spec.model_dump() | {"voice": voice})
        await asyncio.to_thread(service(request).check_examples, agent.id, spec)
    except ValidationError as exc:
        return _review(request, session, agent, 422, voice_error=message(exc),
                       voice_typed=typed(form))
    service(request).agents.update(spec)
    return redirect(f"/console/agents/{agent.slug}/review#voice")


@router.post("/agents/{slug}/publish")
async def publish(request: Request, form: Posted, agent: OwnedAgent,
                  session: SignedIn) -> Response:
    try:
        # the buttons send 1 or 0; a form without the field publishes, as it always did
        public = flag(form, "public", "Publish", missing=True)
    except ValidationError as exc:
        return _review(request, session, agent, 422, publish_error=message(exc))
    service(request).agents.update(agent.spec.model_copy(update={"public": public}))
    return redirect(f"/console/agents/{agent.slug}" + ("?published=1" if public else ""))


# --- the voice profile form ---------------------------------------------------------------------

# The voice profile's fields the form edits, with their labels; the measured numbers (posts,
# rates, formality) are not the owner's to type and keep their values.
VOICE_FIELDS = {"description": "In a few words", "greetings": "Greetings",
                "sign_offs": "Sign-offs", "phrases": "Phrases you use", "topics": "Topics",
                "values": "What you stand for", "emojis": "Emoji",
                "examples": "Example replies"}


def voice_from_form(agent: Agent, form: FormData) -> dict[str, Any]:
    """The edited voice profile: each edited field is a form field of the same name (lists
    one item per line; examples as 'question => reply' lines); FormError for a bad value."""
    out = agent.spec.voice.model_dump() if agent.spec.voice else {}
    for name, label in VOICE_FIELDS.items():
        if name not in form:
            continue
        if name == "description":
            out[name] = field(form, name, label, 4000)
        elif name == "examples":
            out[name] = _examples(field_lines(form, name, label, each=4010, most=50), label)
        else:
            out[name] = field_lines(form, name, label, most=50)
    return out


def _examples(lines: list[str], label: str) -> list[dict[str, str]]:
    examples = []
    for line in lines:
        question, sep, reply = line.partition("=>")
        if not sep or not question.strip() or not reply.strip():
            raise FormError(label, f"write “{line[:40]}” as 'question => reply'")
        for part in (question.strip(), reply.strip()):
            if len(part) > 2000:
                raise FormError(label, f"a question or reply at most 2000 characters (one "
                                f"has {len(part)})")
        examples.append({"question": question.strip(), "reply": reply.strip()})
    return examples
