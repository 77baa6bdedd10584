"""The store on SQLite and on PostgreSQL + pgvector, in the same run, on the same data.

What is measured:

1. Retrieval (`KnowledgeIndex.search`, k=4, the package's own code on each store: FTS5 +
   numpy on SQLite, tsvector + pgvector on PostgreSQL, the same agent-local BM25 and fusion)
   - many small agents: AGENTS agents of CHUNKS chunks each (default 2,000 x 50 = 100k chunks);
     each query picks a random agent, so SQLite's per-agent vector matrices are built as the
     queries reach them (reported apart: the first query of an agent, and later ones);
   - one large agent (default 20,000 chunks) among the small ones.
   p50/p95/p99 per query, and whether every query returned exactly k passages.
2. Persisted turns per second (`ConversationRepo.record`: a turn row in its own transaction),
   from 1 thread and from 8 threads.

Synthetic texts and vectors come from benchmarks/retrieval.py's generators (vectors are
mixtures of topic centroids, not MiniLM's: embedding 1M texts would take hours here). With
`--minilm` the large agent is real prose (docstring paragraphs of the installed packages)
embedded by doppel's MiniLM, and so are its questions: the HNSW index's recall@8 against the
exact scan is then measured on real MiniLM vectors.
PostgreSQL is the test server of `doppel.testing.postgres` (PostgreSQL 18.6, pgvector 0.8.6,
a Unix socket, fsync off, shared_buffers 64MB); SQLite is WAL with synchronous=NORMAL. Both on
this machine's disk; figures are ratios PostgreSQL / SQLite measured in this run.

Run:  .venv/bin/python benchmarks/store.py [--agents 2000] [--chunks 50] [--large 20000]
      [--queries 400] [--minilm] [--json OUT]
      The issue-16 run: --agents 100000 --chunks 10 --large 20000 --minilm (1.02M chunks)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from retrieval import (  # noqa: E402
    DIM,
    N_TOPICS,
    structured_vectors,
    synthetic_passage,
    synthetic_question,
)

from doppel.agents.conversations import ConversationRepo  # noqa: E402
from doppel.agents.spec import AgentSpec  # noqa: E402
from doppel.knowledge.chunking import Chunk  # noqa: E402
from doppel.knowledge.index import KnowledgeIndex, open_index  # noqa: E402
from doppel.store import Database, open_database  # noqa: E402
from doppel.testing import FakeEmbedder  # noqa: E402
from doppel.testing.postgres import PostgresServer  # noqa: E402

K = 4


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def summary(samples: list[float]) -> dict[str, float]:
    return {"n": len(samples), "p50_ms": pct(samples, 0.50), "p95_ms": pct(samples, 0.95),
            "p99_ms": pct(samples, 0.99), "mean_ms": statistics.mean(samples) * 1000}


def docstring_corpus(n: int) -> list[tuple[str, str]]:
    """n (heading, text) passages of real English prose: the docstring paragraphs of the
    packages installed in this environment (pinned by requirements/), 150-600 characters,
    de-duplicated, in a fixed order; the heading is the documented object's name."""
    import ast

    site = Path(np.__file__).resolve().parent.parent
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for path in sorted(site.rglob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError, OSError):
            continue
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                                     ast.AsyncFunctionDef)):
                continue
            doc = ast.get_docstring(node) or ""
            for para in doc.split("\n\n"):
                text = " ".join(para.split())
                if 150 <= len(text) <= 600 and text not in seen and text[0].isalpha() \
                        and sum(c.isalpha() or c == " " for c in text) > 0.9 * len(text):
                    seen.add(text)
                    out.append((getattr(node, "name", path.stem), text))
                    if len(out) == n:
                        return out
    raise SystemExit(f"only {len(out)} docstring paragraphs here, {n} wanted")


