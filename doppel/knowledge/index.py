"""The per-agent hybrid index: full text (BM25 over the agent's own chunks) + vector
similarity, fused by reciprocal rank.

The ranking is the same on both stores; what finds the candidates differs:
- SQLite (this module's `KnowledgeIndex`): an FTS5 table finds the chunks that hold a term;
  vectors are float32 blobs and, per agent, one in-memory numpy matrix rebuilt when the
  agent's `knowledge_version` changes (exact search over 100k x 384 floats is one
  matrix-vector product, a few ms). Isolation: the FTS5 query carries the agent's own token in
  the `agent` column, and the matrix holds that agent's rows only.
- PostgreSQL (`doppel.knowledge.pgindex`): a generated `tsvector` with a GIN index, and
  pgvector for the nearest chunks, every statement filtered by the agent's id.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from doppel.knowledge.chunking import Chunk
from doppel.knowledge.loaders import FAQEntry
from doppel.language.words import COURTESIES, FUNCTION_WORDS, other_spellings, stem
from doppel.models.base import Embedder
from doppel.store import Connection, Database, now_iso

RRF_K = 60  # the constant from Cormack et al. (2009); damps the weight of top ranks

# Words too common to help BM25 find a passage (questions are full of them).
_STOPWORDS = FUNCTION_WORDS | COURTESIES


@dataclass
class Passage:
    chunk_id: int
    source: str
    heading: str
    text: str
    start: int
    end: int
    score: float        # fused RRF score
    similarity: float   # cosine similarity to the query
    # [start, end, score] spans that read as instructions to an AI (found at ingest time);
    # cut out before the passage reaches a prompt
    flags: list[list[float]] = field(default_factory=list)
    title: str = ""     # the document's title (a page's <title>, a file's first heading)

    def citation(self) -> str:
        """What a customer sees of where an answer comes from: the document's title and the
        section's heading, never a file-system path."""
        return citation_label(self.source, self.title, self.heading)


@dataclass
class ApprovedMatch:
    id: int
    question: str
    answer: str
    similarity: float
    source: str  # 'faq:<file>' or 'owner'


@dataclass
class _AgentVectors:
    version: int
    ids: np.ndarray      # (n,) int64 chunk ids
    matrix: np.ndarray   # (n, dim) float32


# BM25 is computed for every row that matches before LIMIT applies, at ~1.5 us a row: a query
# term found in a quarter of 100k chunks costs ~40 ms. Terms that common carry almost no IDF
# weight anyway, so a query keeps its rarest terms up to this many matching rows in total
# (the vector side still sees the whole question).
FTS_ROW_BUDGET = 1500
# Content sentences whose vectors are kept (384 float32 each: 20,000 is ~31 MB).
SENTENCE_CACHE = 20_000
# Agents' vector matrices kept in memory on SQLite (one large agent alone may exceed it: the
# one being searched is always kept).
VECTOR_CACHE_BYTES = 512 * 2**20


def query_terms(text: str) -> list[str]:
    """The question's content words, lower-cased, in order, without repeats."""
    words = [w for w in re.findall(r"[\w']+", text.lower()) if w not in _STOPWORDS]
    words = [w.strip("'") for w in words if len(w.strip("'")) > 1 or w.isdigit()]
    words += [v for w in words for v in sorted(other_spellings(w))]  # "check" finds "cheque"
    return list(dict.fromkeys(w for w in words if w))


def fts_query(text: str) -> str | None:
    """A safe FTS5 query: the question's content words, OR-ed, each quoted."""
    words = query_terms(text)
    return " OR ".join(f'"{w}"' for w in words) if words else None


def words_starting(text: str, roots: Sequence[str]) -> list[str]:
    """The words of `text` (runs of word characters, as the regular expression `\\w+` reads
    them) that begin with one of `roots` (lower-case), lower-cased, in no particular order.

    What `re.findall(r"\\b(?:root|…)\\w*", text, re.I)` finds, by `str.find` on the lowered
    text: BM25 reads every matched chunk of a large agent for each query (up to
    FTS_ROW_BUDGET of them) and the regular expression was most of a search's time (a 20,000-
    chunk agent: 11.5 ms p95 for the lexical side, 5-8x less this way)."""
    low = text.lower()
    starts: dict[int, int] = {}  # where a word starts -> the length of its root (the first
    for root in roots:           # root in `roots`' order, as the alternation tries them)
        i = low.find(root)
        while i != -1:
            if (i == 0 or not _word_char(low[i - 1])) and _word_char(low[i]):
                starts.setdefault(i, len(root))
            i = low.find(root, i + 1)
    return [low[i:_WORD_TAIL.match(low, i + n).end()]  # type: ignore[union-attr]
            for i, n in starts.items()]


