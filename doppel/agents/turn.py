"""The turn as ordered steps: what a step sees, what it may return, and how to add one.

A `Turn` is one message to one agent and everything gathered for it so far: the conversation,
the input shields' screening, the passages found, the draft, what the user has been shown. The
runtime's driver (`AgentRuntime.stream`) runs the turn through an ordered list of `Step`s; each
step looks at the turn and returns an `Outcome`:

- `Answer`:  the turn ends with this reply (its path, passages and grounding are recorded);
- `PassOn`:  nothing to add here, the next step runs (`PASS_ON`);
- `HandOff`: the conversation goes to a person; the turn ends and is recorded as handed off.

The driver records the turn exactly once, whichever step ended it, and then yields the `done`
event. The last step of a list must answer or hand off: a turn that runs out of steps is a bug
in the list (RuntimeError), not a reply.

The built-in steps (doppel.agents.steps.STEPS), in the order they run:

    forget     "forget me": the customer's conversation and memory are erased (doppel.agents.
               memory), and this message is not stored either
    held       while a person holds the conversation the agent stays silent (doppel.agents.
               handoff); a person who did not reply in time gives it back
    remember   memory on: what the customer said about themselves is kept, and recalled
    greeting   small talk gets the owner's greeting (after the input shields pass)
    look_up    follow-up query, embedding, the approved-answer match and retrieval
    person     the customer asks for a person, or writes about a subject the owner keeps for
               people: the conversation is handed off (a person asked for is given even when
               a shield blocked the message; it awaits the shields' verdict)
    screen     the input shields' verdict: a blocked message is refused in the agent's voice
    withhold   text planted for AI assistants neutralised, private lines withheld
    tools      a tool the message needs (open now, catalog, booking, order status, leads):
               chosen, its arguments filled and validated, run, its answer checked
               (doppel.agents.acting)
    approved   an owner-approved answer or FAQ entry, verbatim
    compose    a price, the day's hours, a contact or a clear yes/no from the fact bound to
               what was asked, without the model (doppel.agents.compose)
    dont_know  what was asked is private, or nothing relevant was found (by meaning or words)
    sentence   the one sentence of the content that answers, before the model (compose_answers)
    generate   the model's draft, sentence by sentence through the grounding gate and the
               output shields, streamed as each sentence passes; answers when it all passed
    fallback   after a draft that failed the gate: the composed answer, or the one sentence of
               the content that answers, or an honest don't-know

The input shields start when the turn opens and run concurrently with the steps before
`screen` (the look-up overlaps them). Text reaches the user only through `Turn.say`, which
streams it at once and refuses to show anything before the shields' verdict was awaited
(`Turn.screened`): a step placed before `screen` that answers must await it, as `greeting` does.

Adding a step: write an object with a `name` and an async `run(turn) -> Outcome`, and give the
runtime a list with it in place (`insert_step`). Steps are shared by all turns, so per-turn
state goes on the `Turn`; say text with `turn.say` (or `turn.reply`, which says it and returns
the `Answer`). For example, a tool that answers whether the shop is open now:

    class OpenNow:
        name = "open_now"

        async def run(self, turn: Turn) -> Outcome:
            if not asks_if_open(turn.message):
                return PASS_ON
            return turn.reply(open_now_sentence(turn.agent), "approved",
                              {"source": "open_now"})

    runtime = AgentRuntime(..., steps=insert_step(STEPS, OpenNow(), after="screen"))

Human handoff is the `person` step's `turn.hand_off(reason, notice)` (and the driver's own
after several don't-knows in a row); tools are one step that answers with a tool's checked
result; conversation memory would be a step (or part of `look_up`) that puts what it recalls
on the turn before `generate`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from doppel.agents.grounding import GroundingVerdict
from doppel.agents.prompt import BuiltPrompt, instructions
from doppel.agents.repo import Agent
from doppel.knowledge.index import ApprovedMatch, Passage, citation_label
from doppel.models.base import ChatBackend, GenerationParams
from doppel.safety import ShieldReport, Shields, rewritten
from doppel.safety.base import ShieldContext
from doppel.safety.pii import published
from doppel.safety.private import PrivateLine, Subject

if TYPE_CHECKING:
    from doppel.agents.runtime import AgentRuntime

__all__ = [
    "HANDOFF_PATH", "PASS_ON", "Answer", "AnswerPath", "Citation", "Clock", "Draft", "HandOff",
    "Outcome", "PassOn", "Step", "Turn", "TurnEvent", "TurnResult", "insert_step",
]

AnswerPath = Literal["approved", "composed", "generated", "extractive", "dont_know", "refused",
                     "tool", "handoff"]
# A turn that gave the conversation to a person, or that a person's conversation received
# while the agent stays silent.
HANDOFF_PATH: AnswerPath = "handoff"


@dataclass
class Citation:
    number: int
    chunk_id: int
    source: str
    heading: str
    start: int
    end: int
    text: str
    title: str = ""

    def label(self) -> str:
        """'[1] Rentals › Prices': the document's title and heading, never a file path."""
        return f"[{self.number}] {citation_label(self.source, self.title, self.heading)}"


