"""The console's route table: every console route that names an agent (``{slug}``), with every
method, tried by one owner on another owner's agent.

'alice' owns 'bakery', 'bob' owns 'bikes' (see `server_app` in conftest.py). Signed in as bob,
with his own valid CSRF token and a form that would change alice's agent, every route must
answer exactly as for an agent that does not exist (404, "You have no agent called ..."), and
alice's data must be unchanged afterwards. The routes come from the console's own routers, so
a new route is tried without anyone adding it here; and a route that names an agent without
the `owned_agent` dependency fails `test_every_agent_route_depends_on_owned_agent`.

This mirrors the owner API's table in tests/test_isolation.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute

from doppel.serve.console import ROUTERS
from doppel.serve.console.deps import owned_agent
from doppel.service import Doppel
from doppel.store.copy import TABLES, columns
from tests.test_console import _csrf, sign_in

# On SQLite and on a real PostgreSQL + pgvector (conftest.py's `both_stores`).
pytestmark = pytest.mark.both_stores

UNKNOWN = "no-such-agent"

# (method, path) of every console route, from the routers the console installs.
CONSOLE_ROUTES = sorted({(method, route.path) for router in ROUTERS for route in router.routes
                         if isinstance(route, APIRoute) for method in route.methods or ()})
AGENT_ROUTES = [r for r in CONSOLE_ROUTES if "{slug}" in r[1]]
# The routes that name no agent: each one listed here on purpose, so that a route reaching an
# agent some other way (?agent=, a form field) cannot be added unnoticed.
ACCOUNT_ROUTES = {
    ("GET", "/console"), ("GET", "/console/login"), ("POST", "/console/login"),
    ("POST", "/console/logout"), ("GET", "/console/agents"), ("GET", "/console/new"),
    ("POST", "/console/new"), ("GET", "/console/setup"), ("POST", "/console/setup"),
    ("GET", "/console/signup"), ("POST", "/console/signup"), ("GET", "/console/invite/{token}"),
    ("POST", "/console/invite/{token}"), ("GET", "/console/account"),
    ("POST", "/console/account/password"),
}

# A form for each route that changes something: what an intruder would send. A POST route
# missing here still gets tried, with only the CSRF token.
FORMS: dict[tuple[str, str], dict[str, str]] = {
    ("POST", "/console/agents/{slug}/import-url"): {"url": "https://intruder.example"},
    ("POST", "/console/agents/{slug}/documents/delete"): {"source": "prices.csv"},
    ("POST", "/console/agents/{slug}/try"): {"q": "How much is the almond croissant?"},
    ("POST", "/console/agents/{slug}/voice"): {"description": "Hijacked voice",
                                               "examples": "Free? => Yes, all free."},
    ("POST", "/console/agents/{slug}/publish"): {"public": "0"},
    ("POST", "/console/agents/{slug}/settings"): {"name": "Hijacked", "public": "0",
                                                  "contact_email": "evil@intruder.example"},
    ("POST", "/console/agents/{slug}/inbox/answer"): {"question": "Is everything free?",
                                                      "answer": "Yes, everything."},
    ("POST", "/console/agents/{slug}/inbox/dismiss"): {"question": "Is everything free?"},
    ("POST", "/console/agents/{slug}/turns/{turn_id}/mark"): {"mark": "wrong"},
    ("POST", "/console/agents/{slug}/facts"): {"line": "item: Almond Croissant; price: 5.25",
                                               "replacement": "free", "action": "change"},
    ("POST", "/console/agents/{slug}/answers"): {"question": "Is everything free?",
                                                 "answer": "Yes, everything."},
    ("POST", "/console/agents/{slug}/answers/{answer_id}"): {"question": "Is it free?",
                                                             "answer": "Yes."},
    ("POST", "/console/agents/{slug}/people/{conversation_id}/reply"): {"text": "Hijacked."},
    ("POST", "/console/agents/{slug}/bookings/{booking_id}"): {"status": "confirmed"},
    ("POST", "/console/agents/{slug}/channels/{channel}/connect"): {
        "bot_token": "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"},
}
FILES = {("POST", "/console/agents/{slug}/files"): [
    ("files", ("intruder.txt", b"Everything is free today.\n", "text/plain"))]}


def alice_state(app: Doppel) -> dict[str, Any]:
    """Everything stored about alice's agent: its row and every row of every table that has
    an agent_id, with the agent's id."""
    db = app.db.connect()
    agent = app.agents.get("bakery")
    state: dict[str, Any] = {"agent": dict(db.execute(
        "SELECT slug, spec_json, knowledge_version, owner_id FROM agents WHERE id = ?",
        (agent.id,)).fetchone())}
    for table in TABLES:  # every table of the store (the copy tool's list, checked complete)
        names = columns(db, table)
        if "agent_id" in names:
            state[table] = [tuple(map(str, row)) for row in db.execute(
                f"SELECT {', '.join(names)} FROM {table} WHERE agent_id = ? ORDER BY 1, 2",
                (agent.id,))]
    return state