def minilm_large_agent(large: int, n_queries: int) -> tuple[list[tuple[int, str, str]],
                                                              np.ndarray, list[tuple[str,
                                                                                   np.ndarray]]]:
    """The large agent's passages and questions as real text embedded by doppel's MiniLM: its
    chunks are `large` docstring paragraphs; each question is the first sentence of a
    paragraph the agent does not hold."""
    from doppel.config import Settings
    from doppel.models import load_embedder

    corpus = docstring_corpus(large + n_queries)
    texts = [text for _, text in corpus]
    questions = [text.split(". ")[0] for _, text in corpus[large:]]
    # Embedding 20k texts takes minutes here: kept between runs, keyed by the texts.
    digest = hashlib.sha256("\n".join(texts + questions).encode()).hexdigest()[:16]
    cached = Path(tempfile.gettempdir()) / f"doppel-bench-minilm-{digest}.npz"
    if cached.exists():
        saved = np.load(cached)
        vectors, question_vectors = saved["vectors"], saved["questions"]
    else:
        embedder = load_embedder(Settings())
        t0 = time.perf_counter()
        vectors = np.concatenate([embedder.embed(texts[i:i + 64])
                                  for i in range(0, len(texts), 64)])
        question_vectors = embedder.embed(questions)
        print(f"  MiniLM: {len(texts) + len(questions):,} texts embedded in "
              f"{time.perf_counter() - t0:.0f} s", file=sys.stderr)
        np.savez(cached, vectors=vectors, questions=question_vectors)
    asked = list(zip(questions, question_vectors, strict=True))
    return ([(0, heading, text) for heading, text in corpus[:large]], vectors[:large], asked)


def load(db: Database, n_agents: int, per_agent: int, large: int, seed: int,
         real_large: tuple[list[tuple[int, str, str]], np.ndarray] | None = None
         ) -> tuple[list[int], int, np.ndarray]:
    """The agents and their chunks (same texts and vectors on every store for one seed);
    `real_large`: the large agent's passages and vectors (`minilm_large_agent`)."""
    rng, nrng = random.Random(seed), np.random.default_rng(seed)
    centroids = nrng.standard_normal((N_TOPICS, DIM), dtype=np.float32)
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    sizes = [per_agent] * n_agents + ([large] if large else [])
    ids: list[int] = []
    for i, size in enumerate(sizes):
        if real_large is not None and i == n_agents:
            passages, vectors = real_large
        else:
            passages = [synthetic_passage(rng) for _ in range(size)]
            vectors = structured_vectors(np.array([p[0] for p in passages]), centroids, nrng)
        with db.transaction() as tx:
            spec = AgentSpec(slug=f"a{i}", name=f"Shop {i}").model_dump_json()
            agent = int(tx.execute("INSERT INTO agents(slug, spec_json) VALUES (?, ?) "
                                   "RETURNING id", (f"a{i}", spec)).fetchone()[0])
            for start in range(0, size, 500):
                part = passages[start:start + 500]
                source = f"doc-{start}.md"
                doc = int(tx.execute(
                    "INSERT INTO documents(agent_id, source, loader, sha256, n_chunks) "
                    "VALUES (?, ?, 'markdown', ?, ?) RETURNING id",
                    (agent, source, hashlib.sha256(source.encode()).hexdigest(), len(part))
                ).fetchone()[0])
                KnowledgeIndex.insert_chunks(tx, agent, doc, [
                    Chunk(j, heading, text, 0, len(text))
                    for j, (_, heading, text) in enumerate(part)], vectors[start:start + 500])
            KnowledgeIndex.bump_version(tx, agent)
        ids.append(agent)
    return ids[:n_agents], (ids[-1] if large else 0), centroids


def queries(centroids: np.ndarray, n: int, seed: int) -> list[tuple[str, np.ndarray]]:
    rng, nrng = random.Random(seed + 1), np.random.default_rng(seed + 1)
    asked = [synthetic_question(rng) for _ in range(n)]
    vectors = structured_vectors(np.array([q[0] for q in asked]), centroids, nrng, noise=1.0)
    return [(q[1], v) for q, v in zip(asked, vectors, strict=True)]


