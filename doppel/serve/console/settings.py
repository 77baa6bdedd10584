"""The Settings tab: greeting, character, rules, contact, published or not, competitors, topics
to avoid, and the owner's own rules with example messages."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError as PydanticValidationError
from starlette.datastructures import FormData

from doppel.agents.repo import Agent
from doppel.agents.spec import AgentSpec
from doppel.errors import ValidationError
from doppel.safety.policy import CustomCategory
from doppel.serve.console.deps import OwnedAgent, Posted, SignedIn, redirect, render, service
from doppel.serve.console.forms import (
    FormError,
    email_field,
    field,
    field_lines,
    flag,
    message,
    phone_field,
    typed,
    web_field,
)
from doppel.serve.sessions import Session

__all__ = ["router", "save_settings", "settings_from_form", "settings_page"]

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("/agents/{slug}/settings", response_class=HTMLResponse)
def settings_page(request: Request, agent: OwnedAgent, session: SignedIn, error: str = "",
                  saved: int = 0) -> Response:
    return _settings(request, session, agent, error=error, saved=bool(saved))


def _settings(request: Request, session: Session, agent: Agent, *, error: str = "",
              saved: bool = False, typed_values: dict[str, str] | None = None) -> Response:
    return render(request, "settings.html", 422 if error else 200, session=session,
                  agent=agent, tab="settings", error=error, saved=saved,
                  typed=typed_values or {}, base=str(request.base_url).rstrip("/"))


@router.post("/agents/{slug}/settings")
async def save_settings(request: Request, form: Posted, agent: OwnedAgent,
                        session: SignedIn) -> Response:
    try:
        spec = AgentSpec.parse(settings_from_form(agent, form))
    except ValidationError as exc:
        return _settings(request, session, agent, error=message(exc), typed_values=typed(form))
    service(request).agents.update(spec)
    return redirect(f"/console/agents/{agent.slug}/settings?saved=1")


def settings_from_form(agent: Agent, form: FormData) -> dict[str, Any]:
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