_WORD_TAIL = re.compile(r"\w*")


def _word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def citation_label(source: str, title: str, heading: str) -> str:
    """'Rentals › Prices' from a document's title and a section's heading; a file name only
    as the last resort, without its folders or suffix ('posts 1', not
    'instagram/your_instagram_activity/content/posts_1.json')."""
    name = title.strip() or re.sub(r"[_-]+", " ", re.sub(r"\.[A-Za-z0-9]{1,5}$", "",
                                                         source.rstrip("/").rsplit("/", 1)[-1]))
    heading = heading.strip()
    if not heading or heading.lower() == name.lower() or heading.lower().startswith(
            name.lower() + " >"):
        return heading or name
    return f"{name} › {heading}"


def to_blob(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


class KnowledgeIndex:
    """Writes and searches one database's chunks for all agents (each query scoped to one)."""

    def __init__(self, db: Database, embedder: Embedder) -> None:
        self.db = db
        self.embedder = embedder
        # Agents' matrices, least recently searched first, at most VECTOR_CACHE_BYTES together:
        # 10,000 small agents of 50 chunks would otherwise keep 750 MB (measured in
        # benchmarks/store.py); a matrix dropped is read again from the store when needed.
        self._vectors: OrderedDict[int, _AgentVectors] = OrderedDict()
        self._vector_bytes = 0
        self._doc_freqs: dict[int, tuple[int, dict[str, int]]] = {}
        self._sizes: dict[int, tuple[int, int, float]] = {}
        self._approved: dict[int, tuple[int, np.ndarray | None,
                                        list[tuple[int, str, str, str]]]] = {}
        self._lock = threading.Lock()
        self._sentences: OrderedDict[str, np.ndarray] = OrderedDict()

    # --- writing (inside the caller's transaction) ---------------------------------------------
    # The full-text index follows the chunks table by itself (SQLite: triggers; PostgreSQL: a
    # generated column), so writing a chunk is the same statement on both stores.
    @staticmethod
    def delete_document(tx: Connection, document_id: int) -> None:
        tx.execute("DELETE FROM chunks WHERE document_id = ?", (document_id,))
        tx.execute("DELETE FROM approved_answers WHERE document_id = ?", (document_id,))

    @staticmethod
    def insert_chunks(tx: Connection, agent_id: int, document_id: int,
                      chunks: Sequence[Chunk], vectors: np.ndarray,
                      flags: Sequence[list[list[float]]] | None = None) -> None:
        flags = flags if flags is not None else [[] for _ in chunks]
        # A pgvector `vector` on PostgreSQL (searched there), float32 bytes on SQLite.
        as_vector = tx.kind == "postgres"
        tx.executemany(
            "INSERT INTO chunks(agent_id, document_id, ord, heading, text, start_offset, "
            "end_offset, embedding, flags_json) VALUES (?,?,?,?,?,?,?,?,?)",
            [(agent_id, document_id, chunk.ord, chunk.heading, chunk.text, chunk.start,
              chunk.end, np.asarray(vector, dtype=np.float32) if as_vector else to_blob(vector),
              json.dumps(flag))
             for chunk, vector, flag in zip(chunks, vectors, flags, strict=True)])

    @staticmethod
    def insert_faq(tx: Connection, agent_id: int, document_id: int | None,
                   entries: Sequence[FAQEntry], vectors: np.ndarray) -> None:
        for entry, vector in zip(entries, vectors, strict=True):
            tx.execute("INSERT INTO approved_answers(agent_id, document_id, question, answer, "
                       "embedding) VALUES (?,?,?,?,?)",
                       (agent_id, document_id, entry.question, entry.answer, to_blob(vector)))

    @staticmethod
    def bump_version(tx: Connection, agent_id: int) -> None:
        tx.execute("UPDATE agents SET knowledge_version = knowledge_version + 1, "
                   "updated_at = ? WHERE id = ?", (now_iso(), agent_id))

    # --- reading ------------------------------------------------------------------------------
    def embed_query(self, text: str) -> np.ndarray:
        return self.embedder.embed([text])[0]

    def embed_sentences(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of content sentences, each embedded once per process: the composer compares
        a question with the sentences of the passages it retrieved, and the same passages come
        back turn after turn (a bounded LRU, SENTENCE_CACHE entries)."""
        out: list[np.ndarray | None] = []
        missing: list[str] = []
        with self._lock:
            for text in texts:
                vector = self._sentences.get(text)
                if vector is not None:
                    self._sentences.move_to_end(text)
                else:
                    missing.append(text)
                out.append(vector)
        if missing:
            fresh = dict(zip(dict.fromkeys(missing),
                             self.embedder.embed(list(dict.fromkeys(missing))), strict=True))
            with self._lock:
                for text, vector in fresh.items():
                    self._sentences[text] = vector
                while len(self._sentences) > SENTENCE_CACHE:
                    self._sentences.popitem(last=False)
            out = [v if v is not None else fresh[t] for v, t in zip(out, texts, strict=True)]
        vectors = [v for v in out if v is not None]  # every one is filled by now
        return (np.stack(vectors) if vectors
                else np.zeros((0, self.embedder.dim), dtype=np.float32))

    def search(self, agent_id: int, query: str, k: int = 4, *,
               query_vector: np.ndarray | None = None, candidates: int = 30,
               version: int | None = None) -> list[Passage]:
        """The top-k passages of this agent for the query, best first. `version`: the agent's
        knowledge version when the caller has just read the agent's row (a turn has); else it
        is read here."""
        conn = self.db.connect()
        qv = self.embed_query(query) if query_vector is None else query_vector
        if version is None:
            version = self._version(conn, agent_id)
        ranks: dict[int, float] = {}
        similarity: dict[int, float] = {}
        for rank, (cid, sim) in enumerate(self._nearest(conn, agent_id, version, qv,
                                                        candidates)):
            ranks[cid] = ranks.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
            similarity[cid] = sim
        terms = self._selective_terms(conn, agent_id, version, query_terms(query))
        if terms:
            # The full-text index finds the chunks; they are ranked here with this agent's own
            # statistics. The engine's BM25 (or ts_rank) would weigh words by how rare they are
            # across every agent in the table, so another owner's content would change this
            # agent's order (and answers).
            matched = self._matching(conn, agent_id, list(terms))
            scored = self._bm25(conn, agent_id, version, terms, matched)
            for rank, cid in enumerate(scored[:candidates]):
                ranks[cid] = ranks.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
        best = sorted(ranks, key=lambda c: -ranks[c])[:k]
        if not best:
            return []
        missing = [c for c in best if c not in similarity]
        if missing:  # BM25-only hits: their similarity, from the database (a chunk written
            # after the matrix was built is not in it)
            similarity.update(self._similarities(conn, agent_id, missing, qv))
        marks = ",".join("?" * len(best))
        rows = conn.execute(
            f"SELECT c.id, c.heading, c.text, c.start_offset, c.end_offset, c.flags_json, "
            f"d.source, d.title "
            f"FROM chunks c JOIN documents d ON d.id = c.document_id "
            f"WHERE c.agent_id = ? AND c.id IN ({marks})", (agent_id, *best)).fetchall()
        by_id = {r["id"]: r for r in rows}
        return [Passage(cid, by_id[cid]["source"], by_id[cid]["heading"], by_id[cid]["text"],
                        by_id[cid]["start_offset"], by_id[cid]["end_offset"], ranks[cid],
                        similarity.get(cid, 0.0), json.loads(by_id[cid]["flags_json"]),
                        by_id[cid]["title"] or "")
                for cid in best if cid in by_id]

    # --- what differs between the stores (PgKnowledgeIndex overrides these) -----------------
    @staticmethod
    def read_version(db: Database, agent_id: int) -> int:
        """The agent's knowledge version now (-1: no such agent)."""
        return KnowledgeIndex._version(db.connect(), agent_id)

    @staticmethod
    def _version(conn: Connection, agent_id: int) -> int:
        row = conn.execute("SELECT knowledge_version FROM agents WHERE id = ?",
                           (agent_id,)).fetchone()
        return int(row[0]) if row else -1

    def _nearest(self, conn: Connection, agent_id: int, version: int, qv: np.ndarray,
                 n: int) -> list[tuple[int, float]]:
        """The agent's `n` chunks most similar to the query vector, (id, cosine), best first."""
        vectors = self._agent_vectors(conn, agent_id, version)
        if not len(vectors.ids):
            return []
        sims = vectors.matrix @ qv
        n = min(n, len(sims))
        top = np.argpartition(-sims, n - 1)[:n]
        # Ordered by similarity to 5 decimals, then chunk id, as PostgreSQL orders them:
        # float32 sums in another order (BLAS here, pgvector there) differ in the 8th digit,
        # which must not reorder near-ties between the stores. Rows tied at the cut are all
        # considered, so which of them make the list does not depend on the partition.
        keys = np.round(sims * 1e5)
        top = np.flatnonzero(keys >= keys[top].min())
        top = top[np.lexsort((vectors.ids[top], -keys[top]))][:n]
        return [(int(vectors.ids[row]), float(sims[row])) for row in top]

    def _matching(self, conn: Connection, agent_id: int, terms: list[str]
                  ) -> list[tuple[int, str, str]]:
        """The agent's chunks holding any of the terms (FTS5's stemmed match), as (id,
        heading, text) in id order: what BM25 reads, in the same statement."""
        match = " OR ".join(f'"{t}"' for t in terms)
        return [(int(r[0]), str(r[1]), str(r[2])) for r in conn.execute(
            "SELECT c.id, c.heading, c.text FROM chunks_fts JOIN chunks c ON c.id = "
            "chunks_fts.rowid WHERE chunks_fts MATCH ? ORDER BY c.id",
            (f'agent:"a{agent_id}" AND ({match})',))]

    def _term_count(self, conn: Connection, agent_id: int, term: str) -> int:
        """The agent's chunks holding `term`, counted up to FTS_ROW_BUDGET + 1: a term past
        the budget is never chosen (`_selective_terms`), so its exact count is never needed,
        and a common word of a large agent costs a bounded read."""
        return int(conn.execute(
            "SELECT COUNT(*) FROM (SELECT 1 FROM chunks_fts WHERE chunks_fts MATCH ? LIMIT ?)",
            (f'agent:"a{agent_id}" AND "{term}"', FTS_ROW_BUDGET + 1)).fetchone()[0])

    def _similarities(self, conn: Connection, agent_id: int, ids: list[int],
                      qv: np.ndarray) -> dict[int, float]:
        marks = ",".join("?" * len(ids))
        return {int(cid): float(np.frombuffer(blob, dtype=np.float32) @ qv)
                for cid, blob in conn.execute(
                    f"SELECT id, embedding FROM chunks WHERE agent_id = ? AND id IN ({marks})",
                    (agent_id, *ids))}

    # --- the ranking, the same on every store --------------------------------------------
    def _bm25(self, conn: Connection, agent_id: int, version: int,
              terms: dict[str, int], matched: list[tuple[int, str, str]], *,
              find: Callable[[str, Sequence[str]], list[str]] | None = None) -> list[int]:
        """`matched` chunks, best first by BM25 over this agent's chunks only: document
        frequencies are this agent's (`terms`: term -> chunks of the agent that match it, as
        `_selective_terms` counted them), a heading's words count twice (as FTS5's column
        weights did), lengths are in characters; ties by chunk id. Only the query's words are
        counted in each chunk (`find`: `words_starting` unless a benchmark compares another
        way of finding them); nothing is cached."""
        find = find or words_starting
        if not matched:
            return []
        chunks, mean_length = self._agent_size(conn, agent_id, version)
        n = max(chunks, 1)
        keys = {t: stem(t) for t in terms}
        wanted = set(keys.values())
        roots = sorted({form[:4].lower() for t in terms
                        for form in (t.lower(), keys[t], *other_spellings(t)) if form})
        idf = {t: math.log((n - df + 0.5) / (df + 0.5) + 1.0) for t, df in terms.items()}
        k1, b = 1.2, 0.75
        scores: dict[int, float] = {}
        for chunk_id, heading, text in matched:
            tally: dict[str, int] = {}
            for word in find(text, roots) + 2 * find(heading, roots):
                key = stem(word)
                if key in wanted:
                    tally[key] = tally.get(key, 0) + 1
            length = len(text) + 2 * len(heading)
            norm = k1 * (1 - b + b * length / mean_length)
            scores[chunk_id] = sum(idf[t] * tf * (k1 + 1) / (tf + norm) for t in terms
                                   if (tf := tally.get(keys[t], 0)))
        return sorted(scores, key=lambda c: (-scores[c], c))

    def _agent_size(self, conn: Connection, agent_id: int,
                    version: int) -> tuple[int, float]:
        """The agent's chunk count and mean length in characters, once per knowledge version."""
        with self._lock:
            cached = self._sizes.get(agent_id)
        if cached is not None and cached[0] == version:
            return cached[1], cached[2]
        row = conn.execute("SELECT COUNT(*), AVG(LENGTH(text) + 2 * LENGTH(heading)) "
                           "FROM chunks WHERE agent_id = ?", (agent_id,)).fetchone()
        size = (version, int(row[0] or 0), max(float(row[1] or 1.0), 1.0))
        with self._lock:
            self._sizes[agent_id] = size
        return size[1], size[2]

    def _selective_terms(self, conn: Connection, agent_id: int, version: int,
                         terms: list[str]) -> dict[str, int]:
        """The rarest of `terms` in this agent's chunks, within FTS_ROW_BUDGET matching rows,
        each with the number of the agent's chunks it matches.

        Document frequencies are counted once per term and knowledge version, then cached.
        """
        if not terms:
            return {}
        with self._lock:
            cache = self._doc_freqs.get(agent_id)
            if cache is None or cache[0] != version:
                cache = (version, {})
                self._doc_freqs[agent_id] = cache
        freqs = cache[1]
        counts: dict[str, int] = {}  # this query's own copy: other threads may clear `freqs`
        for term in terms:
            count = freqs.get(term)
            if count is None:
                count = self._term_count(conn, agent_id, term)
                with self._lock:
                    if len(freqs) > 50_000:  # bounded memory for long-running servers
                        freqs.clear()
                    freqs[term] = count
            counts[term] = count
        chosen: dict[str, int] = {}
        total = 0
        for term in sorted((t for t in terms if counts[t]), key=lambda t: counts[t]):
            if total + counts[term] > FTS_ROW_BUDGET:
                break
            chosen[term] = counts[term]
            total += counts[term]
        return chosen

    def passage(self, agent_id: int, chunk_id: int) -> dict[str, Any] | None:
        """One of the agent's chunks as a citation shows it (heading, text, offsets, source,
        title), or None when it is not the agent's."""
        row = self.db.connect().execute(
            "SELECT c.heading, c.text, c.start_offset, c.end_offset, d.source, d.title "
            "FROM chunks c JOIN documents d ON d.id = c.document_id "
            "WHERE c.id = ? AND c.agent_id = ?", (chunk_id, agent_id)).fetchone()
        return dict(row) if row is not None else None

    def texts(self, agent_id: int) -> list[tuple[str, str]]:
        """Every chunk of the agent as (text, loader), in document and reading order."""
        rows = self.db.connect().execute(
            "SELECT c.text, d.loader FROM chunks c JOIN documents d ON d.id = c.document_id "
            "WHERE c.agent_id = ? ORDER BY d.id, c.ord", (agent_id,)).fetchall()
        return [(str(r["text"]), str(r["loader"])) for r in rows]

    def match_approved(self, agent_id: int, query_vector: np.ndarray, *,
                       version: int | None = None) -> ApprovedMatch | None:
        """The approved answer whose question is most similar to the query (`version`: as
        for `search`)."""
        conn = self.db.connect()
        if version is None:
            version = self._version(conn, agent_id)
        with self._lock:
            cached = self._approved.get(agent_id)
        if cached is None or cached[0] != version:
            rows = conn.execute(
                "SELECT a.id, a.question, a.answer, a.embedding, d.source FROM approved_answers "
                "a LEFT JOIN documents d ON d.id = a.document_id WHERE a.agent_id = ? "
                "ORDER BY a.id", (agent_id,)).fetchall()
            matrix = (np.frombuffer(b"".join(r["embedding"] for r in rows), dtype=np.float32)
                      .reshape(len(rows), -1) if rows else None)
            entries = [(r["id"], r["question"], r["answer"],
                        f"faq:{r['source']}" if r["source"] else "owner") for r in rows]
            cached = (version, matrix, entries)
            with self._lock:
                self._approved[agent_id] = cached
        _, matrix, entries = cached
        if matrix is None:
            return None
        sims = matrix @ query_vector
        i = int(np.argmax(sims))
        answer_id, question, answer, source = entries[i]
        return ApprovedMatch(answer_id, question, answer, float(sims[i]), source)

    def _agent_vectors(self, conn: Connection, agent_id: int, version: int) -> _AgentVectors:
        with self._lock:
            cached = self._vectors.get(agent_id)
            if cached is not None and cached.version == version:
                self._vectors.move_to_end(agent_id)
                return cached
        rows = conn.execute("SELECT id, embedding FROM chunks WHERE agent_id = ? ORDER BY id",
                            (agent_id,)).fetchall()
        dim = self.embedder.dim
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        matrix = (np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32)
                  .reshape(len(rows), dim) if rows else np.zeros((0, dim), dtype=np.float32))
        vectors = _AgentVectors(version, ids, matrix)
        with self._lock:
            old = self._vectors.pop(agent_id, None)
            if old is not None:
                self._vector_bytes -= old.matrix.nbytes
            self._vectors[agent_id] = vectors
            self._vector_bytes += matrix.nbytes
            while self._vector_bytes > VECTOR_CACHE_BYTES and len(self._vectors) > 1:
                _, dropped = self._vectors.popitem(last=False)
                self._vector_bytes -= dropped.matrix.nbytes
        return vectors


class ApprovedAnswers:
    """Owner-approved Q&A pairs (FAQ entries are added by ingestion with their document)."""

    def __init__(self, index: KnowledgeIndex) -> None:
        self.index = index
        self.db = index.db

    def add(self, agent_id: int, question: str, answer: str) -> int:
        question, answer = question.strip(), answer.strip()
        if not question or not answer:
            from doppel.errors import ValidationError
            raise ValidationError("both a question and an answer are needed")
        vector = self.index.embedder.embed([question])[0]
        with self.db.transaction() as tx:
            cur = tx.execute("INSERT INTO approved_answers(agent_id, question, answer, embedding) "
                             "VALUES (?,?,?,?) RETURNING id",
                             (agent_id, question, answer, to_blob(vector)))
            answer_id = int(cur.fetchone()[0])
            KnowledgeIndex.bump_version(tx, agent_id)
            return answer_id

    def list(self, agent_id: int) -> list[dict[str, object]]:
        rows = self.db.connect().execute(
            "SELECT a.id, a.question, a.answer, d.source, a.created_at FROM approved_answers a "
            "LEFT JOIN documents d ON d.id = a.document_id WHERE a.agent_id = ? ORDER BY a.id",
            (agent_id,)).fetchall()
        return [{"id": r["id"], "question": r["question"], "answer": r["answer"],
                 "source": f"faq:{r['source']}" if r["source"] else "owner",
                 "created_at": r["created_at"]} for r in rows]

    def update(self, agent_id: int, answer_id: int, question: str, answer: str) -> bool:
        """Change an owner's approved answer (its question is embedded again); False when it
        is not one of the agent's own (FAQ entries change with their file)."""
        question, answer = question.strip(), answer.strip()
        if not question or not answer:
            from doppel.errors import ValidationError
            raise ValidationError("both a question and an answer are needed")
        vector = self.index.embedder.embed([question])[0]
        with self.db.transaction() as tx:
            cur = tx.execute("UPDATE approved_answers SET question = ?, answer = ?, embedding = ? "
                             "WHERE id = ? AND agent_id = ? AND document_id IS NULL",
                             (question, answer, to_blob(vector), answer_id, agent_id))
            if cur.rowcount:
                KnowledgeIndex.bump_version(tx, agent_id)
            return cur.rowcount > 0

    def delete(self, agent_id: int, answer_id: int) -> bool:
        with self.db.transaction() as tx:
            cur = tx.execute("DELETE FROM approved_answers WHERE id = ? AND agent_id = ? AND "
                             "document_id IS NULL", (answer_id, agent_id))
            if cur.rowcount:
                KnowledgeIndex.bump_version(tx, agent_id)
            return cur.rowcount > 0


def open_index(db: Database, embedder: Embedder) -> KnowledgeIndex:
    """The index for the database's engine (the same ranking on each)."""
    if db.kind == "postgres":
        from doppel.knowledge.pgindex import PgKnowledgeIndex
        return PgKnowledgeIndex(db, embedder)
    return KnowledgeIndex(db, embedder)