def bench_search(db: Database, small: list[int], large: int, asked: list[tuple[str, np.ndarray]],
                 seed: int, asked_large: list[tuple[str, np.ndarray]] | None = None
                 ) -> dict[str, Any]:
    index = open_index(db, FakeEmbedder(dim=DIM))
    rng = random.Random(seed + 2)
    first, again, big, short = [], [], [], 0
    seen: set[int] = set()
    for question, vector in asked:
        agent = rng.choice(small)
        t0 = time.perf_counter()
        found = index.search(agent, question, k=K, query_vector=vector)
        (again if agent in seen else first).append(time.perf_counter() - t0)
        seen.add(agent)
        short += len(found) != K
    recall: list[float] = []
    vector_only: list[float] = []  # the large agent's nearest chunks alone (k=8)
    asked_large = asked_large or asked
    if large:
        if db.kind == "postgres":  # its own HNSW index, as the first slow search starts it
            from doppel.knowledge.pgindex import PgKnowledgeIndex

            assert isinstance(index, PgKnowledgeIndex)
            t0 = time.perf_counter()
            index.build_hnsw(large, wait=True)
            print(f"  HNSW index for the large agent built in {time.perf_counter() - t0:.1f} s",
                  file=sys.stderr)
            conn = db.connect()
            for _, vector in asked_large:  # recall@8 of the index against the exact scan
                exact = {c for c, _ in index._exact(conn, large, vector, 8)}
                t0 = time.perf_counter()
                approx = {c for c, _ in index._approximate(large, vector, 8)}
                vector_only.append(time.perf_counter() - t0)
                recall.append(len(exact & approx) / len(exact))
        else:  # SQLite: the agent's matrix in memory, numpy
            conn = db.connect()
            version = index._version(conn, large)
            for _, vector in asked_large:
                t0 = time.perf_counter()
                index._nearest(conn, large, version, vector, 8)
                vector_only.append(time.perf_counter() - t0)
        for question, vector in asked_large:
            t0 = time.perf_counter()
            found = index.search(large, question, k=K, query_vector=vector)
            big.append(time.perf_counter() - t0)
            short += len(found) != K
    out: dict[str, Any] = {"small_first_query": summary(first), "not_k": short}
    if recall:
        out["large_recall_at_8"] = statistics.mean(recall)
    if again:
        out["small_later_queries"] = summary(again)
    if big:
        out["large_agent"] = summary(big[1:])  # the first builds SQLite's matrix
    if vector_only:
        out["large_agent_vectors"] = summary(vector_only[1:])
    return out


def bench_lookup(db: Database, n_agents: int, n: int, seed: int) -> dict[str, float]:
    """An agent found by its slug, as every request does (`AgentRepo.get`: the row and its
    spec parsed)."""
    from doppel.agents.repo import AgentRepo

    repo, rng = AgentRepo(db), random.Random(seed + 3)
    samples = []
    for _ in range(n):
        slug = f"a{rng.randrange(n_agents)}"
        t0 = time.perf_counter()
        repo.get(slug)
        samples.append(time.perf_counter() - t0)
    return summary(samples)


def disk_bytes(db: Database, folder: Path) -> int:
    if db.kind == "postgres":
        return int(db.connect().execute("SELECT pg_database_size(current_database())")
                   .fetchone()[0])
    return sum(f.stat().st_size for f in folder.iterdir() if f.name.startswith("doppel.db"))


def bench_turns(db: Database, agent: int, n: int, threads: int) -> float:
    repo = ConversationRepo(db)
    conversation = repo.get_or_create(agent, f"bench-{threads}")
    per = n // threads

    def work() -> None:
        for i in range(per):
            repo.record(conversation_id=conversation, agent_id=agent, user_message=f"q{i}",
                        answer="a", path="generated", draft=None, grounding={}, passages=[],
                        prompt_tokens=1, completion_tokens=1, timings={}, model="m")

    workers = [threading.Thread(target=work) for _ in range(threads)]
    t0 = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return per * threads / (time.perf_counter() - t0)


