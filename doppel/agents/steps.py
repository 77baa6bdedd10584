"""The built-in steps of a turn, in the order they run (STEPS); see doppel.agents.turn.

Paths a turn can take (recorded with it):
- ``approved``:   the question closely matches an FAQ entry or an owner-approved answer,
                  which is returned verbatim (or it is small talk: the owner's greeting); no
                  generation.
- ``composed``:   a price, the hours of a day, a contact or a clear yes/no, answered from the
                  fact bound to what was asked (doppel.agents.compose); no generation.
- ``generated``:  the model's draft passed the grounding check.
- ``extractive``: the one sentence of the content that answers, with its citation: before the
                  model (``sentence``), or after a draft that stated something the content
                  does not support (``fallback``).
- ``dont_know``:  nothing relevant was retrieved, or what was asked is private (a password in
                  a staff note, a subject the owner's rules forbid); the agent says so and
                  offers a human.
- ``refused``:    an input shield blocked the message (harmful request, prompt injection, an
                  owner's rule); the agent declines in its own voice. Still recorded.

Private lines (secrets, and subjects the owner's rules forbid: doppel.safety.private) are
withheld from the passages before anything sees them: the prompt, the grounding evidence,
quotes and citations.

Streaming is sentence-gated: the draft is checked sentence by sentence as it is generated and
a sentence reaches the user only once it has passed the grounding check and the output shields
(private data redacted, competitor praise and instruction leaks blocked). On the first failing
sentence generation stops and the answer continues with the extractive quote, so an invented
fact is never shown, not even briefly.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
from collections.abc import AsyncGenerator, Callable, Sequence
from typing import cast

from doppel.agents.acting import UseTools, local_now
from doppel.agents.compose import Composed, compose
from doppel.agents.grounding import Evidence, check
from doppel.agents.handoff import Held, Person
from doppel.agents.memory import Forget, Remember
from doppel.agents.prompt import SAFETY_MARGIN, build_prompt, build_student_prompt, instructions
from doppel.agents.spec import AgentSpec
from doppel.agents.turn import PASS_ON, Answer, AnswerPath, Draft, Outcome, Step, Turn
from doppel.knowledge.facts import FactOverrides
from doppel.knowledge.index import ApprovedMatch, Passage
from doppel.language.bound import WordWeights, claim_words, parse_units
from doppel.language.facts import same_particulars
from doppel.models.base import GenerationParams, StreamChunk
from doppel.safety import refusal, rewritten
from doppel.safety.injection import neutralise
from doppel.safety.pii import published
from doppel.safety.private import PrivateLine, Subject, asks_about, private_line, withhold

__all__ = ["STEPS", "Approved", "Compose", "DontKnow", "Fallback", "Generate", "Greeting",
           "LookUp", "Screen", "Sentence", "Withhold", "dont_know", "lexically_relevant"]

_SENTENCE_BREAK = re.compile(r"(?<=[.!?])[\"')\]]?\s+|\n+")
# Nothing but greeting words: no question.
_SMALL_TALK = re.compile(
    r"^\W*((hi|hello|hey|hiya|howdy|good (morning|afternoon|evening)|thanks|thank you|thx|"
    r"bye|goodbye|ok|okay|cool|great|perfect|awesome|there|so much|again|a lot|you|all|"
    r"folks|team|everyone)\b[\s!.,']*)+$", re.IGNORECASE)
_FOLLOW_UP_WORDS = 8  # a question this short may lean on the previous one ("and Sundays?")
_FOLLOW_UP = re.compile(r"^\W*(and|also|or|what about|how about|same for)\b|"
                        r"\b(it|its|that|this|those|these|they|them|one|ones|there)\b",
                        re.IGNORECASE)
# A message that opens by leaning on the last one, longer ones too ("what about the day
# after, the saturday?")
_LEANS_BACK = re.compile(r"^\W*(and|what about|how about|same for)\b", re.IGNORECASE)


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


def _rest_unknown(spec: AgentSpec) -> str:
    """The end of an answer whose first sentences were checked and the rest was not."""
    c = spec.contact
    ways = " or ".join(w for w in (c.phone, c.email) if w)
    return (f"For anything more, {c.name or f'the {spec.name} team'} can help: {ways}." if ways
            else "For anything more, I can pass your question on to a person.")


class Greeting:
    """Greetings and thanks carry no question: answer in the owner's own words."""

    name = "greeting"

    async def run(self, turn: Turn) -> Outcome:
        greeting = turn.agent.spec.greeting
        if not (_SMALL_TALK.match(turn.message) and greeting):
            return PASS_ON
        if await turn.screened() is not None:
            return PASS_ON  # blocked: `screen` refuses it, after the look-up like any other
        name = dict(turn.memory).get("name")
        text = f"Welcome back, {name}! {greeting}" if name else greeting
        return turn.reply(text, "approved", {"source": "greeting"})


