"""The `tools` step: choose a tool for the message, fill and validate its arguments, run it,
and answer with what it returned, checked like any other answer.

Choosing. The embedded 135M model cannot choose tools reliably, so a tool is chosen by its
rule (`Tool.wants`: "where is my order", "are you open right now") or, failing that, by the
learned router (doppel.tools.router: a classifier over the message's embedding, trained on
the tuning half of the tool evaluation), which knows the built-in tools. A tool it does not
know (an owner's MCP server, a third-party tool), or every tool when the agent's embedder is
not the one the router was trained on, is chosen by meaning: the message's embedding against
the tool's example phrasings, above `Settings.tool_route_similarity`. Either way a tool that
declines the message (`Tool.declines_at`: "open on Sunday?", asked on a Tuesday, is a question
about Sunday's hours, not about now) is not chosen.

Arguments are read from the message by the tool's rules (`Tool.fill`) and validated by its
pydantic `Arguments`: bad arguments never reach a tool. A missing or invalid one is asked for
(`Tool.ask`), and the call waits in the conversation (`pending`) for the customer's next
message, which fills it; a next message that gives nothing for it (a new question) drops it.

Results are evidence: the tool's sentence is checked by the grounding gate against the facts
the tool returned (and the agent's own words), and passes the output shields; a time or price
the tool did not return is never shown. A tool that fails or times out never fails the turn:
the customer hears an honest sentence, and a failed booking or order look-up goes to a person.
Every call (arguments, result, latency, error) is stored with the turn.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
import logging
import re
import time
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError

from doppel.agents.compose import compose
from doppel.agents.grounding import Evidence, check
from doppel.agents.turn import PASS_ON, Outcome, Turn
from doppel.errors import BackendError
from doppel.knowledge.index import Passage
from doppel.models.base import ChatMessage, GenerationParams, ToolCall, ToolCallingBackend
from doppel.tools import TOOLS, Tool, ToolContext, ToolError, ToolResult
from doppel.tools.base import arguments_schema
from doppel.tools.fields import EMAIL, PHONE
from doppel.tools.hours import parse_ranges
from doppel.tools.router import NONE, bundled_router

__all__ = ["UseTools", "local_now", "route"]

log = logging.getLogger(__name__)

# Tools whose failure leaves the customer with something a person must sort out.
_HAND_OFF_ON_FAILURE = frozenset({"booking", "order_status"})


def local_now(turn: Turn) -> dt.datetime:
    """Now in the business's time zone (the runtime's clock: tests and evaluations set it)."""
    zone = ZoneInfo(turn.agent.spec.timezone or turn.runtime.settings.timezone)
    return turn.runtime.now().astimezone(zone)


def route(turn: Turn, names: list[str]) -> tuple[str, str] | None:
    """The tool the message needs and how it was chosen ("rule", "learned" or "meaning"), or
    None."""
    tools = [TOOLS.get(n) for n in names]
    for tool in tools:
        if _safely(tool.wants, turn.message, tool.name):
            return tool.name, "rule"
    index = turn.runtime.index
    q = (turn.screen_ctx.embedding() if turn.screen_ctx is not None
         else index.embed_query(turn.message))
    router = bundled_router() if turn.runtime.settings.tool_router else None
    if router is not None and router.embedder == index.embedder.name and router.dim == len(q):
        # The built-in tools by the learned router (doppel.tools.router); only tools it does
        # not know (an owner's MCP server, a third-party tool) are left to their examples.
        chosen, p = router.choose(q, [t.name for t in tools if router.knows(t.name)])
        turn.clock.lap("route_ms")
        if chosen != NONE and router.chooses(chosen) and p >= router.floor:
            tool = TOOLS.get(chosen)
            # "open on Sunday?" asked on a Tuesday: the content's answer for Sunday, not now's
            if not _safely(functools.partial(tool.declines_at, now=local_now(turn)),
                           turn.message, chosen, True):
                return chosen, "learned"
        tools = [t for t in tools if not router.chooses(t.name)]
    configured = turn.agent.spec.tools or {}
    examples = {t.name: t.examples_for(t.Settings.model_validate(configured.get(t.name, {})))
                for t in tools}
    now = local_now(turn)
    candidates = [t for t in tools if examples[t.name] and not _safely(
        functools.partial(t.declines_at, now=now), turn.message, t.name, True)]
    if not candidates:
        return None
    best: tuple[float, str] | None = None
    for tool in candidates:
        score = float((index.embed_sentences(list(examples[tool.name])) @ q).max())
        if best is None or score > best[0]:
            best = (score, tool.name)
    turn.clock.lap("route_ms")
    if best is not None and best[0] >= turn.runtime.settings.tool_route_similarity:
        return best[1], "meaning"
    return None


class UseTools:
    """A tool answers the message when one is needed (see the module's docstring)."""

    name = "tools"

    async def run(self, turn: Turn) -> Outcome:
        spec = turn.agent.spec
        names = spec.tool_names()
        if not names:
            return PASS_ON
        conversations = turn.runtime.conversations
        pending = await asyncio.to_thread(conversations.pending, turn.conversation_id)
        chosen = await asyncio.to_thread(route, turn, names)
        known: dict[str, Any] = {}
        model_args: dict[str, Any] = {}
        if chosen is None and not pending:
            # A model that calls tools natively chooses, and fills what it chose.
            called = await _model_choice(turn, names)
            if called is not None:
                # the model's arguments are what is known; the rules' reading wins over them
                chosen, model_args = (called.name, "model"), called.arguments
                known = dict(model_args)
        how = chosen[1] if chosen else ""
        if pending.get("tool") in names and (chosen is None or chosen[0] == pending["tool"]):
            chosen, how, known = (pending["tool"], "pending"), "pending", dict(pending["args"])
        elif pending:
            await asyncio.to_thread(conversations.set_pending, turn.conversation_id, {})
        if chosen is None:
            return PASS_ON
        if await turn.screened() is not None:
            return PASS_ON  # blocked: `screen` refuses it
        tool = TOOLS.get(chosen[0])
        settings = tool.Settings.model_validate((spec.tools or {}).get(tool.name, {}))
        now = local_now(turn)
        # A value the rules could not read is no value: "missing", and asked for. What the
        # rules read wins over what a model filled in (the customer's own digits and dates).
        try:
            filled = tool.arguments(turn.message, now, known, settings)
        except Exception:  # a tool's reading of a message must never fail the turn
            log.exception("tool %s could not read the message's arguments", tool.name)
            filled = dict(known)
        args = {k: v for k, v in (model_args | filled).items() if v is not None}
        if how == "pending" and args == known:
            # The answer gave nothing the tool asked for: a new question, not a reply to ours.
            await asyncio.to_thread(conversations.set_pending, turn.conversation_id, {})
            return PASS_ON
        call: dict[str, Any] = {"tool": tool.name, "arguments": args, "chosen_by": how}
        turn.tool_calls.append(call)
        try:
            parsed = tool.Arguments.model_validate(args)
        except ValidationError as exc:
            read = await _read_missing(turn, tool, args, exc)
            if not read:
                return await self._ask(turn, tool, settings, args, exc, call)
            args |= read
            call.update(arguments=args, chosen_by=f"{how}; {', '.join(sorted(read))} read "
                        "by the model")
            try:
                parsed = tool.Arguments.model_validate(args)
            except ValidationError as again:
                return await self._ask(turn, tool, settings, args, again, call)
        return await self._call(turn, tool, settings, parsed, now, call)

    async def _ask(self, turn: Turn, tool: Tool, settings: BaseModel, args: dict[str, Any],
                   exc: ValidationError, call: dict[str, Any]) -> Outcome:
        """Ask for what is missing or wrong; the call waits for the customer's answer."""
        missing = [str(e["loc"][0]) for e in exc.errors() if e["loc"] and e["type"] == "missing"]
        invalid = {str(e["loc"][0]): e["msg"] for e in exc.errors()
                   if e["loc"] and e["type"] != "missing"}
        kept = {k: v for k, v in args.items() if k not in invalid}
        text = tool.ask(missing + list(invalid), settings)
        if invalid and not missing:
            text = "That doesn't look quite right. " + text
        call.update(status="invalid" if invalid else "needs_input",
                    error="; ".join(f"{k}: {v}" for k, v in invalid.items()))
        await asyncio.to_thread(turn.runtime.conversations.set_pending, turn.conversation_id,
                                {"tool": tool.name, "args": kept, "asked": missing + list(invalid)})
        return turn.reply(text, "tool", {"tool": tool.name, "status": call["status"]})

    async def _call(self, turn: Turn, tool: Tool, settings: BaseModel, args: BaseModel,
                    now: dt.datetime, call: dict[str, Any]) -> Outcome:
        runtime, spec = turn.runtime, turn.agent.spec
        ctx = ToolContext(
            agent_id=turn.agent.id, agent_slug=turn.agent.slug, agent_name=spec.name,
            contact=_reach(turn), now=now, settings=runtime.settings, db=runtime.index.db,
            conversation_id=turn.conversation_id, thread=turn.thread,
            search=lambda q, k: runtime.index.search(turn.agent.id, q, k),
            # a tool reads its own secrets only ("order_status.secret"), never another's
            secret=lambda name: runtime.secrets.get(turn.agent.id, name)
            if name.startswith(tool.name + ".") else None,
            notify=lambda subject, body: runtime.notify(turn.agent, subject, body),
            scan=runtime.scan)
        limit = min(tool.timeout_s, runtime.settings.tool_timeout_s)
        started = time.perf_counter()
        result: ToolResult | None = None
        error = ""
        try:
            result = await asyncio.wait_for(tool.run(ctx, args, settings), timeout=limit)
        except TimeoutError:
            error = f"timed out after {limit:g} s"
        except ToolError as exc:
            error = str(exc)
        except Exception as exc:  # a plug-in's bug must not fail the customer's turn
            log.exception("tool %s failed", tool.name)
            error = f"{type(exc).__name__}: {exc}"
        call["latency_ms"] = round((time.perf_counter() - started) * 1000, 3)
        turn.clock.marks["tool_ms"] = call["latency_ms"]
        call["arguments"] = args.model_dump(mode="json")
        conversations = runtime.conversations
        if error:
            call.update(status="failed", error=error)
            await asyncio.to_thread(conversations.set_pending, turn.conversation_id, {})
            sorry = (f"Sorry — I couldn't check that just now.{_reach(turn)}")
            if tool.name in _HAND_OFF_ON_FAILURE and spec.handoff.enabled:
                return turn.hand_off(f"{tool.name} failed: {error}",
                                     "Sorry — I couldn't check that just now. I've asked a "
                                     "person from the team to pick this up.")
            return turn.reply(sorry, "tool", {"tool": tool.name, "status": "failed"})
        if result is None:
            call.update(status="nothing")
            await asyncio.to_thread(conversations.set_pending, turn.conversation_id, {})
            return PASS_ON
        call.update(status=result.status, result=dict(result.data))
        if result.status == "needs_input":
            await asyncio.to_thread(conversations.set_pending, turn.conversation_id, {
                "tool": tool.name, "args": call["arguments"] | dict(result.data.get("args", {}))})
        else:
            await asyncio.to_thread(conversations.set_pending, turn.conversation_id, {})
        if tool.name == "open_now" and not await asyncio.to_thread(_hours_agree, turn, result,
                                                                    now):
            call.update(status="nothing", error="the content's hours for today read otherwise")
            return PASS_ON
        text = await _checked(turn, result)
        if text is None:
            call.update(status="failed", error="the tool's answer failed the grounding check")
            return PASS_ON
        if result.handoff and spec.handoff.enabled:
            return turn.hand_off(result.handoff, text)
        return turn.reply(text, "tool", {"tool": tool.name, "status": result.status},
                          list(result.passages))


async def _model_choice(turn: Turn, names: list[str]) -> ToolCall | None:
    """The tool a remote model chooses natively for the message, if the agent's backend calls
    tools (never the embedded model: it cannot choose reliably), with that tool's arguments.
    A model's failure here is no failure of the turn: the content answers."""
    backend = turn.runtime.backend_for(turn.agent.spec)
    if backend.name == "embedded" or not isinstance(backend, ToolCallingBackend):
        return None
    spec = turn.agent.spec
    configured = spec.tools or {}
    tools = [TOOLS.get(n) for n in names]
    settings = {t.name: t.Settings.model_validate(configured.get(t.name, {})) for t in tools}
    functions = []
    for tool in tools:
        try:
            functions += await tool.functions(settings[tool.name], turn.runtime.settings,
                                              spec.slug)
        except Exception:  # a plug-in's functions must never fail the turn
            log.exception("tool %s: its functions could not be listed", tool.name)
    messages = [
        ChatMessage("system", f"You route messages for {spec.name}'s customer assistant. Call "
                    "a tool only when the customer's message needs what it does; otherwise "
                    "answer with the single word NONE. Never invent an argument the customer "
                    "did not give."),
        ChatMessage("user", turn.message)]
    params = GenerationParams(max_tokens=256, temperature=0.0, top_p=1.0,
                              seed=turn.runtime.settings.seed)
    started = time.perf_counter()
    try:
        called = await backend.call_tool(messages, functions, params) if functions else None
    except BackendError as exc:
        log.warning("tool choice by %s failed: %s", backend.model_name, exc)
        return None
    finally:
        turn.clock.marks["route_model_ms"] = (time.perf_counter() - started) * 1000
    if called is None:
        return None
    for tool in tools:  # which tool's function it was (mcp: one per server tool)
        if (args := tool.from_function(called.name, called.arguments,
                                       settings[tool.name])) is not None:
            return ToolCall(tool.name, args)
    return None


def _free_text(schema: dict[str, Any]) -> bool:
    """A plain string field (a name, an e-mail, a need), not a date, time or number."""
    options = schema.get("anyOf", [schema])
    return any(o.get("type") == "string" and "format" not in o for o in options)


async def _read_missing(turn: Turn, tool: Tool, args: dict[str, Any], exc: ValidationError
                        ) -> dict[str, str]:
    """What the embedded model reads from the message for the missing free-text arguments the
    rules could not ("Quote for a porch please, Priya Raman" names a name no rule knew to look
    for). It writes under a JSON-schema grammar (llama.cpp), and a value counts only when the
    message holds it word for word, outside its e-mail addresses and phone numbers, and apart
    from the other arguments' values: the 135M model can point at the customer's words, never
    invent them ("sam@example.com" names no Sam). Pydantic then validates them like any
    argument; what stays missing is asked for."""
    runtime = turn.runtime
    backend = runtime.backend_for(turn.agent.spec)
    if backend.name != "embedded" or not runtime.settings.tool_grammar_fill:
        return {}
    fields = arguments_schema(tool.Arguments).get("properties", {})
    missing = [name for e in exc.errors() if e["type"] == "missing" and e["loc"]
               and (name := str(e["loc"][0])) in fields and _free_text(fields[name])]
    if not missing:
        return {}
    schema = {"type": "object", "additionalProperties": False, "required": missing,
              "properties": {m: {"type": "string", "maxLength": 80} for m in missing}}
    messages = [
        ChatMessage("system", "Copy values from the customer's message into JSON. For each "
                    "field, copy the customer's own words for it exactly; write \"\" when the "
                    "message does not say it."),
        ChatMessage("user", f"Message: {turn.message}\n\nFields: {', '.join(missing)}")]
    params = GenerationParams(max_tokens=64, temperature=0.0, top_p=1.0, repeat_penalty=1.0,
                              seed=runtime.settings.seed, json_schema=json.dumps(schema))
    started = time.perf_counter()
    try:
        result = await backend.chat(messages, params)
        data = json.loads(result.text)
    except (BackendError, ValueError) as exc_:
        log.warning("reading %s's arguments with the model failed: %s", tool.name,
                    type(exc_).__name__)
        return {}
    finally:
        turn.clock.marks["read_args_ms"] = (time.perf_counter() - started) * 1000
    plain = _CONTACTS.sub(" ", turn.message)
    known = [str(v).lower() for v in args.values() if isinstance(v, str) and len(v) < 80]
    out: dict[str, str] = {}
    for name in missing:
        value = " ".join(str(data.get(name, "") if isinstance(data, dict) else "").split())
        value = value.strip(" .,;:!?\"'")
        if (len(value) >= 2 and re.search(rf"(?<!\w){re.escape(value)}(?!\w)", plain, re.I)
                and not any(k in value.lower() or value.lower() in k for k in known)):
            out[name] = value
    return out


# What a model must not read a name or a need out of: e-mail addresses, links, phone numbers.
_CONTACTS = re.compile(rf"{EMAIL.pattern}|https?://\S+|{PHONE.pattern}", re.I)


def _safely(check: Callable[[str], bool], message: str, name: str,
            failed: bool = False) -> bool:
    """A tool's rule on a message; a rule that raises (a plug-in's bug) counts as `failed`."""
    try:
        return bool(check(message))
    except Exception:
        log.exception("tool %s: its rule failed on a message", name)
        return failed


def _reach(turn: Turn) -> str:
    c = turn.agent.spec.contact
    ways = " or ".join(w for w in (c.phone, c.email) if w)
    return f" You can reach {c.name or turn.agent.spec.name} at {ways}." if ways else ""


def _hours_agree(turn: Turn, result: ToolResult, now: dt.datetime) -> bool:
    """open_now's reading of today against the composer's reading of the same day from the
    same content ("what are your hours on Friday 12 March?", or on Fridays when no line names
    the date and the tool read the weekly rule too). Two independent readings that disagree —
    one open, one closed, or no time in common — mean one misread the page: the tool then says
    nothing (right or silent). No second reading, no objection."""
    read = str(result.data.get("today", "none"))
    source = str(result.data.get("today_from", "none"))
    if read == "none":
        return True  # "not open today" because no line names the day: nothing to compare
    passages = turn.runtime.index.search(turn.agent.id, "opening hours open closed holidays", 12)
    composed = compose(f"what are your hours on {now:%A} {now.day} {now:%B}?", passages,
                       turn.agent.spec, today=now.date())
    if composed is None and source == "week":
        composed = compose(f"what are your hours on {now:%A}?", passages, turn.agent.spec,
                           today=now.date())
    if composed is None:
        return True
    theirs = {(a.strftime("%H:%M"), b.strftime("%H:%M")) for a, b in parse_ranges(composed.text)}
    closed = bool(re.search(r"\bclosed\b", composed.text, re.I)) and not theirs
    if read == "closed":
        return not theirs
    ours = {tuple(span.split("-", 1)) for span in read.split(";")}
    if closed:
        return False
    return not theirs or bool(ours & theirs)


async def _checked(turn: Turn, result: ToolResult) -> str | None:
    """The tool's sentence if every fact in it is the tool's (or the owner's) and the output
    shields let it through; None otherwise."""
    spec = turn.agent.spec
    passages: list[Passage] = list(result.passages)
    evidence = Evidence([*result.facts, *(p.text for p in passages), *spec.evidence_texts()],
                        name=spec.name)
    verdict = check(result.text, evidence, turn.message)
    # A tool's sentence is its result: every value it states (a price, a time, a date, an
    # e-mail) must be one the tool returned. What it did ("I've passed your request on") is no
    # claim to find in the content, and which row a value belongs to is the tool's own binding
    # (the catalog's item, the booking's slot), not the question's subject.
    failed = [u for u in verdict.unsupported if not u.startswith("claim '")
              and "(not the value of what was asked)" not in u]
    if failed:
        # the kinds of value only: the values may be a customer's phone or e-mail
        log.warning("a tool's answer stated values it did not return: %s",
                    sorted({u.split(" ", 1)[0] for u in failed}))
        turn.reports["tool_grounding"] = verdict.to_dict()
        return None
    return await turn.screen_reply(result.text, [*result.facts, *(p.text for p in passages)],
                                   "tool")
