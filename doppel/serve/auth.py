"""Who is calling: an API key in ``Authorization: Bearer`` (or none, for public agents)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from doppel.agents.repo import Agent
from doppel.owners import ApiKey, Owner
from doppel.serve.errors import APIError
from doppel.service import Doppel


@dataclass(frozen=True)
class Principal:
    owner: Owner | None
    key: ApiKey | None
    client: str  # the client's address, for per-IP limits

    @property
    def rate_key(self) -> str:
        return f"key:{self.key.id}" if self.key else f"ip:{self.client}"


def principal(request: Request) -> Principal:
    """The caller. A malformed, unknown or revoked key is a 401, never anonymous access."""
    app: Doppel = request.app.state.doppel
    header = request.headers.get("authorization", "")
    client = request.client.host if request.client else "unknown"
    if not header:
        return Principal(None, None, client)
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise APIError(401, "use 'Authorization: Bearer <key>'", code="invalid_api_key")
    if not token.strip().startswith("dk_"):
        # Not a doppel key at all: OpenAI clients insist on sending *some* key ("none",
        # "sk-..."), so treat it as anonymous; only public agents will answer.
        return Principal(None, None, client)
    found = app.owners.authenticate(token.strip())
    if found is None:
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


def visible_agents(app: Doppel, who: Principal) -> list[Agent]:
    """What /v1/models lists: the agents this key may chat with, or the public ones."""
    if who.key is None or who.owner is None:
        return [a for a in app.agents.list() if a.spec.public]
    return [a for a in app.agents.list(who.owner.id) if who.key.may_chat(a.slug)]
