"""Agents in the database: create, read, update, delete; YAML import and export."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from doppel.agents.spec import AgentSpec
from doppel.errors import NotFoundError, ValidationError
from doppel.store import Database, IntegrityError, Row, now_iso


@dataclass
class Agent:
    id: int
    spec: AgentSpec
    knowledge_version: int
    created_at: str
    updated_at: str
    owner_id: int | None = None

    @property
    def slug(self) -> str:
        return self.spec.slug


class AgentRepo:
    def __init__(self, db: Database,
                 validate: Callable[[AgentSpec], None] | None = None) -> None:
        self.db = db
        # Checks that need the server's configuration (the operator's Llama Guard endpoints),
        # run before anything is written; they raise ValidationError.
        self.validate = validate or (lambda spec: None)

    def create(self, spec: AgentSpec, owner_id: int | None = None) -> Agent:
        self.validate(spec)
        try:
            with self.db.transaction() as tx:
                tx.execute("INSERT INTO agents(slug, spec_json, owner_id, public) "
                           "VALUES (?, ?, ?, ?)",
                           (spec.slug, spec.model_dump_json(), owner_id, int(spec.public)))
        except IntegrityError:
            raise ValidationError(f"an agent named {spec.slug!r} already exists") from None
        return self.get(spec.slug)

    def update(self, spec: AgentSpec) -> Agent:
        self.validate(spec)
        with self.db.transaction() as tx:
            cur = tx.execute("UPDATE agents SET spec_json = ?, public = ?, updated_at = ? "
                             "WHERE slug = ?",
                             (spec.model_dump_json(), int(spec.public), now_iso(), spec.slug))
            if cur.rowcount == 0:
                raise NotFoundError(f"no agent named {spec.slug!r}")
        return self.get(spec.slug)

    def get(self, slug: str) -> Agent:
        row = self.db.connect().execute("SELECT * FROM agents WHERE slug = ?", (slug,)).fetchone()
        if row is None:
            raise NotFoundError(f"no agent named {slug!r} (see `doppel agents list`)")
        return _agent(row)

    def by_id(self, agent_id: int) -> Agent | None:
        row = self.db.connect().execute("SELECT * FROM agents WHERE id = ?",
                                        (agent_id,)).fetchone()
        return _agent(row) if row else None

    def find(self, slug: str) -> Agent | None:
        try:
            return self.get(slug)
        except NotFoundError:
            return None

    def list(self, owner_id: int | None = None) -> list[Agent]:
        """All agents, or one owner's."""
        if owner_id is None:
            rows = self.db.connect().execute("SELECT * FROM agents ORDER BY slug").fetchall()
        else:
            rows = self.db.connect().execute(
                "SELECT * FROM agents WHERE owner_id = ? ORDER BY slug", (owner_id,)).fetchall()
        return [_agent(r) for r in rows]

    def page(self, *, owner_id: int | None = None, public: bool = False, after: str = "",
             limit: int = 100, slugs: Sequence[str] | None = None
             ) -> tuple[builtins.list[Agent], bool]:
        """Up to `limit` agents in slug order after `after` — an owner's (among `slugs` when
        given), or the public ones — and whether more follow. What a listing reads, whatever
        the number of agents: an index walk (agents_public, agents_owner_slug), never every
        agent's spec."""
        where: builtins.list[str] = ["slug > ?"]
        params: builtins.list[Any] = [after]
        if owner_id is not None:
            where.append("owner_id = ?")
            params.append(owner_id)
        if slugs is not None:
            if not slugs:
                return [], False
            where.append(f"slug IN ({','.join('?' * len(slugs))})")
            params.extend(slugs)
        if public:
            where.append("public = 1")
        rows = self.db.connect().execute(
            f"SELECT * FROM agents WHERE {' AND '.join(where)} ORDER BY slug LIMIT ?",
            (*params, limit + 1)).fetchall()
        return [_agent(r) for r in rows[:limit]], len(rows) > limit

    def set_owner(self, slug: str, owner_id: int | None) -> Agent:
        with self.db.transaction() as tx:
            cur = tx.execute("UPDATE agents SET owner_id = ? WHERE slug = ?", (owner_id, slug))
            if cur.rowcount == 0:
                raise NotFoundError(f"no agent named {slug!r}")
        return self.get(slug)

    def delete(self, slug: str) -> None:
        agent = self.get(slug)
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM agents WHERE id = ?", (agent.id,))

    def stats(self, agent: Agent) -> dict[str, int]:
        conn = self.db.connect()
        one = lambda sql: int(conn.execute(sql, (agent.id,)).fetchone()[0])  # noqa: E731
        return {
            "documents": one("SELECT COUNT(*) FROM documents WHERE agent_id = ?"),
            "chunks": one("SELECT COUNT(*) FROM chunks WHERE agent_id = ?"),
            "approved_answers": one("SELECT COUNT(*) FROM approved_answers WHERE agent_id = ?"),
            "conversations": one("SELECT COUNT(*) FROM conversations WHERE agent_id = ?"),
            "turns": one("SELECT COUNT(*) FROM turns WHERE agent_id = ?"),
        }


def _agent(row: Row) -> Agent:
    # "stored": a spec saved by an older doppel loads even where today's rules refuse a field.
    return Agent(row["id"], AgentSpec.model_validate_json(row["spec_json"],
                                                          context={"stored": True}),
                 row["knowledge_version"], row["created_at"], row["updated_at"],
                 row["owner_id"])