def run(kind: str, db: Database, args: argparse.Namespace) -> dict[str, Any]:
    t0 = time.perf_counter()
    small, large, centroids = load(db, args.agents, args.chunks, args.large, args.seed,
                                   args.real_large[:2] if args.real_large else None)
    load_s = time.perf_counter() - t0
    # Planner statistics, as autovacuum (PostgreSQL) would gather them after a bulk load;
    # without them PostgreSQL scans the full-text index of every agent for a common word. On
    # PostgreSQL also the vacuum autovacuum would start on its own in the middle of the timed
    # queries (a bulk load of this size triggers it), competing for the same 2 cores.
    db.connect().execute("VACUUM ANALYZE" if db.kind == "postgres" else "ANALYZE")
    asked = queries(centroids, args.queries, args.seed)
    result: dict[str, Any] = {"store": kind, "load_s": load_s,
                              "chunks": args.agents * args.chunks + args.large}
    result.update(bench_search(db, small, large, asked, args.seed,
                               args.real_large[2] if args.real_large else None))
    result["agent_lookup"] = bench_lookup(db, args.agents, args.queries, args.seed)
    result["disk_bytes_per_chunk"] = disk_bytes(db, args.folder) / max(result["chunks"], 1)
    result["turns_per_s_1_thread"] = bench_turns(db, small[0], args.turns, 1)
    result["turns_per_s_8_threads"] = bench_turns(db, small[0], args.turns, 8)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--chunks", type=int, default=50)
    parser.add_argument("--large", type=int, default=20000)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--turns", type=int, default=800)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--store", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--minilm", action="store_true",
                        help="the large agent: real text (docstring paragraphs of the installed "
                        "packages) embedded by MiniLM, and questions likewise")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    args.real_large = (minilm_large_agent(args.large, args.queries)
                       if args.minilm and args.large else None)
    results = []
    with tempfile.TemporaryDirectory(prefix="doppel-store-") as tmp, \
            PostgresServer.start() as server:
        for kind in (("sqlite", "postgres") if args.store == "both" else (args.store,)):
            url = server.create_database("bench") if kind == "postgres" else ""
            db = open_database(url, Path(tmp) / "doppel.db", pool_size=10)
            args.folder = Path(tmp)
            try:
                print(f"{kind}: loading {args.agents} x {args.chunks} + {args.large} chunks...",
                      file=sys.stderr)
                results.append(run(kind, db, args))
            finally:
                db.close()
    print(f"\n{'':28}" + "".join(f"{r['store']:>14}" for r in results) + f"{'pg/sqlite':>12}")
    rows = [("load (s)", lambda r: r["load_s"])]
    for part in ("small_first_query", "small_later_queries", "large_agent",
                 "large_agent_vectors"):
        for stat in ("p50_ms", "p95_ms", "p99_ms"):
            rows.append((f"{part} {stat}", lambda r, p=part, s=stat: r.get(p, {}).get(s, 0.0)))
    rows += [("agent lookup p50_ms", lambda r: r["agent_lookup"]["p50_ms"]),
             ("agent lookup p95_ms", lambda r: r["agent_lookup"]["p95_ms"]),
             ("disk bytes per chunk", lambda r: r["disk_bytes_per_chunk"]),
             ("large agent recall@8 (HNSW)", lambda r: r.get("large_recall_at_8", 1.0)),
             ("queries without k passages", lambda r: r["not_k"]),
             ("turns/s, 1 thread", lambda r: r["turns_per_s_1_thread"]),
             ("turns/s, 8 threads", lambda r: r["turns_per_s_8_threads"])]
    for label, get in rows:
        values = [float(get(r)) for r in results]
        ratio = values[1] / values[0] if len(values) == 2 and values[0] else float("nan")
        print(f"{label:28}" + "".join(f"{v:14.2f}" for v in values) + f"{ratio:12.2f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
