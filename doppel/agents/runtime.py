"""The agent runtime: one driver runs each turn through its ordered steps and records it.

A turn is validated, opened (its conversation found or created, the input shields started on
the message), run through the runtime's steps (doppel.agents.steps.STEPS by default: approved
answers, retrieval, shields, generation with the grounding gate, the extractive fallback) until
one answers or hands off, and recorded once, here, whichever step ended it. What a step is, the
order of the built-in ones and how to add one: doppel.agents.turn.

Streaming streams: each piece of text a step says is yielded as a `delta` event as soon as it
is said, while the step goes on; the `done` event follows the record.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import time
from collections.abc import AsyncGenerator, Callable, Sequence

from doppel.agents.conversations import ConversationRepo
from doppel.agents.handoff import Notifier, handoff_notice
from doppel.agents.repo import Agent
from doppel.agents.secrets import SecretStore
from doppel.agents.spec import AgentSpec
from doppel.agents.steps import STEPS
from doppel.agents.turn import (
    HANDOFF_PATH,
    Answer,
    Citation,
    HandOff,
    PassOn,
    Step,
    Turn,
    TurnEvent,
    TurnResult,
)
from doppel.config import Settings
from doppel.errors import ValidationError
from doppel.knowledge.facts import FactOverrides
from doppel.knowledge.index import KnowledgeIndex
from doppel.models.base import ChatBackend, GenerationParams
from doppel.models.queue import CURRENT_AGENT
from doppel.safety import ShieldReport, Shields
from doppel.safety.pii import published
from doppel.safety.private import rule_subjects

__all__ = ["MAX_MESSAGE_CHARS", "AgentRuntime"]

MAX_MESSAGE_CHARS = 4000


class AgentRuntime:
    """Runs turns for any agent; one instance serves all agents of a process."""

    def __init__(self, settings: Settings, index: KnowledgeIndex,
                 conversations: ConversationRepo,
                 backend_for: Callable[[AgentSpec], ChatBackend],
                 shields: Shields | None = None,
                 student_for: Callable[[Agent], str | None] | None = None,
                 steps: Sequence[Step] = STEPS,
                 notifier: Notifier | None = None,
                 now: Callable[[], dt.datetime] | None = None,
                 scan: Callable[[list[str]], list[list[list[float]]]] | None = None) -> None:
        self.settings = settings
        self.index = index
        self.conversations = conversations
        self.backend_for = backend_for
        self.shields = shields
        # The adapter of the agent's active distilled student, if any: it answers with a short
        # prompt (no passages), and the same grounding gate guards every sentence it writes.
        self.student_for = student_for
        self.steps: tuple[Step, ...] = tuple(steps)  # in order; the last must always answer
        # The owner's changes to lines of their content (the console's facts review).
        self.fact_overrides = FactOverrides(index.db)
        self.secrets = SecretStore(index.db)       # tools' secrets (order endpoint keys)
        self.notifier = notifier or Notifier(settings, self.secrets)
        # The clock tools and handoff timeouts read (aware, UTC); tests and evaluations set it.
        self.now: Callable[[], dt.datetime] = now or (lambda: dt.datetime.now(dt.UTC))
        self._notifications: set[asyncio.Task[None]] = set()
        # The document injection scan, for text tools bring in from outside (web results).
        self.scan = scan

    async def notify(self, agent: Agent, subject: str, body: str) -> None:
        """Tell the agent's owner (doppel.agents.handoff.Notifier), without making the
        customer wait for the mail server."""
        task = asyncio.ensure_future(self.notifier.notify(agent, subject, body))
        self._notifications.add(task)
        task.add_done_callback(self._notifications.discard)

    async def turn(self, agent: Agent, message: str, thread: str = "default",
                   params: GenerationParams | None = None) -> TurnResult:
        result = None
        async for event in self.stream(agent, message, thread, params):
            if event.kind == "done":
                result = event.result
        assert result is not None
        return result

    def turn_sync(self, agent: Agent, message: str, thread: str = "default") -> TurnResult:
        return asyncio.run(self.turn(agent, message, thread))

    async def stream(self, agent: Agent, message: str, thread: str = "default",
                     params: GenerationParams | None = None, *, known_user: bool = True
                     ) -> AsyncGenerator[TurnEvent, None]:
        """The turn's events: `delta`s as the steps say them, then `done` with the record."""
        message = message.strip()
        if not message:
            raise ValidationError("the message is empty")
        if len(message) > MAX_MESSAGE_CHARS:
            raise ValidationError(f"the message is longer than {MAX_MESSAGE_CHARS} characters")
        if not _encodable(message) or not _encodable(thread):
            raise ValidationError("the message contains invalid Unicode (lone surrogates)")
        turn = await self._open(agent, message, thread, params)
        # A thread the client named (the chat page's, an API's `user`) is one customer's; one
        # derived from the first message may be shared by strangers who both said "Hi".
        turn.known_user = known_user
        outcome: Answer | HandOff | None = None
        # The one driver loop. Each step runs as a task so that what it says (Turn.say) is
        # yielded while it is still working (generating); its end puts None in the outbox.
        for step in self.steps:
            task = asyncio.ensure_future(step.run(turn))
            task.add_done_callback(lambda _: turn.outbox.put_nowait(None))
            try:
                while (text := await turn.outbox.get()) is not None:
                    yield TurnEvent("delta", text)
            finally:
                if not task.done():  # the client left or the turn was cancelled mid-step
                    task.cancel()
                    await asyncio.wait([task])  # let it unwind: the model is told to stop
                    if not task.cancelled():
                        task.exception()  # retrieved: whatever it raised unwinding is moot
            done = task.result()  # a step's error is the turn's error (nothing is recorded)
            if not isinstance(done, PassOn):
                outcome = done
                break
        if outcome is None:
            raise RuntimeError("no step answered the turn: the last of the runtime's steps "
                               f"({', '.join(s.name for s in self.steps)}) must always answer")
        step_name = step.name
        if isinstance(outcome, Answer) and outcome.path == "dont_know":
            escalated = await self._escalate(turn, outcome)
            if escalated is not None:
                outcome = escalated
                yield TurnEvent("delta", " " + escalated.notice)
        if isinstance(outcome, HandOff):
            # The conversation goes to a person: recorded with no citations; the step and its
            # reason are stored with the turn, and the owner is told.
            await asyncio.to_thread(self.conversations.set_holder, turn.conversation_id,
                                    "waiting_for_human", outcome.reason)
            await self.notify(agent, "A customer is waiting for a person",
                              f"Reason: {outcome.reason}\nLast message: {message}\n"
                              f"Conversation {turn.conversation_id} is waiting in the "
                              f"console's People tab.")
            text = " ".join(t.strip() for t in turn.said if t.strip())
            outcome = Answer(text, HANDOFF_PATH,
                             {"handoff": {"step": step_name, "reason": outcome.reason}})
        if "erased" in turn.reports:
            # "Forget me": the conversation is gone, and this message is not stored either.
            yield TurnEvent("done", result=TurnResult(
                0, turn.conversation_id, thread, message, outcome.text, outcome.path, [],
                outcome.grounding, None, 0, 0, {"total_ms": round(turn.clock.since_start(), 3)},
                "", {}))
            return
        yield TurnEvent("done", result=await self._record(turn, outcome))

    async def _escalate(self, turn: Turn, answer: Answer) -> HandOff | None:
        """The last don't-know of `handoff_after_dont_knows` in a row gives the conversation to
        a person (the don't-know was said; the notice follows it)."""
        n = self.settings.handoff_after_dont_knows
        if n <= 0 or not turn.agent.spec.handoff.enabled:
            return None
        before = await asyncio.to_thread(self.conversations.recent_paths,
                                         turn.conversation_id, n - 1)
        if len(before) < n - 1 or any(p != "dont_know" for p in before):
            return None
        notice = handoff_notice(turn.agent)
        turn.said.append(notice)
        return HandOff(f"{n} questions in a row the agent could not answer", notice)

    async def _open(self, agent: Agent, message: str, thread: str,
                    params: GenerationParams | None) -> Turn:
        """The turn with its conversation, and the input shields started on the message."""
        CURRENT_AGENT.set(agent.slug)
        # Database writes wait on SQLite's write lock (an upload being ingested, another
        # process): never on the event loop.
        conversation_id, version = await asyncio.to_thread(self._conversation, agent.id,
                                                           thread)
        if version != agent.knowledge_version:
            # The caller's Agent is older than the agent's knowledge (a chat session keeps
            # its Agent while the owner edits facts): the turn reads today's, once.
            agent = dataclasses.replace(agent, knowledge_version=version)
        policy = agent.spec.shields
        turn = Turn(self, agent, message, thread, conversation_id, params,
                    shields=self.shields if policy.enabled else None,
                    subjects=rule_subjects(agent.spec.rules))
        if turn.shields is not None:
            history = (self.conversations.history(conversation_id, 3)
                       if "llamaguard" in policy.active("input") else [])
            turn.screen_ctx = turn.shields.input_context(
                policy, message, agent_name=agent.spec.name, history=history,
                embed=self.index.embed_query)
            # Started now, awaited (Turn.screened) before anything is shown: it overlaps the
            # steps before `screen`, the look-up above all.
            screening: asyncio.Future[ShieldReport] = asyncio.ensure_future(
                turn.shields.check_input(policy, message, ctx=turn.screen_ctx))
            turn.screening = screening
        return turn

    def _conversation(self, agent_id: int, thread: str) -> tuple[int, int]:
        """The thread's conversation and the agent's knowledge version, read once per turn
        (retrieval's caches and the owner's fact changes are keyed by it)."""
        conversation_id = self.conversations.get_or_create(agent_id, thread)
        return conversation_id, KnowledgeIndex.read_version(self.index.db, agent_id)

    async def _record(self, turn: Turn, answer: Answer) -> TurnResult:
        """Store the turn (private data of third parties redacted) and return its result."""
        agent, message, draft, passages = turn.agent, turn.message, answer.draft, answer.passages
        citations = [Citation(i + 1, p.chunk_id, p.source, p.heading, p.start, p.end, p.text,
                              p.title) for i, p in enumerate(passages)]
        stored_passages = [{"chunk_id": p.chunk_id, "source": p.source, "heading": p.heading,
                            "start": p.start, "end": p.end, "score": round(p.score, 5),
                            "similarity": round(p.similarity, 4)} for p in passages]
        before_persist = time.perf_counter()
        timings = {k: round(v, 3) for k, v in turn.clock.marks.items()}
        stored_message, stored_draft = message, draft
        if self.shields is not None:  # private data of third parties never reaches the logs
            allowed = published(agent.spec.evidence_texts(), [p.text for p in passages])
            policy = agent.spec.shields
            stored_message = self.shields.redact_for_log(policy, message, allowed)
            if draft is not None:
                stored_draft = self.shields.redact_for_log(policy, draft, allowed)
        turn_id = await asyncio.to_thread(
            self.conversations.record, conversation_id=turn.conversation_id, agent_id=agent.id,
            user_message=stored_message, answer=answer.text, path=answer.path,
            draft=stored_draft, grounding=answer.grounding, passages=stored_passages,
            prompt_tokens=answer.prompt_tokens, completion_tokens=answer.completion_tokens,
            timings=timings, model=answer.model, shields=turn.reports,
            tool_calls=turn.tool_calls)
        timings["persist_ms"] = round((time.perf_counter() - before_persist) * 1000, 3)
        timings["total_ms"] = round(turn.clock.since_start(), 3)
        return TurnResult(turn_id, turn.conversation_id, turn.thread, message, answer.text,
                          answer.path, citations, answer.grounding, draft, answer.prompt_tokens,
                          answer.completion_tokens, timings, answer.model, turn.reports)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
