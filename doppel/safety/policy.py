"""A per-agent shield policy: which shields run, how strict they are, and the owner's own rules.

Part of the agent's spec (``shields:`` in its YAML), so it is exported, imported and edited with
the rest of the agent. Every field has a safe default: an agent without a ``shields:`` section
gets the default shield set.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from doppel.safety.taxonomy import CODES

DEFAULT_INPUT = ["hazard", "injection", "jailguard", "topics"]
DEFAULT_OUTPUT = ["pii", "brand", "leakage", "topics"]
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
log = logging.getLogger(__name__)
# What an agent's llamaguard block once held. The server called that URL with the key named by
# that environment variable: any owner could send the server's secrets anywhere. Now only the
# operator names servers (DOPPEL_LLAMAGUARD_ENDPOINTS) and an agent picks one by name.
_OPERATOR_ONLY = ("base_url", "api_key_env", "model", "api", "timeout_s")
GUARD_HELP = ("Llama Guard servers are configured by the server's operator "
              "(DOPPEL_LLAMAGUARD_ENDPOINTS); an agent picks one by name: "
              "`llamaguard: {endpoint: NAME}` (default: the one named 'default')")


class CustomCategory(BaseModel):
    """An owner's rule, in plain language: "Don't discuss politics"."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Short id, e.g. 'politics'.")
    description: str = Field(description="What is off-limits, in plain words.")
    examples: list[str] = Field(default_factory=list,
                                description="Messages that break the rule (improve matching).")
    keywords: list[str] = Field(default_factory=list,
                                description="Words or phrases that always match the rule.")
    reply: str = Field("", description="What the agent says instead; default: the refusal.")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        value = value.strip().lower().replace(" ", "_")
        if not _NAME.match(value):
            raise ValueError("use up to 40 lowercase letters, digits, '_' or '-'")
        return value


class LlamaGuardChoice(BaseModel):
    """Which of the operator's Llama Guard servers the agent's llamaguard shield asks."""

    model_config = ConfigDict(extra="forbid")

    endpoint: str = Field("default", min_length=1, max_length=64,
                          description="A name from DOPPEL_LLAMAGUARD_ENDPOINTS.")

    @model_validator(mode="before")
    @classmethod
    def _no_owner_urls(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, dict):
            return data
        legacy = [k for k in _OPERATOR_ONLY if k in data]
        if not legacy:
            return data
        if (info.context or {}).get("stored"):
            # An agent saved before this change still loads; its URL is never called again.
            log.warning("ignoring the owner-set Llama Guard %s of a stored agent: %s",
                        "/".join(legacy), GUARD_HELP)
            return {k: v for k, v in data.items() if k not in _OPERATOR_ONLY}
        raise ValueError(f"{', '.join(legacy)} cannot be set on an agent. {GUARD_HELP}")


class ShieldPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    input: list[str] = Field(default_factory=lambda: list(DEFAULT_INPUT),
                             description="Shields run on the customer's message.")
    output: list[str] = Field(default_factory=lambda: list(DEFAULT_OUTPUT),
                              description="Shields run on each sentence of the answer.")
    thresholds: dict[str, float] = Field(
        default_factory=dict, description="Per shield or category score thresholds, "
        "e.g. {injection: 0.6, S6: 0.8}.")
    exclude: list[str] = Field(default_factory=list,
                               description="Hazard categories not enforced, e.g. [S6].")
    custom: list[CustomCategory] = Field(default_factory=list)
    forbidden_topics: list[str] = Field(
        default_factory=list, description="Shorthand for custom categories: 'politics'.")
    competitors: list[str] = Field(default_factory=list,
                                   description="Never praised or recommended.")
    redact_logs: bool = Field(True, description="Redact private data from stored turns.")
    llamaguard: LlamaGuardChoice | None = Field(
        None, description="The operator's Llama Guard server this agent's llamaguard shield "
        "asks; none: the one named 'default'.")
    on_error: Literal["open", "closed"] = Field(
        "open", description="A shield that fails: let the turn through (open) or refuse it "
        "(closed). Either way it is logged and counted.")
    refusal: str = Field(
        "", description="Refusal text; {name} and {offer} are filled in. Default: a short "
        "apology in the agent's voice offering what it can help with.")

    @field_validator("exclude")
    @classmethod
    def _codes(cls, value: list[str]) -> list[str]:
        value = [v.strip().upper() for v in value]
        unknown = [v for v in value if v not in CODES]
        if unknown:
            raise ValueError(f"unknown hazard categories {unknown} (known: S1..S14)")
        return value

    @field_validator("thresholds")
    @classmethod
    def _thresholds(cls, value: dict[str, float]) -> dict[str, float]:
        for key, threshold in value.items():
            if not 0.0 < threshold <= 1.0:
                raise ValueError(f"threshold {key}: must be in (0, 1]")
        return value

    @model_validator(mode="after")
    def _known_shields(self) -> ShieldPolicy:
        from doppel.safety.base import SHIELDS

        for stage, names in (("input", self.input), ("output", self.output)):
            for name in names:
                if name not in SHIELDS:
                    raise ValueError(f"unknown shield {name!r} "
                                     f"(known: {', '.join(SHIELDS.names())})")
                if stage not in SHIELDS.get(name).stages:
                    raise ValueError(f"shield {name!r} does not run on {stage}")
        return self

    def guard_endpoint(self) -> str | None:
        """The operator endpoint the llamaguard shield uses, or None when it is not on."""
        if "llamaguard" not in [*self.input, *self.output]:
            return None
        return self.llamaguard.endpoint if self.llamaguard else "default"

    def active(self, stage: str) -> list[str]:
        """The shields of a stage that have something to do for this policy."""
        if not self.enabled:
            return []
        names = self.input if stage == "input" else self.output
        idle = set()
        if not self.competitors:
            idle.add("brand")
        if not self.custom and not self.forbidden_topics:
            idle.add("topics")
        return [n for n in names if n not in idle]

    def categories(self) -> list[CustomCategory]:
        """Custom categories with the forbidden-topic shorthand expanded."""
        named = {c.name for c in self.custom}
        extra = [CustomCategory(name=re.sub(r"[^a-z0-9_-]+", "_", t.lower()).strip("_")[:40]
                                or "topic", description=t)
                 for t in self.forbidden_topics]
        return [*self.custom, *(c for c in extra if c.name not in named)]

    def threshold(self, key: str, default: float) -> float:
        return self.thresholds.get(key, default)