@pytest.fixture
def bob(server: str, server_app: Doppel) -> Iterator[httpx.Client]:
    """bob signed in, after alice's agent had a conversation (so there is one to reach)."""
    r = httpx.post(f"{server}/v1/chat/completions", trust_env=False, timeout=30, json={
        "model": "bakery", "messages": [{"role": "user", "content": "Almond croissant?"}]})
    assert r.status_code == 200, r.text
    bakery = server_app.agents.get("bakery")
    server_app.answers.add(bakery.id, "Do you sell gift cards?", "Yes, at the counter.")
    # a booking request and a conversation waiting for a person: there to be reached, too
    with server_app.db.transaction() as tx:
        tx.execute("INSERT INTO booking_requests(agent_id, starts_at, ends_at, name, contact) "
                   "VALUES (?, '2027-03-10T10:00:00+00:00', '2027-03-10T11:00:00+00:00', "
                   "'Sam', 'sam@example.com')", (bakery.id,))
    conversation = server_app.db.connect().execute("SELECT MAX(id) FROM conversations"
                                                   ).fetchone()[0]
    server_app.conversations.set_holder(conversation, "waiting_for_human", "asked for a person")
    client = sign_in(server, server_app.keys["bob"])  # type: ignore[attr-defined]
    client.follow_redirects = False
    yield client
    client.close()


def _request(client: httpx.Client, app: Doppel, method: str, path: str, slug: str,
             csrf: str | None) -> httpx.Response:
    db = app.db.connect()
    conversation = db.execute("SELECT MAX(id) FROM conversations").fetchone()[0]
    turn = db.execute("SELECT MAX(id) FROM turns").fetchone()[0]
    answer = db.execute("SELECT MAX(id) FROM approved_answers").fetchone()[0]
    booking = db.execute("SELECT MAX(id) FROM booking_requests").fetchone()[0]
    url = path.format(slug=slug, job_id=1, conversation_id=conversation or 1, turn_id=turn or 1,
                      answer_id=answer or 1, booking_id=booking or 1, channel="telegram")
    if method == "GET":
        return client.get(url)
    data = FORMS.get((method, path), {}) | ({"csrf": csrf} if csrf is not None else {})
    return client.request(method, url, data=data, files=FILES.get((method, path)))


def test_the_console_serves_exactly_its_routers_routes(server_app: Doppel) -> None:
    """What the app serves under /console is what ROUTERS hold: nothing slips past the table."""
    from doppel.serve import create_app

    app = create_app(doppel=server_app, preload=False)
    served = {(m, r.path) for r in _api_routes(app.routes) if r.path.startswith("/console")
              for m in r.methods or ()}
    assert len(served) > 20
    assert served == set(CONSOLE_ROUTES)
    assert {r for r in CONSOLE_ROUTES if "{slug}" not in r[1]} == ACCOUNT_ROUTES
    assert set(FORMS) | set(FILES) <= set(AGENT_ROUTES)


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every APIRoute, also inside included routers (FastAPI 0.16x keeps an included router
    as one entry holding the original: `original_router`)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif getattr(route, "original_router", None) is not None:
            yield from _api_routes(route.original_router.routes)


def _calls(dependant: Any) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


@pytest.mark.parametrize(("method", "path"), AGENT_ROUTES, ids=" ".join)
def test_every_agent_route_depends_on_owned_agent(method: str, path: str) -> None:
    route = next(r for router in ROUTERS for r in router.routes
                 if isinstance(r, APIRoute) and r.path == path and method in (r.methods or ()))
    assert owned_agent in set(_calls(route.dependant)), (
        f"{method} {path} names an agent: declare `agent: OwnedAgent` (deps.owned_agent)")


@pytest.mark.parametrize(("method", "path"), AGENT_ROUTES, ids=" ".join)
def test_agent_route_refuses_another_owners_agent(bob: httpx.Client, server_app: Doppel,
                                                  method: str, path: str) -> None:
    before = alice_state(server_app)
    csrf = _csrf(bob.get("/console/agents").text)

    refused = _request(bob, server_app, method, path, "bakery", csrf)
    assert refused.status_code == 404, (method, path, refused.status_code, refused.text[:300])
    assert "You have no agent called “bakery”." in refused.text
    # word for word what an agent that does not exist gets: nothing confirms it exists
    unknown = _request(bob, server_app, method, path, UNKNOWN, csrf)
    assert unknown.status_code == 404
    assert refused.text.replace("bakery", UNKNOWN) == unknown.text
    assert "Traceback" not in refused.text

    # bob's own agent on the same route is not refused for being someone else's
    own = _request(bob, server_app, "GET", path, "bikes", None) if method == "GET" else None
    if own is not None:
        assert own.status_code in (200, 404), own.text[:300]
        assert "You have no agent called" not in own.text

    # without a session: a GET goes to sign-in, a form is refused, nothing changes either
    with httpx.Client(base_url=str(bob.base_url), timeout=30, trust_env=False) as stranger:
        r = _request(stranger, server_app, method, path, "bakery", csrf)
        if method == "GET":
            assert r.status_code == 303 and r.headers["location"].startswith("/console/login")
        else:
            assert r.status_code == 401 and "Sign in again" in r.text

    assert alice_state(server_app) == before, f"{method} {path} changed alice's agent"


def test_a_form_without_the_csrf_token_is_refused_before_the_agent_is_looked_up(
        bob: httpx.Client, server_app: Doppel) -> None:
    """As before the package split: the CSRF check comes first, so a forged form learns
    nothing about which agents exist."""
    for method, path in AGENT_ROUTES:
        if method == "POST":
            r = _request(bob, server_app, method, path, "bakery", None)
            assert r.status_code == 403 and re.search("another site", r.text), path
