"""What the owner console shows about an agent's conversations, read from the recorded turns:

- the **inbox**: questions the agent could not answer (`dont_know`) or only quoted
  (`extractive`), grouped by meaning, each answerable in one click as an approved answer;
- **analytics**: conversations and turns per day, answer paths, top questions, shield counts,
  latency per path;
- **safety events**: turns a shield blocked or rewrote;
- **search** over the conversations.

The console pages and the owner JSON API call the same `Insights` methods; nothing here knows
about HTTP. Questions are grouped with the agent's own embedder (the one that matches approved
answers), so "answered" here means exactly what the runtime will do with the question.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from doppel.service import Doppel

__all__ = ["PATHS", "GROUP_THRESHOLD", "Insights", "QuestionGroup", "QuestionCount",
           "Analytics", "DayCount", "PathCount", "Latency", "SafetyEvent", "ShieldHit",
           "SafetyPage", "ConversationHit", "group_vectors", "normalise", "turn_latency_ms"]

PATHS = ("approved", "composed", "generated", "extractive", "dont_know", "refused")
UNANSWERED = ("dont_know", "extractive")
# Cosine at which two questions count as the same question. Lower than the approved-answer
# threshold (0.86): the inbox should gather paraphrases, and answering a group approves every
# member, so a group wider than one approved answer's reach is still fully answered.
GROUP_THRESHOLD = 0.8
MAX_TURNS = 10_000        # most recent turns a grouping looks at (bounds embedding + O(n*k))
EMBED_CACHE = 10_000      # question vectors kept in memory (384 float32 = 1.5 KB each)
_SPACE = re.compile(r"\s+")
# Sequential laps of the runtime's clock (doppel.agents.turn.Clock.lap): their sum is the
# turn's time up to the final database write. ttft/first_visible/shields_wait are not laps.
_LAPS = ("embed_ms", "approved_ms", "retrieve_ms", "prompt_ms", "generate_ms", "grounding_ms",
         "shields_output_ms")


def normalise(text: str) -> str:
    """The form questions are counted and dismissed by: case, spacing and end marks ignored."""
    return _SPACE.sub(" ", text).strip(" ?!.,;:…").casefold()


def group_vectors(vectors: np.ndarray, threshold: float, block: int = 256) -> list[list[int]]:
    """Greedy leader clustering of unit row vectors, most important row first.

    Each row joins the group whose leader (first row) is most similar to it, at cosine >=
    threshold (the earliest leader on ties), or leads a new group: deterministic for a given
    order, O(rows x groups). Rows are compared in blocks, one matrix product per block against
    the leaders known before it (a long tail of one-off questions makes thousands of groups;
    row by row that was ~30x slower), plus the few leaders the block itself adds.
    """
    groups: list[list[int]] = []
    leaders = np.zeros_like(vectors)  # rows [0, len(groups)) are the leaders, in group order
    for start in range(0, len(vectors), block):
        chunk = vectors[start:start + block]
        known = len(groups)
        sims = chunk @ leaders[:known].T  # (rows in block, leaders before it)
        for j, vector in enumerate(chunk):
            best, best_sim = -1, -np.inf
            if known:
                best = int(np.argmax(sims[j]))
                best_sim = float(sims[j, best])
            if len(groups) > known:
                fresh = leaders[known:len(groups)] @ vector
                i = int(np.argmax(fresh))
                if fresh[i] > best_sim:
                    best, best_sim = known + i, float(fresh[i])
            if best >= 0 and best_sim >= threshold:
                groups[best].append(start + j)
            else:
                leaders[len(groups)] = vector
                groups.append([start + j])
    return groups


def turn_latency_ms(timings: dict[str, Any]) -> float | None:
    """The turn's answer time in ms, up to (not including) its database write; None if untimed.

    The runtime stores its clock's marks before `total_ms` exists, so the total is rebuilt from
    the laps. Turns that end before the prompt lap (approved, dont_know, refused) spend their
    input-shield wait after the last lap: it is added for them only, never counted twice.
    """
    if "total_ms" in timings:
        return float(timings["total_ms"])
    laps = [float(timings[k]) for k in _LAPS if k in timings]
    if not laps and "shields_wait_ms" not in timings:
        return None
    total = sum(laps)
    if "prompt_ms" not in timings:
        total += float(timings.get("shields_wait_ms", 0.0))
    return total


# --- results ------------------------------------------------------------------------------------

@dataclass
class QuestionCount:
    question: str   # as last asked (PII already redacted by the runtime)
    count: int
    first_seen: str
    last_seen: str


@dataclass
class QuestionGroup:
    """Questions that mean the same; `question` (the most asked) represents them."""

    question: str
    count: int                  # turns in the group
    first_seen: str
    last_seen: str
    paths: dict[str, int]
    conversation_ids: list[int]
    members: list[QuestionCount]  # every distinct question, the representative first

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DayCount:
    date: str          # YYYY-MM-DD in the caller's time zone
    conversations: int  # conversations with at least one turn that day
    turns: int


@dataclass
class PathCount:
    count: int
    share: float  # of all turns in the window, 0..1


@dataclass
class Latency:
    count: int
    median_ms: float
    p95_ms: float


@dataclass
class Analytics:
    since: str
    until: str
    days: list[DayCount]
    conversations: int
    turns: int
    paths: dict[str, PathCount]
    top_questions: list[QuestionGroup]
    refused: int
    shield_categories: dict[str, int]  # turns with a non-allow verdict, per category
    shields: dict[str, int]            # turns with a non-allow verdict, per shield
    latency: dict[str, Latency]        # per path, turns with timings only

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ShieldHit:
    stage: str            # input | output
    shield: str
    action: str           # block | rewrite
    categories: list[str]
    reason: str = ""
    sentence: int | None = None  # output stage: which sentence of the answer


@dataclass
class SafetyEvent:
    turn_id: int
    conversation_id: int
    thread: str
    created_at: str
    path: str
    message: str   # as stored: private data already redacted
    answer: str
    categories: list[str]
    hits: list[ShieldHit] = field(default_factory=list)


@dataclass
class SafetyPage:
    events: list[SafetyEvent]
    total: int                 # events matching the filter (before limit/offset)
    counts: dict[str, int]     # events per category in the window, unfiltered

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ConversationHit:
    id: int
    thread: str
    created_at: str
    last_at: str | None
    turns: int
    matches: int             # turns that match the query
    snippet: str             # from the latest matching turn
    field: str               # where the snippet is from: question | answer
    highlight: list[int]     # [start, end) of the first match inside `snippet`

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Question:
    """One distinct (normalised) question, aggregated over its turns."""

    key: str
    text: str
    count: int = 0
    first_seen: str = ""
    last_seen: str = ""
    paths: dict[str, int] = field(default_factory=dict)
    conversations: dict[int, None] = field(default_factory=dict)  # ordered set


# --- the service --------------------------------------------------------------------------------

class Insights:
    """Reads one data directory's turns for the console; one instance per `Doppel`."""

    def __init__(self, app: Doppel) -> None:
        self.app = app
        self.db = app.db
        # (embedder name, text) -> unit vector. A question's vector never changes for a given
        # embedder, so the cache needs no knowledge-version key; LRU-bounded.
        self._vectors: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def of(cls, app: Doppel) -> Insights:
        """The app's shared instance, so the embedding cache lives as long as the app."""
        return app.insights

    # --- inbox ----------------------------------------------------------------------------------
    def inbox(self, agent_id: int, *, days: int = 90,
              threshold: float = GROUP_THRESHOLD) -> list[QuestionGroup]:
        """Unanswered question groups, most asked first. A question leaves the inbox once an
        approved answer would now be used for it, or once the owner dismissed it."""
        since, _ = _window(days, 0, None)
        questions = self._questions(agent_id, since, UNANSWERED, marked_wrong=True)
        dismissed = self.dismissed(agent_id)
        questions = [q for q in questions if q.key not in dismissed]
        vectors = self._embed([q.text for q in questions])
        keep = ~self._answered(agent_id, vectors, [q.text for q in questions])
        questions = [q for q, k in zip(questions, keep, strict=True) if k]
        return _grouped(questions, vectors[keep], threshold)

    def answer_group(self, agent_id: int, question: str, answer: str,
                     also: Sequence[str] | None = None, *,
                     threshold: float = GROUP_THRESHOLD) -> list[tuple[int, str]]:
        """Approve `answer` for `question` and its paraphrases; (id, question) per entry added.

        `also` None: the other members of the inbox group `question` belongs to. Each
        paraphrase is its own approved question because approved matching is nearest-neighbour
        at `approved_threshold` (0.86), stricter than grouping: without them, a member asked in
        other words would still miss the answer.
        """
        if also is None:
            also = self._members(agent_id, question, threshold)
        added = [(self.app.answers.add(agent_id, question, answer), question.strip())]
        seen = {normalise(question)}
        for text in also:
            key = normalise(text)
            if key and key not in seen:
                seen.add(key)
                added.append((self.app.answers.add(agent_id, text, answer), text.strip()))
        return added

    def dismiss(self, agent_id: int, question: str, also: Sequence[str] | None = None, *,
                threshold: float = GROUP_THRESHOLD) -> list[str]:
        """Keep `question` (and `also`; None: its inbox group) out of the inbox for good."""
        if also is None:
            also = self._members(agent_id, question, threshold)
        keys = list(dict.fromkeys(k for k in map(normalise, [question, *also]) if k))
        with self.db.transaction() as tx:
            tx.executemany("INSERT INTO inbox_dismissals(agent_id, question) VALUES (?, ?) "
                           "ON CONFLICT DO NOTHING", [(agent_id, k) for k in keys])
        return keys

    def restore(self, agent_id: int, question: str) -> bool:
        """Undo a dismissal of one question."""
        with self.db.transaction() as tx:
            cur = tx.execute("DELETE FROM inbox_dismissals WHERE agent_id = ? AND question = ?",
                             (agent_id, normalise(question)))
            return cur.rowcount > 0

    def dismissed(self, agent_id: int) -> set[str]:
        rows = self.db.connect().execute(
            "SELECT question FROM inbox_dismissals WHERE agent_id = ?", (agent_id,))
        return {r[0] for r in rows}

    def _members(self, agent_id: int, question: str, threshold: float) -> list[str]:
        key = normalise(question)
        for group in self.inbox(agent_id, threshold=threshold):
            texts = [m.question for m in group.members]
            if key in map(normalise, texts):
                return texts
        return []

    def _answered(self, agent_id: int, vectors: np.ndarray,
                  texts: Sequence[str]) -> np.ndarray:
        """Per row: would the runtime answer it from an approved answer now? The runtime's
        rule, batched: the most similar approved question, at approved_threshold or above,
        asking about the same specifics (KnowledgeIndex.match_approved + same_particulars)."""
        from doppel.language.facts import same_particulars

        rows = self.db.connect().execute(
            "SELECT question, embedding FROM approved_answers WHERE agent_id = ? ORDER BY id",
            (agent_id,)).fetchall()
        if not rows or len(vectors) == 0:
            return np.zeros(len(vectors), dtype=bool)
        approved = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32)
        approved = approved.reshape(len(rows), -1)
        if approved.shape[1] != vectors.shape[1]:  # stored by another embedder: no match
            return np.zeros(len(vectors), dtype=bool)
        sims = vectors @ approved.T
        best = sims.argmax(axis=1)
        return np.array([bool(sims[i, j] >= self.app.settings.approved_threshold
                              and same_particulars(texts[i], rows[j]["question"]))
                         for i, j in enumerate(best)], dtype=bool)

    # --- analytics ------------------------------------------------------------------------------
    def analytics(self, agent_id: int, days: int = 30, *, top: int = 10,
                  threshold: float = GROUP_THRESHOLD, utc_offset_minutes: int = 0,
                  today: date | None = None) -> Analytics:
        """Counts over the last `days` days (today included), zero-filled, in the caller's
        time zone (`utc_offset_minutes` east of UTC; JavaScript's getTimezoneOffset negated)."""
        since, until = _window(days, utc_offset_minutes, today)
        conn = self.db.connect()
        day = self.db.dialect.local_day("created_at")
        scope = "agent_id = ? AND created_at >= ? AND created_at < ?"
        args = (agent_id, since, until)
        per_day = {r[0]: (int(r[1]), int(r[2])) for r in conn.execute(
            f"SELECT {day} AS day, COUNT(DISTINCT conversation_id), COUNT(*) FROM turns "
            f"WHERE {scope} GROUP BY day", (utc_offset_minutes, *args))}
        first = _day(since, utc_offset_minutes)
        series = [DayCount(d, *per_day.get(d, (0, 0)))
                  for d in ((first + timedelta(days=i)).isoformat() for i in range(days))]
        conversations, turns = conn.execute(
            f"SELECT COUNT(DISTINCT conversation_id), COUNT(*) FROM turns WHERE {scope}",
            args).fetchone()
        counts = {p: 0 for p in PATHS}
        latencies: dict[str, list[float]] = {p: [] for p in PATHS}
        categories: dict[str, int] = {}
        shields: dict[str, int] = {}
        for path, timings, verdicts in conn.execute(
                f"SELECT path, timings_json, shields_json FROM turns WHERE {scope}", args):
            counts[path] = counts.get(path, 0) + 1
            if (ms := turn_latency_ms(json.loads(timings))) is not None:
                latencies.setdefault(path, []).append(ms)
            hits = _hits(json.loads(verdicts))
            for name in {h.shield for h in hits}:
                shields[name] = shields.get(name, 0) + 1
            for category in {c for h in hits for c in h.categories}:
                categories[category] = categories.get(category, 0) + 1
        total = int(turns)
        top_questions: list[QuestionGroup] = []
        if top > 0 and total:
            # Greetings and refused messages are not questions the owner can act on.
            questions = self._questions(agent_id, since, ("approved", "composed", "generated",
                                                          "extractive", "dont_know"),
                                        until=until, skip_greetings=True)
            top_questions = _grouped(questions, self._embed([q.text for q in questions]),
                                     threshold)[:top]
        return Analytics(
            since=since, until=until, days=series, conversations=int(conversations),
            turns=total,
            paths={p: PathCount(n, round(n / total, 4) if total else 0.0)
                   for p, n in counts.items()},
            top_questions=top_questions, refused=counts["refused"],
            shield_categories=dict(sorted(categories.items(), key=lambda kv: (-kv[1], kv[0]))),
            shields=dict(sorted(shields.items(), key=lambda kv: (-kv[1], kv[0]))),
            latency={p: Latency(len(v), round(float(np.median(v)), 1),
                                round(float(np.percentile(v, 95)), 1))
                     for p, v in latencies.items() if v})

    # --- safety events --------------------------------------------------------------------------
    def safety_events(self, agent_id: int, *, category: str | None = None, days: int = 30,
                      limit: int = 50, offset: int = 0) -> SafetyPage:
        """Turns where a shield blocked or rewrote something, newest first."""
        since, _ = _window(days, 0, None)
        sql = self.db.dialect
        rows = self.db.connect().execute(
            "SELECT t.id, t.conversation_id, c.thread, t.created_at, t.path, t.user_message, "
            "t.answer, t.shields_json FROM turns t JOIN conversations c ON c.id = "
            "t.conversation_id WHERE t.agent_id = ? AND t.created_at >= ? AND ("
            f"COALESCE({sql.json_text('t.shields_json', 'input', 'action')}, 'allow') "
            f"!= 'allow' OR COALESCE({sql.json_array_length('t.shields_json', 'output')}, 0) "
            "> 0) ORDER BY t.id DESC", (agent_id, since)).fetchall()
        events: list[SafetyEvent] = []
        counts: dict[str, int] = {}
        wanted = category.casefold() if category else None
        for r in rows:
            hits = _hits(json.loads(r["shields_json"]))
            cats = list(dict.fromkeys(c for h in hits for c in h.categories))
            if not hits:
                continue
            for c in cats:
                counts[c] = counts.get(c, 0) + 1
            if wanted is None or wanted in (c.casefold() for c in cats):
                events.append(SafetyEvent(r["id"], r["conversation_id"], r["thread"],
                                          r["created_at"], r["path"], r["user_message"],
                                          r["answer"], cats, hits))
        return SafetyPage(events[offset:offset + limit], len(events),
                          dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))))

    # --- search ---------------------------------------------------------------------------------
    def search_conversations(self, agent_id: int, q: str, limit: int = 50,
                             offset: int = 0) -> list[ConversationHit]:
        """Conversations with a turn whose question or answer holds every word of `q`
        (case-insensitive for ASCII), most recently active first."""
        terms = list(dict.fromkeys(q.split()))[:8]
        if not terms:
            return []
        # lower() on both sides: SQLite's LIKE ignores case, PostgreSQL's does not
        where = " AND ".join(["(lower(user_message) LIKE ? ESCAPE '\\' OR lower(answer) LIKE ? "
                              "ESCAPE '\\')"] * len(terms))
        likes = [p for t in terms for p in (_like(t.lower()), _like(t.lower()))]
        rows = self.db.connect().execute(
            f"WITH hits AS (SELECT conversation_id, MAX(id) AS turn_id, COUNT(*) AS matches "
            f"FROM turns WHERE agent_id = ? AND {where} GROUP BY conversation_id) "
            f"SELECT c.id, c.thread, c.created_at, h.matches, t.user_message, t.answer, "
            f"s.turns, s.last_at, s.last_id FROM hits h "
            f"JOIN conversations c ON c.id = h.conversation_id JOIN turns t ON t.id = h.turn_id "
            f"JOIN (SELECT conversation_id, COUNT(*) AS turns, MAX(created_at) AS last_at, "
            f"MAX(id) AS last_id FROM turns WHERE agent_id = ? GROUP BY conversation_id) s "
            f"ON s.conversation_id = c.id "
            f"ORDER BY s.last_id DESC, c.id DESC LIMIT ? OFFSET ?",
            (agent_id, *likes, agent_id, limit, offset)).fetchall()
        out = []
        for r in rows:
            where_found, text = next(((f, t) for f, t in (("question", r["user_message"]),
                                                          ("answer", r["answer"]))
                                      if _first_match(t, terms)), ("question", r["user_message"]))
            snippet, span = _snippet(text, terms)
            out.append(ConversationHit(r["id"], r["thread"], r["created_at"], r["last_at"],
                                       r["turns"], r["matches"], snippet, where_found, span))
        return out

    # --- shared ---------------------------------------------------------------------------------
    def _questions(self, agent_id: int, since: str, paths: Sequence[str], *,
                   until: str | None = None, skip_greetings: bool = False,
                   marked_wrong: bool = False) -> list[_Question]:
        """Distinct questions of the window's most recent MAX_TURNS turns on `paths`, most
        asked first (ties: asked earlier first), aggregated over their turns. With
        `marked_wrong`, answers the owner marked wrong count whatever their path (and an
        answer marked right never does): the inbox."""
        in_paths = f"path IN ({','.join('?' * len(paths))})"
        where = (f"(({in_paths} AND owner_mark != 'right') OR owner_mark = 'wrong')"
                 if marked_wrong else in_paths)
        sql = (f"SELECT conversation_id, user_message, path, created_at FROM turns "
               f"WHERE agent_id = ? AND created_at >= ? AND {where}")
        args: list[Any] = [agent_id, since, *paths]
        if until is not None:
            sql += " AND created_at < ?"
            args.append(until)
        if skip_greetings:
            source = self.db.dialect.json_text("grounding_json", "source")
            sql += f" AND COALESCE({source}, '') != 'greeting'"
        rows = self.db.connect().execute(sql + " ORDER BY id DESC LIMIT ?",
                                         (*args, MAX_TURNS)).fetchall()
        found: dict[str, _Question] = {}
        for conversation_id, message, path, created_at in reversed(rows):  # oldest first
            key = normalise(message)
            if not key:
                continue
            q = found.setdefault(key, _Question(key, message, first_seen=created_at))
            q.text, q.last_seen, q.count = message.strip(), created_at, q.count + 1
            q.paths[path] = q.paths.get(path, 0) + 1
            q.conversations[conversation_id] = None
        return sorted(found.values(), key=lambda q: (-q.count, q.first_seen, q.key))

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of `texts`; only texts not seen before reach the embedder, in one batch."""
        embedder = self.app.embedder
        keys = [(embedder.name, t) for t in texts]
        with self._lock:
            missing = list(dict.fromkeys(k for k in keys if k not in self._vectors))
        if missing:
            fresh = embedder.embed([t for _, t in missing])
            with self._lock:
                for k, v in zip(missing, fresh, strict=True):
                    self._vectors[k] = np.asarray(v, dtype=np.float32)
        with self._lock:
            # looked up before trimming: this call's own vectors must survive it
            out = [self._vectors[k] for k in keys]
            for k in keys:
                self._vectors.move_to_end(k)
            while len(self._vectors) > EMBED_CACHE:
                self._vectors.popitem(last=False)
        if not out:
            return np.zeros((0, embedder.dim), dtype=np.float32)
        return np.stack(out)


def _grouped(questions: Sequence[_Question], vectors: np.ndarray,
             threshold: float) -> list[QuestionGroup]:
    groups = []
    for rows in group_vectors(vectors, threshold):
        members = [questions[i] for i in rows]
        paths: dict[str, int] = {}
        for m in members:
            for p, n in m.paths.items():
                paths[p] = paths.get(p, 0) + n
        conversations = dict.fromkeys(c for m in members for c in m.conversations)
        groups.append(QuestionGroup(
            members[0].text, sum(m.count for m in members), min(m.first_seen for m in members),
            max(m.last_seen for m in members), paths, sorted(conversations),
            [QuestionCount(m.text, m.count, m.first_seen, m.last_seen) for m in members]))
    groups.sort(key=lambda g: g.last_seen, reverse=True)
    groups.sort(key=lambda g: g.count, reverse=True)  # stable: ties stay most recent first
    return groups


def _hits(shields: dict[str, Any]) -> list[ShieldHit]:
    """Non-allow verdicts of a turn's stored shield reports (see runtime: `record`)."""
    hits = []
    for v in (shields.get("input") or {}).get("verdicts", []):
        if v.get("action", "allow") != "allow":
            hits.append(ShieldHit("input", v.get("shield", ""), v["action"],
                                  list(v.get("categories", [])), v.get("reason", "")))
    for report in shields.get("output") or []:
        for v in report.get("verdicts", []):
            if v.get("action", "allow") != "allow":
                hits.append(ShieldHit("output", v.get("shield", ""), v["action"],
                                      list(v.get("categories", [])), v.get("reason", ""),
                                      report.get("sentence")))
    return hits


