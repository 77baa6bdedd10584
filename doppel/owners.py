"""Owners and their API keys.

A key looks like ``dk_<prefix>_<secret>``. Only its SHA-256 is stored (the secret has 256 bits of
entropy, so a plain hash is enough; no password stretching needed); the prefix finds the row
and the hash is compared in constant time. A key is shown once, when created, and can be
revoked. Scopes: ``admin`` manages the owner's agents; ``chat`` talks to the owner's agents,
optionally limited to a list of slugs.

Keys are for programs. People sign in to the console with a name and a password: only its
Argon2id hash (argon2-cffi's PasswordHasher, PHC string) is stored, and it never leaves this
module's repository (`Owner` does not carry it). The first account of a fresh install, a sign-up
(when the operator allows them) and an account made through an operator's one-time invitation
link are each created in one transaction, so two visitors racing get exactly one account.
"""

from __future__ import annotations

import builtins
import functools
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from doppel.errors import NotFoundError, ValidationError
from doppel.store import Connection, Database, IntegrityError, Row, now_iso

__all__ = ["MAX_PASSWORD", "MIN_PASSWORD", "SCOPES", "ApiKey", "Owner", "OwnerRepo", "Scope",
           "check_new_password"]

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

    def chat_agents(self) -> tuple[str, ...] | None:
        """The owner's agents this key may chat with: None for all of them, else these
        (none, for a key without the chat or admin scope)."""
        if "admin" in self.scopes:
            return None
        return self.agents if "chat" in self.scopes else ()

    def may_chat(self, slug: str) -> bool:
        allowed = self.chat_agents()
        return allowed is None or slug in allowed

    def public(self) -> dict[str, object]:
        return {"id": self.id, "prefix": self.prefix, "label": self.label,
                "scopes": list(self.scopes), "agents": list(self.agents) if self.agents
                is not None else None, "created_at": self.created_at,
                "last_used_at": self.last_used_at, "revoked": self.revoked_at is not None}


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


MIN_PASSWORD = 10    # characters; NIST SP 800-63B asks for at least 8
MAX_PASSWORD = 1024  # hashing a megabyte of "password" is a cheap way to burn a core
MAX_NAME = 80

# Argon2id with argon2-cffi's defaults (RFC 9106's second recommendation: t=3, 64 MiB, p=4),
# ~50 ms a hash. A newer argon2-cffi with stronger defaults rehashes at the next sign-in.
_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """What an unknown name's password is checked against, so that it costs the same."""
    return _hasher.hash(secrets.token_urlsafe(16))


