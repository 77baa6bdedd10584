"""`Shields`: runs an agent's shield policy around a turn, like middleware.

- `check_input`: every input shield of the policy on the customer's message, concurrently (and
  concurrently with retrieval: the runtime starts it first and awaits it before anything is
  shown). Any block refuses the turn.
- `check_output`: every output shield on one sentence of the draft before the customer sees it;
  a block stops generation (the turn falls back to quoting the owner's content), a rewrite
  (redaction) replaces the sentence.

A shield that fails (endpoint down, model missing, timeout, bug) never crashes the turn: it is
logged and counted, and the policy's ``on_error`` lets the turn through (open) or refuses it
(closed).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from doppel.config import Settings
from doppel.models.base import Embedder
from doppel.safety.base import (
    SHIELDS,
    Shield,
    ShieldContext,
    ShieldReport,
    ShieldServices,
    Stage,
    SyncShield,
    Verdict,
)
from doppel.safety.pii import redact
from doppel.safety.policy import ShieldPolicy

log = logging.getLogger(__name__)
SHIELD_TIMEOUT_S = 15.0  # a backstop only: remote shields have their own, shorter timeouts

SELF_HARM_REPLY = ("I'm really sorry you're going through this. You don't have to face it alone: "
                   "please reach out to someone you trust, or call or text a local crisis line "
                   "(in the US and Canada, 988) or your local emergency number right away.")


class Shields:
    """One per process; shields are built on first use and shared by all agents."""

    def __init__(self, settings: Settings, embedder: Embedder | Callable[[], Embedder]) -> None:
        self.services = ShieldServices(settings, embedder)
        self._built: dict[str, Shield] = {}

    def shield(self, name: str) -> Shield:
        if name not in self._built:
            self._built[name] = SHIELDS.get(name).build(self.services)
        return self._built[name]

    async def run(self, stage: Stage, names: Sequence[str], ctx: ShieldContext) -> ShieldReport:
        verdicts = await asyncio.gather(*(self._one(name, ctx) for name in names))
        return ShieldReport(stage, list(verdicts))

    async def _one(self, name: str, ctx: ShieldContext) -> Verdict:
        started = time.perf_counter()
        try:
            shield = self.shield(name)
            if isinstance(shield, SyncShield):
                # Local CPU work: a timeout could not stop its thread anyway, and the first
                # call may legitimately train the classifier (seconds, once per data directory).
                verdict = await shield.check(ctx)
            else:
                verdict = await asyncio.wait_for(shield.check(ctx), SHIELD_TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001 - a shield must never crash the turn
            reason = f"{type(exc).__name__}: {exc}"[:300]
            log.warning("shield %s failed (%s); failing %s", name, reason, ctx.policy.on_error)
            closed = ctx.policy.on_error == "closed"
            verdict = Verdict(name, "block" if closed else "allow",
                              ["shield_error"] if closed else [], {},
                              "shield unavailable", error=reason)
        verdict.latency_ms = (time.perf_counter() - started) * 1000
        return verdict

    async def check_input(self, policy: ShieldPolicy, message: str, *, agent_name: str = "",
                          history: Sequence[tuple[str, str]] = (),
                          embed: Callable[[str], np.ndarray] | None = None,
                          ctx: ShieldContext | None = None) -> ShieldReport:
        ctx = ctx or self.input_context(policy, message, agent_name=agent_name,
                                        history=history, embed=embed)
        names = policy.active("input")
        if not names:
            return ShieldReport("input")
        return await self.run("input", names, ctx)

    def input_context(self, policy: ShieldPolicy, message: str, *, agent_name: str = "",
                      history: Sequence[tuple[str, str]] = (),
                      embed: Callable[[str], np.ndarray] | None = None) -> ShieldContext:
        return ShieldContext("input", message, policy, agent_name, history,
                             embed=embed or self._embed)

    async def check_output(self, policy: ShieldPolicy, sentence: str, *, question: str = "",
                           evidence: Sequence[str] = (), instructions: str = "",
                           agent_name: str = "") -> ShieldReport:
        names = policy.active("output")
        if not names:
            return ShieldReport("output")
        ctx = ShieldContext("output", sentence, policy, agent_name, question=question,
                            evidence=evidence, instructions=instructions, embed=self._embed)
        return await self.run("output", names, ctx)

    def _embed(self, text: str) -> np.ndarray:
        return self.services.get_embedder().embed([text])[0]

    def redact_for_log(self, policy: ShieldPolicy, text: str, allowed: Sequence[str]) -> str:
        if not policy.enabled or not policy.redact_logs:
            return text
        return redact(text, allowed)[0]


def rewritten(report: ShieldReport, text: str) -> str:
    for verdict in report.verdicts:
        if verdict.action == "rewrite" and verdict.rewritten is not None:
            text = verdict.rewritten
    return text


_HELP_SENTENCE = re.compile(r"[^.!?]*\b(help|ask me)\b[^.!?]*[.!?]", re.IGNORECASE)


def refusal(spec: Any, report: ShieldReport | None = None) -> str:
    """A short refusal in the agent's voice that offers what it can help with."""
    policy: ShieldPolicy = spec.shields
    categories = report.categories() if report else []
    if "S11" in categories:
        return SELF_HARM_REPLY
    for category in policy.categories():
        if category.name in categories and category.reply:
            return category.reply
    offer_match = _HELP_SENTENCE.search(spec.greeting or "")
    offer = (offer_match.group(0).strip() if offer_match
             else f"I can help with questions about {spec.name}.")
    if policy.refusal:
        return policy.refusal.replace("{name}", spec.name).replace("{offer}", offer)
    if any(c in categories for c in ("injection", "leakage")):
        return f"Sorry, I can't do that. {offer}"
    return f"Sorry, I can't help with that. {offer}"
