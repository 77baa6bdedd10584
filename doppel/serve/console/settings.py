"""The Settings tab: greeting, character, rules, contact, published or not, competitors, topics
to avoid, the owner's own rules with example messages, and what the agent can do: its tools,
time zone, memory, and when a person takes over."""

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
from doppel.tools.hours import describe, read_schedule, southern_zone

__all__ = ["router", "save_settings", "settings_from_form", "settings_page"]

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("/agents/{slug}/settings", response_class=HTMLResponse)
def settings_page(request: Request, agent: OwnedAgent, session: SignedIn, error: str = "",
                  saved: int = 0) -> Response:
    return _settings(request, session, agent, error=error, saved=bool(saved))


def _settings(request: Request, session: Session, agent: Agent, *, error: str = "",
              saved: bool = False, typed_values: dict[str, str] | None = None) -> Response:
    app = service(request)
    zone = agent.spec.timezone or app.settings.timezone
    schedule = read_schedule(app.index.search(agent.id, "opening hours open closed holidays",
                                              12), southern=southern_zone(zone)
                             ) if agent.knowledge_version else None
    hours = describe(schedule) if schedule else []
    return render(request, "settings.html", 422 if error else 200, session=session,
                  agent=agent, tab="settings", error=error, saved=saved,
                  typed=typed_values or {}, base=str(request.base_url).rstrip("/"),
                  tools=agent.spec.tool_names(),
                  tool_settings=agent.spec.tools or {},
                  secrets=dict(app.runtime.secrets.names(agent.id)),
                  web_search=bool(app.settings.web_search_url), hours=hours)


# Secrets the settings form takes: written when given, never shown again (blank: keep).
SECRET_FIELDS = {"secret_order_status": ("order_status.secret", "Order system signing secret"),
                 "secret_calendar": ("booking.calendar_password", "Calendar password"),
                 "secret_calcom": ("booking.calcom_api_key", "Cal.com API key"),
                 "secret_webhook": ("handoff.webhook_secret", "Webhook signing secret")}


@router.post("/agents/{slug}/settings")
async def save_settings(request: Request, form: Posted, agent: OwnedAgent,
                        session: SignedIn) -> Response:
    app = service(request)
    try:
        spec = AgentSpec.parse(settings_from_form(agent, form))
        secrets = {name: value for key, (name, label) in SECRET_FIELDS.items()
                   if (value := field(form, key, label, 512))}
        for name, value in secrets.items():
            if len(value) < 16:
                label = next(lb for n, lb in SECRET_FIELDS.values() if n == name)
                raise FormError(label, "at least 16 characters")
    except ValidationError as exc:
        return _settings(request, session, agent, error=message(exc), typed_values={
            k: v for k, v in typed(form).items() if k not in SECRET_FIELDS})
    app.agents.update(spec)
    for name, value in secrets.items():
        app.runtime.secrets.set(agent.id, name, value)
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
    _tools_from_form(data, form)
    return data


def _tools_from_form(data: dict[str, Any], form: FormData) -> None:
    """What the agent can do: its tools and their settings, its time zone, memory, and when
    a person takes over. The spec validates them (a tool's settings by the tool's own model)."""
    if "tools_form" not in form:  # an older form without the section: leave them as they are
        return
    current = data.get("tools") or {}
    tools: dict[str, Any] = {}
    for name in ("open_now", "catalog_lookup", "lead_capture", "booking", "order_status",
                 "web_search"):
        if flag(form, f"tool_{name}", name.replace("_", " ")):
            tools[name] = dict(current.get(name) or {})
    if "booking" in tools:
        minutes = field(form, "booking_slot_minutes", "Appointment length (minutes)", 4)
        if minutes and not minutes.isdigit():
            raise FormError("Appointment length (minutes)", "give a number of minutes")
        event = field(form, "booking_calcom_event_type", "Cal.com event type ID", 12)
        if event and not event.isdigit():
            raise FormError("Cal.com event type ID", "give the number Cal.com shows for it")
        tools["booking"] |= {
            "calendar_url": web_field(form, "booking_calendar_url", "Calendar address"),
            "calendar_user": field(form, "booking_calendar_user", "Calendar user name", 200),
            "calcom_event_type_id": int(event) if event else None,
            **({"slot_minutes": int(minutes)} if minutes else {})}
    if "order_status" in tools:
        tools["order_status"]["endpoint"] = web_field(form, "order_endpoint",
                                                      "Order system address")
    for name in ("mcp",):  # configured in agent.yaml: kept as they are
        if name in current:
            tools[name] = current[name]
    data["tools"] = tools
    data["timezone"] = field(form, "timezone", "Time zone", 64)
    data["memory"] = flag(form, "memory", "Remember customers")
    data["handoff"] = {
        "enabled": flag(form, "handoff_enabled", "A person can take over"),
        "reply_time": field(form, "handoff_reply_time", "What to expect", 200),
        "notify_email": email_field(form, "handoff_email", "E-mail me at"),
        "topics": field_lines(form, "handoff_topics", "Always a person for"),
        "webhook_url": (data.get("handoff") or {}).get("webhook_url", "")}


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
