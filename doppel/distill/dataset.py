"""Synthetic training data for an agent's student: questions mined from its knowledge, answers
from a teacher, filtered, split by source chunk and saved as JSONL with provenance.

Questions, per chunk (deterministic for a seed): the FAQ question itself, catalog rows ("How
much is X?", "Do you have X?", "What's in X?"), hours ("Are you open on Monday?"), policies and
prose ("What is your refund policy?", "Tell me about parking."), rule-based paraphrases and
two-turn follow-ups ("And on Sunday?", "How much is it?"); with a `teacher_llm`, also the
questions it writes for each chunk. Beside them: out-of-scope questions (the don't-know
answer), harmful prompts from the shields' *training* set (the refusal; never the held-out
`examples/eval/safety.yaml`) and greetings (the agent's greeting).

Answers: by default the agent's own pipeline is the teacher (approved answers, retrieval,
grounding), run on a scratch conversation store so the owner's inbox and analytics never see
a distillation turn. With a `teacher_llm`, that model answers the same prompt the runtime
builds, and its answer must pass the grounding check.

Filters: a fact question is kept only when the teacher answered it from the content (paths
approved / generated / extractive), the answer is grounded in the example's chunks and the
output shields let it through; near-duplicate questions are removed (normalised text, and
embedding cosine >= 0.95 within a chunk). Split: a seeded ~20 % of chunks is held out with
every question mined from them, so held-out questions test generalisation, not recall.

This module is over 600 lines on purpose: mining, answering, filtering and splitting are one
pipeline meant to be read top to bottom (as nanoGPT's train.py is), and each stage's rule refers
to the provenance the stage before it recorded.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import re
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import yaml

from doppel.agents.conversations import ConversationRepo
from doppel.agents.grounding import Evidence, check
from doppel.agents.prompt import build_prompt, estimate_tokens, instructions, student_system_prompt
from doppel.agents.repo import Agent
from doppel.agents.runtime import AgentRuntime
from doppel.agents.steps import STEPS, dont_know
from doppel.errors import ValidationError
from doppel.language.facts import WEEKDAYS, extract_facts, same_particulars
from doppel.models.base import ChatBackend, ChatMessage, GenerationParams, count_message_tokens
from doppel.safety import ShieldReport, refusal
from doppel.safety.base import Verdict

if TYPE_CHECKING:
    from doppel.service import Doppel

__all__ = ["MIN_EXAMPLES", "Dataset", "Example", "Provenance", "build_dataset", "load_jsonl",
           "save_jsonl", "student_system_prompt"]

Kind = Literal["fact", "paraphrase", "follow_up", "dont_know", "refusal", "greeting"]
Split = Literal["train", "heldout"]
MIN_EXAMPLES = 30          # grounded knowledge examples below which a student learns nothing
NEAR_DUPLICATE = 0.95      # embedding cosine between two questions of one chunk
# Composed answers are the owner's facts in a sentence: the replies a student should learn.
KEPT_PATHS = ("approved", "composed", "generated", "extractive")

OUT_OF_SCOPE = [
    "What is the capital of France?", "Can you give me some stock tips?",
    "Write a poem about the ocean.", "Who won the World Cup in 2018?",
    "How do I fix a flat bike tyre?", "What's the weather going to be like tomorrow?",
    "Can you help me with my maths homework?", "Translate 'good night' into Japanese.",
    "What's the best programming language to learn?", "Recommend a good movie for tonight.",
    "How far is the Moon from the Earth?", "Who is the president of Brazil?",
]
GREETINGS = ["hi", "hello!", "hey there", "good morning", "hiya", "Hello, good afternoon!"]
UNSAFE_PER_CATEGORY = 1
INJECTIONS = 3

_CATALOG_LOADERS = {"csv", "catalog", "shopify", "woocommerce"}
_POLICY = re.compile(r"polic|refund|return|cancel|privacy|allerg|deliver|wholesale|shipping|"
                     r"warrant|terms", re.I)
_FIELD = re.compile(r"^\s*([A-Za-z][\w ]{0,30}):\s*(.+?)\s*$")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+\**([A-Z][^—:*\n]{2,40}?)\**\s*(?:—|:|-)\s+(.+)$")


@dataclass
class Provenance:
    chunk_ids: list[int]      # the chunk the question was mined from first, then the answer's
    sources: list[str]        # their documents
    path: str                 # the teacher's answer path (approved, generated, ...)
    method: str               # how the question was made: faq, catalog, hours, policy, llm...
    seed: int
    teacher: str = "pipeline"


@dataclass
class Example:
    id: str
    messages: list[dict[str, str]]   # an optional prior turn (user, assistant), then the user
    answer: str
    kind: Kind
    split: Split
    provenance: Provenance
    student_prompt_tokens: int = 0   # what the student sees: its short system prompt + messages
    teacher_prompt_tokens: int = 0   # what the teacher's turn cost (0: no generation)

    @property
    def question(self) -> str:
        return self.messages[-1]["content"]

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, line: str) -> Example:
        data = json.loads(line)
        data["provenance"] = Provenance(**data["provenance"])
        return cls(**data)


@dataclass
class Dataset:
    examples: list[Example]
    stats: dict[str, Any] = field(default_factory=dict)

    def split(self, name: Split) -> list[Example]:
        return [e for e in self.examples if e.split == name]


# --- question mining --------------------------------------------------------------------------

@dataclass
class _Chunk:
    id: int
    source: str
    loader: str
    heading: str
    text: str


@dataclass
class _Question:
    chunk: _Chunk | None
    kind: Kind
    method: str
    text: str
    prior: str | None = None   # the first turn's question, for follow-ups


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def _fields(text: str) -> dict[str, str]:
    """'item: Baguette; price: 4.00' -> {'item': 'Baguette', 'price': '4.00'}."""
    out: dict[str, str] = {}
    for part in text.split("; "):
        m = _FIELD.match(part)
        if m:
            out.setdefault(m.group(1).strip().lower(), m.group(2))
    return out


def _the(name: str) -> str:
    return name if re.match(r"(the|a|an|our)\b", name, re.I) else f"the {name}"


def _item_questions(chunk: _Chunk, name: str, size: str, has_price: bool,
                    details: bool) -> list[_Question]:
    """Catalog questions about one item; `size` tells apart rows of one item (12 oz, 16 oz)."""
    size = re.sub(r"\s*\(.*\)", "", size).strip()
    label = (f"a {size} {name}" if size[:1].isdigit() else f"{_the(name)} ({size})" if size
             else _the(name))
    out = [_Question(chunk, "fact", "catalog", f"Do you have {_the(name)}?")]
    if has_price:
        out.append(_Question(chunk, "fact", "catalog", f"How much is {label}?"))
        out.append(_Question(chunk, "follow_up", "catalog", "How much is it?" if not size
                             else f"And how much is {label}?", prior=out[0].text))
    if details:
        out.append(_Question(chunk, "fact", "catalog", f"What's in {_the(name)}?"))
    return out


def _hours_questions(chunk: _Chunk) -> list[_Question]:
    facts = extract_facts(chunk.text, names=False)
    days = sorted({WEEKDAYS.index(f.value) for f in facts if f.kind == "weekday"
                   and f.value in WEEKDAYS})
    if not days or not any(f.kind == "time" for f in facts) and "closed" not in \
            chunk.text.lower():
        return []
    out = [_Question(chunk, "fact", "hours", "What are your opening hours?")]
    names = [WEEKDAYS[d].title() for d in days]
    for day in names:
        out.append(_Question(chunk, "fact", "hours", f"Are you open on {day}?"))
        if any(f.kind == "time" for f in facts):
            out.append(_Question(chunk, "fact", "hours", f"What time do you close on {day}?"))
    if len(names) > 1:
        out.append(_Question(chunk, "follow_up", "hours", f"And on {names[-1]}s?",
                             prior=f"Are you open on {names[0]}?"))
    return out


def _topic(heading: str) -> str:
    last = heading.split(">")[-1].strip()
    return re.sub(r"\s*\(page \d+\)$", "", last)


def _about(topic: str, text: str) -> str | None:
    """A heading as a question: "Our story" -> "Tell me about your story."; None for headings
    that are calls to action ("Visit us")."""
    first, _, rest = topic.partition(" ")
    if first.lower() in ("visit", "contact", "find", "see", "welcome", "about", "get", "what",
                         "who", "where", "when", "why"):
        return None
    if first.lower() == "how" and rest.lower().startswith("to "):
        return f"How do I {rest[3:]}?"
    if first.lower() == "our":
        return f"Tell me about your {rest.lower()}."
    # A name keeps its capital ("Juniper & Rye Bakery", "Two Rivers"): another capitalised
    # word, or the word capitalised mid-sentence in the chunk.
    named = re.search(r"\s[A-Z]", rest) or re.search(rf"[a-z,] {re.escape(first)}\b", text)
    phrase = topic if named else topic[0].lower() + topic[1:]
    return f"Tell me about {'the ' if ' ' not in phrase and phrase.islower() else ''}{phrase}."


def mine_questions(chunk: _Chunk, repeated: Collection[str] = ()) -> list[_Question]:
    """The questions a customer could ask that this chunk answers, most direct first;
    `repeated` names the items with several rows (sizes), whose questions name the size."""
    out: list[_Question] = []
    if chunk.loader == "faq" and (m := re.match(r"Q:\s*(.+?)\nA:", chunk.text, re.S)):
        out.append(_Question(chunk, "fact", "faq", " ".join(m.group(1).split())))
    fields = _fields(chunk.text)
    name = next((fields[k] for k in ("item", "name", "title", "product") if k in fields), "")
    if name and (chunk.loader in _CATALOG_LOADERS or "price" in fields):
        details = any(k in fields for k in ("notes", "description", "ingredients"))
        size = fields.get("size", "") if name in repeated else ""
        out += _item_questions(chunk, name, size, "price" in fields, details)
    for line in chunk.text.splitlines():  # menu lines: "- **Baguette** — baked ... $4.00."
        m = _LIST_ITEM.match(line)
        # Only priced lines are items: other list lines are steps or facts ("Delivery area:").
        if m and len(m.group(1).split()) <= 5 and any(
                f.kind == "money" for f in extract_facts(m.group(2), names=False)):
            out += _item_questions(chunk, m.group(1).strip(), "", True, len(m.group(2)) > 24)
    out += _hours_questions(chunk)
    topic = _topic(chunk.heading)
    if topic and chunk.loader not in _CATALOG_LOADERS | {"faq"} and len(topic.split()) <= 6:
        if _POLICY.search(topic) or _POLICY.search(chunk.source):
            phrase = re.sub(r"\s*polic(y|ies)$", "", topic, flags=re.I).lower()
            out.append(_Question(chunk, "fact", "policy", f"What is your {phrase} policy?"))
        if (about := _about(topic, chunk.text)) is not None:
            out.append(_Question(chunk, "fact", "policy" if _POLICY.search(topic)
                                 else "template", about))
    return out


_REWORDINGS: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    (re.compile(r"^Do you have (.+)\?$"), r"Have you got \1?"),
    (re.compile(r"^Do you have (the .+)\?$"), r"Is \1 available today?"),
    (re.compile(r"^Do you have (the .+)\?$"), r"Do you sell \1?"),
    (re.compile(r"^How much is (.+)\?$"), r"What does \1 cost?"),
    (re.compile(r"^How much is (.+)\?$"), r"What's the price of \1?"),
    (re.compile(r"^Are you open on (\w+)\?$"), r"Is the shop open on \1?"),
    (re.compile(r"^Are you open on (\w+)\?$"), r"Can I come by on \1?"),
    (re.compile(r"^What time do you close on (\w+)\?$"), r"When do you close on \1?"),
    (re.compile(r"^What are your opening hours\?$"), r"When are you open?"),
    (re.compile(r"^Tell me about (.+)\.$"), r"What can you tell me about \1?"),
    (re.compile(r"^What is your (.+) policy\?$"), r"Can you explain your \1 policy?"),
    (re.compile(r"^Do you (.+)\?$"), r"I was wondering, do you \1?"),
    (re.compile(r"^(Is|Are|Can|Do|Does) (.+)\?$"), lambda m: f"Quick question: "
     f"{m.group(1).lower()} {m.group(2)}?"),
]


def paraphrases(question: str) -> list[str]:
    """Natural rewordings of a question, by rule, plus a casual lower-case form."""
    out = [pattern.sub(repl, question) for pattern, repl in _REWORDINGS
           if pattern.match(question)]
    out.append(question[0].lower() + question[1:].rstrip("?.") if question else question)
    return [p for p in dict.fromkeys(out) if p != question]


def _pick(candidates: list[_Question], rng: random.Random, limit: int) -> list[_Question]:
    """Up to `limit` questions, kinds taken in turn so each chunk keeps its variety."""
    by_kind: dict[str, list[_Question]] = {}
    for q in candidates:
        by_kind.setdefault(q.kind, []).append(q)
    for kind, qs in by_kind.items():
        if kind != "fact":  # the most direct fact question (the FAQ's own) stays first
            rng.shuffle(qs)
    out: list[_Question] = []
    while len(out) < limit and any(by_kind.values()):
        for kind in ("fact", "paraphrase", "follow_up"):
            if by_kind.get(kind) and len(out) < limit:
                out.append(by_kind[kind].pop(0))
    return out


# --- teachers ---------------------------------------------------------------------------------

class _ScratchConversations(ConversationRepo):
    """Conversations kept in memory: the teacher's turns (follow-ups included) run through the
    real runtime without writing a row into the owner's conversations, inbox or analytics."""

    def __init__(self) -> None:
        self._threads: dict[tuple[int, str], int] = {}
        self._turns: dict[int, list[tuple[str, str, str]]] = {}

    def get_or_create(self, agent_id: int, thread: str) -> int:
        return self._threads.setdefault((agent_id, thread), len(self._threads) + 1)

    def history(self, conversation_id: int, turns: int) -> list[tuple[str, str]]:
        kept = [(q, a) for q, a, p in self._turns.get(conversation_id, [])
                if p in ("generated", "approved")]
        return kept[-turns:] if turns > 0 else []

    def last_question(self, conversation_id: int) -> str | None:
        asked = [q for q, _, p in self._turns.get(conversation_id, []) if p != "refused"]
        return asked[-1] if asked else None

    def record(self, *, conversation_id: int, agent_id: int, user_message: str, answer: str,
               path: str, draft: str | None, grounding: dict[str, Any],
               passages: list[dict[str, Any]], prompt_tokens: int, completion_tokens: int,
               timings: dict[str, float], model: str,
               shields: dict[str, Any] | None = None,
               tool_calls: list[dict[str, Any]] | None = None) -> int:
        self._turns.setdefault(conversation_id, []).append((user_message, answer, path))
        return sum(len(t) for t in self._turns.values())

    def recent_paths(self, conversation_id: int, n: int) -> list[str]:
        return [p for _, _, p in self._turns.get(conversation_id, [])][::-1][:n]

    def set_holder(self, conversation_id: int, state: str, reason: str = "") -> None:
        """The teacher's conversations are never handed to anyone."""


