"""Console pages after publishing: settings, conversations, the unanswered inbox, safety events
and analytics. Same session, CSRF and ownership checks as `console.py`; the data comes from
`doppel.agents.insights`, which the owner JSON API serves too."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError as PydanticValidationError
from starlette.datastructures import FormData

from doppel.agents.repo import Agent
from doppel.agents.spec import AgentSpec
from doppel.errors import ValidationError
from doppel.safety.policy import CustomCategory
from doppel.serve.console import (
    ConsoleError,
    FormError,
    _agent,
    _app,
    _form,
    _session,
    _to,
    email_field,
    field,
    field_lines,
    flag,
    message,
    phone_field,
    render,
    router,
    typed,
    web_field,
)

PAGE = 50
MAX_PAGE = 1_000_000  # conversations pages: past it the offset is no page anyone reads
MAX_ID = 2 ** 63 - 1  # SQLite's largest integer
MAX_PARAPHRASES = 50

# --- settings -----------------------------------------------------------------------------------


@router.get("/agents/{slug}/settings", response_class=HTMLResponse)
def settings_page(slug: str, request: Request, error: str = "", saved: int = 0) -> Response:
    return _settings(request, slug, error=error, saved=bool(saved))


def _settings(request: Request, slug: str, *, error: str = "", saved: bool = False,
              typed_values: dict[str, str] | None = None) -> Response:
    session = _session(request)
    agent = _agent(request, session, slug)
    return render(request, "settings.html", 422 if error else 200, session=session,
                  agent=agent, tab="settings", error=error, saved=saved,
                  typed=typed_values or {}, base=str(request.base_url).rstrip("/"))


@router.post("/agents/{slug}/settings")
async def save_settings(slug: str, request: Request) -> Response:
    session, form = await _form(request)
    agent = _agent(request, session, slug)
    try:
        spec = AgentSpec.parse(_settings_from_form(agent, form))
    except ValidationError as exc:
        return _settings(request, slug, error=message(exc), typed_values=typed(form))
    _app(request).agents.update(spec)
    return _to(f"/console/agents/{slug}/settings?saved=1")


def _settings_from_form(agent: Agent, form: FormData) -> dict[str, Any]:
    """The spec as the settings form changes it; FormError for a field's bad value."""
    data = agent.spec.model_dump()
    data.update(name=field(form, "name", "Name", 120, required=True),
                persona=field(form, "persona", "Character", 4000),
                greeting=field(form, "greeting", "Greeting", 500),
                rules=field_lines(form, "rules", "Rules", each=500),
                public=flag(form, "public", "Published"))
    data["contact"] = {"name": field(form, "contact_name", "Contact name", 120),
                       "email": email_field(form, "contact_email", "E-mail"),
                       "phone": phone_field(form, "contact_phone", "Phone"),
                       "url": web_field(form, "contact_url", "Website"),
                       "hours": field(form, "contact_hours", "When someone answers", 200)}
    data["shields"] |= {
        "competitors": field_lines(form, "competitors", "Competitors"),
        "forbidden_topics": field_lines(form, "forbidden_topics", "Topics it stays away from")}
    custom = data["shields"]["custom"]
    rule = _owner_rule(form)
    if rule is not None:
        custom = [c for c in custom if c["name"] != rule["name"]] + [rule]
    drop = field(form, "drop_rule", "Your own rules", 60)
    if drop:
        if drop not in [c["name"] for c in custom]:
            raise FormError("Your own rules", f"there is no rule called “{drop}”")
        custom = [c for c in custom if c["name"] != drop]
    data["shields"]["custom"] = custom
    return data


