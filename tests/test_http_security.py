"""Response headers and the Host check over real HTTP (uvicorn on 127.0.0.1): a
Content-Security-Policy that fits what the pages load, nosniff, and DNS rebinding."""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from doppel.service import Doppel
from doppel.testing import FakeChatBackend
from tests._serving import serve
from tests.test_console import sign_in

TEMPLATES = Path(__file__).resolve().parent.parent / "doppel" / "web" / "templates"


def _policy(response: httpx.Response) -> dict[str, list[str]]:
    header = response.headers.get("content-security-policy")
    assert header, f"{response.request.url.path}: no Content-Security-Policy"
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        if part.strip():
            name, *values = part.split()
            assert name.lower() not in directives, f"{name} given twice: {header}"
            directives[name.lower()] = values
    return directives


class _Inline(HTMLParser):
    """What a page would run or style inline, and what it loads from where."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []  # inline <script> bodies
        self.handlers: list[str] = []  # on...= attributes
        self.styles: list[str] = []  # style= attributes and <style> bodies
        self.loads: list[str] = []  # src / stylesheet href values
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for name, value in attrs:
            if name.startswith("on") and value:
                self.handlers.append(value)
            if name == "style" and value:
                self.styles.append(value)
        if tag in ("script", "img", "iframe") and a.get("src"):
            self.loads.append(a["src"] or "")
        if tag == "link" and a.get("rel") == "stylesheet":
            self.loads.append(a.get("href") or "")
        if a.get("href", "").startswith("javascript:"):
            self.scripts.append(a["href"] or "")
        self._in = tag if tag in ("script", "style") and not a.get("src") else None

    def handle_data(self, data: str) -> None:
        if self._in == "script" and data.strip():
            self.scripts.append(data)
        elif self._in == "style" and data.strip():
            self.styles.append(data)

    def handle_endtag(self, tag: str) -> None:
        self._in = None


def _sha(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def _assert_page_fits_its_policy(response: httpx.Response) -> None:
    """Everything the page runs or styles inline is allowed by hash (never 'unsafe-inline'),
    and it loads nothing from another origin."""
    policy = _policy(response)
    page = _Inline()
    page.feed(response.text)
    path = response.request.url.path
    scripts = policy.get("script-src", policy.get("default-src", []))
    styles = policy.get("style-src", policy.get("default-src", []))
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts, policy
    assert not page.scripts, f"{path}: inline script {page.scripts}"
    for handler in page.handlers:
        assert "'unsafe-hashes'" in scripts and _sha(handler) in scripts, (path, handler)
    for style in page.styles:
        assert "'unsafe-hashes'" in styles and _sha(style) in styles, (path, style)
    for url in page.loads:
        assert url.startswith("/") and not url.startswith("//"), (path, url)
    assert "'none'" in policy.get("object-src", []) and "base-uri" in policy


def test_every_response_has_a_policy_and_nosniff(server: str, server_app: Doppel) -> None:
    key = server_app.keys["alice"]  # type: ignore[attr-defined]
    with httpx.Client(base_url=server, timeout=30, trust_env=False) as http:
        responses = [
            http.get("/healthz"), http.get("/readyz"), http.get("/metrics"), http.get("/"),
            http.get("/v1/models"), http.get("/v1/models", headers={"Authorization": "Bearer x"}),
            http.get("/v1/models", headers={"Authorization": f"Bearer {key}"}),
            http.get("/api/agents"), http.get("/no/such/page"), http.get("/a/bakery"),
            http.get("/a/nobody"), http.get("/widget.js"), http.get("/static/chat.css"),
            http.get("/static/chat.js"), http.get("/console/login"), http.get("/console/agents"),
            http.post("/v1/chat/completions", content=b"{", headers={
                "content-type": "application/json"}),
            http.post("/v1/chat/completions", json={
                "model": "bakery", "messages": [{"role": "user", "content": "hello"}]}),
            http.post("/v1/chat/completions", json={
                "model": "bakery", "stream": True,
                "messages": [{"role": "user", "content": "hello"}]}),
        ]
    for r in responses:
        path = f"{r.request.method} {r.request.url.path} -> {r.status_code}"
        assert r.headers.get("x-content-type-options") == "nosniff", path
        policy = _policy(r)
        if not r.headers.get("content-type", "").startswith("text/html"):
            # nothing but a page may run anything, and no response is framed but the chat's
            assert policy.get("default-src") == ["'none'"], (path, policy)
    json_policy = _policy(responses[0])
    assert json_policy["frame-ancestors"] == ["'none'"]


def test_the_chat_page_fits_its_policy_and_stays_embeddable(server: str) -> None:
    page = httpx.get(f"{server}/a/bakery?embed=1", trust_env=False)
    assert page.status_code == 200
    _assert_page_fits_its_policy(page)
    policy = _policy(page)
    # widget.js frames /a/{slug}?embed=1 on any site, so any ancestor may frame the chat
    assert "frame-ancestors" not in policy or "*" in policy["frame-ancestors"], policy
    assert "'self'" in policy["connect-src"]  # the page streams from /v1/chat/completions
    assert "x-frame-options" not in page.headers


def test_console_pages_fit_their_policy_and_stay_unframeable(server: str, server_app: Doppel,
                                                             fake_backend: FakeChatBackend
                                                             ) -> None:
    fake_backend.script = ["The Almond Croissant is $5.25."]
    httpx.post(f"{server}/v1/chat/completions", trust_env=False, json={
        "model": "bakery", "messages": [{"role": "user", "content": "almond croissant price?"}]})
    with httpx.Client(base_url=server, timeout=30, trust_env=False) as anonymous:
        pages = [anonymous.get("/console/login")]
    client = sign_in(server, server_app.keys["alice"])  # type: ignore[attr-defined]
    try:
        for path in ("/console/agents", "/console/new", "/console/agents/bakery",
                     "/console/agents/bakery/import", "/console/agents/bakery/review",
                     "/console/agents/bakery/inbox", "/console/agents/bakery/conversations",
                     "/console/agents/bakery/analytics", "/console/agents/bakery/safety",
                     "/console/agents/bakery/settings"):
            pages.append(client.get(path))
    finally:
        client.close()
    for page in pages:
        assert page.status_code == 200, (page.request.url.path, page.status_code)
        _assert_page_fits_its_policy(page)
        policy = _policy(page)
        assert policy["frame-ancestors"] == ["'none'"], page.request.url.path
        assert policy["form-action"] == ["'self'"]
        assert page.headers["x-frame-options"] == "DENY"
    analytics = pages[-3].text
    assert "<svg" in analytics  # the chart with its style attribute was checked above


@pytest.mark.parametrize(("referer", "back"), [
    ("/console/agents/bakery/import", "/console/agents/bakery/import"),
    ("https://evil.example/phish", "/console/agents"), ("", "/console/agents")])
def test_the_upload_too_large_page_goes_back_without_javascript(server: str, referer: str,
                                                                back: str) -> None:
    import socket

    host, port = server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall((f"POST /console/agents/bakery/files HTTP/1.1\r\nHost: {host}:{port}\r\n"
                      + (f"Referer: http://{host}:{port}{referer}\r\n" if referer.startswith("/")
                         else f"Referer: {referer}\r\n" if referer else "")
                      + f"Content-Type: multipart/form-data; boundary=x\r\n"
                      f"Content-Length: {2 * 1024 ** 3}\r\n\r\n").encode())
        reply = b""
        while b"</main>" not in reply:
            chunk = sock.recv(65536)
            if not chunk:
                break
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    assert b"nosniff" in head.lower() and b"content-security-policy" in head.lower()
    assert b"javascript:" not in body and f'href="{back}"'.encode() in body


def test_every_inline_handler_in_the_templates_is_allowed() -> None:
    """A new onclick= in a template fails here, not silently in an owner's browser."""
    from doppel.serve.security import PAGE_HASHES

    for template in TEMPLATES.rglob("*.html"):
        for handler in re.findall(r'\son\w+="([^"]*)"', template.read_text()):
            assert _sha(handler) in PAGE_HASHES, (template.name, handler)