@dataclass
class TurnResult:
    id: int
    conversation_id: int
    thread: str
    question: str
    answer: str
    path: AnswerPath
    citations: list[Citation]
    grounding: dict[str, Any]
    draft: str | None
    prompt_tokens: int
    completion_tokens: int
    timings: dict[str, float]
    model: str
    shields: dict[str, Any] = field(default_factory=dict)


@dataclass
class TurnEvent:
    """`delta`: more answer text for the user. `done`: the turn is recorded (`result`)."""

    kind: Literal["delta", "done"]
    text: str = ""
    result: TurnResult | None = None


@dataclass
class Clock:
    """The turn's timings in milliseconds: sequential laps, plus marks set by name."""

    start: float = field(default_factory=time.perf_counter)
    marks: dict[str, float] = field(default_factory=dict)
    _last: float = 0.0

    def __post_init__(self) -> None:
        self._last = self.start

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.marks[name] = self.marks.get(name, 0.0) + (now - self._last) * 1000
        self._last = now

    def since_start(self) -> float:
        return (time.perf_counter() - self.start) * 1000


# --- outcomes -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Answer:
    """The turn ends with this reply. `text` is what is recorded as the answer: exactly what
    the step said to the user (`Turn.say`); `passages` become the turn's citations."""

    text: str
    path: AnswerPath
    grounding: dict[str, Any]
    passages: list[Passage] = field(default_factory=list)
    draft: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model: str = ""


@dataclass(frozen=True)
class PassOn:
    """Nothing to add: the next step runs."""


@dataclass(frozen=True)
class HandOff:
    """The conversation goes to a person. `reason` is for the owner (stored with the turn);
    `notice` is what the user was told, if anything (said by the step, recorded as the answer).
    The driver ends the turn and records it with HANDOFF_PATH, no citations, and
    grounding {"handoff": {"step": <the step's name>, "reason": reason}}."""

    reason: str
    notice: str = ""


Outcome = Answer | PassOn | HandOff
PASS_ON = PassOn()


class Step(Protocol):
    """One step of the turn. Holds no per-turn state: that goes on the Turn."""

    name: str

    async def run(self, turn: Turn) -> Outcome:
        """Look at the turn (and add to it); answer, pass on or hand off."""
        ...


def insert_step(steps: Sequence[Step], step: Step, *, before: str | None = None,
                after: str | None = None) -> tuple[Step, ...]:
    """The list with `step` placed before or after the step of that name."""
    names = [s.name for s in steps]
    anchor = before if before is not None else after
    if (before is None) == (after is None) or anchor not in names:
        raise ValueError(f"give one of before/after as a step name (steps: {', '.join(names)})")
    at = names.index(anchor) + (after is not None)
    return (*steps[:at], step, *steps[at:])


# --- the turn -------------------------------------------------------------------------------
@dataclass(eq=False)
class Draft:
    """What the `generate` step produced, for `fallback` and the record."""

    prompt: BuiltPrompt
    backend: ChatBackend
    owner_published: list[str]  # the owner's own words and passages: not a leak when repeated
    instructions: str           # the fixed system prompt: reciting it is a leak
    text: str = ""              # the model's draft as generated (what was not shown included)
    shown: list[str] = field(default_factory=list)  # the sentences the user was shown
    verdict: GroundingVerdict = field(default_factory=lambda: GroundingVerdict(True))
    failed: bool = False        # a sentence failed the gate: the rest was not generated
    prompt_tokens: int = 0
    completion_tokens: int = 0
    served: str | None = None   # the student adapter that actually answered, if any
    output_reports: list[dict[str, Any]] = field(default_factory=list)

    @property
    def model(self) -> str:
        return self.backend.model_name + (f"+{self.served}" if self.served else "")

    def grounding(self, best_similarity: float) -> dict[str, Any]:
        return self.verdict.to_dict() | {"best_similarity": round(best_similarity, 4)}


