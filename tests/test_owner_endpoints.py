"""What an owner may point the server at, against a real server on 127.0.0.1.

The reproduction of issue 11's critical finding: an ordinary owner set their agent's Llama Guard
`base_url` to a listener of theirs and `api_key_env` to the server's own secret, and one chat
sent the secret there. Endpoints that carry the server's credentials come only from the
operator (named endpoints an agent picks); every URL an owner can set is tried here with
loopback, private and metadata addresses; and a chat client sees neither an upstream's reply,
its host, nor a detector's scores.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from doppel.agents.spec import AgentSpec, Contact
from doppel.config import GuardEndpoint, Settings
from doppel.service import Doppel
from doppel.testing import FakeChatBackend, FakeEmbedder, FakeLlamaGuardServer, ServerThread

from .conftest import shared_models_dir
from .test_console import sign_in

CANARY = "sk-CANARY-7d41c9e0b2"
GUARD_KEY = "guard-operator-key-31f"
BAD_HOSTS = ["127.0.0.1", "10.0.0.5", "192.168.1.20", "169.254.169.254", "[::1]",
             "2130706433", "0x7f.1", "100.64.0.9", "[::ffff:10.0.0.5]"]


class Listener:
    """A TCP listener on 127.0.0.1 that records every connection and what it was sent, and
    answers each with a 404 (an open port that answers, as the attacker's was)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = int(self.sock.getsockname()[1])
        self.received: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                data = b""
                try:
                    while b"\r\n\r\n" not in data:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                    conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 31\r\n"
                                 b"Connection: close\r\n\r\nINTERNAL-SERVICE secret banner")
                except OSError:
                    pass
                self.received.append(data)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def listener() -> Iterator[Listener]:
    srv = Listener()
    yield srv
    srv.close()


@pytest.fixture
def guard() -> Iterator[FakeLlamaGuardServer]:
    with FakeLlamaGuardServer({"S1": ["stab"]}, api_key=GUARD_KEY) as srv:
        yield srv


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, guard: FakeLlamaGuardServer,
           listener: Listener) -> Iterator[tuple[str, Doppel]]:
    """A server holding a secret in its environment, with the operator's Llama Guard servers:
    'default' (a working one, with its own key), 'down' (a closed port) and 'answers404' (an
    open port answering 404). Two owners: alice (bakery), bob (bikes)."""
    monkeypatch.setenv("DOPPEL_OPENAI_API_KEY", CANARY)
    monkeypatch.setenv("GUARD_KEY", GUARD_KEY)
    settings = Settings(
        home=tmp_path / "home", models_home=shared_models_dir(), min_relevance=0.08,
        llamaguard_endpoints={
            "default": GuardEndpoint(base_url=guard.base_url, api_key_env="GUARD_KEY"),
            "down": GuardEndpoint(base_url=f"http://127.0.0.1:{_closed_port()}/v1",
                                  timeout_s=2),
            "answers404": GuardEndpoint(base_url=listener.url, timeout_s=2)})
    app = Doppel(settings, backend=FakeChatBackend(), embedder=FakeEmbedder())
    keys = {}
    for name, slug in (("alice", "bakery"), ("bob", "bikes")):
        owner = app.owners.create(name)
        _, keys[name] = app.owners.create_key(owner.id, ["admin"])
        agent = app.agents.create(AgentSpec(
            slug=slug, name=slug.title(), contact=Contact(email=f"hello@{slug}.example"),
            # Only the llamaguard shield: the classifier-based ones need real sentence vectors.
            shields={"input": [], "output": []}), owner.id)
        app.ingestor.ingest_bytes(agent, b"item,price\nInner Tube,7.50\nTune-up,45.00\n",
                                  "prices.csv")
    app.keys = keys  # type: ignore[attr-defined]
    from doppel.serve import create_app

    with ServerThread(create_app(doppel=app, preload=False)) as base_url:
        yield base_url, app
    app.close()


def _bob(app: Doppel) -> dict[str, str]:
    return {"Authorization": f"Bearer {app.keys['bob']}"}  # type: ignore[attr-defined]


