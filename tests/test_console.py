"""The owner console over real HTTP (uvicorn on 127.0.0.1): sign-in, CSRF, ownership, the
wizard from upload to a published agent, imports' per-item reports and bad input.

The same flows run in a real browser in tests/test_browser_console.py."""

from __future__ import annotations

import io
import re
import socket
import time
import zipfile

import httpx
import pytest

from doppel.service import Doppel
from doppel.testing import FakeChatBackend

# On SQLite and on a real PostgreSQL + pgvector (conftest.py's `both_stores`).
pytestmark = pytest.mark.both_stores


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "page has no CSRF field"
    return m.group(1)


def sign_in(base: str, key: str) -> httpx.Client:
    client = httpx.Client(base_url=base, follow_redirects=True, timeout=30)
    page = client.get("/console/login")
    r = client.post("/console/login", data={"csrf": _csrf(page.text), "key": key,
                                            "next": "/console/agents"})
    assert r.status_code == 200 and "Your agents" in r.text
    return client


def wait_job(client: httpx.Client, url: str) -> str:
    for _ in range(200):
        page = client.get(url).text
        if 'data-state="done"' in page or 'data-state="failed"' in page:
            return page
        time.sleep(0.05)
    raise AssertionError("import did not finish")


def test_pages_need_a_session_and_a_valid_key(server: str, server_app: Doppel) -> None:
    with httpx.Client(base_url=server, timeout=30) as client:
        r = client.get("/console/agents")
        assert r.status_code == 303 and r.headers["location"].startswith("/console/login")
        page = client.get("/console/login")
        assert "doppel_login" in page.headers["set-cookie"]
        r = client.post("/console/login", data={"csrf": _csrf(page.text), "key": "dk_nope_x"})
        assert r.status_code == 401 and "unknown, revoked" in r.text
        # a chat-only key cannot open the console
        owner = server_app.owners.find("alice")
        assert owner is not None
        _, chat_key = server_app.owners.create_key(owner.id, ["chat"])
        page = client.get("/console/login")
        r = client.post("/console/login", data={"csrf": _csrf(page.text), "key": chat_key})
        assert r.status_code == 401


def test_session_cookie_is_httponly_and_revoking_the_key_ends_it(server: str,
                                                                  server_app: Doppel) -> None:
    client = httpx.Client(base_url=server, timeout=30)
    page = client.get("/console/login")
    r = client.post("/console/login", data={"csrf": _csrf(page.text),
                                            "key": server_app.keys["alice"]})  # type: ignore
    assert r.status_code == 303
    cookie = r.headers["set-cookie"]
    assert "doppel_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    token = client.cookies["doppel_session"]
    stored = [r[0] for r in server_app.db.connect().execute(
        "SELECT token_hash FROM console_sessions").fetchall()]
    assert stored and not any(token in h for h in stored)
    assert client.get("/console/agents").status_code == 200
    owner = server_app.owners.find("alice")
    assert owner is not None
    for key in server_app.owners.list_keys(owner.id):
        server_app.owners.revoke_key(owner.id, key.id)
    assert client.get("/console/agents").status_code == 303


