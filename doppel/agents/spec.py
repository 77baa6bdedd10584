"""AgentSpec: who the agent is, how it speaks, what it may do, and whom to hand over to.

Stored in the database as JSON, exported and imported as YAML (`doppel agents export|import`).
"""

from __future__ import annotations

import re
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from doppel.agents.profile import VoiceProfile
from doppel.errors import ValidationError
from doppel.safety.policy import ShieldPolicy

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


def _check_public(url: str) -> None:
    from doppel.net import FetchError, address_refusal, parse_ip_host

    try:
        parsed = httpx.URL(url)
        ip = parse_ip_host(parsed.host)
    except (httpx.InvalidURL, FetchError):
        raise ValueError("give a web address such as https://bakery.example") from None
    if parsed.userinfo:
        raise ValueError("a web address must not hold a user name or password")
    host = parsed.host.rstrip(".").lower()
    reason = address_refusal(ip) if ip is not None else (
        "this machine's own name" if host == "localhost" or host.endswith(".localhost")
        else None)
    if reason:
        raise ValueError(f"give a public web address ({parsed.host} is {reason})")


class Contact(BaseModel):
    """How a customer reaches a human."""

    model_config = ConfigDict(extra="forbid")

    name: str = ""
    email: str = ""
    phone: str = ""
    url: str = ""
    hours: str = ""
    address: str = ""

    @field_validator("url")
    @classmethod
    def _web_address(cls, value: str, info: ValidationInfo) -> str:
        """Only a public web address: it becomes a link on the public chat page, where a
        `javascript:` URL would run in the console's origin. doppel never fetches it, but a
        link to 127.0.0.1 or 169.254.169.254 sends a customer's browser into its own network,
        and a password in it would be shown to everyone."""
        value = value.strip()
        if value and not re.match(r"^https?://[^\s/]+\.[^\s]+$", value, re.I):
            if not re.match(r"^[\w-]+(\.[\w-]+)+(/\S*)?$", value):
                raise ValueError("give a web address such as https://bakery.example")
            value = "https://" + value  # "bakery.example" as owners write it
        if value and not (info.context or {}).get("stored"):
            _check_public(value)
        return value

    def summary(self) -> str:
        parts = [p for p in (self.phone, self.email, self.url) if p]
        return " · ".join(parts)


