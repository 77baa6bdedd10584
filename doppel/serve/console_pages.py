"""Console pages after publishing: settings, conversations, the unanswered inbox, safety events
and analytics. Same session, CSRF and ownership checks as `console.py`; the data comes from
`doppel.agents.insights`, which the owner JSON API serves too."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from doppel.agents.repo import Agent
from doppel.agents.spec import AgentSpec
from doppel.errors import ValidationError
from doppel.serve.console import (
    ConsoleError,
    _agent,
    _app,
    _form,
    _lines,
    _session,
    _text,
    _to,
    render,
    router,
)

PAGE = 50
MAX_PARAPHRASES = 50

# --- settings -----------------------------------------------------------------------------------


@router.get("/agents/{slug}/settings", response_class=HTMLResponse)
def settings_page(slug: str, request: Request, error: str = "", saved: int = 0) -> Response:
    session = _session(request)
    agent = _agent(request, session, slug)
    return render(request, "settings.html", 422 if error else 200, session=session,
                  agent=agent, tab="settings", error=error, saved=bool(saved),
                  base=str(request.base_url).rstrip("/"))


@router.post("/agents/{slug}/settings")
async def save_settings(slug: str, request: Request) -> Response:
    session, form = await _form(request)
    agent = _agent(request, session, slug)
    data = agent.spec.model_dump()
    data.update(name=_text(form, "name", 120), persona=_text(form, "persona"),
                greeting=_text(form, "greeting", 500), rules=_lines(form, "rules"),
                public=form.get("public") == "1")
    data["contact"] = {k: _text(form, f"contact_{k}", 300)
                       for k in ("name", "email", "phone", "url", "hours")}
    data["shields"] |= {"competitors": _lines(form, "competitors"),
                        "forbidden_topics": _lines(form, "forbidden_topics")}
    rule_name = _text(form, "rule_name", 60)
    if rule_name:
        # An owner rule with examples: a description alone catches little (see the README's
        # shield evaluation), so the form asks for a few example messages too.
        data["shields"]["custom"] = [c for c in data["shields"]["custom"]
                                     if c["name"] != rule_name] + [{
            "name": rule_name, "description": _text(form, "rule_description", 500),
            "examples": _lines(form, "rule_examples"), "keywords": _lines(form, "rule_keywords"),
            "reply": _text(form, "rule_reply", 500)}]
    drop = _text(form, "drop_rule", 60)
    if drop:
        data["shields"]["custom"] = [c for c in data["shields"]["custom"] if c["name"] != drop]
    try:
        spec = AgentSpec.parse(data)
    except ValidationError as exc:
        return settings_page(slug, request, error=str(exc))
    _app(request).agents.update(spec)
    return _to(f"/console/agents/{slug}/settings?saved=1")


# --- conversations ------------------------------------------------------------------------------

@router.get("/agents/{slug}/conversations", response_class=HTMLResponse)
def conversations_page(slug: str, request: Request, q: str = "", page: int = 1) -> Response:
    session = _session(request)
    agent = _agent(request, session, slug)
    app = _app(request)
    page = max(page, 1)
    q = q.strip()[:200]
    rows: list[Any] = (
        app.insights.search_conversations(agent.id, q, PAGE, (page - 1) * PAGE) if q
        else app.conversations.list(agent.id, PAGE, (page - 1) * PAGE))
    return render(request, "conversations.html", session=session, agent=agent,
                  tab="conversations", rows=rows, q=q, page=page, more=len(rows) == PAGE)


@router.get("/agents/{slug}/conversations/{conversation_id}", response_class=HTMLResponse)
def conversation_page(slug: str, conversation_id: int, request: Request) -> Response:
    session = _session(request)
    agent = _agent(request, session, slug)
    turns = _app(request).conversations.turns(agent.id, conversation_id=conversation_id,
                                              limit=1000)
    if not turns:
        raise ConsoleError(404, f"There is no conversation #{conversation_id}.")
    return render(request, "conversation.html", session=session, agent=agent,
                  tab="conversations", turns=turns, conversation_id=conversation_id)


# --- the unanswered inbox -----------------------------------------------------------------------

@router.get("/agents/{slug}/inbox", response_class=HTMLResponse)
async def inbox_page(slug: str, request: Request, answered: int = 0) -> Response:
    session = _session(request)
    agent = _agent(request, session, slug)
    groups = await _run(_app(request).insights.inbox, agent.id)
    return render(request, "inbox.html", session=session, agent=agent, tab="inbox",
                  groups=groups[:100], total=len(groups), answered=answered)


@router.post("/agents/{slug}/inbox/answer")
async def inbox_answer(slug: str, request: Request) -> Response:
    session, form = await _form(request)
    agent = _agent(request, session, slug)
    question, answer = _text(form, "question", 2000), _text(form, "answer", 8000)
    if not question or not answer:
        raise ConsoleError(422, "Write an answer before sending it.")
    # The paraphrases the owner left ticked are approved with the same answer.
    also = [v.strip()[:2000] for v in form.getlist("also") if isinstance(v, str) and v.strip()]
    if len(also) > MAX_PARAPHRASES:
        raise ConsoleError(422, f"Tick at most {MAX_PARAPHRASES} similar questions at once.")
    added = await _run(_app(request).insights.answer_group, agent.id, question, answer, also)
    return _to(f"/console/agents/{slug}/inbox?answered={len(added)}")


@router.post("/agents/{slug}/inbox/dismiss")
async def inbox_dismiss(slug: str, request: Request) -> Response:
    session, form = await _form(request)
    agent = _agent(request, session, slug)
    question = _text(form, "question", 2000)
    if question:
        await _run(_app(request).insights.dismiss, agent.id, question)
    return _to(f"/console/agents/{slug}/inbox")


# --- safety and analytics -----------------------------------------------------------------------

@router.get("/agents/{slug}/safety", response_class=HTMLResponse)
def safety_page(slug: str, request: Request, category: str = "", days: int = 30) -> Response:
    session = _session(request)
    agent = _agent(request, session, slug)
    from doppel.safety.taxonomy import HAZARDS

    days = min(max(days, 1), 365)
    events = _app(request).insights.safety_events(
        agent.id, category=category[:40] or None, days=days, limit=100)
    return render(request, "safety.html", session=session, agent=agent, tab="safety",
                  page=events, category=category, days=days,
                  names={c.code: c.name for c in HAZARDS})


@router.get("/agents/{slug}/analytics", response_class=HTMLResponse)
async def analytics_page(slug: str, request: Request, days: int = 30) -> Response:
    session = _session(request)
    agent = _agent(request, session, slug)
    from doppel.serve import charts

    days = min(max(days, 1), 365)
    data = await _run(_app(request).insights.analytics, agent.id, days)
    per_day = charts.daily_chart([(d.date, d.conversations) for d in data.days],
                                 title="Conversations per day", unit="conversations")
    paths = charts.paths_chart({k: v.count for k, v in data.paths.items()})
    return render(request, "analytics.html", session=session, agent=agent, tab="analytics",
                  data=data, days=days, per_day=per_day, paths=paths)


# --- the voice profile form ---------------------------------------------------------------------

def voice_from_form(agent: Agent, form: FormData) -> dict[str, Any]:
    """The edited voice profile: every field of the profile is a form field of the same name
    (lists one item per line; examples as 'question => reply' lines)."""
    from doppel.agents.persona import VoiceProfile

    current = agent.spec.voice.model_dump() if agent.spec.voice else {}
    out: dict[str, Any] = {}
    for name, field in VoiceProfile.model_fields.items():
        if name not in form:
            if name in current:
                out[name] = current[name]
            continue
        annotation = str(field.annotation)
        if name == "examples":
            out[name] = _examples_from_lines(_lines(form, name), current.get(name) or [])
        elif annotation.startswith("list"):
            out[name] = _lines(form, name)
        else:
            out[name] = _text(form, name)
    return out


def _examples_from_lines(lines: list[str], current: list[Any]) -> list[Any]:
    examples = []
    for line in lines:
        question, sep, reply = line.partition("=>")
        if not sep:
            raise ValidationError(f"example {line[:40]!r}: write 'question => reply'")
        if current and isinstance(current[0], dict):
            keys = list(current[0])
            examples.append({keys[0]: question.strip(), keys[1]: reply.strip()})
        else:
            examples.append({"question": question.strip(), "reply": reply.strip()})
    return examples


async def _run(fn: Any, *args: Any, **kwargs: Any) -> Any:
    return await asyncio.to_thread(fn, *args, **kwargs)


__all__ = ["ConsoleError", "settings_page", "voice_from_form"]
