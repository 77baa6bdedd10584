"""The turn: approved answers -> retrieval -> prompt -> generation -> grounding -> persist.

Paths a turn can take (recorded with it):
- ``approved``:   the question closely matches an FAQ entry or an owner-approved answer,
                  which is returned verbatim; no generation.
- ``generated``:  the model's draft passed the grounding check.
- ``extractive``: the draft stated something the agent's content does not support; the user
                  gets a quote of the best passage, with its citation, instead.
- ``dont_know``:  nothing relevant was retrieved, or what was asked is private (a password in
                  a staff note, a subject the owner's rules forbid); the agent says so and
                  offers a human.
- ``refused``:    an input shield blocked the message (harmful request, prompt injection, an
                  owner's rule); the agent declines in its own voice. Still recorded.

Shields wrap the turn (doppel.safety): the input shields start first and run concurrently with
retrieval, and nothing is shown before they have passed; every generated sentence passes the
output shields (private data redacted, competitor praise and instruction leaks blocked) together
with the grounding check, and so does every sentence of a quote. Private lines (secrets, and
subjects the owner's rules forbid: doppel.safety.private) are withheld from the passages before
anything sees them: the prompt, the grounding evidence, quotes and citations.

Streaming is sentence-gated: the draft is checked sentence by sentence as it is generated and
a sentence reaches the user only once it has passed. On the first failing sentence generation
stops and the answer continues with the extractive quote, so an invented fact is never shown,
not even briefly.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from doppel.agents.conversations import ConversationRepo
from doppel.agents.grounding import (
    Evidence,
    GroundingVerdict,
    check,
    content_words,
    same_particulars,
)
from doppel.agents.prompt import SAFETY_MARGIN, build_prompt, build_student_prompt, instructions
from doppel.agents.repo import Agent
from doppel.agents.spec import AgentSpec
from doppel.config import Settings
from doppel.errors import ValidationError
from doppel.knowledge.index import ApprovedMatch, KnowledgeIndex, Passage
from doppel.models.base import ChatBackend, GenerationParams, StreamChunk
from doppel.models.queue import CURRENT_AGENT
from doppel.safety import ShieldReport, Shields, refusal, rewritten
from doppel.safety.injection import neutralise
from doppel.safety.pii import published
from doppel.safety.private import PrivateLine, asks_about, private_line, rule_subjects, withhold

AnswerPath = Literal["approved", "generated", "extractive", "dont_know", "refused"]
MAX_MESSAGE_CHARS = 4000
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])[\"')\]]?\s+|\n+")
_SMALL_TALK = re.compile(
    r"^\W*((hi|hello|hey|hiya|howdy|good (morning|afternoon|evening)|thanks|thank you|thx|"
    r"bye|goodbye|ok|okay|cool|great|perfect|awesome|there|so much|again|a lot|you|all|"
    r"folks|team|everyone)\b[\s!.,']*)+$", re.I)  # nothing but greeting words: no question
_FOLLOW_UP_WORDS = 6  # a question this short may lean on the previous one ("and Sundays?")
_FOLLOW_UP = re.compile(r"^\W*(and|also|or|what about|how about|same for)\b|"
                        r"\b(it|its|that|this|those|these|they|them|one|ones|there)\b", re.I)


@dataclass
class Citation:
    number: int
    chunk_id: int
    source: str
    heading: str
    start: int
    end: int
    text: str

    def label(self) -> str:
        return f"[{self.number}] {self.source}" + (f" › {self.heading}" if self.heading else "")


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
class _Clock:
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


class AgentRuntime:
    """Runs turns for any agent; one instance serves all agents of a process."""

    def __init__(self, settings: Settings, index: KnowledgeIndex,
                 conversations: ConversationRepo,
                 backend_for: Callable[[AgentSpec], ChatBackend],
                 shields: Shields | None = None,
                 student_for: Callable[[Agent], str | None] | None = None) -> None:
        self.settings = settings
        self.index = index
        self.conversations = conversations
        self.backend_for = backend_for
        self.shields = shields
        # The adapter of the agent's active distilled student, if any: it answers with a short
        # prompt (no passages), and the same grounding gate guards every sentence it writes.
        self.student_for = student_for

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
                     params: GenerationParams | None = None) -> AsyncGenerator[TurnEvent, None]:
        message = message.strip()
        if not message:
            raise ValidationError("the message is empty")
        if len(message) > MAX_MESSAGE_CHARS:
            raise ValidationError(f"the message is longer than {MAX_MESSAGE_CHARS} characters")
        if not _encodable(message) or not _encodable(thread):
            raise ValidationError("the message contains invalid Unicode (lone surrogates)")
        s = self.settings
        clock = _Clock()
        CURRENT_AGENT.set(agent.slug)
        # Database writes wait on SQLite's write lock (an upload being ingested, another
        # process): never on the event loop.
        conversation_id = await asyncio.to_thread(self.conversations.get_or_create, agent.id,
                                                  thread)
        policy = agent.spec.shields
        shields = self.shields if policy.enabled else None
        record: dict[str, Any] = {}  # shield reports stored with the turn
        screen_ctx = None
        screening: asyncio.Future[ShieldReport] | None = None
        if shields is not None:
            history = (self.conversations.history(conversation_id, 3)
                       if "llamaguard" in policy.active("input") else [])
            screen_ctx = shields.input_context(policy, message, agent_name=agent.spec.name,
                                               history=history, embed=self.index.embed_query)
            # Started now, awaited before anything is shown: it overlaps retrieval.
            screening = asyncio.ensure_future(shields.check_input(policy, message,
                                                                  ctx=screen_ctx))

        async def screened() -> ShieldReport | None:
            if screening is None:
                return None
            started = time.perf_counter()
            report = await screening
            clock.marks["shields_wait_ms"] = (time.perf_counter() - started) * 1000
            record["input"] = report.to_dict()
            return report if report.blocked else None

        if _SMALL_TALK.match(message) and agent.spec.greeting:
            # Greetings and thanks carry no question: answer in the owner's own words.
            if (blocked := await screened()) is None:
                answer = agent.spec.greeting
                yield TurnEvent("delta", answer)
                yield TurnEvent("done", result=await self._record(
                    agent, conversation_id, thread, message, answer, "approved", [],
                    {"source": "greeting"}, None, 0, 0, clock, "", record))
                return
        query = message
        previous = self.conversations.last_question(conversation_id)
        if (previous and len(message.split()) <= _FOLLOW_UP_WORDS
                and _FOLLOW_UP.search(message)):
            query = f"{previous}\n{message}"
        # Embedding, the approved-answer match and retrieval run in one worker thread: the
        # embedder releases the GIL, and one hop instead of three saves ~0.2 ms a turn.
        def look_up() -> tuple[ApprovedMatch | None, list[Passage]]:
            query_vector = (screen_ctx.embedding() if screen_ctx is not None and query == message
                            else self.index.embed_query(query))
            clock.lap("embed_ms")
            approved = self.index.match_approved(agent.id, query_vector)
            clock.lap("approved_ms")
            if approved is not None and not same_particulars(query, approved.question):
                approved = None
            if approved is not None and approved.similarity >= s.approved_threshold:
                return approved, []
            found = self.index.search(agent.id, query, s.retrieval_k, query_vector=query_vector)
            clock.lap("retrieve_ms")
            return approved, found

        approved, passages = await asyncio.to_thread(look_up)
        subjects = rule_subjects(agent.spec.rules)
        # An approved answer is the owner's own, but their rules still win over it.
        if approved is not None and subjects and private_line(approved.answer, subjects,
                                                              secrets=False):
            approved = None
        if (blocked := await screened()) is not None:
            answer = refusal(agent.spec, blocked)
            yield TurnEvent("delta", answer)
            yield TurnEvent("done", result=await self._record(
                agent, conversation_id, thread, message, answer, "refused", [],
                {"refused_by": [v.shield for v in blocked.blocking()],
                 "categories": blocked.categories()}, None, 0, 0, clock, "", record))
            return
        # Text planted in a document for AI assistants never reaches the model, the grounding
        # evidence or a quote.
        passages = [dataclasses.replace(p, text=neutralise(p.text, p.flags), flags=[])
                    if p.flags else p for p in passages]
        passages, withheld = _withhold_private(passages, subjects)
        if withheld:
            record["private"] = [{"kind": w.kind, "reason": w.reason} for w in withheld]
        if approved is not None and approved.similarity >= s.approved_threshold:
            yield TurnEvent("delta", approved.answer)
            yield TurnEvent("done", result=await self._record(
                agent, conversation_id, thread, message, approved.answer, "approved", [], {
                    "approved_id": approved.id, "matched_question": approved.question,
                    "similarity": round(approved.similarity, 4), "source": approved.source},
                None, 0, 0, clock, "", record))
            return

        best = max((p.similarity for p in passages), default=0.0)
        if withheld and asks_about(message, withheld):
            # What was asked is exactly what must not be said: no quote of the lines around it.
            answer = dont_know(agent.spec, private=True)
            yield TurnEvent("delta", answer)
            yield TurnEvent("done", result=await self._record(
                agent, conversation_id, thread, message, answer, "dont_know", [],
                {"private": sorted({w.reason for w in withheld})}, None, 0, 0, clock, "",
                record))
            return
        if best < s.min_relevance:
            answer = dont_know(agent.spec)
            yield TurnEvent("delta", answer)
            yield TurnEvent("done", result=await self._record(
                agent, conversation_id, thread, message, answer, "dont_know", passages,
                {"best_similarity": round(best, 4), "min_relevance": s.min_relevance},
                None, 0, 0, clock, "", record))
            return

        backend = self.backend_for(agent.spec)
        student = self.student_for(agent) if self.student_for is not None else None
        if student is not None:
            prompt = build_student_prompt(agent.spec, message, passages, backend)
        else:
            history = self.conversations.history(conversation_id, s.history_turns)
            prompt = build_prompt(agent.spec, message, passages, history, backend,
                                  max_answer_tokens=s.max_answer_tokens,
                                  passage_budget=s.prompt_passage_tokens)
        evidence_texts = ([p.text for p in prompt.passages] + [p.heading for p in
                                                                prompt.passages]
                          + spec_texts(agent.spec))
        evidence = Evidence(evidence_texts)
        fixed_prompt = instructions(agent.spec)
        owner_published = published(spec_texts(agent.spec), [p.text for p in prompt.passages])
        clock.lap("prompt_ms")

        params = params or GenerationParams(
            max_tokens=s.max_answer_tokens, temperature=s.temperature, top_p=s.top_p,
            repeat_penalty=s.repeat_penalty, seed=s.seed)
        if student is not None:
            params = dataclasses.replace(params, adapter=student)
        # A client may ask for more tokens than the context leaves after this prompt: give it
        # what fits (answers stop after a few sentences anyway) instead of failing the turn.
        room = backend.context_window - prompt.tokens - SAFETY_MARGIN
        if params.max_tokens > room:
            params = dataclasses.replace(params, max_tokens=max(16, room))
        released: list[str] = []
        verdict = GroundingVerdict(True)
        draft, pending = "", ""
        prompt_tokens = completion_tokens = 0
        grounding_ms = shields_ms = 0.0
        failed = False
        output_reports: list[dict[str, Any]] = []

        # Sentences that passed but state no checkable fact ("Sure!") are held back until a
        # sentence with a verified fact arrives: if none does, the turn quotes a passage and
        # the filler is never shown.
        held: list[str] = []
        hold = s.require_verified_facts

        async def gate(sentence: str) -> str | None:
            """The sentence as it may be shown, or None when it must not be."""
            nonlocal verdict, grounding_ms, shields_ms
            started = time.perf_counter()
            v = check(sentence, evidence, message)
            grounding_ms += (time.perf_counter() - started) * 1000
            verdict = verdict.merge(v)
            if v.grounded and private_line(sentence, subjects):
                return None
            if not v.grounded or shields is None:
                return sentence if v.grounded else None
            started = time.perf_counter()
            report = await shields.check_output(
                policy, sentence, question=message, evidence=owner_published,
                instructions=fixed_prompt, agent_name=agent.spec.name)
            shields_ms += (time.perf_counter() - started) * 1000
            if report.action != "allow":
                output_reports.append({"sentence": len(released) + len(held) + 1}
                                      | report.to_dict())
            if report.blocked:
                return None
            return rewritten(report, sentence)

        def release(sentence: str) -> list[str]:
            nonlocal hold
            if hold and verdict.facts_checked == 0:
                held.append(sentence)
                return []
            hold = False
            out = [*held, sentence]
            held.clear()
            released.extend(out)
            if "first_visible_ms" not in clock.marks:
                clock.marks["first_visible_ms"] = clock.since_start()
            return out

        served: str | None = None  # the student adapter that actually answered, if any
        stream = cast(AsyncGenerator[StreamChunk, None], backend.stream(prompt.messages, params))
        try:
            async for chunk in stream:
                if chunk.text and "ttft_ms" not in clock.marks:
                    clock.marks["ttft_ms"] = clock.since_start()
                draft += chunk.text
                pending += chunk.text
                prompt_tokens = chunk.prompt_tokens or prompt_tokens
                completion_tokens = chunk.completion_tokens or completion_tokens
                served = chunk.adapter or served
                while (m := _SENTENCE_BREAK.search(pending)) is not None:
                    sentence, pending = pending[:m.end()], pending[m.end():]
                    if not sentence.strip():
                        continue
                    if (shown := await gate(sentence)) is None:
                        failed = True
                        break
                    for text in release(shown):
                        yield TurnEvent("delta", text)
                    if len(released) + len(held) >= s.max_answer_sentences:
                        pending = ""
                        break
                if failed or len(released) + len(held) >= s.max_answer_sentences:
                    break
        finally:
            await stream.aclose()  # stops generation early when a sentence failed
        if not failed and pending.strip():
            if (shown := await gate(pending)) is not None:
                for text in release(shown):
                    yield TurnEvent("delta", text)
            else:
                failed = True
        clock.lap("generate_ms")
        if not completion_tokens and draft:  # generation was stopped before its final chunk
            prompt_tokens = prompt_tokens or prompt.tokens
            completion_tokens = backend.count_tokens(draft)
        clock.marks["generate_ms"] -= grounding_ms + shields_ms
        clock.marks["grounding_ms"] = grounding_ms
        if shields is not None:
            clock.marks["shields_output_ms"] = shields_ms
        if output_reports:
            record["output"] = output_reports

        spoken = "".join(released).strip()
        path: AnswerPath = "generated"
        answer = "".join(released).strip()  # exactly what the user was shown
        unverified = s.require_verified_facts and verdict.facts_checked == 0
        if unverified and not failed:
            verdict.grounded = False
            verdict.unsupported.append("no verifiable fact in the answer")
        if failed or not spoken or unverified:
            path = "extractive"
            quote = await self._screened_quote(agent, message, prompt.passages or passages,
                                               owner_published, fixed_prompt, output_reports)
            if quote is None:  # every line of it was blocked by an output shield
                path, quote = "dont_know", dont_know(agent.spec)
            if output_reports:
                record["output"] = output_reports
            tail = ("\n\n" if spoken else "") + quote
            answer = ("".join(released) + tail).strip()
            yield TurnEvent("delta", tail)
        grounding = verdict.to_dict() | {"best_similarity": round(best, 4)}
        yield TurnEvent("done", result=await self._record(
            agent, conversation_id, thread, message, answer, path, prompt.passages, grounding,
            draft, prompt_tokens, completion_tokens, clock,
            backend.model_name + (f"+{served}" if served else ""), record))

    async def _screened_quote(self, agent: Agent, message: str, passages: list[Passage],
                              owner_published: list[str], fixed_prompt: str,
                              reports: list[dict[str, Any]]) -> str | None:
        """The extractive quote after the output shields, line by line, as a generated
        answer would pass them: a third party's e-mail is redacted, a competitor's praise or a
        recited instruction is left out. None when nothing of it may be shown."""
        policy = agent.spec.shields
        if self.shields is None or not policy.enabled or not passages:
            return extractive_answer(message, passages)
        shields = self.shields
        shown: list[Passage] = []
        for passage in passages[:1]:  # the quote comes from the best passage
            kept: list[str] = []
            for unit in _QUOTE_UNIT.split(passage.text):
                if not unit.strip():
                    kept.append(unit)
                    continue
                report = await shields.check_output(
                    policy, unit, question=message, evidence=owner_published,
                    instructions=fixed_prompt, agent_name=agent.spec.name)
                if report.action != "allow":
                    reports.append({"quote": True} | report.to_dict())
                if not report.blocked:
                    kept.append(rewritten(report, unit))
            text = "".join(kept).strip()
            if text:
                shown.append(dataclasses.replace(passage, text=text))
        return extractive_answer(message, shown) if shown else None

    async def _record(self, agent: Agent, conversation_id: int, thread: str, message: str,
                      answer: str, path: AnswerPath, passages: list[Passage],
                      grounding: dict[str, Any], draft: str | None, prompt_tokens: int,
                      completion_tokens: int, clock: _Clock, model: str,
                      shields: dict[str, Any] | None = None) -> TurnResult:
        citations = [Citation(i + 1, p.chunk_id, p.source, p.heading, p.start, p.end, p.text)
                     for i, p in enumerate(passages)]
        stored_passages = [{"chunk_id": p.chunk_id, "source": p.source, "heading": p.heading,
                            "start": p.start, "end": p.end, "score": round(p.score, 5),
                            "similarity": round(p.similarity, 4)} for p in passages]
        before_persist = time.perf_counter()
        timings = {k: round(v, 3) for k, v in clock.marks.items()}
        stored_message, stored_draft = message, draft
        if self.shields is not None:  # private data of third parties never reaches the logs
            allowed = published(spec_texts(agent.spec), [p.text for p in passages])
            policy = agent.spec.shields
            stored_message = self.shields.redact_for_log(policy, message, allowed)
            if draft is not None:
                stored_draft = self.shields.redact_for_log(policy, draft, allowed)
        turn_id = await asyncio.to_thread(
            self.conversations.record, conversation_id=conversation_id, agent_id=agent.id,
            user_message=stored_message, answer=answer, path=path, draft=stored_draft,
            grounding=grounding, passages=stored_passages, prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens, timings=timings, model=model,
            shields=shields)
        timings["persist_ms"] = round((time.perf_counter() - before_persist) * 1000, 3)
        timings["total_ms"] = round(clock.since_start(), 3)
        return TurnResult(turn_id, conversation_id, thread, message, answer, path, citations,
                          grounding, draft, prompt_tokens, completion_tokens, timings, model,
                          shields or {})


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def spec_texts(spec: AgentSpec) -> list[str]:
    """The parts of the agent spec that count as evidence for grounding."""
    c = spec.contact
    # The voice profile's greetings, sign-offs and sample replies are the owner's own words
    # (reviewed in the console): a draft that copies the sample reply is not inventing.
    voice = ([*spec.voice.greetings, *spec.voice.sign_offs,
              *(e.reply for e in spec.voice.examples)] if spec.voice else [])
    return [spec.name, spec.persona, spec.greeting, *spec.goals, *spec.rules,
            c.name, c.email, c.phone, c.url, c.hours, *voice]


def _withhold_private(passages: list[Passage], subjects: list[Any]
                      ) -> tuple[list[Passage], list[PrivateLine]]:
    """Passages without their private lines; a passage that was nothing else is dropped."""
    kept: list[Passage] = []
    withheld: list[PrivateLine] = []
    for p in passages:
        text, lines = withhold(p.text, subjects)
        if lines:
            withheld.extend(lines)
            if not text.strip():
                continue
            p = dataclasses.replace(p, text=text)
        kept.append(p)
    return kept, withheld


# Units a quote is screened in: lines, and sentences within them (separators kept).
_QUOTE_UNIT = re.compile(r"(\n+|(?<=[.!?])\s+)")


def dont_know(spec: AgentSpec, *, private: bool = False) -> str:
    contact = spec.contact
    who = contact.name or f"the {spec.name} team"
    ways = [w for w in (contact.phone, contact.email) if w]
    reach = (f" You can reach {who} at {' or '.join(ways)}" if ways else
             f" You can reach {who} at {contact.url}" if contact.url else "")
    when = f" ({contact.hours})" if contact.hours and reach else ""
    opening = ("Sorry, that isn't something I can share here." if private else
               f"Sorry, I don't know that — it isn't in {spec.name}'s information, and I'd "
               f"rather not guess.")
    return (f"{opening}{reach}{when}"
            f"{'.' if reach else ' I can pass your question on to a person.'}")


def extractive_answer(question: str, passages: list[Passage], max_chars: int = 360) -> str:
    """Quote the lines of the best passage that share most words with the question."""
    if not passages:
        return "Sorry, I couldn't find that in my information."
    passage = passages[0]
    wanted = content_words(question)
    units = [u.strip() for u in re.split(r"\n+|(?<=[.!?])\s+", passage.text) if u.strip()]
    scored = sorted(range(len(units)), key=lambda i: (-len(content_words(units[i]) & wanted), i))
    chosen: list[int] = []
    size = 0
    for i in scored:
        if chosen and (size + len(units[i]) > max_chars
                       or not content_words(units[i]) & wanted):
            continue
        chosen.append(i)
        size += len(units[i])
        if size >= max_chars:
            break
    quote = " ".join(units[i] for i in sorted(chosen))
    if len(quote) > max_chars + 80:
        quote = quote[:max_chars].rsplit(" ", 1)[0] + " …"
    where = passage.source + (f" › {passage.heading}" if passage.heading else "")
    return f"Here is what our information says ({where}): “{quote}”"