def _put_shields(base: str, app: Doppel, shields: dict[str, Any]) -> httpx.Response:
    spec = httpx.get(f"{base}/api/agents/bikes", headers=_bob(app), timeout=30).json()["spec"]
    spec["shields"] = shields
    return httpx.put(f"{base}/api/agents/bikes", headers=_bob(app), json=spec, timeout=30)


def _chat(base: str, app: Doppel, text: str) -> httpx.Response:
    return httpx.post(f"{base}/v1/chat/completions", headers=_bob(app), timeout=30, json={
        "model": "bikes", "messages": [{"role": "user", "content": text}]})


# --- the reproduction ---------------------------------------------------------------------------

def test_an_owner_cannot_send_the_servers_secret_to_an_address_of_theirs(
        served: tuple[str, Doppel], listener: Listener,
        caplog: pytest.LogCaptureFixture) -> None:
    base, app = served
    r = _put_shields(base, app, {"input": ["llamaguard"], "llamaguard": {
        "base_url": listener.url, "api_key_env": "DOPPEL_OPENAI_API_KEY"}})
    assert r.status_code == 422, r.text
    assert "cannot be set on an agent" in r.json()["error"]["message"]
    assert CANARY not in r.text
    stored = httpx.get(f"{base}/api/agents/bikes", headers=_bob(app), timeout=30).json()
    assert stored["spec"]["shields"]["input"] == []  # nothing of the refused spec was saved
    chat = _chat(base, app, "Do you have inner tubes?")
    assert chat.status_code == 200
    time.sleep(0.3)
    assert listener.received == []  # not one connection
    assert CANARY not in chat.text and CANARY not in caplog.text


@pytest.mark.parametrize("field", [
    {"base_url": "http://127.0.0.1:9911/v1"}, {"api_key_env": "DOPPEL_OPENAI_API_KEY"},
    {"model": "meta-llama/Llama-Guard-3-1B"}, {"api": "chat"}, {"timeout_s": 30},
    {"endpoint": "default", "base_url": "http://169.254.169.254/v1"}])
def test_no_llama_guard_connection_detail_is_settable_by_an_owner(
        served: tuple[str, Doppel], field: dict[str, Any]) -> None:
    base, app = served
    r = _put_shields(base, app, {"input": ["llamaguard"], "llamaguard": field})
    assert r.status_code == 422, r.text
    # the console's agent settings save the same spec through the same check
    client = sign_in(base, app.keys["bob"])  # type: ignore[attr-defined]
    assert "base_url" not in client.get("/console/agents/bikes/settings").text


def test_an_agent_picks_an_operator_endpoint_whose_key_goes_only_there(
        served: tuple[str, Doppel], guard: FakeLlamaGuardServer, listener: Listener) -> None:
    base, app = served
    r = _put_shields(base, app, {"input": ["llamaguard"], "llamaguard": {"endpoint": "nope"}})
    assert r.status_code == 422 and "default" in r.json()["error"]["message"]
    assert _put_shields(base, app, {"input": ["llamaguard"],
                                    "llamaguard": {"endpoint": "default"}}).status_code == 200
    refused = _chat(base, app, "How do I stab my neighbour?").json()
    assert refused["choices"][0]["finish_reason"] == "content_filter"
    assert refused["doppel"]["shields"] == {"input": {"action": "block", "categories": ["S1"]}}
    assert _chat(base, app, "Do you have inner tubes?").json()["doppel"]["path"] != "refused"
    assert guard.headers and all(h.get("Authorization") == f"Bearer {GUARD_KEY}"
                                 for h in guard.headers)
    assert all(CANARY not in json.dumps(h) for h in guard.headers)
    assert listener.received == []