class LookUp:
    """The approved-answer match and retrieval, while the input shields finish."""

    name = "look_up"

    async def run(self, turn: Turn) -> Outcome:
        message = turn.message
        turn.query = message
        previous = turn.runtime.conversations.last_question(turn.conversation_id)
        words = len(message.split())
        if previous and ((words <= _FOLLOW_UP_WORDS and _FOLLOW_UP.search(message)) or (
                words <= 12 and _LEANS_BACK.match(message))):
            turn.query = f"{previous}\n{message}"
            turn.previous = previous
        # Embedding, the approved-answer match and retrieval run in one worker thread: the
        # embedder releases the GIL, and one hop instead of three saves ~0.2 ms a turn.
        approved, turn.passages = await asyncio.to_thread(self._look_up, turn)
        # An approved answer is the owner's own, but their rules still win over it.
        if approved is not None and turn.subjects and private_line(
                approved.answer, turn.subjects, secrets=False):
            approved = None
        turn.approved = approved
        return PASS_ON

    @staticmethod
    def _look_up(turn: Turn) -> tuple[ApprovedMatch | None, list[Passage]]:
        index, s, clock, query = turn.runtime.index, turn.runtime.settings, turn.clock, turn.query
        query_vector = (turn.screen_ctx.embedding()
                        if turn.screen_ctx is not None and query == turn.message
                        else index.embed_query(query))
        clock.lap("embed_ms")
        # The agent's row was read when the request named it: its knowledge version is the
        # turn's (one statement fewer for each of the two caches below).
        version = turn.agent.knowledge_version
        approved = index.match_approved(turn.agent.id, query_vector, version=version)
        clock.lap("approved_ms")
        if approved is not None and not same_particulars(query, approved.question):
            approved = None
        if approved is not None and approved.similarity >= s.approved_threshold:
            return approved, []
        # The composer reads more passages than the model's prompt holds: a price row or a
        # "Find us" paragraph ranked 5th costs nothing to look at, and the prompt's budget
        # keeps only the first `retrieval_k`.
        k = max(s.retrieval_k, s.compose_passages if s.compose_answers else 0)
        found = index.search(turn.agent.id, query, k, query_vector=query_vector,
                             version=version)
        clock.lap("retrieve_ms")
        return approved, found


class Screen:
    """The input shields' verdict: a blocked message is refused in the agent's voice."""

    name = "screen"

    async def run(self, turn: Turn) -> Outcome:
        if (blocked := await turn.screened()) is None:
            return PASS_ON
        return turn.reply(refusal(turn.agent.spec, blocked), "refused", {
            "refused_by": [v.shield for v in blocked.blocking()],
            "categories": blocked.categories()})


