"""Who is calling: an API key in ``Authorization: Bearer`` (or none, for public agents)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from fastapi import Request

from doppel.agents.repo import Agent
from doppel.owners import ApiKey, Owner
from doppel.serve.errors import APIError
from doppel.serve.limits import FailureThrottle, address_bucket
from doppel.service import Doppel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Principal:
    owner: Owner | None
    key: ApiKey | None
    client: str  # the client's address, for per-IP limits

    @property
    def rate_key(self) -> str:
        return f"key:{self.key.id}" if self.key else f"ip:{address_bucket(self.client)}"


def client_of(request: Request) -> str:
    """The client's address (behind a trusted proxy, the one it forwarded: see security.py)."""
    return request.client.host if request.client else "unknown"


def auth_retry_after(request: Request) -> int:
    """Seconds this client must wait before it may try a key again (0: it may now)."""
    throttle: FailureThrottle = request.app.state.auth_failures
    return throttle.retry_after(address_bucket(client_of(request)))


def auth_failed(request: Request, what: str) -> None:
    """Count a failed authentication against the client's address, and log it: the address
    and the route, never the key (a mistyped key is often a real key, one character off)."""
    client = client_of(request)
    request.app.state.auth_failures.failed(address_bucket(client))
    log.warning("%s from %s (%s %s)", what, client, request.method, request.url.path)


def principal(request: Request) -> Principal:
    """The caller. A malformed, unknown or revoked key is a 401, never anonymous access; past
    DOPPEL_AUTH_FAILURES_PER_MINUTE bad keys from one address, every key from it is a 429."""
    app: Doppel = request.app.state.doppel
    header = request.headers.get("authorization", "")
    client = client_of(request)
    if not header:
        return Principal(None, None, client)
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise APIError(401, "use 'Authorization: Bearer <key>'", code="invalid_api_key")
    if not token.strip().startswith("dk_"):
        # Not a doppel key at all: OpenAI clients insist on sending *some* key ("none",
        # "sk-..."), so treat it as anonymous; only public agents will answer.
        return Principal(None, None, client)
    wait = auth_retry_after(request)
    if wait:
        raise APIError(429, "too many bad API keys from this address; try again later",
                       code="auth_throttled", headers={"Retry-After": str(wait)})
    found = app.owners.authenticate(token.strip())
    if found is None:
        auth_failed(request, "bad API key")
        raise APIError(401, "invalid or revoked API key", code="invalid_api_key")
    owner, key = found
    app.owners.touch_if_stale(key)
    return Principal(owner, key, client)


def require_admin(who: Principal) -> Owner:
    if who.key is None or who.owner is None:
        raise APIError(401, "an API key with the 'admin' scope is required",
                       code="missing_api_key")
    if not who.key.may_admin():
        raise APIError(403, "this key lacks the 'admin' scope", code="insufficient_scope")
    return who.owner


def owned_agent(app: Doppel, who: Principal, slug: str) -> Agent:
    """An agent the calling admin owns: 404 if it does not exist, 403 if it is not theirs."""
    owner = require_admin(who)
    agent = app.agents.get(slug)
    if agent.owner_id != owner.id:
        raise APIError(403, f"agent {slug!r} belongs to another owner", code="not_yours")
    return agent


def chat_agent(app: Doppel, who: Principal, slug: str) -> Agent:
    """An agent the caller may chat with: its owner's keys, or anyone if it is public."""
    agent = app.agents.get(slug)
    if agent.spec.public:
        return agent
    if who.key is None:
        raise APIError(401, f"agent {slug!r} is private: an API key is required",
                       code="missing_api_key")
    if who.owner is None or agent.owner_id != who.owner.id:
        raise APIError(403, f"agent {slug!r} belongs to another owner", code="not_yours")
    if not who.key.may_chat(slug):
        raise APIError(403, f"this key may not chat with {slug!r}", code="insufficient_scope")
    return agent


def visible_agents(app: Doppel, who: Principal, *, after: str = "",
                   limit: int = 100) -> tuple[list[Agent], bool]:
    """What /v1/models lists, one page in slug order: the agents this key may chat with, or
    the public ones; and whether more follow."""
    if who.key is None or who.owner is None:
        return app.agents.page(public=True, after=after, limit=limit)
    return app.agents.page(owner_id=who.owner.id, slugs=who.key.chat_agents(), after=after,
                           limit=limit)