class HandoffPolicy(BaseModel):
    """When the conversation goes to a person, and what the customer is told."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="Customers can ask for a person.")
    topics: list[str] = Field(default_factory=list, description="Subjects a person always "
                              "handles (\"refunds\", \"complaints\"): a message about one goes "
                              "to a person.")
    reply_time: str = Field("", description="What to expect, in the owner's words (\"we "
                            "usually reply within an hour\").")
    notify_email: str = Field("", description="Where the owner is e-mailed about a handoff, "
                              "a lead or a booking request (needs DOPPEL_SMTP_HOST).")
    webhook_url: str = Field("", description="A public HTTPS address that receives the same "
                             "notifications as JSON, signed with the agent's secret "
                             "handoff.webhook_secret (X-Doppel-Signature).")

    @field_validator("webhook_url")
    @classmethod
    def _webhook(cls, value: str, info: ValidationInfo) -> str:
        value = value.strip()
        if value and not re.match(r"^https?://[^\s/]+", value, re.I):
            raise ValueError("give a web address such as https://hooks.bakery.example/doppel")
        if value and not (info.context or {}).get("stored"):
            _check_public(value)
        return value

    @field_validator("notify_email")
    @classmethod
    def _email(cls, value: str) -> str:
        value = value.strip()
        if value and not re.fullmatch(r"[^@\s]{1,64}@[^@\s]{1,190}\.[A-Za-z]{2,24}", value):
            raise ValueError("give an e-mail address such as owner@bakery.example")
        return value


class AgentSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: str = Field(description="URL-safe id: lowercase letters, digits and dashes.")
    name: str = Field(description="Display name.")
    kind: Literal["business", "creator"] = "business"
    persona: str = Field("", description="Voice and character, in plain words.")
    voice: VoiceProfile | None = Field(None, description="Voice measured from the owner's "
                                       "posts or site, as edited by the owner.")
    goals: list[str] = Field(default_factory=list)
    rules: list[str] = Field(default_factory=list)
    greeting: str = ""
    contact: Contact = Field(default_factory=Contact)
    model: str = Field("", description="Chat backend name; empty: the configured default.")
    public: bool = Field(False, description="Anyone may chat with it (its page and widget).")
    sources: list[str] = Field(default_factory=list, description="Knowledge sources ingested.")
    shields: ShieldPolicy = Field(default_factory=ShieldPolicy,
                                  description="Input and output shields and the owner's rules.")
    timezone: str = Field("", description="IANA time zone of the business (\"Europe/London\"); "
                          "empty: the server's DOPPEL_TIMEZONE.")
    tools: dict[str, dict[str, Any]] | None = Field(
        None, description="The tools the agent may use, each with its settings ({} for none): "
        "{\"open_now\": {}, \"booking\": {\"calendar_url\": \"https://...\"}}. Absent: the "
        "default tools (catalog_lookup, lead_capture).")
    handoff: HandoffPolicy = Field(default_factory=HandoffPolicy,
                                   description="When a person takes the conversation.")
    memory: bool = Field(False, description="Remember what each customer says about "
                         "themselves (name, usual order, allergies) for their next messages; "
                         "they can say \"forget me\" at any time.")

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        value = value.strip()
        if value:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {value!r} (use an IANA name such as "
                                 "'America/New_York')") from None
        return value

    @field_validator("tools")
    @classmethod
    def _tools(cls, value: dict[str, dict[str, Any]] | None, info: ValidationInfo
               ) -> dict[str, dict[str, Any]] | None:
        """Each tool known, its settings valid for it (and stored as validated). A stored spec
        keeps a tool whose plug-in is no longer installed (unused until it is back)."""
        if value is None:
            return None
        from doppel.tools import TOOLS

        out: dict[str, dict[str, Any]] = {}
        for name, settings in value.items():
            if name not in TOOLS and (info.context or {}).get("stored"):
                out[name] = settings
                continue
            if name not in TOOLS:
                raise ValueError(f"unknown tool {name!r} (known: {', '.join(TOOLS.names())})")
            try:
                parsed = TOOLS.get(name).Settings.model_validate(settings or {})
            except PydanticValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"])
                raise ValueError(f"{name}{'.' + where if where else ''}: {first['msg']}"
                                 ) from None
            out[name] = parsed.model_dump()
        return out

    def tool_names(self) -> list[str]:
        """The tools this agent uses, in registration order."""
        from doppel.tools import TOOLS, default_tools

        wanted = set(self.tools) if self.tools is not None else set(default_tools())
        return [n for n in TOOLS.names() if n in wanted]

    @model_validator(mode="after")
    def _valid_unicode(self) -> AgentSpec:
        try:
            self.model_dump_json()
        except Exception:
            raise ValueError("text contains invalid Unicode (lone surrogates)") from None
        return self

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError("use 1-64 lowercase letters, digits and dashes, e.g. 'corner-bakery'")
        return value

    @field_validator("model")
    @classmethod
    def _model(cls, value: str) -> str:
        from doppel.models import BACKENDS

        if value and value not in BACKENDS:
            raise ValueError(f"unknown chat backend {value!r} (known: "
                             f"{', '.join(BACKENDS.names())})")
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value.strip()

    def evidence_texts(self) -> list[str]:
        """The parts of the spec that count as evidence for grounding: the owner's own words."""
        c = self.contact
        # The voice profile's greetings, sign-offs and sample replies are the owner's own words
        # (reviewed in the console): a draft that copies the sample reply is not inventing.
        voice = ([*self.voice.greetings, *self.voice.sign_offs,
                  *(e.reply for e in self.voice.examples)] if self.voice else [])
        return [self.name, self.persona, self.greeting, *self.goals, *self.rules,
                c.name, c.email, c.phone, c.url, c.hours, c.address, *voice]

    # --- YAML -----------------------------------------------------------------------------
    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(exclude_defaults=False), sort_keys=False,
                              allow_unicode=True, width=100)

    @classmethod
    def from_yaml(cls, text: str) -> AgentSpec:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ValidationError(f"invalid YAML: {str(exc).splitlines()[0]}") from None
        if not isinstance(data, dict):
            raise ValidationError("an agent file must be a YAML mapping")
        return cls.parse(data)

    @classmethod
    def parse(cls, data: dict[str, object]) -> AgentSpec:
        try:
            return cls.model_validate(data)
        except PydanticValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "agent"
            raise ValidationError(f"{where}: {first['msg']}") from None


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:64].rstrip("-") or "agent"
