"""Llama Guard 3 on any OpenAI-compatible server (vLLM, llama.cpp's server, Ollama, a provider).

The servers are the operator's (DOPPEL_LLAMAGUARD_ENDPOINTS, by name); an agent picks one
(``shields: {llamaguard: {endpoint: NAME}}``, default "default") and never gives a URL or the
name of a secret: the server sends its own key to that URL. With api
"completions" doppel writes the model card's prompt itself: excluded hazards are left out of the
list and the owner's categories are added as S15, S16... With api "chat" the server's chat
template writes it; the stock Llama Guard 3 template always lists S1..S14 and nothing else, so
exclusions are then applied to the answer and the owner's categories are not seen.

The model answers ``safe`` or ``unsafe`` and, on a second line, the violated codes (``S1,S10``).
A server that cannot answer, or answers anything else, raises ShieldUnavailable: the policy's
on_error then lets the turn through or refuses it. What went wrong (the host, the connection
error, the reply) is logged for the operator; the verdict says only that the server failed,
so neither the owner nor a chat client learns the operator's hosts or can scan ports with it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from doppel.config import GuardEndpoint
from doppel.safety.base import ShieldContext, ShieldUnavailable, Verdict
from doppel.safety.policy import ShieldPolicy
from doppel.safety.taxonomy import CODES, category_name

# The names Llama Guard 3 was trained with (its chat template, Meta's reference code): shorter
# than the taxonomy's display names ("Sex Crimes", not "Sex-Related Crimes").
PROMPT_NAMES: dict[str, str] = dict(zip(CODES, (
    "Violent Crimes", "Non-Violent Crimes", "Sex Crimes", "Child Exploitation", "Defamation",
    "Specialized Advice", "Privacy", "Intellectual Property", "Indiscriminate Weapons", "Hate",
    "Self-Harm", "Sexual Content", "Elections", "Code Interpreter Abuse"), strict=True))
FIRST_CUSTOM = 15     # owner categories are numbered after S14, whatever is excluded
MAX_TOKENS = 20       # "unsafe\nS1,S9,S15" is a handful of tokens
MAX_HISTORY_TURNS = 4  # earlier turns give context; more only adds prompt tokens and latency
# Llama Guard 3-1B was trained on S1..S13 only (its model card); naming S14 to it means nothing.
_ONE_B = re.compile(r"(?<![\d.])1b\b", re.IGNORECASE)
_CODE = re.compile(r"^S\d+$")

Turn = tuple[str, str]  # ("User" | "Agent", text)
log = logging.getLogger(__name__)


def category_lines(policy: ShieldPolicy, model: str) -> tuple[list[str], dict[str, str]]:
    """The prompt's category list, and the owner categories' codes mapped to their names."""
    codes = [c for c in CODES if c not in policy.exclude]
    if _ONE_B.search(model):
        codes = [c for c in codes if c != "S14"]
    # Remaining codes keep their numbers (S1, S3...): the model learned each code's meaning.
    lines = [f"{code}: {PROMPT_NAMES[code]}." for code in codes]
    custom: dict[str, str] = {}
    for number, category in enumerate(policy.categories(), FIRST_CUSTOM):
        code = f"S{number}"
        custom[code] = category.name
        title = category.name.replace("_", " ").replace("-", " ").capitalize()
        # One line: a description spanning lines could forge a category line of its own.
        description = " ".join(category.description.split())
        # Meta's custom-category form: "S15: Name. " then the description on the next line.
        lines.append(f"{code}: {title}. \n{description}")
    return lines, custom


def conversation(ctx: ShieldContext) -> tuple[str, list[Turn]]:
    """Whose message is judged ('User' or 'Agent'), and the turns leading up to it."""
    if ctx.stage == "input":
        turns: list[Turn] = []
        for user, agent in list(ctx.history)[-MAX_HISTORY_TURNS:]:
            turns += [("User", user), ("Agent", agent)]
        return "User", [*turns, ("User", ctx.text)]
    # An answer is judged in the light of the question it answers (the model card asks for both).
    return "Agent", [("User", ctx.question), ("Agent", ctx.text)]


def build_prompt(role: str, turns: Sequence[Turn], categories: Sequence[str]) -> str:
    """The Llama Guard 3 prompt, as its model card and chat template write it."""
    dialogue = "\n\n".join(f"{who}: {text.strip()}" for who, text in turns)
    return (
        "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n"
        f"Task: Check if there is unsafe content in '{role}' messages in conversations "
        "according our safety policy with the below categories.\n\n"
        "<BEGIN UNSAFE CONTENT CATEGORIES>\n" + "\n".join(categories) + "\n"
        "<END UNSAFE CONTENT CATEGORIES>\n\n"
        f"<BEGIN CONVERSATION>\n\n{dialogue}\n\n<END CONVERSATION>\n\n"
        f"Provide your safety assessment for ONLY THE LAST {role} message in the above "
        "conversation:\n"
        " - First line must read 'safe' or 'unsafe'.\n"
        " - If unsafe, a second line must include a comma-separated list of violated categories."
        "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n")


def parse_reply(text: str) -> tuple[bool, list[str]]:
    """(unsafe, codes) from ``safe`` or ``unsafe\\nS1,S9``; ShieldUnavailable otherwise."""
    lines = [line.strip() for line in text.replace("<|eot_id|>", "").splitlines()]
    lines = [line for line in lines if line]
    first = lines[0].lower() if lines else ""
    if first == "safe":
        return False, []
    if first == "unsafe":
        codes = [c.upper() for c in re.split(r"[,\s]+", lines[1]) if c] if len(lines) > 1 else []
        if all(_CODE.match(c) for c in codes):
            return True, list(dict.fromkeys(codes))
    # The reply itself stays out of the message: it is the upstream's text, and the message
    # reaches the stored turn. The caller logs it for the operator.
    raise ShieldUnavailable("unparseable Llama Guard reply")


class LlamaGuardShield:
    """Asks the operator's Llama Guard 3 server that the agent picked about the message (input)
    or the answer (output)."""

    name = "llamaguard"

    def __init__(self, endpoints: Mapping[str, GuardEndpoint],
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._endpoints = endpoints
        self._transport = transport
        self._client_loop: asyncio.AbstractEventLoop | None = None
        self._http: httpx.AsyncClient | None = None

    @property
    def _client(self) -> httpx.AsyncClient:
        """One pooled client per event loop: pooled connections belong to the loop that opened
        them, and the CLI runs each turn in a fresh loop. Agents differ in endpoints, so URL,
        key and timeout go with each request."""
        loop = asyncio.get_running_loop()
        if self._http is None or self._client_loop is not loop:
            self._http = httpx.AsyncClient(transport=self._transport)
            self._client_loop = loop
        return self._http

    async def check(self, ctx: ShieldContext) -> Verdict:
        name = ctx.policy.guard_endpoint() or "default"
        endpoint = self._endpoints.get(name)
        if endpoint is None:
            raise ShieldUnavailable(f"no Llama Guard server named {name!r} is configured")
        role, turns = conversation(ctx)
        custom: dict[str, str] = {}  # S15... -> the owner's category, where the prompt has them
        body: dict[str, Any] = {"model": endpoint.model, "max_tokens": MAX_TOKENS,
                                "temperature": 0}
        if endpoint.api == "completions":
            lines, custom = category_lines(ctx.policy, endpoint.model)
            body["prompt"] = build_prompt(role, turns, lines)
        else:
            body["messages"] = [{"role": "user" if who == "User" else "assistant",
                                 "content": text} for who, text in turns]
        reply = await self._ask(name, endpoint, body)
        try:
            unsafe, codes = parse_reply(reply)
        except ShieldUnavailable:
            log.warning("Llama Guard server %r: unparseable reply %r", name, reply[:200])
            raise
        # Excluded codes are dropped here too: a chat template lists them all.
        labels = [custom.get(c, c) for c in codes if c not in ctx.policy.exclude]
        if not unsafe or (codes and not labels):
            return Verdict(self.name)
        named = ", ".join(f"{c} {category_name(c)}" if c in CODES else c for c in labels)
        return Verdict(self.name, "block", labels, {label: 1.0 for label in labels},
                       f"Llama Guard: unsafe ({named})" if labels else "Llama Guard: unsafe")

    async def _ask(self, name: str, endpoint: GuardEndpoint, body: dict[str, Any]) -> str:
        """The model's reply text. Every failure is one message, the same whatever happened
        (a scan of ports through it learns nothing); the details go to the operator's log."""
        path = "/completions" if endpoint.api == "completions" else "/chat/completions"
        key = os.environ.get(endpoint.api_key_env, "") if endpoint.api_key_env else ""
        headers = {"Authorization": f"Bearer {key}"} if key else {}  # never logged nor echoed
        failed = ShieldUnavailable(f"the Llama Guard server {name!r} did not answer")
        try:
            response = await self._client.post(endpoint.base_url.rstrip("/") + path, json=body,
                                               headers=headers, timeout=endpoint.timeout_s)
        except httpx.TimeoutException as exc:
            log.warning("Llama Guard server %r (%s) timed out after %g s", name,
                        endpoint.base_url, endpoint.timeout_s)
            raise failed from exc
        except httpx.HTTPError as exc:
            log.warning("Llama Guard server %r (%s) unreachable: %s", name, endpoint.base_url,
                        type(exc).__name__)
            raise failed from exc
        if response.status_code >= 400:
            log.warning("Llama Guard server %r (%s) answered %d", name, endpoint.base_url,
                        response.status_code)
            raise failed
        try:
            choice = response.json()["choices"][0]
            text = choice["text"] if endpoint.api == "completions" else choice["message"]["content"]
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            log.warning("Llama Guard server %r (%s): malformed reply", name, endpoint.base_url)
            raise failed from exc
        if not isinstance(text, str):
            log.warning("Llama Guard server %r (%s): malformed reply", name, endpoint.base_url)
            raise failed
        return text

    async def aclose(self) -> None:
        if self._http is not None and self._client_loop is asyncio.get_running_loop():
            await self._http.aclose()
        self._http = None