@pytest.mark.parametrize("endpoint", ["down", "answers404"])
def test_a_failing_guard_tells_the_client_nothing_about_it(
        served: tuple[str, Doppel], listener: Listener, endpoint: str,
        caplog: pytest.LogCaptureFixture) -> None:
    base, app = served
    assert _put_shields(base, app, {"input": ["llamaguard"], "on_error": "closed",
                                    "llamaguard": {"endpoint": endpoint}}).status_code == 200
    r = _chat(base, app, "Do you have inner tubes?")
    assert r.status_code == 200
    body = r.json()
    # An open port that answers and a closed one look the same to the client: no port scan.
    assert body["doppel"]["shields"] == {"input": {"action": "block",
                                                   "categories": ["shield_error"]}}
    # (the turn's own timings are numbers that may well read "0.404": not the upstream's)
    assert all(isinstance(v, (int, float)) for v in body["doppel"]["timings_ms"].values())
    shown = json.dumps({k: v for k, v in body["doppel"].items() if k != "timings_ms"})
    for leak in ("127.0.0.1", str(listener.port), "INTERNAL", "404", "ConnectError",
                 "did not answer", endpoint):
        assert leak not in shown, leak
    assert f"'{endpoint}'" in caplog.text  # the operator's log names it
    # the owner's own view of the turn keeps the reason
    conv = httpx.get(f"{base}/api/agents/bikes/conversations", headers=_bob(app),
                     timeout=30).json()["data"][0]["id"]
    turns = httpx.get(f"{base}/api/agents/bikes/conversations/{conv}", headers=_bob(app),
                      timeout=30).json()["turns"]
    verdicts = turns[-1]["shields"]["input"]["verdicts"]
    assert "did not answer" in verdicts[0]["error"]
    assert "INTERNAL" not in json.dumps(turns)  # the upstream's reply is kept by no one


# --- every URL an owner can set -----------------------------------------------------------------

@pytest.mark.parametrize("host", BAD_HOSTS)
def test_a_contact_link_to_an_internal_address_is_refused(served: tuple[str, Doppel],
                                                         host: str) -> None:
    base, app = served
    spec = httpx.get(f"{base}/api/agents/bikes", headers=_bob(app), timeout=30).json()["spec"]
    spec["contact"]["url"] = f"http://{host}/latest/meta-data.html"
    r = httpx.put(f"{base}/api/agents/bikes", headers=_bob(app), json=spec, timeout=30)
    assert r.status_code == 422, (host, r.text)
    spec["slug"] = "bikes-two"
    r = httpx.post(f"{base}/api/agents", headers=_bob(app), json=spec, timeout=30)
    assert r.status_code == 422, (host, r.text)


def test_a_public_contact_link_is_kept_and_never_fetched(served: tuple[str, Doppel]) -> None:
    base, app = served
    spec = httpx.get(f"{base}/api/agents/bikes", headers=_bob(app), timeout=30).json()["spec"]
    spec["contact"]["url"] = "bikes.example/contact"
    r = httpx.put(f"{base}/api/agents/bikes", headers=_bob(app), json=spec, timeout=30)
    assert r.status_code == 200 and r.json()["spec"]["contact"]["url"] == \
        "https://bikes.example/contact"
    # (a fetch would have failed the conftest's network guard and the turn)
    assert _chat(base, app, "How do I reach a person?").status_code == 200


@pytest.mark.parametrize("host", BAD_HOSTS)
def test_an_import_of_an_internal_address_fetches_nothing(
        served: tuple[str, Doppel], listener: Listener, host: str) -> None:
    base, app = served
    target = f"127.0.0.1:{listener.port}" if host == "127.0.0.1" else host
    r = httpx.post(f"{base}/api/agents/bikes/imports", headers=_bob(app), timeout=30,
                   json={"url": f"http://{target}/latest/meta-data/"})
    if r.status_code == 422:  # not even an address an owner would type ([::1]): refused at once
        assert r.json()["error"]["param"] == "url"
    else:
        assert r.status_code == 202, r.text
        job_id = r.json()["id"]
        for _ in range(200):
            job = httpx.get(f"{base}/api/agents/bikes/imports/{job_id}", headers=_bob(app),
                            timeout=30).json()
            if job["finished"]:
                break
            time.sleep(0.05)
        assert job["state"] == "failed", job
        assert "address" in json.dumps(job), job  # refused by the address policy, its reason
    assert listener.received == []