@dataclass
class _Answer:
    text: str
    path: str
    chunk_ids: list[int]
    prompt_tokens: int
    prior: str = ""   # for a follow-up: the teacher's answer to the first turn


class _Teacher:
    def __init__(self, app: Doppel, agent: Agent, teacher_llm: ChatBackend | None) -> None:
        self.app, self.agent, self.llm = app, agent, teacher_llm
        shields = app.shields if app.settings.shields else None
        # Answers only: no tools (a lead or a booking request would be real), no handoff.
        steps = [s for s in STEPS if s.name not in ("forget", "held", "remember", "person",
                                                      "tools")]
        self.runtime = AgentRuntime(app.settings, app.index, _ScratchConversations(),
                                    app.backend_for, shields, steps=steps)
        self.faq_chunks: dict[str, int] = {}
        self.name = teacher_llm.model_name if teacher_llm is not None else "pipeline"

    async def answer(self, question: str, thread: str, prior: str | None) -> _Answer:
        if prior is not None:  # the first turn, as the user saw it, before the follow-up
            first = await self.answer(prior, thread, None)
            if first.path not in KEPT_PATHS:
                return _Answer("", "dont_know", [], 0)
            if self.llm is not None:
                follow = await self._llm(question, [(prior, first.text)], f"{prior}\n{question}")
            else:
                follow = await self._pipeline(question, thread)
            follow.chunk_ids = first.chunk_ids + follow.chunk_ids
            follow.prior = first.text
            return follow
        if self.llm is not None:
            return await self._llm(question, [], question)
        return await self._pipeline(question, thread)

    async def _pipeline(self, question: str, thread: str) -> _Answer:
        r = await self.runtime.turn(self.agent, question, thread=thread)
        ids = [c.chunk_id for c in r.citations]
        matched = r.grounding.get("matched_question")
        if isinstance(matched, str) and matched in self.faq_chunks:
            ids.append(self.faq_chunks[matched])
        return _Answer(r.answer, r.path, ids, r.prompt_tokens)

    async def _llm(self, question: str, history: list[tuple[str, str]],
                   query: str) -> _Answer:
        """The runtime's own prompt, answered by the teacher model: approved answers first."""
        assert self.llm is not None
        s, index, spec = self.app.settings, self.app.index, self.agent.spec
        vector = index.embed_query(query)
        approved = index.match_approved(self.agent.id, vector)
        if (approved is not None and approved.similarity >= s.approved_threshold
                and same_particulars(query, approved.question)):
            ids = [self.faq_chunks[approved.question]] if approved.question in \
                self.faq_chunks else []
            return _Answer(approved.answer, "approved", ids, 0)
        passages = index.search(self.agent.id, query, s.retrieval_k, query_vector=vector)
        if max((p.similarity for p in passages), default=0.0) < s.min_relevance:
            return _Answer(dont_know(spec), "dont_know", [], 0)
        prompt = build_prompt(spec, question, passages, history, self.llm,
                              max_answer_tokens=s.max_answer_tokens,
                              passage_budget=s.prompt_passage_tokens)
        result = await self.llm.chat(prompt.messages, GenerationParams(
            max_tokens=s.max_answer_tokens, temperature=0.0, seed=0))
        return _Answer(result.text.strip(), "generated", [p.chunk_id for p in prompt.passages],
                       result.prompt_tokens or prompt.tokens)

    async def questions(self, chunk: _Chunk, n: int = 3) -> list[str]:
        """Questions the teacher model writes for one chunk, one per line, filtered."""
        if self.llm is None:
            return []
        ask = (f"Here is a passage from {self.agent.spec.name}'s information:\n\"\"\"\n"
               f"{chunk.text}\n\"\"\"\nWrite {n} different questions a customer might ask that "
               "this passage answers, one per line, with no numbering and nothing else.")
        result = await self.llm.chat([ChatMessage("user", ask)],
                                     GenerationParams(max_tokens=160, temperature=0.0, seed=0))
        out = []
        for line in result.text.splitlines():
            line = re.sub(r"^\s*(?:[-*•]|\d+[.)])\s*", "", line).strip().strip('"')
            if line.endswith("?") and 3 <= len(line.split()) <= 25 and "passage" not in line:
                out.append(line)
        return out[:n]