def check_new_password(password: str) -> None:
    """ValidationError unless `password` may become an account's password."""
    if len(password) < MIN_PASSWORD:
        raise ValidationError(f"Password: at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise ValidationError(f"Password: at most {MAX_PASSWORD} characters")


def _check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ValidationError("Name: fill this in")
    if len(name) > MAX_NAME:
        raise ValidationError(f"Name: at most {MAX_NAME} characters")
    return name


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_TAKEN = "Name: that name is taken; choose another"


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
                cur = tx.execute("INSERT INTO owners(name) VALUES (?) RETURNING id", (name,))
                owner_id = int(cur.fetchone()[0])
        except IntegrityError:
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

    def any(self) -> bool:
        """Whether any owner exists (a fresh install has none)."""
        return self.db.connect().execute("SELECT 1 FROM owners LIMIT 1").fetchone() is not None

    # --- passwords ------------------------------------------------------------------------
    def create_first(self, name: str, password: str) -> Owner | None:
        """The first owner of a fresh install; None when any owner exists already (another
        visitor was first): checked and written in one statement of one transaction."""
        name = _check_name(name)
        check_new_password(password)
        hashed = _hasher.hash(password)
        # serialize: two visitors signing up at once on PostgreSQL would both see no owner
        with self.db.transaction(serialize="first-owner") as tx:
            row = tx.execute("INSERT INTO owners(name, password_hash) SELECT ?, ? "
                             "WHERE NOT EXISTS (SELECT 1 FROM owners) RETURNING id",
                             (name, hashed)).fetchone()
            if row is None:
                return None
            owner_id = int(row[0])
        return self.get(owner_id)

    def create_with_password(self, name: str, password: str) -> Owner:
        """A sign-up: a new owner with a password; ValidationError if the name is taken."""
        name = _check_name(name)
        check_new_password(password)
        hashed = _hasher.hash(password)
        with self.db.transaction() as tx:
            owner_id = self._insert(tx, name, hashed)
        return self.get(owner_id)

    def _insert(self, tx: Connection, name: str, hashed: str) -> int:
        # "Maya" next to "maya" would be one person to whoever reads the sign-in form
        if tx.execute("SELECT 1 FROM owners WHERE lower(name) = lower(?)",
                      (name,)).fetchone() is not None:
            raise ValidationError(_TAKEN)
        try:
            cur = tx.execute("INSERT INTO owners(name, password_hash) VALUES (?, ?) RETURNING id",
                             (name, hashed))
        except IntegrityError:
            raise ValidationError(_TAKEN) from None
        return int(cur.fetchone()[0])

    def check_password(self, name: str, password: str) -> Owner | None:
        """The owner with this name and password, or None. An unknown name, an owner without
        a password and a wrong password cost the same: one Argon2 verification."""
        row = self.db.connect().execute(
            "SELECT id, password_hash FROM owners WHERE name = ?", (name.strip(),)).fetchone() \
            if len(name) <= MAX_NAME * 4 else None
        if row is None or not row["password_hash"]:
            self._verify(_dummy_hash(), password)
            return None
        stored = str(row["password_hash"])
        if not self._verify(stored, password):
            return None
        if _hasher.check_needs_rehash(stored):
            self._store_hash(int(row["id"]), _hasher.hash(password))
        return self.get(int(row["id"]))

    @staticmethod
    def _verify(hashed: str, password: str) -> bool:
        if len(password) > MAX_PASSWORD:
            return False
        try:
            return _hasher.verify(hashed, password)
        except (VerificationError, InvalidHashError):
            return False

    def has_password(self, owner_id: int) -> bool:
        row = self.db.connect().execute("SELECT password_hash FROM owners WHERE id = ?",
                                        (owner_id,)).fetchone()
        return bool(row and row["password_hash"])

    def set_password(self, owner_id: int, password: str, *, current: str | None = None,
                     check_current: bool = True) -> None:
        """Set or change an owner's password. With `check_current` (the console), the current
        password must be given when one is set; the operator's CLI passes False."""
        check_new_password(password)
        row = self.db.connect().execute("SELECT password_hash FROM owners WHERE id = ?",
                                        (owner_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no owner #{owner_id}")
        if check_current and row["password_hash"] and not self._verify(
                row["password_hash"], current or ""):
            raise ValidationError("Current password: that is not your current password")
        self._store_hash(owner_id, _hasher.hash(password))

    def end_console_sessions(self, owner_id: int) -> None:
        """Sign the owner out of every console session (the operator reset the password)."""
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM console_sessions WHERE owner_id = ?", (owner_id,))

    def _store_hash(self, owner_id: int, hashed: str) -> None:
        with self.db.transaction() as tx:
            tx.execute("UPDATE owners SET password_hash = ? WHERE id = ?", (hashed, owner_id))

    # --- invitations ----------------------------------------------------------------------
    def create_invite(self, days: float) -> str:
        """A one-time invitation token valid for `days` (shown once; only its hash is kept)."""
        if days <= 0:
            raise ValidationError("an invitation must be valid for some time")
        token = secrets.token_urlsafe(32)
        expires = (datetime.now(UTC) + timedelta(days=days)).strftime(
            "%Y-%m-%dT%H:%M:%S.%fZ")
        with self.db.transaction() as tx:
            tx.execute("INSERT INTO owner_invites(token_hash, expires_at) VALUES (?, ?)",
                       (_hash(token), expires))
        return token

    def invite_open(self, token: str) -> bool:
        """Whether an invitation token is known, unused and not expired."""
        if not token or len(token) > 200:
            return False
        row = self.db.connect().execute(
            "SELECT 1 FROM owner_invites WHERE token_hash = ? AND used_at IS NULL "
            "AND expires_at > ?", (_hash(token), _now())).fetchone()
        return row is not None

    def accept_invite(self, token: str, name: str, password: str) -> Owner:
        """The account made through an invitation, which it uses up in the same transaction:
        NotFoundError when the link is unknown, used or expired; ValidationError for a bad
        name or password (the link then still works)."""
        name = _check_name(name)
        check_new_password(password)
        hashed = _hasher.hash(password)
        now = _now()
        with self.db.transaction() as tx:
            cur = tx.execute("UPDATE owner_invites SET used_at = ? WHERE token_hash = ? AND "
                             "used_at IS NULL AND expires_at > ?", (now, _hash(token), now))
            if cur.rowcount != 1:
                raise NotFoundError("This invitation link has expired or was used already.")
            owner_id = self._insert(tx, name, hashed)  # a taken name rolls the use back
            tx.execute("UPDATE owner_invites SET owner_id = ? WHERE token_hash = ?",
                       (owner_id, _hash(token)))
        return self.get(owner_id)

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
                "VALUES (?,?,?,?,?,?) RETURNING id",
                (owner_id, prefix, _hash(secret), label, json.dumps(sorted(set(scopes))),
                 json.dumps(agents) if agents is not None else None))
            key_id = int(cur.fetchone()[0])
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
            if (datetime.now(UTC).replace(tzinfo=None) - last).total_seconds() < every_s:
                return
        with self.db.transaction() as tx:
            tx.execute("UPDATE api_keys SET last_used_at = ? WHERE id = ?",
                       (now_iso(), key.id))

    def list_keys(self, owner_id: int) -> builtins.list[ApiKey]:
        rows = self.db.connect().execute("SELECT * FROM api_keys WHERE owner_id = ? ORDER BY id",
                                         (owner_id,)).fetchall()
        return [_key(r) for r in rows]

    def revoke_key(self, owner_id: int, key_id: int) -> None:
        with self.db.transaction() as tx:
            cur = tx.execute("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND owner_id = ? "
                             "AND revoked_at IS NULL", (now_iso(), key_id, owner_id))
            if cur.rowcount == 0:
                raise NotFoundError(f"no active key #{key_id}")

    def _key_by_id(self, key_id: int) -> ApiKey:
        row = self.db.connect().execute("SELECT * FROM api_keys WHERE id = ?",
                                        (key_id,)).fetchone()
        return _key(row)


def _key(row: Row) -> ApiKey:
    agents = json.loads(row["agents"]) if row["agents"] is not None else None
    return ApiKey(row["id"], row["owner_id"], row["prefix"], row["label"],
                  tuple(json.loads(row["scopes"])), tuple(agents) if agents is not None else None,
                  row["created_at"], row["last_used_at"], row["revoked_at"])