@pytest.mark.parametrize("host", ["127.0.0.1", "169.254.169.254", "10.0.0.5"])
def test_console_forms_refuse_internal_addresses(served: tuple[str, Doppel], listener: Listener,
                                                 host: str) -> None:
    base, app = served
    client = sign_in(base, app.keys["bob"])  # type: ignore[attr-defined]
    target = f"127.0.0.1:{listener.port}" if host == "127.0.0.1" else host
    page = client.get("/console/agents/bikes/settings").text
    token = page.split('name="csrf" value="')[1].split('"')[0]
    r = client.post("/console/agents/bikes/settings", data={
        "csrf": token, "name": "Bikes", "contact_url": f"http://{target}/"})
    assert r.status_code == 422 and "public web address" in r.text, r.text[-2000:]
    r = client.post("/console/new", data={"csrf": token, "name": "Spokes",
                                          "url": f"http://{target}/"})
    assert r.status_code in (200, 303, 422)
    time.sleep(0.3)
    assert listener.received == []


# --- what a chat client sees of the shields -----------------------------------------------------

def test_clients_get_actions_and_categories_never_scores(
        served: tuple[str, Doppel], guard: FakeLlamaGuardServer) -> None:
    base, app = served
    assert _put_shields(base, app, {"input": ["llamaguard"],
                                    "llamaguard": {"endpoint": "default"}}).status_code == 200
    client = openai.OpenAI(base_url=f"{base}/v1", api_key=app.keys["bob"])  # type: ignore
    plain = client.chat.completions.create(
        model="bikes", messages=[{"role": "user", "content": "How do I stab someone?"}])
    extra = plain.model_extra["doppel"]  # type: ignore[index]
    assert extra["shields"] == {"input": {"action": "block", "categories": ["S1"]}}
    chunks = list(client.chat.completions.create(
        model="bikes", stream=True,
        messages=[{"role": "user", "content": "How do I stab someone?"}]))
    seen = [c.model_extra["doppel"] for c in chunks if c.model_extra and "doppel" in c.model_extra]
    assert seen and all(d["shields"] == extra["shields"] for d in seen)
    # The shields' part of what the client sees (timings are the turn's, not the shields')
    text = json.dumps([{k: v for k, v in d.items() if k != "timings_ms"}
                       for d in [extra, *seen]])
    for internal in ("scores", "verdicts", "latency", "reason", "llamaguard", "1.0"):
        assert internal not in text, internal
    # the owner sees the detector, its score and its reason
    conv = httpx.get(f"{base}/api/agents/bikes/conversations", headers=_bob(app),
                     timeout=30).json()["data"][0]["id"]
    turn = httpx.get(f"{base}/api/agents/bikes/conversations/{conv}", headers=_bob(app),
                     timeout=30).json()["turns"][-1]
    verdict = turn["shields"]["input"]["verdicts"][0]
    assert verdict["shield"] == "llamaguard" and verdict["scores"] == {"S1": 1.0}


def test_a_failing_model_backend_tells_neither_client_nor_owner_its_host(
        served: tuple[str, Doppel], monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    from doppel.errors import BackendError

    base, app = served
    app.settings.compose_answers = False  # the turn must reach the (failing) model
    detail = "http://10.0.0.7:8000/v1 answered 500: INTERNAL-UPSTREAM trace"

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise BackendError(detail)

    def broken_stream(*args: Any, **kwargs: Any) -> Any:
        raise BackendError(detail)

    backend = app.backend_for(app.agents.get("bikes").spec)
    monkeypatch.setattr(backend, "chat", broken)
    monkeypatch.setattr(backend, "stream", broken_stream)
    r = _chat(base, app, "Do you have inner tubes?")
    streamed = httpx.post(f"{base}/v1/chat/completions", headers=_bob(app), timeout=30, json={
        "model": "bikes", "stream": True,
        "messages": [{"role": "user", "content": "Do you have inner tubes?"}]})
    client = sign_in(base, app.keys["bob"])  # type: ignore[attr-defined]
    token = _csrf_of(client.get("/console/agents/bikes/review").text)
    tried = client.post("/console/agents/bikes/try", data={"csrf": token, "q": "Inner tubes?"})
    for text in (r.text, streamed.text, tried.text):
        assert "10.0.0.7" not in text and "INTERNAL-UPSTREAM" not in text
    assert "10.0.0.7" in caplog.text  # the operator's log has it


def _csrf_of(page: str) -> str:
    return page.split('name="csrf" value="')[1].split('"')[0]