# --- building ---------------------------------------------------------------------------------

def _chunks(app: Doppel, agent: Agent) -> list[_Chunk]:
    rows = app.db.connect().execute(
        "SELECT c.id, d.source, d.loader, c.heading, c.text FROM chunks c JOIN documents d "
        "ON d.id = c.document_id WHERE c.agent_id = ? ORDER BY c.id", (agent.id,)).fetchall()
    return [_Chunk(r[0], r[1], r[2], r[3], r[4]) for r in rows]


def _unsafe_prompts(rng: random.Random) -> list[tuple[str, str]]:
    """(prompt, category): a few lines of the shields' training set, one per hazard category."""
    data = yaml.safe_load(resources.files("doppel.safety").joinpath("data/train.yaml")
                          .read_text(encoding="utf-8"))
    by_category: dict[str, list[str]] = {}
    for item in data.get("hazard", []):
        by_category.setdefault(str(item["category"]), []).append(str(item["text"]))
    out = [(text, cat) for cat in sorted(by_category)
           for text in rng.sample(by_category[cat], UNSAFE_PER_CATEGORY)]
    out += [(text, "injection") for text in rng.sample(list(data.get("injection", [])),
                                                       INJECTIONS)]
    return out


def _example_id(messages: list[dict[str, str]]) -> str:
    return hashlib.sha1(json.dumps(messages, sort_keys=True).encode()).hexdigest()[:12]


