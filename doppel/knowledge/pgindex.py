"""The hybrid index on PostgreSQL: pgvector finds the nearest chunks, a generated tsvector
(GIN) the chunks that hold a term; both always filtered by the agent's id. The fusion and the
agent-local BM25 are `KnowledgeIndex`'s, so an agent answers the same on either store.

Nearest chunks: an exact scan of the agent's rows through the B-tree on `agent_id` (the same
passages as SQLite finds, to the tie). An agent of HNSW_MIN_CHUNKS chunks or more gets a
partial HNSW index of its own (`WHERE agent_id = N`, built in the background with `CREATE
INDEX CONCURRENTLY` the first time its search is slow enough to need one), and is searched
through it: approximate (recall measured by benchmarks/store.py against the exact scan), with
`hnsw.iterative_scan` so that k rows come back whenever k exist. The agent's id is written
into that statement, not bound: a partial index is used only when the planner sees the literal
(psycopg prepares a statement after 5 runs, and a generic plan would ignore the index).
The same agent also gets a partial GIN index over its tsvectors, for the same reason: in the
shared (agent_id, search) GIN a common word's posting list holds every agent's chunks.
A shared HNSW index over all agents is not used: under the agent filter it returns fewer than k
rows unless iterative scans are on (pgvector's "overfiltering"), and it costs every agent.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import numpy as np

from doppel.knowledge.index import FTS_ROW_BUDGET, KnowledgeIndex
from doppel.models.base import Embedder
from doppel.store import Connection, Database

log = logging.getLogger(__name__)

# An agent this large is searched through its own HNSW index: its exact scan reads every
# vector (20,000 chunks: 13 ms on 2 cores, measured), an HNSW search a few hundred.
HNSW_MIN_CHUNKS = 10_000
HNSW_EF_SEARCH = 100
# Below this, an agent's full-text matches are found by reading its rows (see `_match`).
GIN_MIN_CHUNKS = 2_000

# to_tsquery input is built from plainto_tsquery of each term (no operator in a customer's
# words can reach the query syntax), OR-ed.
_CONFIG = "english"


def _any_term(n: int) -> str:
    return " || ".join([f"plainto_tsquery('{_CONFIG}', ?)"] * n)


class PgKnowledgeIndex(KnowledgeIndex):
    def __init__(self, db: Database, embedder: Embedder) -> None:
        super().__init__(db, embedder)
        self._hnsw: dict[int, tuple[int, bool]] = {}  # agent -> (knowledge version, usable)
        self._building: dict[int, threading.Event] = {}  # agent -> set when its build ends

    def _nearest(self, conn: Connection, agent_id: int, version: int, qv: np.ndarray,
                 n: int) -> list[tuple[int, float]]:
        if self._uses_hnsw(conn, agent_id, version):
            try:
                return self._approximate(agent_id, qv, n)
            except Exception as exc:  # an index being rebuilt, dropped: the exact scan
                log.warning("HNSW search of agent %d failed (%s): exact scan", agent_id, exc)
                self._hnsw.pop(agent_id, None)
        return self._exact(conn, agent_id, qv, n)

    @staticmethod
    def hnsw_name(agent_id: int) -> str:
        return f"chunks_hnsw_a{int(agent_id)}"

    @staticmethod
    def gin_name(agent_id: int) -> str:
        return f"chunks_gin_a{int(agent_id)}"

    def _uses_hnsw(self, conn: Connection, agent_id: int, version: int) -> bool:
        """Whether the agent has its own indexes, both built: the HNSW one and a partial GIN
        over its tsvectors (a word's posting list in the shared GIN holds every agent's
        chunks: 0.3 s for a common word of a 20,000-chunk agent among a million chunks)."""
        known = self._hnsw.get(agent_id)
        if known is not None and known[0] == version:
            return known[1]
        size, _ = self._agent_size(conn, agent_id, version)
        usable = False
        if size >= HNSW_MIN_CHUNKS:
            # indisvalid is false while CREATE INDEX CONCURRENTLY runs (here or elsewhere)
            rows = conn.execute(
                "SELECT i.indisvalid FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid "
                "WHERE c.relname IN (?, ?)",
                (self.hnsw_name(agent_id), self.gin_name(agent_id))).fetchall()
            if len(rows) < 2:
                self.build_hnsw(agent_id, wait=False)
            usable = len(rows) == 2 and all(bool(r[0]) for r in rows)
        with self._lock:
            self._hnsw[agent_id] = (version, usable)
        return usable

    def _agent_rows(self, agent_id: int) -> tuple[str, tuple[int, ...]]:
        """A full-text statement's condition on the agent: bound, or, for an agent with its
        own indexes, written in (a partial index is used only when the planner sees the
        literal, as for HNSW)."""
        with self._lock:
            known = self._hnsw.get(agent_id)
        if known is not None and known[1]:
            return f"agent_id = {int(agent_id)}", ()
        return "agent_id = ?", (agent_id,)

    def build_hnsw(self, agent_id: int, *, wait: bool = True) -> None:
        """The agent's own HNSW index, built concurrently (writes go on meanwhile); in a
        background thread unless `wait`."""
        with self._lock:
            running = self._building.get(agent_id)
            if running is None:
                self._building[agent_id] = threading.Event()
        if running is not None:  # already being built here: wait for that build, or not
            if wait:
                running.wait()
            return

        def build() -> None:
            from doppel.store.postgres import PostgresDatabase

            try:
                assert isinstance(self.db, PostgresDatabase)
                dim = int(self.embedder.dim)
                with self.db.pool.connection() as raw:  # autocommit: CONCURRENTLY needs it
                    raw.execute(
                        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {self.hnsw_name(agent_id)} "
                        f"ON chunks USING hnsw ((embedding::vector({dim})) vector_ip_ops) "
                        f"WHERE agent_id = {int(agent_id)}")
                    raw.execute(
                        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {self.gin_name(agent_id)} "
                        f"ON chunks USING gin (search) WHERE agent_id = {int(agent_id)}")
                log.info("HNSW and GIN indexes for agent %d built", agent_id)
            except Exception as exc:
                log.warning("HNSW index for agent %d not built: %s", agent_id, exc)
            finally:
                with self._lock:
                    self._building.pop(agent_id).set()
                    self._hnsw.pop(agent_id, None)

        if wait:
            build()
        else:
            threading.Thread(target=build, name=f"hnsw-{agent_id}", daemon=True).start()

    def _approximate(self, agent_id: int, qv: np.ndarray, n: int) -> list[tuple[int, float]]:
        dim = int(self.embedder.dim)
        q = np.asarray(qv, dtype=np.float32)
        expr = f"embedding::vector({dim})"
        with self.db.transaction() as tx:
            tx.execute(f"SET LOCAL hnsw.ef_search = {max(HNSW_EF_SEARCH, n)}")
            tx.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
            rows: list[Any] = tx.execute(
                f"SELECT id, -({expr} <#> ?) FROM chunks WHERE agent_id = {int(agent_id)} "
                f"ORDER BY {expr} <#> ? LIMIT ?", (q, q, n)).fetchall()
        found = [(int(r[0]), float(r[1])) for r in rows]
        found.sort(key=lambda pair: (-round(pair[1] * 1e5), pair[0]))  # as the exact scan
        return found

    def _exact(self, conn: Connection, agent_id: int, qv: np.ndarray,
               n: int) -> list[tuple[int, float]]:
        # <#> is the negative inner product; the vectors are unit length, so this is cosine,
        # the number the SQLite index computes with numpy, and ordered the same way (to 5
        # decimals, then by id). Exact: every one of the agent's rows is scored.
        q = np.asarray(qv, dtype=np.float32)
        rows = conn.execute(
            "SELECT id, -(embedding <#> ?) AS similarity FROM chunks WHERE agent_id = ? "
            "ORDER BY round((embedding <#> ?) * 100000), id LIMIT ?",
            (q, agent_id, q, n)).fetchall()
        return [(int(r[0]), float(r[1])) for r in rows]

    def _match(self, conn: Connection, agent_id: int, n_terms: int) -> str:
        """The full-text condition for this agent. A small agent's rows are read through the
        B-tree on agent_id and tested one by one (`IS TRUE` keeps the planner off the GIN
        index, which it picks after a VACUUM and which costs 4x more for a common word:
        1.9 against 0.4 ms, measured); a large agent's through the (agent_id, search) GIN."""
        condition = f"search @@ ({_any_term(n_terms)})"
        with self._lock:  # the size the search's first step read (any version will do)
            known = self._sizes.get(agent_id)
            own = self._hnsw.get(agent_id)
        if own is not None and own[1]:  # its own GIN index (see _agent_rows)
            return condition
        size = known[1] if known is not None else self._agent_size(
            conn, agent_id, self._version(conn, agent_id))[0]
        return f"({condition}) IS TRUE" if size < GIN_MIN_CHUNKS else condition

    def _matching(self, conn: Connection, agent_id: int, terms: list[str]
                  ) -> list[tuple[int, str, str]]:
        where, bound = self._agent_rows(agent_id)
        return [(int(r[0]), str(r[1]), str(r[2])) for r in conn.execute(
            f"SELECT id, heading, text FROM chunks WHERE {where} AND "
            f"{self._match(conn, agent_id, len(terms))} ORDER BY id", (*bound, *terms))]

    def _term_count(self, conn: Connection, agent_id: int, term: str) -> int:
        # Up to FTS_ROW_BUDGET + 1, as on SQLite (see KnowledgeIndex._term_count): a common
        # word of a 20,000-chunk agent read every matching row's heap page before.
        where, bound = self._agent_rows(agent_id)
        return int(conn.execute(
            f"SELECT COUNT(*) FROM (SELECT 1 FROM chunks WHERE {where} AND "
            f"{self._match(conn, agent_id, 1)} LIMIT ?) AS found",
            (*bound, term, FTS_ROW_BUDGET + 1)).fetchone()[0])

    def _similarities(self, conn: Connection, agent_id: int, ids: list[int],
                      qv: np.ndarray) -> dict[int, float]:
        marks = ",".join("?" * len(ids))
        return {int(r[0]): float(r[1]) for r in conn.execute(
            f"SELECT id, -(embedding <#> ?) FROM chunks WHERE agent_id = ? AND id IN ({marks})",
            (np.asarray(qv, dtype=np.float32), agent_id, *ids))}