@dataclass(eq=False)
class Turn:
    """One message to one agent, as the steps have seen it so far."""

    runtime: AgentRuntime
    agent: Agent
    message: str
    thread: str
    conversation_id: int
    params: GenerationParams | None = None  # the client's, or None: the settings' defaults
    clock: Clock = field(default_factory=Clock)
    shields: Shields | None = None          # the runtime's, when the agent's policy enables them
    screen_ctx: ShieldContext | None = None
    screening: asyncio.Future[ShieldReport] | None = None  # started when the turn opened
    reports: dict[str, Any] = field(default_factory=dict)  # stored with the turn ("shields")
    subjects: list[Subject] = field(default_factory=list)  # what the owner's rules forbid
    # Set by look_up, narrowed by withhold:
    query: str = ""
    previous: str | None = None             # the question a short follow-up leans on
    approved: ApprovedMatch | None = None
    passages: list[Passage] = field(default_factory=list)
    withheld: list[PrivateLine] = field(default_factory=list)
    draft: Draft | None = None              # set by generate
    tool_calls: list[dict[str, Any]] = field(default_factory=list)  # stored with the turn
    # What this customer told the agent before (memory on): their words, not the owner's facts
    memory: list[tuple[str, str]] = field(default_factory=list)
    known_user: bool = True  # the thread is one customer's (not derived from a first message)
    said: list[str] = field(default_factory=list)  # every piece of text shown, in order
    # What steps said that the driver has not yielded yet; None marks the end of a step.
    outbox: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue, repr=False)
    _verdict_seen: bool = False

    @property
    def best_similarity(self) -> float:
        return max((p.similarity for p in self.passages), default=0.0)

    async def screened(self) -> ShieldReport | None:
        """Wait for the input shields: their report when they blocked the message, else None."""
        if self.screening is None:
            return None
        started = time.perf_counter()
        report = await self.screening
        self.clock.marks["shields_wait_ms"] = (time.perf_counter() - started) * 1000
        self.reports["input"] = report.to_dict()
        self._verdict_seen = True
        return report if report.blocked else None

    def say(self, text: str) -> None:
        """Show `text` to the user now (the driver yields it as a `delta` event)."""
        if self.screening is not None and not self._verdict_seen:
            raise RuntimeError("a step tried to show text before the input shields passed "
                               "(await turn.screened() first)")
        self.said.append(text)
        # What the customer waits for: the first text of the turn, whichever step says it.
        self.clock.marks.setdefault("first_visible_ms", self.clock.since_start())
        self.outbox.put_nowait(text)

    def reply(self, text: str, path: AnswerPath, grounding: dict[str, Any],
              passages: list[Passage] | None = None) -> Answer:
        """Say `text` and end the turn with it."""
        self.say(text)
        return Answer(text, path, grounding, passages or [])

    async def screen_reply(self, text: str, evidence: Sequence[str], tag: str) -> str | None:
        """A reply no model wrote (composed, a tool's) after the output shields, as a
        generated one passes them: the text as it may be shown (a third party's e-mail
        redacted), or None when they block it. `evidence`: the texts it was built from."""
        if self.shields is None:
            return text
        spec = self.agent.spec
        owner = published(spec.evidence_texts(), list(evidence))
        report = await self.shields.check_output(
            spec.shields, text, question=self.message, evidence=owner,
            instructions=instructions(spec), agent_name=spec.name)
        if report.action != "allow":
            self.reports["output"] = [{tag: True} | report.to_dict()]
        if report.blocked:
            return None
        return rewritten(report, text)

    def hand_off(self, reason: str, notice: str = "") -> HandOff:
        """Tell the user `notice` (if any) and give the conversation to a person."""
        if notice:
            self.say(notice)
        return HandOff(reason, notice)