def _hashed_heldout(seed: int, text: str, share: float) -> bool:
    h = int.from_bytes(hashlib.sha256(f"{seed}:{text}".encode()).digest()[:4], "big")
    return h % 1000 < share * 1000


def _dedupe(questions: list[_Question], app: Doppel, seen: set[str]) -> list[_Question]:
    """Drop repeats by normalised text (across chunks) and by meaning (within a chunk)."""
    fresh = []
    for q in questions:
        key = _norm(f"{q.prior or ''} {q.text}")
        if key not in seen:
            seen.add(key)
            fresh.append(q)
    if len(fresh) < 2:
        return fresh
    vectors = app.embedder.embed([f"{q.prior or ''} {q.text}".strip() for q in fresh])
    kept: list[int] = []
    for i in range(len(fresh)):
        if all(float(np.dot(vectors[i], vectors[j])) < NEAR_DUPLICATE for j in kept):
            kept.append(i)
    return [fresh[i] for i in kept]


async def _build(app: Doppel, agent: Agent, seed: int, teacher_llm: ChatBackend | None,
                 heldout: float, max_per_chunk: int, chunk_ids: Collection[int] | None,
                 min_examples: int, progress: Callable[[int, int], None] | None,
                 kept: tuple[str, ...] = KEPT_PATHS) -> Dataset:
    rng = random.Random(seed)
    spec = agent.spec
    chunks = [c for c in _chunks(app, agent) if chunk_ids is None or c.id in chunk_ids]
    teacher = _Teacher(app, agent, teacher_llm)
    by_id = {c.id: c for c in _chunks(app, agent)}
    teacher.faq_chunks = {m.group(1).strip(): c.id for c in by_id.values() if c.loader == "faq"
                          and (m := re.match(r"Q:\s*(.+?)\nA:", c.text, re.S))}
    seen: set[str] = set()
    planned: list[_Question] = []
    names = Counter(next((f[k] for k in ("item", "name", "title", "product") if k in f), "")
                    for f in (_fields(c.text) for c in by_id.values()))
    repeated = {n for n, count in names.items() if n and count > 1}
    for chunk in chunks:
        mined = mine_questions(chunk, repeated)
        mined += [_Question(chunk, "fact", "llm", q) for q in await teacher.questions(chunk)]
        mined += [_Question(chunk, "paraphrase", q.method, p) for q in mined
                  if q.kind == "fact" for p in paraphrases(q.text)]
        planned += _pick(_dedupe(mined, app, seen), rng, max_per_chunk)

    backend = app.backend_for(spec) if teacher_llm is None else None
    system = ChatMessage("system", student_system_prompt(spec))

    def teacher_tokens(question: str, used: list[_Chunk]) -> int:
        """The prompt the teacher's model would have read for this question (its fixed
        instructions, the passages, the question), for a turn answered without the model
        (composed or quoted): what a student saves is measured against that."""
        passages = "\n\n".join(c.text for c in used[:3])
        chat = [ChatMessage("system", f"{instructions(spec)}\n\n{passages}"),
                ChatMessage("user", question)]
        if backend is not None:
            return count_message_tokens(backend, chat)
        return sum(estimate_tokens(m.content) + 5 for m in chat)

    def student_tokens(messages: list[dict[str, str]]) -> int:
        chat = [system, *(ChatMessage(m["role"], m["content"])  # type: ignore[arg-type]
                          for m in messages)]
        if backend is not None:
            return count_message_tokens(backend, chat)
        return sum(estimate_tokens(m.content) + 5 for m in chat)

    policy = spec.shields
    shields = app.shields if app.settings.shields and policy.enabled else None
    fixed = instructions(spec)
    dropped: Counter[str] = Counter()
    examples: list[Example] = []
    total = len(planned)
    for i, q in enumerate(planned):
        assert q.chunk is not None
        got = await teacher.answer(q.text, f"distill-{i}", q.prior)
        if progress is not None:
            progress(i + 1, total)
        if got.path not in kept or not got.text:
            dropped[f"teacher:{got.path}"] += 1
            continue
        ids = list(dict.fromkeys([q.chunk.id, *got.chunk_ids]))
        used = [by_id[c] for c in ids if c in by_id]
        evidence = Evidence([c.text for c in used] + [c.heading for c in used]
                            + [c.source for c in used] + spec.evidence_texts())
        verdict = check(got.text, evidence, q.text)
        # A generated answer with no checkable fact teaches nothing and may still be wrong
        # (the 135M teacher says "No, I don't." about an item on the menu): dropped.
        if not verdict.grounded or got.path == "generated" and verdict.facts_checked == 0:
            dropped["ungrounded"] += 1
            continue
        if shields is not None and (await shields.check_output(
                policy, got.text, question=q.text, evidence=[c.text for c in used],
                instructions=fixed, agent_name=spec.name)).blocked:
            dropped["shields"] += 1
            continue
        messages = ([{"role": "user", "content": q.prior},
                     {"role": "assistant", "content": got.prior}] if q.prior else [])
        messages.append({"role": "user", "content": q.text})
        # A composed reply's citation markers point at this turn's citations: not words a
        # student should learn to write.
        target = re.sub(r"\s?\[\d{1,2}\]", "", got.text).strip()
        examples.append(Example(
            _example_id(messages), messages, target, q.kind, "train",
            Provenance(ids, list(dict.fromkeys(c.source for c in used)), got.path, q.method,
                       seed, teacher.name),
            student_tokens(messages),
            got.prompt_tokens or teacher_tokens(q.text, used)))

    usable = len(examples)
    if usable < min_examples:
        raise ValidationError(
            f"not enough knowledge to distill: {usable} usable examples from {len(chunks)} "
            f"passages (at least {min_examples} needed; add your FAQ, price list or pages)")

    # Split by source chunk: every question mined from a held-out chunk is held out.
    sources = sorted({e.provenance.chunk_ids[0] for e in examples})
    rng.shuffle(sources)
    n_held = max(1, min(len(sources) - 1, round(heldout * len(sources))))
    held = set(sources[:n_held])
    for e in examples:
        e.split = "heldout" if e.provenance.chunk_ids[0] in held else "train"
    # A train example with a held-out example's very answer would test recall: dropped.
    held_answers = {e.answer for e in examples if e.split == "heldout"}
    before = len(examples)
    examples = [e for e in examples if e.split == "heldout" or e.answer not in held_answers]
    dropped["leaks_heldout_answer"] = before - len(examples)

    def fixed_example(question: str, answer: str, kind: Kind, path: str, method: str) -> None:
        messages = [{"role": "user", "content": question}]
        split: Split = "heldout" if _hashed_heldout(seed, question, heldout) else "train"
        examples.append(Example(_example_id(messages), messages, answer, kind, split,
                                Provenance([], [], path, method, seed, teacher.name),
                                student_tokens(messages), 0))

    for question in OUT_OF_SCOPE:
        fixed_example(question, dont_know(spec), "dont_know", "dont_know", "template")
    for j, (prompt, category) in enumerate(_unsafe_prompts(rng)):
        r = await teacher.runtime.turn(agent, prompt, thread=f"distill-unsafe-{j}")
        if r.path == "refused":
            fixed_example(prompt, r.answer, "refusal", "refused", "shields")
        else:  # shields off or missed: the refusal they would give for this category
            report = ShieldReport("input", [Verdict("dataset", "block", [category])])
            fixed_example(prompt, refusal(spec, report), "refusal", r.path, "template")
    greeting = spec.greeting or (f"{spec.voice.greetings[0]} " if spec.voice and
                                 spec.voice.greetings else "Hi! ") + \
        f"I'm the assistant of {spec.name}. How can I help?"
    for question in GREETINGS:
        fixed_example(question, greeting, "greeting", "approved", "template")

    examples.sort(key=lambda e: (e.split, e.kind, e.id))
    return Dataset(examples, _stats(examples, chunks, held, dropped, usable))