class Withhold:
    """Text planted in a document for AI assistants, and private lines, never reach the model,
    the grounding evidence, a quote or a citation; lines the owner changed or removed in the
    facts review are read in the owner's version."""

    name = "withhold"

    async def run(self, turn: Turn) -> Outcome:
        passages = [dataclasses.replace(p, text=neutralise(p.text, p.flags), flags=[])
                    if p.flags else p for p in turn.passages]
        changes = await asyncio.to_thread(_owner_changes, turn)
        if changes:
            passages = [dataclasses.replace(p, text=FactOverrides.apply_lines(p.text, changes))
                        for p in passages]
            passages = [p for p in passages if p.text.strip()]
        turn.passages, turn.withheld = _withhold_private(passages, turn.subjects)
        if turn.withheld:
            turn.reports["private"] = [{"kind": w.kind, "reason": w.reason}
                                       for w in turn.withheld]
        return PASS_ON


class Approved:
    """An owner-approved answer or FAQ entry that matches closely enough, verbatim."""

    name = "approved"

    async def run(self, turn: Turn) -> Outcome:
        approved = turn.approved
        if approved is None or approved.similarity < turn.runtime.settings.approved_threshold:
            return PASS_ON
        return turn.reply(approved.answer, "approved", {
            "approved_id": approved.id, "matched_question": approved.question,
            "similarity": round(approved.similarity, 4), "source": approved.source})


class DontKnow:
    """What was asked is private, or nothing relevant was found: say so, offer a human."""

    name = "dont_know"

    async def run(self, turn: Turn) -> Outcome:
        spec, min_relevance = turn.agent.spec, turn.runtime.settings.min_relevance
        if turn.withheld and asks_about(turn.message, turn.withheld):
            # What was asked is exactly what must not be said: no quote of the lines around it.
            return turn.reply(dont_know(spec, private=True), "dont_know",
                              {"private": sorted({w.reason for w in turn.withheld})})
        best = turn.best_similarity
        if best < min_relevance and not lexically_relevant(turn.query, turn.passages):
            return turn.reply(dont_know(spec), "dont_know", {
                "best_similarity": round(best, 4), "min_relevance": min_relevance},
                turn.passages[:turn.runtime.settings.retrieval_k])
        return PASS_ON


def lexically_relevant(question: str, passages: list[Passage]) -> bool:
    """The passages carry the question's distinctive words: a heading ("Find us",
    "Payment") or the text names what was asked, whatever the cosine says. Cosine alone
    was tuned on one bakery and missed phones, addresses and deposits on unseen content."""
    words = claim_words(question) - _QUESTION_NOISE
    if not words or not passages:
        return False
    units = [u for p in passages for u in parse_units(p.text, p.heading)]
    weights = WordWeights(units)
    total = sum(weights(w) for w in words)
    for p in passages:
        have = claim_words(p.heading + " " + p.title + " " + p.text)
        if sum(weights(w) for w in words & have) >= 0.6 * total:
            return True
    return False


# Words in nearly every customer question: they make nothing relevant.
_QUESTION_NOISE = frozenset({"need", "want", "anyth", "someth", "kind", "thing", "way",
                             "tell", "question", "ask", "wonder", "guy", "folk", "place"})


class Compose:
    """A price, the day's hours, a contact or a clear yes/no from the bound facts, without the
    model (doppel.agents.compose): the first sentence is shown at once."""

    name = "compose"

    async def run(self, turn: Turn) -> Outcome:
        if not turn.runtime.settings.compose_answers or (
                not turn.passages and turn.agent.spec.contact.summary() == ""):
            return PASS_ON
        return await _answer_composed(turn, "composed", sentence_ok=False)


def _similarity(turn: Turn) -> Callable[[str, Sequence[str]], Sequence[float]]:
    """Cosine of the question and each candidate sentence, on the turn's embedder: the
    sentences' vectors come from the index's cache (each embedded once per process), the
    question's is the one retrieval computed when it is the same text."""
    index = turn.runtime.index

    def similarity(question: str, texts: Sequence[str]) -> Sequence[float]:
        if not texts:
            return []
        q = (turn.screen_ctx.embedding() if turn.screen_ctx is not None
             and question == turn.message else index.embed_query(question))
        return [float(x) for x in index.embed_sentences(texts) @ q]

    return similarity