def _window(days: int, utc_offset_minutes: int, today: date | None) -> tuple[str, str]:
    """[since, until) in stored-timestamp form (UTC ISO) for the last `days` local days."""
    offset = timedelta(minutes=utc_offset_minutes)
    today = today or (datetime.now(UTC) + offset).date()
    start = datetime.combine(today - timedelta(days=days - 1), time.min, UTC) - offset
    end = datetime.combine(today + timedelta(days=1), time.min, UTC) - offset
    return _stamp(start), _stamp(end)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")  # sorts like the stored created_at


def _day(stamp: str, utc_offset_minutes: int) -> date:
    moment = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.000Z")
    return (moment + timedelta(minutes=utc_offset_minutes)).date()


def _like(term: str) -> str:
    return "%" + re.sub(r"([\\%_])", r"\\\1", term) + "%"


def _first_match(text: str, terms: Iterable[str]) -> re.Match[str] | None:
    found = [m for t in terms if (m := re.search(re.escape(t), text, re.IGNORECASE))]
    return min(found, key=lambda m: m.start()) if found else None


def _snippet(text: str, terms: Sequence[str], width: int = 140) -> tuple[str, list[int]]:
    """About `width` characters of `text` around the first match, cut at spaces."""
    text = _SPACE.sub(" ", text).strip()
    match = _first_match(text, terms)
    if match is None:
        return (text[:width] + ("…" if len(text) > width else "")), [0, 0]
    start = max(0, match.start() - width // 3)
    if start:
        space = text.find(" ", start, match.start())
        start = space + 1 if space != -1 else start
    end = min(len(text), max(start + width, match.end()))
    if end < len(text):
        space = text.rfind(" ", match.end(), end)
        end = space if space != -1 else end
    prefix = "…" if start else ""
    snippet = prefix + text[start:end] + ("…" if end < len(text) else "")
    at = len(prefix) + match.start() - start
    return snippet, [at, at + match.end() - match.start()]