def test_forms_without_the_csrf_token_or_from_another_site_are_refused(
        server: str, server_app: Doppel) -> None:
    client = sign_in(server, server_app.keys["alice"])  # type: ignore[attr-defined]
    settings = client.get("/console/agents/bakery/settings")
    token = _csrf(settings.text)
    form = {"name": "Hacked", "public": "1"}
    assert client.post("/console/agents/bakery/settings", data=form).status_code == 403
    assert client.post("/console/agents/bakery/settings",
                       data=form | {"csrf": "forged"}).status_code == 403
    r = client.post("/console/agents/bakery/settings", data=form | {"csrf": token},
                    headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and "another site" in r.text
    assert server_app.agents.get("bakery").spec.name == "Bakery"  # nothing changed
    # the genuine form works, and the login form has its own double-submit token
    r = client.post("/console/agents/bakery/settings",
                    data=form | {"csrf": token, "contact_email": "hello@bakery.example"})
    assert r.status_code == 200 and "Saved." in r.text
    assert server_app.agents.get("bakery").spec.name == "Hacked"
    with httpx.Client(base_url=server, timeout=30) as other:
        r = other.post("/console/login", data={"csrf": "x", "key": server_app.keys["alice"]})
        assert r.status_code == 403


def test_owners_see_only_their_own_agents(server: str, server_app: Doppel) -> None:
    client = sign_in(server, server_app.keys["alice"])  # type: ignore[attr-defined]
    assert "Bakery" in client.get("/console/agents").text
    assert "Bikes" not in client.get("/console/agents").text
    for path in ("", "/settings", "/import", "/review", "/inbox", "/conversations",
                 "/analytics", "/safety"):
        assert client.get(f"/console/agents/bikes{path}").status_code == 404, path
    token = _csrf(client.get("/console/agents").text)
    r = client.post("/console/agents/bikes/publish", data={"csrf": token, "public": "1"})
    assert r.status_code == 404
    assert not server_app.agents.get("bikes").spec.public


def test_wizard_from_upload_to_a_published_agent(server: str, server_app: Doppel,
                                                 fake_backend: FakeChatBackend) -> None:
    client = sign_in(server, server_app.keys["bob"])  # type: ignore[attr-defined]
    new = client.get("/console/new")
    r = client.post("/console/new", data={"csrf": _csrf(new.text), "name": "Rosa's Pottery",
                                          "kind": "business", "email": "rosa@pottery.example"})
    assert r.url.path == "/console/agents/rosa-s-pottery/import"
    token = _csrf(r.text)
    faq = (b"# Rosa's Pottery\n\n## Classes\n\nWheel classes run on Saturdays from 10am to "
           b"1pm and cost $45 per person.\n\n## Contact\n\nCall 555-0142 to book.\n")
    r = client.post("/console/agents/rosa-s-pottery/files", data={"csrf": token, "wizard": "1"},
                    files=[("files", ("classes.md", faq, "text/markdown")),
                           ("files", ("setup.exe", b"MZ\x90\x00binary", "application/x-msdos"))])
    page = wait_job(client, str(r.url))
    assert "Import finished: 1 imported, 0 unchanged, 1 skipped" in page
    assert "unsupported file type" in page or "binary file" in page
    review = client.get("/console/agents/rosa-s-pottery/review?wizard=1").text
    assert "$45" in review and "555-0142" in review  # facts found
    fake_backend.script = ["Wheel classes cost $45 per person."]
    r = client.post("/console/agents/rosa-s-pottery/try",
                    data={"csrf": token, "q": "How much do wheel classes cost?"})
    assert "Wheel classes cost $45 per person." in r.text and "classes.md" in r.text
    assert not server_app.agents.get("rosa-s-pottery").spec.public
    r = client.post("/console/agents/rosa-s-pottery/publish", data={"csrf": token, "public": "1"})
    assert "Published!" in r.text and "widget.js" in r.text
    # anyone may now chat with it through the OpenAI-compatible API
    fake_backend.script = ["Wheel classes cost $45 per person."]
    answer = httpx.post(f"{server}/v1/chat/completions", timeout=30, json={
        "model": "rosa-s-pottery", "messages": [{"role": "user",
                                                 "content": "What do wheel classes cost?"}]})
    assert answer.status_code == 200
    assert "$45" in answer.json()["choices"][0]["message"]["content"]


def test_bad_uploads_get_clear_messages_and_import_nothing(server: str,
                                                           server_app: Doppel) -> None:
    client = sign_in(server, server_app.keys["alice"])  # type: ignore[attr-defined]
    token = _csrf(client.get("/console/agents/bakery/import").text)
    before = server_app.agents.stats(server_app.agents.get("bakery"))

    def upload(name: str, data: bytes) -> str:
        r = client.post("/console/agents/bakery/files", data={"csrf": token},
                        files=[("files", (name, data, "application/octet-stream"))])
        return wait_job(client, str(r.url))

    page = upload("export.zip", b"PK\x03\x04 this is not really a zip")
    assert "skipped" in page and "zip" in page.lower()
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("posts.txt", b"a" * 60_000_000)
    page = upload("bomb.zip", bomb.getvalue())
    assert "skipped" in page
    assert server_app.agents.stats(server_app.agents.get("bakery")) == before

    # no file chosen: the page says so
    r = client.post("/console/agents/bakery/files", data={"csrf": token})
    assert r.status_code == 400 and "Choose at least one file" in r.text
    # a 2 GB upload is refused from its headers, before a byte of it is read, with a page
    # that explains (a raw socket: no HTTP client lets us promise 2 GB and send none)
    host, port = server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall((f"POST /console/agents/bakery/files HTTP/1.1\r\nHost: {host}:{port}\r\n"
                      f"Cookie: doppel_session={client.cookies['doppel_session']}\r\n"
                      f"Content-Type: multipart/form-data; boundary=x\r\n"
                      f"Content-Length: {2 * 1024 ** 3}\r\n\r\n").encode())
        reply = b""
        while b"</html>" not in reply and b"</main>" not in reply:
            chunk = sock.recv(65536)
            if not chunk:
                break
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413") and b"text/html" in head
    assert b"upload is too large" in body and b"50 MB" in body


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/consolex",
                                    "/console/../api/keys"])