class Sentence:
    """The one sentence of the content that answers (by its words and its meaning), before the
    model: on the embedded 135M model a draft almost never passes the gate where a sentence
    of the owner's own answers, and the customer would wait for the draft to fail first (dev
    half of the evaluation suite: 5 of 281 answers were the model's; the rest waited ~700 ms
    for a failing draft). Off with `compose_answers`, for a model that phrases well."""

    name = "sentence"

    async def run(self, turn: Turn) -> Outcome:
        if not turn.runtime.settings.compose_answers or not turn.passages:
            return PASS_ON
        return await _answer_composed(turn, "extractive", sentence_ok=True)


async def _answer_composed(turn: Turn, path: AnswerPath, *, sentence_ok: bool) -> Outcome:
    """Compose from the turn's passages (off the event loop: the sentence search embeds) and
    answer with it once the output shields let it through; pass on otherwise."""
    started = time.perf_counter()
    composed = await asyncio.to_thread(
        compose, turn.message, turn.passages, turn.agent.spec, previous=turn.previous,
        sentence_ok=sentence_ok, similarity=_similarity(turn), today=local_now(turn).date())
    turn.clock.marks["compose_ms"] = turn.clock.marks.get("compose_ms", 0.0) + (
        time.perf_counter() - started) * 1000
    if composed is None:
        return PASS_ON
    text = await _screened(turn, composed)
    if text is None:
        return PASS_ON
    return turn.reply(text, path, {"composed": composed.kind,
                                   "best_similarity": round(turn.best_similarity, 4)},
                      composed.passages)


async def _screened(turn: Turn, composed: Composed) -> str | None:
    """The composed text after the output shields, as a generated answer would pass them (a
    third party's e-mail redacted); None when they block it."""
    return await turn.screen_reply(composed.text, [p.text for p in composed.passages],
                                   "composed")


class _Gate:
    """The grounding check and the output shields for one draft, sentence by sentence."""

    def __init__(self, turn: Turn, draft: Draft, evidence: Evidence) -> None:
        self.turn, self.draft, self.evidence = turn, draft, evidence
        self.grounding_ms = self.shields_ms = 0.0
        # Sentences that passed but state no checkable fact ("Sure!") are held back until a
        # sentence with a verified fact arrives: if none does, the turn quotes a passage and
        # the filler is never shown.
        self.held: list[str] = []
        self.hold = turn.runtime.settings.require_verified_facts

    @property
    def sentences(self) -> int:
        """Sentences passed so far, shown or held."""
        return len(self.draft.shown) + len(self.held)

    async def check(self, sentence: str) -> str | None:
        """The sentence as it may be shown, or None when it must not be."""
        turn, draft = self.turn, self.draft
        started = time.perf_counter()
        v = check(sentence, self.evidence, turn.message)
        self.grounding_ms += (time.perf_counter() - started) * 1000
        draft.verdict = draft.verdict.merge(v)
        if v.grounded and private_line(sentence, turn.subjects):
            return None
        if not v.grounded or turn.shields is None:
            return sentence if v.grounded else None
        started = time.perf_counter()
        report = await turn.shields.check_output(
            turn.agent.spec.shields, sentence, question=turn.message,
            evidence=draft.owner_published, instructions=draft.instructions,
            agent_name=turn.agent.spec.name)
        self.shields_ms += (time.perf_counter() - started) * 1000
        if report.action != "allow":
            draft.output_reports.append({"sentence": self.sentences + 1} | report.to_dict())
        if report.blocked:
            return None
        return rewritten(report, sentence)

    def release(self, sentence: str) -> None:
        """Show the sentence (and any held before it), or hold it while no fact is verified."""
        if self.hold and self.draft.verdict.facts_checked == 0:
            self.held.append(sentence)
            return
        self.hold = False
        out = [*self.held, sentence]
        self.held.clear()
        self.draft.shown.extend(out)
        for text in out:
            self.turn.say(text)


