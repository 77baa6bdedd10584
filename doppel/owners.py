"""Owners and their API keys.

A key looks like ``dk_<prefix>_<secret>``. Only its SHA-256 is stored (the secret has 256 bits of
entropy, so a plain hash is enough; no password stretching needed); the prefix finds the row
and the hash is compared in constant time. A key is shown once, when created, and can be
revoked. Scopes: ``admin`` manages the owner's agents; ``chat`` talks to the owner's agents,
optionally limited to a list of slugs.
"""

from __future__ import annotations

import builtins

import hashlib
import hmac
import json
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Literal

from doppel.errors import NotFoundError, ValidationError
from doppel.store.db import Database

Scope = Literal["admin", "chat"]
SCOPES: tuple[Scope, ...] = ("admin", "chat")


@dataclass(frozen=True)
class Owner:
    id: int
    name: str
    created_at: str


@dataclass(frozen=True)
class ApiKey:
    id: int
    owner_id: int
    prefix: str
    label: str
    scopes: tuple[str, ...]
    agents: tuple[str, ...] | None
    created_at: str
    last_used_at: str | None
    revoked_at: str | None

    def may_admin(self) -> bool:
        return "admin" in self.scopes

    def may_chat(self, slug: str) -> bool:
        if "admin" in self.scopes:
            return True
        return "chat" in self.scopes and (self.agents is None or slug in self.agents)

    def public(self) -> dict[str, object]:
        return {"id": self.id, "prefix": self.prefix, "label": self.label,
                "scopes": list(self.scopes), "agents": list(self.agents) if self.agents
                is not None else None, "created_at": self.created_at,
                "last_used_at": self.last_used_at, "revoked": self.revoked_at is not None}


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class OwnerRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- owners ---------------------------------------------------------------------------
    def create(self, name: str) -> Owner:
        name = name.strip()
        if not name:
            raise ValidationError("an owner needs a name")
        try:
            with self.db.transaction() as tx:
                cur = tx.execute("INSERT INTO owners(name) VALUES (?)", (name,))
                owner_id = int(cur.lastrowid or 0)
        except sqlite3.IntegrityError:
            raise ValidationError(f"an owner named {name!r} already exists") from None
        return self.get(owner_id)

    def get(self, owner_id: int) -> Owner:
        row = self.db.connect().execute("SELECT * FROM owners WHERE id = ?",
                                        (owner_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no owner #{owner_id}")
        return Owner(row["id"], row["name"], row["created_at"])

    def find(self, name: str) -> Owner | None:
        row = self.db.connect().execute("SELECT * FROM owners WHERE name = ?",
                                        (name,)).fetchone()
        return Owner(row["id"], row["name"], row["created_at"]) if row else None

    def list(self) -> builtins.list[Owner]:
        rows = self.db.connect().execute("SELECT * FROM owners ORDER BY id").fetchall()
        return [Owner(r["id"], r["name"], r["created_at"]) for r in rows]

    # --- keys -----------------------------------------------------------------------------
    def create_key(self, owner_id: int, scopes: builtins.list[str], *,
                   agents: builtins.list[str] | None = None,
                   label: str = "") -> tuple[ApiKey, str]:
        """A new key; the returned secret is shown once and never stored."""
        self.get(owner_id)
        bad = [s for s in scopes if s not in SCOPES]
        if not scopes or bad:
            raise ValidationError(f"scopes must be some of {', '.join(SCOPES)}")
        prefix = secrets.token_hex(4)
        secret = f"dk_{prefix}_{secrets.token_urlsafe(32)}"
        with self.db.transaction() as tx:
            cur = tx.execute(
                "INSERT INTO api_keys(owner_id, prefix, hash, label, scopes, agents) "
                "VALUES (?,?,?,?,?,?)",
                (owner_id, prefix, _hash(secret), label, json.dumps(sorted(set(scopes))),
                 json.dumps(agents) if agents is not None else None))
            key_id = int(cur.lastrowid or 0)
        return self._key_by_id(key_id), secret

    def authenticate(self, secret: str) -> tuple[Owner, ApiKey] | None:
        """The owner and key for a presented secret, or None (unknown, malformed, revoked)."""
        parts = secret.split("_")
        if len(parts) < 3 or parts[0] != "dk":
            return None
        row = self.db.connect().execute("SELECT * FROM api_keys WHERE prefix = ?",
                                        (parts[1],)).fetchone()
        if row is None or row["revoked_at"] is not None:
            return None
        if not hmac.compare_digest(row["hash"], _hash(secret)):
            return None
        return self.get(row["owner_id"]), _key(row)

    def touch_if_stale(self, key: ApiKey, every_s: int = 60) -> None:
        """Record that the key was used; at most once a minute, so that a busy key does not
        turn every request into a database write."""
        if key.last_used_at is not None:
            last = datetime.strptime(key.last_used_at[:19], "%Y-%m-%dT%H:%M:%S")
            if (datetime.now(timezone.utc).replace(tzinfo=None) - last).total_seconds() < every_s:
                return
        with self.db.transaction() as tx:
            tx.execute("UPDATE api_keys SET last_used_at = strftime('%Y-%m-%dT%H:%M:%fZ', "
                       "'now') WHERE id = ?", (key.id,))

    def list_keys(self, owner_id: int) -> builtins.list[ApiKey]:
        rows = self.db.connect().execute("SELECT * FROM api_keys WHERE owner_id = ? ORDER BY id",
                                         (owner_id,)).fetchall()
        return [_key(r) for r in rows]

    def revoke_key(self, owner_id: int, key_id: int) -> None:
        with self.db.transaction() as tx:
            cur = tx.execute("UPDATE api_keys SET revoked_at = strftime('%Y-%m-%dT%H:%M:%fZ', "
                             "'now') WHERE id = ? AND owner_id = ? AND revoked_at IS NULL",
                             (key_id, owner_id))
            if cur.rowcount == 0:
                raise NotFoundError(f"no active key #{key_id}")

    def _key_by_id(self, key_id: int) -> ApiKey:
        row = self.db.connect().execute("SELECT * FROM api_keys WHERE id = ?",
                                        (key_id,)).fetchone()
        return _key(row)


def _key(row: sqlite3.Row) -> ApiKey:
    agents = json.loads(row["agents"]) if row["agents"] is not None else None
    return ApiKey(row["id"], row["owner_id"], row["prefix"], row["label"],
                  tuple(json.loads(row["scopes"])), tuple(agents) if agents is not None else None,
                  row["created_at"], row["last_used_at"], row["revoked_at"])
