"""A per-agent shield policy: which shields run, how strict they are, and the owner's own rules.

Part of the agent's spec (``shields:`` in its YAML), so it is exported, imported and edited with
the rest of the agent. Every field has a safe default: an agent without a ``shields:`` section
gets the default shield set.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from doppel.safety.taxonomy import CODES

DEFAULT_INPUT = ["hazard", "injection", "jailguard", "topics"]
DEFAULT_OUTPUT = ["pii", "brand", "leakage", "topics"]
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


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


class LlamaGuardEndpoint(BaseModel):
    """Any OpenAI-compatible server hosting Llama Guard 3 (vLLM, Ollama, a provider)."""

    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(description="e.g. http://127.0.0.1:8000/v1")
    model: str = "meta-llama/Llama-Guard-3-8B"
    api: Literal["completions", "chat"] = Field(
        "completions", description="completions: doppel writes the model card's prompt; "
        "chat: the server's chat template does (excluded and custom categories then need "
        "a template that accepts them).")
    api_key_env: str = Field("", description="Environment variable holding the API key.")
    timeout_s: float = Field(5.0, gt=0, le=60)


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
    llamaguard: LlamaGuardEndpoint | None = None
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
    def _known_shields(self) -> "ShieldPolicy":
        from doppel.safety.base import SHIELDS

        for stage, names in (("input", self.input), ("output", self.output)):
            for name in names:
                if name not in SHIELDS:
                    raise ValueError(f"unknown shield {name!r} "
                                     f"(known: {', '.join(SHIELDS.names())})")
                if stage not in SHIELDS.get(name).stages:
                    raise ValueError(f"shield {name!r} does not run on {stage}")
        if "llamaguard" in [*self.input, *self.output] and self.llamaguard is None:
            raise ValueError("the llamaguard shield needs `llamaguard: {base_url: ...}`")
        return self

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