def _stats(examples: Sequence[Example], chunks: Sequence[_Chunk], held: set[int],
           dropped: Counter[str], usable: int) -> dict[str, Any]:
    taught = [e for e in examples if e.teacher_prompt_tokens > 0]
    student = sum(e.student_prompt_tokens for e in taught) / max(1, len(taught))
    teacher = sum(e.teacher_prompt_tokens for e in taught) / max(1, len(taught))
    return {
        "examples": len(examples),
        "usable_knowledge_examples": usable,
        "passages": len(chunks),
        "heldout_chunks": sorted(held),
        "by_split": dict(sorted(Counter(e.split for e in examples).items())),
        "by_kind": dict(sorted(Counter(e.kind for e in examples).items())),
        "by_kind_split": dict(sorted(Counter(f"{e.kind}/{e.split}" for e in examples).items())),
        "by_method": dict(sorted(Counter(e.provenance.method for e in examples).items())),
        "by_path": dict(sorted(Counter(e.provenance.path for e in examples).items())),
        "by_source": dict(sorted(Counter(s for e in examples for s in
                                         e.provenance.sources[:1]).items())),
        "dropped": dict(sorted(dropped.items())),
        # Over the examples with a teacher prompt (the one sent, or for an answer composed
        # without the model the one it would have read): the target is >= 5x fewer prompt
        # tokens per turn for the student.
        "student_prompt_tokens_mean": round(student, 1),
        "teacher_prompt_tokens_mean": round(teacher, 1),
        "prompt_token_ratio": round(teacher / student, 2) if student else None,
    }