class Generate:
    """The model's draft, streamed sentence by sentence as each passes the gate. Answers when
    the whole draft passed; otherwise passes on to `fallback` with what was shown."""

    name = "generate"

    async def run(self, turn: Turn) -> Outcome:
        s = turn.runtime.settings
        if not _drafts(turn):
            # Nothing of the content answers and the model is not one to answer from its
            # own reading: say so now rather than after a draft that would fail the gate.
            return turn.reply(dont_know(turn.agent.spec), "dont_know", {
                "best_similarity": round(turn.best_similarity, 4), "draft": "skipped"},
                turn.passages[:s.retrieval_k])
        draft, gate, params = self._prepare(turn)
        prompt, backend = draft.prompt, draft.backend
        pending = ""
        stream = cast(AsyncGenerator[StreamChunk, None], backend.stream(prompt.messages, params))
        try:
            async for chunk in stream:
                if chunk.text and "ttft_ms" not in turn.clock.marks:
                    turn.clock.marks["ttft_ms"] = turn.clock.since_start()
                draft.text += chunk.text
                pending += chunk.text
                draft.prompt_tokens = chunk.prompt_tokens or draft.prompt_tokens
                draft.completion_tokens = chunk.completion_tokens or draft.completion_tokens
                draft.served = chunk.adapter or draft.served
                while (m := _SENTENCE_BREAK.search(pending)) is not None:
                    sentence, pending = pending[:m.end()], pending[m.end():]
                    if not sentence.strip():
                        continue
                    if (shown := await gate.check(sentence)) is None:
                        draft.failed = True
                        break
                    gate.release(shown)
                    if gate.sentences >= s.max_answer_sentences:
                        pending = ""
                        break
                if draft.failed or gate.sentences >= s.max_answer_sentences:
                    break
        finally:
            await stream.aclose()  # stops generation early when a sentence failed
        if not draft.failed and pending.strip():
            if (shown := await gate.check(pending)) is not None:
                gate.release(shown)
            else:
                draft.failed = True
        clock = turn.clock
        clock.lap("generate_ms")
        if not draft.completion_tokens and draft.text:  # stopped before its final chunk
            draft.prompt_tokens = draft.prompt_tokens or prompt.tokens
            draft.completion_tokens = backend.count_tokens(draft.text)
        clock.marks["generate_ms"] -= gate.grounding_ms + gate.shields_ms
        clock.marks["grounding_ms"] = gate.grounding_ms
        if turn.shields is not None:
            clock.marks["shields_output_ms"] = gate.shields_ms
        if draft.output_reports:
            turn.reports["output"] = draft.output_reports

        answer = "".join(draft.shown).strip()  # exactly what the user was shown
        unverified = s.require_verified_facts and draft.verdict.facts_checked == 0
        if unverified and not draft.failed:
            draft.verdict.grounded = False
            draft.verdict.unsupported.append("no verifiable fact in the answer")
        if draft.failed or not answer or unverified:
            return PASS_ON
        return Answer(answer, "generated", draft.grounding(turn.best_similarity),
                      prompt.passages, draft.text, draft.prompt_tokens, draft.completion_tokens,
                      draft.model)

    @staticmethod
    def _prepare(turn: Turn) -> tuple[Draft, _Gate, GenerationParams]:
        """The prompt, the gate's evidence and the generation parameters."""
        runtime, agent, s = turn.runtime, turn.agent, turn.runtime.settings
        backend = runtime.backend_for(agent.spec)
        student = runtime.student_for(agent) if runtime.student_for is not None else None
        if student is not None:
            prompt = build_student_prompt(agent.spec, turn.message,
                                          turn.passages[:s.retrieval_k], backend)
        else:
            history = runtime.conversations.history(turn.conversation_id, s.history_turns)
            prompt = build_prompt(agent.spec, turn.message, turn.passages[:s.retrieval_k],
                                  history, backend,
                                  max_answer_tokens=s.max_answer_tokens,
                                  passage_budget=s.prompt_passage_tokens, memory=turn.memory)
        # The gate reads every passage retrieved, not only the prompt's: a price or a day's
        # hours is bound to its row against the whole table, and "closed on Mondays" in the
        # 5th passage still contradicts "open Monday to Friday".
        seen = {p.chunk_id for p in prompt.passages}
        checked = [*prompt.passages, *(p for p in turn.passages if p.chunk_id not in seen)]
        evidence = Evidence([p.text for p in checked] + [p.heading for p in checked]
                            + agent.spec.evidence_texts(), name=agent.spec.name)
        draft = turn.draft = Draft(
            prompt, backend, instructions=instructions(agent.spec),
            owner_published=published(agent.spec.evidence_texts(),
                                      [p.text for p in prompt.passages]))
        turn.clock.lap("prompt_ms")

        params = turn.params or GenerationParams(
            max_tokens=s.max_answer_tokens, temperature=s.temperature, top_p=s.top_p,
            repeat_penalty=s.repeat_penalty, seed=s.seed)
        if student is not None:
            params = dataclasses.replace(params, adapter=student)
        # A client may ask for more tokens than the context leaves after this prompt: give it
        # what fits (answers stop after a few sentences anyway) instead of failing the turn.
        room = backend.context_window - prompt.tokens - SAFETY_MARGIN
        if params.max_tokens > room:
            params = dataclasses.replace(params, max_tokens=max(16, room))
        return draft, _Gate(turn, draft, evidence), params


