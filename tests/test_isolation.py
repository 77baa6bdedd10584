"""Two owners on one server: every owner route and chat route tried with the other owner's key,
with no key, with a malformed, wrong or revoked key, and on an unknown agent.

'alice' owns the public agent 'bakery', 'bob' the private agent 'bikes' (see `server_app` in
conftest.py). Every refusal must be an OpenAI-shaped error, and bob's data must be unchanged
afterwards, as seen through bob's own key.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from doppel.service import Doppel

# On SQLite and on a real PostgreSQL + pgvector (conftest.py's `both_stores`).
pytestmark = pytest.mark.both_stores

UNKNOWN = "no-such-agent"


# --- helpers -------------------------------------------------------------------------------------

def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def assert_error(r: httpx.Response, status: int) -> dict[str, Any]:
    """An OpenAI-shaped error with the given status (and never a traceback)."""
    assert r.status_code == status, (r.request.method, r.request.url.path, r.status_code, r.text)
    assert "Traceback" not in r.text
    body = r.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"message", "type", "code", "param"}, error
    assert isinstance(error["message"], str) and error["message"].strip(), error
    assert isinstance(error["type"], str) and error["type"], error
    return error


def chat_body(model: str, text: str = "How much is an inner tube?") -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": text}]}


@dataclass
class World:
    """The server with some of bob's (and alice's) data on it, and the keys to reach it."""

    client: httpx.Client
    app: Doppel
    alice: str                 # alice's admin key
    bob: str                   # bob's admin key
    bob_chat: str              # bob: chat scope, all of his agents
    bob_limited: str           # bob: chat scope, only 'bikes-two'
    bob_chat_key_id: int
    bob_admin_key_id: int
    revoked: str               # a key of bob's, revoked
    wrong_secret: str          # bob's real prefix with a wrong secret
    bob_answer_id: int
    bob_conversation_id: int
    alice_conversation_id: int

    def bob_state(self) -> dict[str, Any]:
        """Everything of bob's, read through bob's own admin key."""
        c, h = self.client, bearer(self.bob)
        out: dict[str, Any] = {}
        for name, path in (("agents", "/api/agents"),
                           ("agent", "/api/agents/bikes"),
                           ("documents", "/api/agents/bikes/documents"),
                           ("answers", "/api/agents/bikes/answers"),
                           ("conversations", "/api/agents/bikes/conversations"),
                           ("conversation",
                            f"/api/agents/bikes/conversations/{self.bob_conversation_id}"),
                           ("keys", "/api/keys"),
                           ("me", "/api/me")):
            r = c.get(path, headers=h)
            assert r.status_code == 200, (path, r.status_code, r.text)
            out[name] = r.json()
        for key in out["keys"]["data"]:
            key.pop("last_used_at", None)
        out["me"]["key"].pop("last_used_at", None)
        agent = self.app.agents.get("bikes")
        out["owner_id"] = agent.owner_id
        out["public"] = agent.spec.public
        return out


@pytest.fixture
def world(server: str, server_app: Doppel) -> Iterator[World]:
    keys = server_app.keys  # type: ignore[attr-defined]
    # verify=False: plain HTTP to 127.0.0.1 only; it skips loading the CA bundle (~30 ms a test)
    with httpx.Client(base_url=server, timeout=20, verify=False, trust_env=False) as c:
        bob, alice = bearer(keys["bob"]), bearer(keys["alice"])

        r = c.post("/api/agents/bikes/answers", headers=bob,
                   json={"question": "Do you rent bikes?", "answer": "Yes, by the day."})
        assert r.status_code == 201, r.text
        answer_id = r.json()["id"]

        r = c.post("/v1/chat/completions", headers=bob, json=chat_body("bikes"))
        assert r.status_code == 200, r.text
        r = c.post("/v1/chat/completions", headers=alice,
                   json=chat_body("bakery", "How much is the sourdough?"))
        assert r.status_code == 200, r.text
        bob_conv = c.get("/api/agents/bikes/conversations", headers=bob).json()["data"]
        alice_conv = c.get("/api/agents/bakery/conversations", headers=alice).json()["data"]
        assert len(bob_conv) == 1 and len(alice_conv) == 1

        r = c.post("/api/agents", headers=bob, json={"slug": "bikes-two", "name": "Bikes Two"})
        assert r.status_code == 201, r.text

        def new_key(body: dict[str, Any]) -> dict[str, Any]:
            r = c.post("/api/keys", headers=bob, json=body)
            assert r.status_code == 201, r.text
            return r.json()

        chat = new_key({"scopes": ["chat"], "label": "widget"})
        limited = new_key({"scopes": ["chat"], "agents": ["bikes-two"], "label": "two only"})
        revoked = new_key({"scopes": ["admin"], "label": "to revoke"})
        assert c.delete(f"/api/keys/{revoked['id']}", headers=bob).status_code == 204
        admin_id = c.get("/api/me", headers=bob).json()["key"]["id"]
        prefix = keys["bob"].split("_")[1]

        yield World(
            client=c, app=server_app, alice=keys["alice"], bob=keys["bob"],
            bob_chat=chat["key"], bob_limited=limited["key"], bob_chat_key_id=chat["id"],
            bob_admin_key_id=admin_id, revoked=revoked["key"],
            wrong_secret=f"dk_{prefix}_{'x' * 43}", bob_answer_id=answer_id,
            bob_conversation_id=bob_conv[0]["id"], alice_conversation_id=alice_conv[0]["id"])


# --- the route table -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Route:
    method: str
    path: str            # may hold {slug}, {conversation}, {answer}, {key}
    body: str = "none"   # none | json | files

    @property
    def agent_scoped(self) -> bool:
        return "{slug}" in self.path

    def request(self, w: World, key: str | None, slug: str = "bikes") -> httpx.Response:
        path = self.path.format(slug=slug, conversation=w.bob_conversation_id,
                                answer=w.bob_answer_id, key=w.bob_chat_key_id, job=1)
        kwargs: dict[str, Any] = {"headers": bearer(key) if key is not None else {}}
        if self.body == "json":
            kwargs["json"] = _JSON_BODIES[(self.method, self.path)](slug)
        elif self.body == "files":
            kwargs["files"] = [("files", ("intruder.txt", b"Everything is free today.\n"))]
        return w.client.request(self.method, path, **kwargs)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


_JSON_BODIES = {
    ("POST", "/api/agents"): lambda slug: {"slug": "intruder", "name": "Intruder"},
    ("PUT", "/api/agents/{slug}"): lambda slug: {"slug": slug, "name": "Hijacked",
                                                  "public": True},
    ("POST", "/api/agents/{slug}/answers"): lambda slug: {"question": "Is everything free?",
                                                          "answer": "Yes."},
    ("POST", "/api/keys"): lambda slug: {"scopes": ["admin"], "label": "intruder"},
    ("POST", "/api/agents/{slug}/imports"): lambda slug: {"url": "https://intruder.example"},
    ("POST", "/api/agents/{slug}/inbox/answer"): lambda slug: {
        "question": "Is everything free?", "answer": "Yes."},
    ("POST", "/api/agents/{slug}/inbox/dismiss"): lambda slug: {"question": "Any question?"},
}

AGENT_ROUTES = [
    Route("GET", "/api/agents/{slug}"),
    Route("PUT", "/api/agents/{slug}", "json"),
    Route("DELETE", "/api/agents/{slug}"),
    Route("POST", "/api/agents/{slug}/files", "files"),
    Route("GET", "/api/agents/{slug}/documents"),
    Route("DELETE", "/api/agents/{slug}/documents/prices.csv"),
    Route("GET", "/api/agents/{slug}/conversations"),
    Route("GET", "/api/agents/{slug}/conversations/{conversation}"),
    Route("GET", "/api/agents/{slug}/answers"),
    Route("POST", "/api/agents/{slug}/answers", "json"),
    Route("DELETE", "/api/agents/{slug}/answers/{answer}"),
    Route("POST", "/api/agents/{slug}/imports", "json"),
    Route("GET", "/api/agents/{slug}/imports"),
    Route("GET", "/api/agents/{slug}/imports/{job}"),
    Route("GET", "/api/agents/{slug}/facts"),
    Route("POST", "/api/agents/{slug}/voice"),
    Route("GET", "/api/agents/{slug}/inbox"),
    Route("POST", "/api/agents/{slug}/inbox/answer", "json"),
    Route("POST", "/api/agents/{slug}/inbox/dismiss", "json"),
    Route("GET", "/api/agents/{slug}/analytics"),
    Route("GET", "/api/agents/{slug}/safety"),
]
ACCOUNT_ROUTES = [
    Route("GET", "/api/agents"),
    Route("POST", "/api/agents", "json"),
    Route("GET", "/api/keys"),
    Route("POST", "/api/keys", "json"),
    Route("DELETE", "/api/keys/{key}"),
    Route("GET", "/api/me"),
]
OWNER_ROUTES = AGENT_ROUTES + ACCOUNT_ROUTES


def test_the_table_covers_every_owner_route() -> None:
    """A route added to the owner API without a row here fails this test."""
    from doppel.serve import owner_api

    served = {(m, r.path) for r in owner_api.router.routes for m in r.methods}  # type: ignore
    table = {(r.method, r.path.replace("prices.csv", "{source}")
              .replace("{conversation}", "{conversation_id}").replace("{answer}", "{answer_id}")
              .replace("{key}", "{key_id}").replace("{job}", "{job_id}")) for r in OWNER_ROUTES}
    served = {(m, p.replace("{source:path}", "{source}")) for m, p in served}
    assert served == table


# --- the owner API -------------------------------------------------------------------------------

@pytest.mark.parametrize("route", AGENT_ROUTES, ids=str)
def test_agent_route_refuses_other_owner_and_strangers(world: World, route: Route) -> None:
    before = world.bob_state()

    # alice's admin key on bob's agent: 403, and bob's data is untouched
    error = assert_error(route.request(world, world.alice), 403)
    assert "bikes" in error["message"]
    assert world.bob_state() == before

    # no key at all; a malformed, unknown, wrong-secret or revoked doppel key: 401
    assert_error(route.request(world, None), 401)
    for bad in ("dk_", "dk_nothing", "dk_deadbeef_not-a-real-key", world.wrong_secret,
                world.revoked):
        assert_error(route.request(world, bad), 401)
    # a header that is not a bearer token at all: 401; a non-doppel token is anonymous: 401
    r = world.client.request(route.method, route.path.format(
        slug="bikes", conversation=1, answer=1, key=1, job=1),
        headers={"Authorization": "Basic eDp5"})
    assert_error(r, 401)
    assert_error(route.request(world, "sk-not-a-doppel-key"), 401)

    # a chat-scope key of bob's own, on bob's own agent: the owner API needs 'admin': 403
    error = assert_error(route.request(world, world.bob_chat), 403)
    assert error["code"] == "insufficient_scope"

    # an agent that does not exist, with a valid admin key: 404
    assert_error(route.request(world, world.alice, slug=UNKNOWN), 404)
    assert_error(route.request(world, world.bob, slug=UNKNOWN), 404)

    assert world.bob_state() == before


@pytest.mark.parametrize("route", ACCOUNT_ROUTES, ids=str)
def test_account_route_refuses_strangers_and_chat_keys(world: World, route: Route) -> None:
    before = world.bob_state()
    agents_before = {a.slug for a in world.app.agents.list()}

    assert_error(route.request(world, None), 401)
    for bad in ("dk_", "dk_nothing", "dk_deadbeef_not-a-real-key", world.wrong_secret,
                world.revoked):
        assert_error(route.request(world, bad), 401)
    assert_error(route.request(world, "sk-not-a-doppel-key"), 401)
    error = assert_error(route.request(world, world.bob_chat), 403)
    assert error["code"] == "insufficient_scope"
    error = assert_error(route.request(world, world.bob_limited), 403)
    assert error["code"] == "insufficient_scope"

    assert world.bob_state() == before
    assert {a.slug for a in world.app.agents.list()} == agents_before


def test_account_lists_show_only_the_callers_own(world: World) -> None:
    c = world.client
    alice = c.get("/api/agents", headers=bearer(world.alice))
    assert alice.status_code == 200
    assert [a["slug"] for a in alice.json()["data"]] == ["bakery"]
    bob = c.get("/api/agents", headers=bearer(world.bob))
    assert sorted(a["slug"] for a in bob.json()["data"]) == ["bikes", "bikes-two"]

    alice_keys = {k["id"] for k in c.get("/api/keys", headers=bearer(world.alice)).json()["data"]}
    bob_keys = {k["id"] for k in c.get("/api/keys", headers=bearer(world.bob)).json()["data"]}
    assert alice_keys and bob_keys and not alice_keys & bob_keys
    assert {world.bob_admin_key_id, world.bob_chat_key_id} <= bob_keys

    for key, name in ((world.alice, "alice"), (world.bob, "bob")):
        r = c.get("/api/me", headers=bearer(key))
        assert r.status_code == 200 and r.json()["name"] == name
        assert set(r.json()["key"]) & {"key", "hash"} == set()  # the secret is never shown


def test_cannot_claim_another_owners_agent(world: World) -> None:
    c, alice = world.client, bearer(world.alice)
    before = world.bob_state()
    alice_keys = c.get("/api/keys", headers=alice).json()

    # an agent under bob's slug: 422 (it exists), and it stays bob's
    assert_error(c.post("/api/agents", headers=alice,
                        json={"slug": "bikes", "name": "Taken", "public": True}), 422)
    assert [a["slug"] for a in c.get("/api/agents", headers=alice).json()["data"]] == ["bakery"]
    # a chat key for bob's agent: 403; for an agent that does not exist: 404
    assert_error(c.post("/api/keys", headers=alice,
                        json={"scopes": ["chat"], "agents": ["bikes"]}), 403)
    assert_error(c.post("/api/keys", headers=alice,
                        json={"scopes": ["chat"], "agents": [UNKNOWN]}), 404)
    assert c.get("/api/keys", headers=alice).json() == alice_keys
    assert world.bob_state() == before


def test_keys_are_private_to_their_owner(world: World) -> None:
    c = world.client
    before = world.bob_state()

    # alice cannot revoke bob's keys: 404, as for a key that does not exist
    for key_id in (world.bob_admin_key_id, world.bob_chat_key_id):
        assert_error(c.delete(f"/api/keys/{key_id}", headers=bearer(world.alice)), 404)
    assert_error(c.delete("/api/keys/987654", headers=bearer(world.alice)), 404)

    # bob's keys still work
    me = c.get("/api/me", headers=bearer(world.bob))
    assert me.status_code == 200 and me.json()["name"] == "bob"
    r = c.post("/v1/chat/completions", headers=bearer(world.bob_chat),
               json=chat_body("bikes", "Do you do a tune-up?"))
    assert r.status_code == 200, r.text
    assert {k["id"]: k["revoked"] for k in c.get(
        "/api/keys", headers=bearer(world.bob)).json()["data"]} == {
        k["id"]: k["revoked"] for k in before["keys"]["data"]}


def test_conversations_do_not_cross_owners(world: World) -> None:
    c, alice, bob = world.client, bearer(world.alice), bearer(world.bob)
    before = world.bob_state()

    # bob's conversation, asked for under bob's agent with alice's key: 403 (not hers)
    assert_error(c.get(f"/api/agents/bikes/conversations/{world.bob_conversation_id}",
                       headers=alice), 403)
    # ... and under alice's own agent: it is not one of the bakery's: 404
    assert_error(c.get(f"/api/agents/bakery/conversations/{world.bob_conversation_id}",
                       headers=alice), 404)
    listed = c.get("/api/agents/bakery/conversations", headers=alice).json()["data"]
    assert [x["id"] for x in listed] == [world.alice_conversation_id]
    # and the other way round
    assert_error(c.get(f"/api/agents/bakery/conversations/{world.alice_conversation_id}",
                       headers=bob), 403)
    assert_error(c.get(f"/api/agents/bikes/conversations/{world.alice_conversation_id}",
                       headers=bob), 404)
    ok = c.get(f"/api/agents/bakery/conversations/{world.alice_conversation_id}",
               headers=alice)
    assert ok.status_code == 200
    assert all("sourdough" in t["user_message"] for t in ok.json()["turns"])
    assert world.bob_state() == before

    # the same thread id sent with two different keys lands in two different conversations
    for key in (world.bob, world.bob_chat):
        r = c.post("/v1/chat/completions", headers=bearer(key) | {"X-Doppel-Thread": "t-1"},
                   json=chat_body("bikes"))
        assert r.status_code == 200, r.text
    threads = [x["thread"] for x in c.get("/api/agents/bikes/conversations",
                                          headers=bob).json()["data"]]
    assert len([t for t in threads if t.endswith(":t-1")]) == 2


def test_public_pages_do_not_show_private_agents(world: World) -> None:
    c = world.client
    chunk = world.app.db.connect().execute(
        "SELECT c.id FROM chunks c JOIN agents a ON a.id = c.agent_id WHERE a.slug = 'bikes' "
        "LIMIT 1").fetchone()[0]
    assert_error(c.get("/a/bikes"), 404)
    assert_error(c.get(f"/a/bikes/passages/{chunk}"), 404)
    assert_error(c.get(f"/a/bakery/passages/{chunk}"), 404)  # bob's passage, alice's page
    assert c.get("/a/bakery").status_code == 200
    assert "bikes" not in c.get("/").json()["agents"]


# --- the chat API --------------------------------------------------------------------------------

def chat_request(w: World, route: str, key: str | None, slug: str) -> httpx.Response:
    headers = bearer(key) if key is not None else {}
    if route == "POST /v1/chat/completions":
        return w.client.post("/v1/chat/completions", headers=headers, json=chat_body(slug))
    return w.client.get(f"/v1/models/{slug}", headers=headers)


def turn_count(app: Doppel) -> int:
    return int(app.db.connect().execute("SELECT COUNT(*) FROM turns").fetchone()[0])


@pytest.mark.parametrize("route", ["POST /v1/chat/completions", "GET /v1/models/{id}"])
def test_chat_route_access(world: World, route: str) -> None:
    before = world.bob_state()
    turns = turn_count(world.app)

    # refused: nothing is answered, nothing recorded
    assert_error(chat_request(world, route, None, "bikes"), 401)        # private, no key
    assert_error(chat_request(world, route, "sk-anything", "bikes"), 401)  # non-doppel = none
    error = assert_error(chat_request(world, route, world.alice, "bikes"), 403)  # not hers
    assert error["code"] == "not_yours"
    error = assert_error(chat_request(world, route, world.bob_limited, "bikes"), 403)
    assert error["code"] == "insufficient_scope"
    for bad in ("dk_", "dk_deadbeef_not-a-real-key", world.wrong_secret, world.revoked):
        assert_error(chat_request(world, route, bad, "bikes"), 401)
        # a bad key is a 401 even on a public agent, never a silent fall-back to anonymous
        assert_error(chat_request(world, route, bad, "bakery"), 401)
    assert_error(chat_request(world, route, world.alice, UNKNOWN), 404)
    assert_error(chat_request(world, route, None, UNKNOWN), 404)
    assert turn_count(world.app) == turns
    assert world.bob_state() == before

    # allowed
    expected = 1 if route.startswith("POST") else 0
    for key, slug in ((None, "bakery"), ("sk-anything", "bakery"), (world.alice, "bakery"),
                      (world.bob, "bakery"),  # public: any caller may chat
                      (world.bob, "bikes"), (world.bob_chat, "bikes"),
                      (world.bob_limited, "bikes-two")):
        r = chat_request(world, route, key, slug)
        assert r.status_code == 200, (key, slug, r.text)
        assert r.json().get("model", r.json().get("id")) == slug
        turns += expected
        assert turn_count(world.app) == turns


def test_models_list_shows_only_what_the_caller_may_use(world: World) -> None:
    def listed(key: str | None) -> list[str]:
        r = world.client.get("/v1/models", headers=bearer(key) if key else {})
        assert r.status_code == 200, r.text
        assert r.json()["object"] == "list"
        return sorted(m["id"] for m in r.json()["data"])

    assert listed(None) == ["bakery"]
    assert listed("sk-anything") == ["bakery"]
    assert listed(world.alice) == ["bakery"]
    assert listed(world.bob) == ["bikes", "bikes-two"]
    assert listed(world.bob_chat) == ["bikes", "bikes-two"]
    assert listed(world.bob_limited) == ["bikes-two"]
    for bad in ("dk_", "dk_deadbeef_not-a-real-key", world.wrong_secret, world.revoked):
        assert_error(world.client.get("/v1/models", headers=bearer(bad)), 401)


def test_listings_page_through_the_public_agents_without_reading_the_others(
        world: World) -> None:
    """GET /v1/models and GET / read a page through the `public` column (a million agents
    made every anonymous listing read every spec); the column follows the spec."""
    c, bob = world.client, bearer(world.bob)
    made = [f"pub-{i}" for i in range(5)]
    try:
        for slug in made:
            r = c.post("/api/agents", headers=bob, json={"slug": slug, "name": slug,
                                                         "public": True})
            assert r.status_code == 201, r.text

        def pages(key: str | None, limit: int) -> list[list[str]]:
            out, after = [], ""
            while True:
                r = c.get("/v1/models", params={"limit": limit, "after": after},
                          headers=bearer(key) if key else {})
                assert r.status_code == 200, r.text
                body = r.json()
                out.append([m["id"] for m in body["data"]])
                if not body["has_more"]:
                    return out
                assert body["last_id"] == out[-1][-1]
                after = body["last_id"]

        assert pages(None, 2) == [["bakery", "pub-0"], ["pub-1", "pub-2"], ["pub-3", "pub-4"]]
        assert sum(pages(world.bob, 3), []) == ["bikes", "bikes-two", *made]
        assert sum(pages(world.bob_limited, 1), []) == ["bikes-two"]  # the rest skipped
        assert set(c.get("/").json()["agents"]) == {"bakery", *made}

        spec = world.app.agents.get("pub-2").spec.model_copy(update={"public": False})
        world.app.agents.update(spec)
        assert "pub-2" not in sum(pages(None, 100), [])
        assert "pub-2" not in c.get("/").json()["agents"]
        assert_error(c.post("/v1/chat/completions", json=chat_body("pub-2")), 401)
        for bad in ({"limit": 0}, {"limit": 1001}, {"after": "x" * 201}):
            assert_error(c.get("/v1/models", params=bad), 422)
    finally:
        for slug in made:
            c.delete(f"/api/agents/{slug}", headers=bob)