def test_sign_in_never_redirects_off_the_console(server: str, server_app: Doppel,
                                                 target: str) -> None:
    with httpx.Client(base_url=server, timeout=30) as client:
        page = client.get("/console/login", params={"next": target})
        r = client.post("/console/login", data={"csrf": _csrf(page.text), "next": target,
                                                "key": server_app.keys["alice"]})  # type: ignore
        assert r.headers["location"] == "/console/agents"


def test_api_and_console_import_a_website_in_the_background(server: str,
                                                             server_app: Doppel) -> None:
    from doppel.testing import FakeWebsite

    site = {"/": "<html><title>Rye</title><body><nav>Home | Menu</nav><main><h1>Rye</h1>"
                 "<p>Fresh rye bread every morning.</p><a href='/menu.html'>Menu</a></main>"
                 "</body></html>",
            "/menu.html": "<html><body><main><h2>Menu</h2><p>A rye loaf costs $7.50.</p>"
                          "<a href='/secret/'>x</a></main></body></html>",
            "/robots.txt": b"User-agent: *\nDisallow: /secret/\n"}
    admin = {"Authorization": f"Bearer {server_app.keys['alice']}"}  # type: ignore
    with FakeWebsite(site) as web:
        # refused while the address is loopback and not allow-listed
        r = httpx.post(f"{server}/api/agents/bakery/imports", headers=admin, timeout=30,
                       json={"url": web.url("/")})
        assert r.status_code == 202
        job = r.json()
        for _ in range(100):
            job = httpx.get(f"{server}/api/agents/bakery/imports/{job['id']}", headers=admin,
                            timeout=30).json()
            if job["finished"]:
                break
            time.sleep(0.05)
        assert job["state"] == "failed" and "127.0.0.1" in job["error"]
        assert web.requests == []

        server_app.settings.fetch_allow = f"127.0.0.1:{web.port}"
        server_app.settings.crawl_delay_s = 0
        client = sign_in(server, server_app.keys["alice"])  # type: ignore[attr-defined]
        token = _csrf(client.get("/console/agents/bakery/import").text)
        r = client.post("/console/agents/bakery/import-url", data={"csrf": token,
                                                                   "url": web.url("/")})
        page = wait_job(client, str(r.url))
        assert "Import finished: 2 imported" in page
        assert "robots.txt" in page  # the disallowed link is reported, not fetched
        assert "/secret/" not in web.requests
    facts = httpx.get(f"{server}/api/agents/bakery/facts", headers=admin, timeout=30).json()
    assert any(f["value"] == "$7.50" for f in facts["prices"])
    # bikes belongs to bob: alice can neither import into it nor read its jobs
    r = httpx.post(f"{server}/api/agents/bikes/imports", headers=admin, timeout=30,
                   json={"url": "https://example.com"})
    assert r.status_code == 403


def test_forged_tokens_links_and_addresses_get_clear_answers(server: str,
                                                             server_app: Doppel) -> None:
    client = sign_in(server, server_app.keys["alice"])  # type: ignore[attr-defined]
    # a non-ASCII token is a 403 like any forged one, not a 500
    r = client.post("/console/agents/bakery/publish", data={"csrf": "é", "public": "0"})
    assert r.status_code == 403
    page = client.get("/console/login")
    r = client.post("/console/login", data={"csrf": "é", "key": "x"})
    assert r.status_code == 403
    # the contact link shown on the public page must be a web address
    token = _csrf(client.get("/console/agents/bakery/settings").text)
    r = client.post("/console/agents/bakery/settings", data={
        "csrf": token, "name": "Bakery", "contact_url": "javascript:alert(document.domain)"})
    assert r.status_code == 422 and "web address" in r.text
    assert server_app.agents.get("bakery").spec.contact.url == ""
    r = client.post("/console/agents/bakery/settings", data={
        "csrf": token, "name": "Bakery", "contact_url": "bakery.example/contact"})
    assert server_app.agents.get("bakery").spec.contact.url == "https://bakery.example/contact"
    # a mistyped console address is a page; console pages are never cached or framed
    r = client.get("/console/agents/bakery/conversations", params={"page": "abc"})
    assert r.status_code == 422 and "text/html" in r.headers["content-type"]
    r = client.get("/console/agents/bakery/settings")
    assert r.headers["cache-control"] == "no-store" and r.headers["x-frame-options"] == "DENY"
    del page


