"""The server through its real boundary: uvicorn on 127.0.0.1, the official `openai` client
(sync, async, streaming) and the owner API over httpx."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import openai
import pytest

from doppel.service import Doppel
from doppel.testing import FakeChatBackend

from .conftest import EXAMPLES

# On SQLite and on a real PostgreSQL + pgvector (conftest.py's `both_stores`).
pytestmark = pytest.mark.both_stores


def client(base: str, key: str = "none") -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base}/v1", api_key=key, max_retries=0)


def test_models_lists_what_the_key_may_use(server: str, server_app: Doppel) -> None:
    assert [m.id for m in client(server).models.list()] == ["bakery"]  # public only
    assert [m.id for m in client(server, server_app.keys["bob"]).models.list()] == ["bikes"]
    assert client(server).models.retrieve("bakery").id == "bakery"


def test_chat_completion_with_the_official_client(server: str,
                                                  fake_backend: FakeChatBackend) -> None:
    fake_backend.script = ["The Almond Croissant is $5.25."]
    reply = client(server).chat.completions.create(
        model="bakery", messages=[{"role": "user", "content": "Almond croissant price?"}],
        temperature=0.1, max_tokens=50, seed=3, user="customer-1")
    assert reply.choices[0].message.content == "The Almond Croissant is $5.25."
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage is not None and reply.usage.completion_tokens > 0
    extra = reply.model_extra or {}
    assert extra["citations"][0]["source"] == "prices.csv"
    assert extra["doppel"]["path"] == "generated"
    # the request's sampling parameters reached the model
    assert fake_backend.calls  # generation happened


def test_streaming_with_usage(server: str, fake_backend: FakeChatBackend) -> None:
    fake_backend.script = ["The Almond Croissant is $5.25. Country Sourdough is $9.00."]
    stream = client(server).chat.completions.create(
        model="bakery", stream=True, stream_options={"include_usage": True},
        messages=[{"role": "user", "content": "Almond croissant and sourdough prices?"}])
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.strip() == "The Almond Croissant is $5.25. Country Sourdough is $9.00."
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "stop" and finishes.count("stop") == 1
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 0
    final = next(c for c in chunks if c.choices and c.choices[0].finish_reason == "stop")
    assert (final.model_extra or {})["citations"]


def test_async_client_runs_requests_concurrently(server: str,
                                                 fake_backend: FakeChatBackend) -> None:
    fake_backend.script = ["The Almond Croissant is $5.25."]

    async def main() -> list[str]:
        async with openai.AsyncOpenAI(base_url=f"{server}/v1", api_key="none",
                                      max_retries=0) as aclient:
            replies = await asyncio.gather(*[
                aclient.chat.completions.create(
                    model="bakery", user=f"user-{i}",
                    messages=[{"role": "user", "content": "Almond croissant price?"}])
                for i in range(8)])
        return [r.choices[0].message.content or "" for r in replies]

    assert asyncio.run(main()) == ["The Almond Croissant is $5.25."] * 8


def test_threads_keep_history_and_stateless_clients_are_recognised(
        server: str, server_app: Doppel, fake_backend: FakeChatBackend) -> None:
    fake_backend.script = ["The Almond Croissant is $5.25."]
    c = client(server)
    for _ in range(2):
        c.chat.completions.create(model="bakery", messages=[
            {"role": "user", "content": "Almond croissant price?"}],
            extra_headers={"X-Doppel-Thread": "widget-123"})
    bakery = server_app.agents.get("bakery")
    threads = {row["thread"]: row["turns"] for row in server_app.conversations.list(bakery.id)}
    assert threads["anon:widget-123"] == 2


def test_owner_api_create_upload_chat_read_back(server: str, server_app: Doppel) -> None:
    key = server_app.keys["alice"]
    api = httpx.Client(base_url=server, headers={"Authorization": f"Bearer {key}"})
    created = api.post("/api/agents", json={
        "slug": "juniper", "name": "Juniper & Rye", "public": False,
        "contact": {"email": "hello@juniperandrye.example"}})
    assert created.status_code == 201, created.text
    files = [("files", (p.name, p.read_bytes())) for p in sorted(Path(EXAMPLES).iterdir())
             if p.suffix in (".md", ".csv", ".yaml", ".html", ".pdf") and p.name != "agent.yaml"]
    report = api.post("/api/agents/juniper/files", files=files).json()
    assert report["summary"]["added"] == len(files) and report["summary"]["skipped"] == 0
    docs = api.get("/api/agents/juniper/documents").json()["data"]
    assert {d["source"] for d in docs} == {name for _, (name, _) in files}

    reply = client(server, key).chat.completions.create(
        model="juniper", messages=[{"role": "user", "content": "Are you open on Mondays?"}])
    assert reply.model_extra and reply.model_extra["doppel"]["path"] == "approved"

    conversations = api.get("/api/agents/juniper/conversations").json()["data"]
    assert len(conversations) == 1 and conversations[0]["turns"] == 1
    thread = api.get(f"/api/agents/juniper/conversations/{conversations[0]['id']}").json()
    turn = thread["turns"][0]
    assert turn["user_message"] == "Are you open on Mondays?"
    assert turn["answer"] == reply.choices[0].message.content and turn["path"] == "approved"

    added = api.post("/api/agents/juniper/answers",
                     json={"question": "Do you sell gift boxes?", "answer": "Yes, from $20."})
    assert added.status_code == 201
    reply = client(server, key).chat.completions.create(
        model="juniper", messages=[{"role": "user", "content": "Do you sell gift boxes?"}])
    assert reply.choices[0].message.content == "Yes, from $20."
    assert api.delete("/api/agents/juniper").status_code == 204
    assert api.get("/api/agents/juniper").status_code == 404


def test_keys_are_shown_once_and_can_be_revoked(server: str, server_app: Doppel) -> None:
    api = httpx.Client(base_url=server,
                       headers={"Authorization": f"Bearer {server_app.keys['bob']}"})
    made = api.post("/api/keys", json={"scopes": ["chat"], "agents": ["bikes"]}).json()
    secret = made["key"]
    assert all("key" not in k for k in api.get("/api/keys").json()["data"])
    bikes = client(server, secret).chat.completions.create(
        model="bikes", messages=[{"role": "user", "content": "inner tube price?"}])
    assert bikes.choices
    assert api.delete(f"/api/keys/{made['id']}").status_code == 204
    with pytest.raises(openai.AuthenticationError):
        client(server, secret).chat.completions.create(
            model="bikes", messages=[{"role": "user", "content": "inner tube price?"}])


def test_error_statuses_in_openai_shape(server: str, server_app: Doppel) -> None:
    with pytest.raises(openai.NotFoundError) as not_found:
        client(server).chat.completions.create(
            model="ghost", messages=[{"role": "user", "content": "hi"}])
    assert "ghost" in str(not_found.value)
    with pytest.raises(openai.AuthenticationError):
        client(server, "dk_bad_key").models.list()
    with pytest.raises(openai.PermissionDeniedError):
        client(server, server_app.keys["alice"]).chat.completions.create(
            model="bikes", messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.UnprocessableEntityError):
        client(server).chat.completions.create(
            model="bakery", messages=[{"role": "wizard", "content": "hi"}])  # type: ignore[misc]
    too_big = httpx.post(f"{server}/v1/chat/completions", json={
        "model": "bakery", "messages": [{"role": "user", "content": "x" * 300_000}]})
    assert too_big.status_code == 413 and too_big.json()["error"]["type"] == "request_too_large"


def test_rate_limit_gives_429_with_retry_after(server: str, server_app: Doppel) -> None:
    limiter = None
    # The per-user limit is 30/min by default; exhaust it for one anonymous caller.
    statuses = []
    for _ in range(35):
        r = httpx.post(f"{server}/v1/chat/completions", json={
            "model": "bakery", "user": "greedy",
            "messages": [{"role": "user", "content": "hello"}]})
        statuses.append(r.status_code)
        if r.status_code == 429:
            limiter = r
            break
    assert limiter is not None, statuses
    assert int(limiter.headers["Retry-After"]) >= 1
    assert limiter.json()["error"]["type"] == "rate_limit_error"
    other = httpx.post(f"{server}/v1/chat/completions", json={
        "model": "bakery", "user": "someone-else",
        "messages": [{"role": "user", "content": "hello"}]})
    # An anonymous caller's limit is its address's: a new `user` value does not escape it
    # (keyed callers' end users get buckets of their own: tests/test_abuse.py).
    assert other.status_code == 429


def test_health_ready_metrics_and_pages(server: str, fake_backend: FakeChatBackend) -> None:
    assert httpx.get(f"{server}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{server}/readyz").status_code == 200
    fake_backend.script = ["The Almond Croissant is $5.25."]
    client(server).chat.completions.create(
        model="bakery", messages=[{"role": "user", "content": "Almond croissant price?"}])
    metrics = httpx.get(f"{server}/metrics").text
    assert 'doppel_answer_paths_total{path="generated"} 1.0' in metrics
    assert "doppel_http_request_seconds_bucket" in metrics
    assert 'doppel_queue_waiting{backend="default"} 0.0' in metrics
    page = httpx.get(f"{server}/a/bakery")
    assert page.status_code == 200 and "Hi from bakery!" in page.text
    assert "http://" not in page.text.replace(server, "") or "cdn" not in page.text
    assert httpx.get(f"{server}/a/bikes").status_code == 404  # private agents have no page
    widget = httpx.get(f"{server}/widget.js")
    assert widget.headers["content-type"].startswith("application/javascript")
    assert "data-agent" in widget.text or "dataset.agent" in widget.text


class SlowBackend(FakeChatBackend):
    """Takes its time, so that requests pile up in the queue."""

    async def stream(self, messages, params):  # type: ignore[no-untyped-def,override]
        await asyncio.sleep(0.5)
        async for chunk in super().stream(messages, params):
            yield chunk


def test_full_queue_answers_503_with_retry_after(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from doppel.agents.spec import AgentSpec
    from doppel.serve import create_app
    from doppel.testing import FakeEmbedder, ServerThread

    settings.min_relevance = 0.05
    settings.compose_answers = False  # every turn must reach the (slow) model
    settings.queue_max_waiting = 1
    settings.remote_concurrency = 1
    app = Doppel(settings, backend=SlowBackend(["The Almond Croissant is $5.25."]),
                 embedder=FakeEmbedder())
    agent = app.agents.create(AgentSpec(slug="shop", name="Shop", public=True))
    app.ingestor.ingest_bytes(agent, b"item,price\nAlmond Croissant,5.25\n", "prices.csv")
    with ServerThread(create_app(doppel=app, preload=False)) as base:
        async def burst() -> list[httpx.Response]:
            async with httpx.AsyncClient(base_url=base, timeout=30) as http:
                return await asyncio.gather(*[http.post("/v1/chat/completions", json={
                    "model": "shop", "user": f"u{i}",
                    "messages": [{"role": "user", "content": "almond croissant price?"}]})
                    for i in range(5)])

        started = time.perf_counter()
        responses = asyncio.run(burst())
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(200) >= 2 and 503 in statuses, statuses
    busy = next(r for r in responses if r.status_code == 503)
    assert busy.headers["Retry-After"] and busy.json()["error"]["code"] == "overloaded"
    assert time.perf_counter() - started < 10


def test_backend_failures_do_not_leak_internal_details(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from doppel.agents.spec import AgentSpec
    from doppel.serve import create_app
    from doppel.testing import FakeEmbedder, FakeOpenAIServer, ServerThread

    with FakeOpenAIServer(fail_status=500) as upstream:
        settings.chat_backend = "openai"
        settings.openai_base_url = upstream.base_url
        settings.openai_model = "llama"
        settings.min_relevance = 0.05
        settings.compose_answers = False  # the turn must reach the (failing) model
        app = Doppel(settings, embedder=FakeEmbedder())
        agent = app.agents.create(AgentSpec(slug="shop", name="Shop", public=True))
        app.ingestor.ingest_bytes(agent, b"item,price\nAlmond Croissant,5.25\n", "prices.csv")
        with ServerThread(create_app(doppel=app, preload=False)) as base:
            r = httpx.post(f"{base}/v1/chat/completions", json={
                "model": "shop", "messages": [{"role": "user", "content": "almond croissant?"}]})
    assert r.status_code == 502
    assert "127.0.0.1" not in r.text and "overloaded" not in r.text
    assert r.json()["error"]["code"] == "backend_error"


def test_key_use_is_recorded(server: str, server_app: Doppel) -> None:
    api = httpx.Client(base_url=server,
                       headers={"Authorization": f"Bearer {server_app.keys['alice']}"})
    assert api.get("/api/me").status_code == 200
    keys = api.get("/api/keys").json()["data"]
    assert keys[0]["last_used_at"] is not None