def _owner_rule(form: FormData) -> dict[str, Any] | None:
    """The rule added in 'Add a rule', if any. A description alone catches little (see the
    README's shield evaluation), so the form asks for a few example messages too."""
    parts = {"description": field(form, "rule_description", "What is off-limits", 500),
             "examples": field_lines(form, "rule_examples", "Example messages", each=500,
                                     most=50),
             "keywords": field_lines(form, "rule_keywords", "Keywords"),
             "reply": field(form, "rule_reply", "What it says instead", 500)}
    name = field(form, "rule_name", "Short name", 60)
    if not name:
        if any(parts.values()):
            raise FormError("Short name", "give the new rule a short name, e.g. "
                            "no-medical-advice")
        return None
    if not parts["description"]:
        raise FormError("What is off-limits", "say what the rule keeps the agent from, e.g. "
                        "“Giving medical advice”")
    try:
        return CustomCategory(name=name, **parts).model_dump()
    except PydanticValidationError as exc:
        problem = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        raise FormError("Short name", problem) from None


# --- conversations ------------------------------------------------------------------------------

@router.get("/agents/{slug}/conversations", response_class=HTMLResponse)
def conversations_page(slug: str, request: Request, q: str = "", page: int = 1) -> Response:
    session = _session(request)
    agent = _agent(request, session, slug)
    app = _app(request)
    page = min(max(page, 1), MAX_PAGE)
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
                                              limit=1000) if 0 < conversation_id <= MAX_ID else []
    if not turns:
        raise ConsoleError(404, f"There is no conversation #{conversation_id}.")
    return render(request, "conversation.html", session=session, agent=agent,
                  tab="conversations", turns=turns, conversation_id=conversation_id)


# --- the unanswered inbox -----------------------------------------------------------------------

@router.get("/agents/{slug}/inbox", response_class=HTMLResponse)
async def inbox_page(slug: str, request: Request, answered: int = 0) -> Response:
    return await _inbox(request, slug, answered=answered)


async def _inbox(request: Request, slug: str, *, answered: int = 0, error: str = "",
                 typed_values: dict[str, str] | None = None) -> Response:
    """The inbox; with an error, shown on the question's own form with the answer typed."""
    session = _session(request)
    agent = _agent(request, session, slug)
    groups = await _run(_app(request).insights.inbox, agent.id)
    values = typed_values or {}
    here = bool(error) and values.get("question") in [g.question for g in groups[:100]]
    return render(request, "inbox.html", 422 if error else 200, session=session, agent=agent,
                  tab="inbox", groups=groups[:100], total=len(groups), answered=answered,
                  error=error, typed=values if here else {}, error_on_group=here)


@router.post("/agents/{slug}/inbox/answer")
async def inbox_answer(slug: str, request: Request) -> Response:
    session, form = await _form(request)
    agent = _agent(request, session, slug)
    try:
        question = field(form, "question", "Question", 2000, required=True)
        answer = field(form, "answer", "Your answer", 8000)
        if not answer:
            raise FormError("Your answer", "Write an answer before sending it.")
        also = _paraphrases(form)
    except ValidationError as exc:
        return await _inbox(request, slug, error=message(exc), typed_values=typed(form))
    added = await _run(_app(request).insights.answer_group, agent.id, question, answer, also)
    return _to(f"/console/agents/{slug}/inbox?answered={len(added)}")


def _paraphrases(form: FormData) -> list[str]:
    """The similar questions the owner left ticked: approved with the same answer."""
    label = "Similar questions"
    values = form.getlist("also")
    if len(values) > MAX_PARAPHRASES:
        raise FormError(label, f"tick at most {MAX_PARAPHRASES} at once")
    also = []
    for value in values:
        if not isinstance(value, str):
            raise FormError(label, "expected text, not a file")
        value = value.strip()
        if len(value) > 2000:
            raise FormError(label, f"at most 2000 characters each (one has {len(value)})")
        if value:
            also.append(value)
    return also


@router.post("/agents/{slug}/inbox/dismiss")
async def inbox_dismiss(slug: str, request: Request) -> Response:
    session, form = await _form(request)
    agent = _agent(request, session, slug)
    try:
        question = field(form, "question", "Question", 2000, required=True)
    except ValidationError as exc:
        return await _inbox(request, slug, error=message(exc))
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


async def _run(fn: Any, *args: Any, **kwargs: Any) -> Any:
    return await asyncio.to_thread(fn, *args, **kwargs)


__all__ = ["ConsoleError", "settings_page", "voice_from_form"]