def test_a_restart_fails_only_the_imports_of_dead_processes(app: Doppel) -> None:
    from doppel.agents.spec import AgentSpec

    agent = app.agents.create(AgentSpec(slug="jobs", name="Jobs"))
    dead, alive = (app.imports._create(agent, "files", name, 1) for name in ("a", "b"))
    with app.db.transaction() as tx:
        tx.execute("UPDATE import_jobs SET state = 'running', worker = ? WHERE id = ?",
                   (f"{socket.gethostname()}:999999999", dead.id))
        tx.execute("UPDATE import_jobs SET state = 'running', worker = ? WHERE id = ?",
                   (f"{socket.gethostname()}:1", alive.id))  # init: always alive
    assert app.imports.recover() == 1
    assert app.imports.get(dead.id).state == "failed"
    assert "restart" in app.imports.get(dead.id).error
    assert app.imports.get(alive.id).state == "running"


def test_api_refuses_sample_replies_that_state_unknown_facts(server: str,
                                                            server_app: Doppel) -> None:
    admin = {"Authorization": f"Bearer {server_app.keys['alice']}"}  # type: ignore
    spec = httpx.get(f"{server}/api/agents/bakery", headers=admin, timeout=30).json()["spec"]
    spec["voice"] = {"examples": [{"question": "What is a croissant?",
                                   "reply": "An Almond Croissant is $4.00 today!"}]}
    r = httpx.put(f"{server}/api/agents/bakery", headers=admin, json=spec, timeout=30)
    assert r.status_code == 422 and "$4.00" in r.json()["error"]["message"]
    spec["voice"]["examples"][0]["reply"] = "An Almond Croissant is $5.25."
    r = httpx.put(f"{server}/api/agents/bakery", headers=admin, json=spec, timeout=30)
    assert r.status_code == 200


def test_safety_and_conversation_pages_show_what_happened(server: str,
                                                          server_app: Doppel) -> None:
    agent = server_app.agents.get("bakery")
    conversation = server_app.conversations.get_or_create(agent.id, "visitor-7")
    server_app.conversations.record(
        conversation_id=conversation, agent_id=agent.id, user_message="how do I hurt someone",
        answer="Sorry, I can't help with that.", path="refused", draft=None, grounding={},
        passages=[], prompt_tokens=0, completion_tokens=0, timings={}, model="",
        shields={"input": {"action": "block", "categories": ["S1"], "verdicts": [
            {"shield": "hazard", "action": "block", "categories": ["S1"], "reason": "violent",
             "scores": {"S1": 0.97}, "latency_ms": 1.2}]}})
    client = sign_in(server, server_app.keys["alice"])  # type: ignore[attr-defined]
    page = client.get("/console/agents/bakery/safety").text
    assert "how do I hurt someone" in page and "hazard blocked" in page
    assert "S1 Violent Crimes" in page
    assert "how do I hurt" not in client.get("/console/agents/bakery/safety",
                                             params={"category": "S7"}).text
    listing = client.get("/console/agents/bakery/conversations", params={"q": "hurt"}).text
    assert f"/conversations/{conversation}" in listing
    turn = client.get(f"/console/agents/bakery/conversations/{conversation}").text
    assert "Sorry, I can&#39;t help with that." in turn and "Refused" in turn


def test_an_agent_cannot_pile_up_imports(app: Doppel) -> None:
    from doppel.agents.spec import AgentSpec
    from doppel.errors import ValidationError

    agent = app.agents.create(AgentSpec(slug="busy", name="Busy"))
    jobs = [app.imports._create(agent, "files", f"f{i}", 1) for i in range(3)]
    with pytest.raises(ValidationError, match="still waiting or running"):
        app.imports._create(agent, "files", "one too many", 1)
    with app.db.transaction() as tx:
        tx.execute("UPDATE import_jobs SET state = 'done' WHERE id = ?", (jobs[0].id,))
    app.imports._create(agent, "files", "now there is room", 1)
