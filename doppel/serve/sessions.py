"""Console sessions: an owner signs in with a name and password, or an admin key, and gets a
session cookie.

The cookie holds a random token; only its SHA-256 is stored, next to the session's CSRF token
and the key it was opened with, if any, so revoking that key (or deleting the owner) ends the
session; changing the password ends the owner's other sessions.
Every state-changing console request must carry the session's CSRF token (a hidden form field
or the ``X-CSRF-Token`` header) — the synchronizer-token pattern — and, when the browser sends
an ``Origin``, come from this server's own origin. The cookie is HttpOnly and SameSite=Lax, so
a cross-site form post never carries it either: two independent locks.

Sign-in itself is protected against login CSRF with a double-submit token: the sign-in page sets
a short-lived cookie and puts the same value in the form.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from doppel.owners import ApiKey, Owner, OwnerRepo
from doppel.store import Database

SESSION_COOKIE = "doppel_session"
LOGIN_COOKIE = "doppel_login"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True)
class Session:
    id: int
    owner: Owner
    key: ApiKey | None  # None: opened with the owner's password
    csrf: str

    def csrf_ok(self, token: str | None) -> bool:
        return bool(token) and same_secret(self.csrf, token or "")


def same_secret(a: str, b: str) -> bool:
    """Constant-time comparison; as bytes, because compare_digest refuses non-ASCII str (a
    forged token of "é" must be a 403, not a 500)."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class SessionStore:
    def __init__(self, db: Database, owners: OwnerRepo, hours: float) -> None:
        self.db = db
        self.owners = owners
        self.lifetime = timedelta(hours=hours)

    def open(self, secret: str) -> tuple[str, Session] | None:
        """A new session for an admin key, or None if the key is unknown, revoked or not admin.

        Returns the cookie token (shown to the browser only) and the session.
        """
        found = self.owners.authenticate(secret.strip())
        if found is None:
            return None
        owner, key = found
        if not key.may_admin():
            return None
        opened = self._open(owner, key)
        self.owners.touch_if_stale(key)
        return opened

    def open_for(self, owner: Owner) -> tuple[str, Session]:
        """A new session for an owner whose password was checked (no key behind it)."""
        return self._open(owner, None)

    def _open(self, owner: Owner, key: ApiKey | None) -> tuple[str, Session]:
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = _now()
        with self.db.transaction() as tx:
            # Expired sessions are swept here rather than by a timer: sign-ins are rare.
            tx.execute("DELETE FROM console_sessions WHERE expires_at < ?", (_iso(now),))
            cur = tx.execute(
                "INSERT INTO console_sessions(token_hash, owner_id, key_id, csrf, expires_at) "
                "VALUES (?,?,?,?,?) RETURNING id",
                (_hash(token), owner.id, key.id if key else None, csrf,
                 _iso(now + self.lifetime)))
            session_id = int(cur.fetchone()[0])
        return token, Session(session_id, owner, key, csrf)

    def get(self, token: str | None) -> Session | None:
        """The live session behind a cookie token, or None (expired, revoked key, unknown)."""
        if not token or len(token) > 200:
            return None
        row = self.db.connect().execute(
            "SELECT s.id, s.owner_id, s.key_id, s.csrf, s.expires_at, k.revoked_at "
            "FROM console_sessions s LEFT JOIN api_keys k ON k.id = s.key_id "
            "WHERE s.token_hash = ?", (_hash(token),)).fetchone()
        if row is None or row["revoked_at"] is not None or row["expires_at"] < _iso(_now()):
            return None
        owner = self.owners.get(int(row["owner_id"]))
        if row["key_id"] is None:
            return Session(int(row["id"]), owner, None, str(row["csrf"]))
        key = next((k for k in self.owners.list_keys(owner.id) if k.id == row["key_id"]), None)
        if key is None or not key.may_admin():
            return None
        return Session(int(row["id"]), owner, key, str(row["csrf"]))

    def close_others(self, session: Session) -> None:
        """End every other session of the session's owner (after a password change)."""
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM console_sessions WHERE owner_id = ? AND id != ?",
                       (session.owner.id, session.id))

    def close(self, token: str | None) -> None:
        if token:
            with self.db.transaction() as tx:
                tx.execute("DELETE FROM console_sessions WHERE token_hash = ?", (_hash(token),))