def build_dataset(app: Doppel, agent: Agent, *, seed: int = 0,
                  teacher_llm: ChatBackend | None = None, heldout: float = 0.2,
                  max_per_chunk: int = 6, chunk_ids: Collection[int] | None = None,
                  min_examples: int = MIN_EXAMPLES, paths: Collection[str] = KEPT_PATHS,
                  progress: Callable[[int, int], None] | None = None) -> Dataset:
    """The agent's distillation dataset. Deterministic for a seed (with a deterministic
    teacher); `chunk_ids` limits mining to some chunks (the teacher still sees them all);
    `paths` are the teacher's answer paths kept as targets."""
    if not 0 < heldout < 1:
        raise ValidationError("heldout must be between 0 and 1")
    return asyncio.run(_build(app, agent, seed, teacher_llm, heldout, max_per_chunk, chunk_ids,
                              min_examples, progress, tuple(paths)))


def save_jsonl(dataset: Dataset, path: Path | str) -> Path:
    """One example per line (provenance in each), and `stats.json` beside the file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(e.to_json() + "\n" for e in dataset.examples), encoding="utf-8")
    (path.parent / "stats.json").write_text(json.dumps(dataset.stats, indent=2, sort_keys=True)
                                            + "\n", encoding="utf-8")
    return path


def load_jsonl(path: Path | str) -> Dataset:
    path = Path(path)
    examples = [Example.from_json(line) for line in path.read_text(encoding="utf-8")
                .splitlines() if line.strip()]
    stats_file = path.parent / "stats.json"
    stats = json.loads(stats_file.read_text(encoding="utf-8")) if stats_file.is_file() else {}
    return Dataset(examples, stats)