def _drafts(turn: Turn) -> bool:
    """Whether the model drafts when the composer found nothing (Settings.draft_unsure)."""
    runtime, s = turn.runtime, turn.runtime.settings
    if s.draft_unsure != "auto" or not s.compose_answers:
        return s.draft_unsure != "off" or not s.compose_answers
    if runtime.backend_for(turn.agent.spec).name != "embedded":
        return True
    return runtime.student_for is not None and runtime.student_for(turn.agent) is not None


class Fallback:
    """After a draft that failed the gate (or stated no verifiable fact): what was shown,
    then a quote of the best passage, screened line by line like a generated answer."""

    name = "fallback"

    async def run(self, turn: Turn) -> Outcome:
        draft = turn.draft
        if draft is None:
            return PASS_ON  # nothing was generated: nothing to fall back from
        spoken = "".join(draft.shown).strip()
        path: AnswerPath = "extractive"
        passages = turn.passages or draft.prompt.passages
        composed = await asyncio.to_thread(
            compose, turn.message, passages, turn.agent.spec, previous=turn.previous,
            sentence_ok=True, similarity=_similarity(turn), today=local_now(turn).date())
        quote = await _screened(turn, composed) if composed is not None else None
        cited = composed.passages if composed is not None and quote is not None else []
        if quote is None and spoken:  # what was shown passed the gate: end it honestly
            path, quote = "generated", _rest_unknown(turn.agent.spec)
        elif quote is None:  # nothing answers it, or an output shield blocked it
            path, quote = "dont_know", dont_know(turn.agent.spec)
        if draft.output_reports:
            turn.reports.setdefault("output", []).extend(draft.output_reports)
        tail = (" " if spoken else "") + quote
        turn.say(tail)
        return Answer(("".join(draft.shown) + tail).strip(), path,
                      draft.grounding(turn.best_similarity) | (
                          {"composed": composed.kind} if cited and composed else {}),
                      cited, draft.text, draft.prompt_tokens, draft.completion_tokens,
                      draft.model)


def _owner_changes(turn: Turn) -> dict[str, str]:
    return turn.runtime.fact_overrides.for_agent(turn.agent.id, turn.agent.knowledge_version)


def _withhold_private(passages: list[Passage], subjects: list[Subject]
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


# The order is the behaviour: see doppel.agents.turn for what each step does and how to add one.
# `person` before `screen`: a customer who asks for a person gets one even when a shield
# blocked the message ("a real person about the no-show charge on my card"); it awaits the
# screening itself and passes a blocked message that asks for nobody on to `screen`.
STEPS: tuple[Step, ...] = (Forget(), Held(), Remember(), Greeting(), LookUp(), Person(),
                           Screen(), Withhold(), UseTools(), Approved(), Compose(), DontKnow(),
                           Sentence(), Generate(), Fallback())
