"""Secrets an owner gives an agent's tools (an order endpoint's signing key): written and used,
never read back out through any API, never logged."""

from __future__ import annotations

import re

from doppel.errors import ValidationError
from doppel.store import Database, now_iso

__all__ = ["SecretStore"]

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}\.[a-z][a-z0-9_]{0,40}$")


class SecretStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def set(self, agent_id: int, name: str, value: str) -> None:
        if not _NAME.match(name):
            raise ValidationError("a secret's name is tool.name, e.g. order_status.secret")
        if not 16 <= len(value) <= 512:
            raise ValidationError("a secret must be 16 to 512 characters long")
        with self.db.transaction() as tx:
            tx.execute("INSERT INTO agent_secrets(agent_id, name, value, updated_at) "
                       "VALUES (?, ?, ?, ?) "
                       "ON CONFLICT(agent_id, name) DO UPDATE SET value = excluded.value, "
                       "updated_at = excluded.updated_at",
                       (agent_id, name, value, now_iso()))

    def get(self, agent_id: int, name: str) -> str | None:
        """For the tool that uses it; nothing else reads a secret's value."""
        row = self.db.connect().execute(
            "SELECT value FROM agent_secrets WHERE agent_id = ? AND name = ?",
            (agent_id, name)).fetchone()
        return str(row[0]) if row else None

    def names(self, agent_id: int) -> list[tuple[str, str]]:
        """(name, last updated) of the agent's secrets: what the console shows."""
        rows = self.db.connect().execute(
            "SELECT name, updated_at FROM agent_secrets WHERE agent_id = ? ORDER BY name",
            (agent_id,)).fetchall()
        return [(r[0], r[1]) for r in rows]

    def delete(self, agent_id: int, name: str) -> bool:
        with self.db.transaction() as tx:
            return tx.execute("DELETE FROM agent_secrets WHERE agent_id = ? AND name = ?",
                              (agent_id, name)).rowcount > 0