# --- DNS rebinding: the Host header ---------------------------------------------------------------

def _host(base: str, host: str, path: str = "/healthz") -> httpx.Response:
    return httpx.get(base + path, headers={"Host": host}, trust_env=False, timeout=30)


def test_a_loopback_server_refuses_foreign_host_names(server_app: Doppel) -> None:
    server_app.settings.allowed_hosts = ""  # the default, whatever the test suite allows
    with serve(server_app) as base:
        port = base.rsplit(":", 1)[1]
        refused = [_host(base, h, p) for h in ("evil.example", f"evil.example:{port}",
                                               "127.0.0.1.evil.example", "localhostx")
                   for p in ("/healthz", "/v1/models", "/a/bakery", "/console/login")]
        accepted = [_host(base, h) for h in (f"127.0.0.1:{port}", f"localhost:{port}",
                                             "LOCALHOST", "localhost.", f"[::1]:{port}")]
    for r in refused:
        assert r.status_code == 400, (r.request.headers["host"], r.request.url.path)
        assert r.headers["content-type"].startswith("text/plain") and len(r.text) < 100
        assert r.headers["x-content-type-options"] == "nosniff"
    assert [r.status_code for r in accepted] == [200] * 5


def test_the_public_url_and_explicit_hosts_are_answered(server_app: Doppel) -> None:
    server_app.settings.allowed_hosts = ""
    server_app.settings.public_url = "https://Chat.Bakery.example/"
    with serve(server_app) as base:
        public = _host(base, "chat.bakery.example")
        local = _host(base, "localhost")
        other = _host(base, "bakery.example")
    assert (public.status_code, local.status_code, other.status_code) == (200, 200, 400)

    server_app.settings.allowed_hosts = "chat.bakery.example, intranet"
    with serve(server_app) as base:
        statuses = [_host(base, h).status_code
                    for h in ("intranet:8080", "chat.bakery.example", "localhost")]
    assert statuses == [200, 200, 400]  # the list is the whole list


def test_a_server_on_all_interfaces_answers_any_host(server_app: Doppel) -> None:
    server_app.settings.allowed_hosts = ""
    server_app.settings.host = "0.0.0.0"  # what `doppel serve --host 0.0.0.0` passes on
    with serve(server_app) as base:
        assert _host(base, "shop.example").status_code == 200


def test_doppel_serve_passes_the_bound_address_on(monkeypatch: pytest.MonkeyPatch,
                                                 server_app: Doppel) -> None:
    import uvicorn
    from click.testing import CliRunner

    from doppel.cli import main

    seen: dict[str, object] = {}

    def fake_run(app: object, **kwargs: object) -> None:
        seen.update(kwargs, app=app)

    monkeypatch.setattr(uvicorn, "run", fake_run)
    result = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0", "--port", "9123"],
                                obj={"app": server_app})
    assert result.exit_code == 0, result.output
    settings = seen["app"].state.doppel.settings  # type: ignore[attr-defined]
    assert (settings.host, settings.port) == ("0.0.0.0", 9123)
    assert (seen["host"], seen["port"]) == ("0.0.0.0", 9123)
    # the app, not uvicorn, decides whose X-Forwarded-For to believe (DOPPEL_TRUSTED_PROXIES)
    assert seen["proxy_headers"] is False
