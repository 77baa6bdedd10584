"""The OpenAI-compatible backend against a real HTTP server on 127.0.0.1 (FakeOpenAIServer)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from doppel.agents.spec import AgentSpec
from doppel.config import Settings
from doppel.errors import BackendError, ConfigError
from doppel.models import load_backend
from doppel.models.base import ChatBackend, ChatMessage, ChatResult, GenerationParams, StreamChunk
from doppel.models.remote import OpenAICompatibleBackend
from doppel.service import Doppel
from doppel.testing import FakeEmbedder, FakeOpenAIServer

MESSAGES = [ChatMessage("system", "You are the bakery's helper."),
            ChatMessage("user", "When do you open on Sunday?")]
REPLY = "We open at 8 am on Sunday. See you soon!"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(REPLY) as srv:
        yield srv


def chat(backend: OpenAICompatibleBackend, params: GenerationParams | None = None,
         messages: list[ChatMessage] = MESSAGES) -> ChatResult:
    async def go() -> ChatResult:
        try:
            return await backend.chat(messages, params or GenerationParams())
        finally:
            await backend.aclose()
    return asyncio.run(go())


def stream(backend: OpenAICompatibleBackend,
           params: GenerationParams | None = None) -> list[StreamChunk]:
    async def go() -> list[StreamChunk]:
        try:
            return [c async for c in backend.stream(MESSAGES, params or GenerationParams())]
        finally:
            await backend.aclose()
    return asyncio.run(go())


def header(srv: FakeOpenAIServer, name: str, index: int = -1) -> str | None:
    return {k.lower(): v for k, v in srv.headers[index].items()}.get(name.lower())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_chat_returns_text_and_usage(server: FakeOpenAIServer) -> None:
    result = chat(OpenAICompatibleBackend(server.base_url, "bakery-model"))
    assert result.text == REPLY
    # the fake counts the words and punctuation marks of the messages (8 + 7), and the
    # whitespace-separated words of the answer
    assert result.prompt_tokens == 15
    assert result.completion_tokens == len(REPLY.split()) == 10
    assert result.finish_reason == "stop"
    assert result.model == "bakery-model"


def test_chat_uses_the_reply_for_this_request() -> None:
    def reply(body: dict) -> str:
        return "You said: " + body["messages"][-1]["content"]

    with FakeOpenAIServer(reply) as srv:
        result = chat(OpenAICompatibleBackend(srv.base_url + "/", "m"))
    assert result.text == "You said: When do you open on Sunday?"


def test_stream_yields_pieces_then_a_final_chunk(server: FakeOpenAIServer) -> None:
    chunks = stream(OpenAICompatibleBackend(server.base_url, "m"))
    pieces, final = chunks[:-1], chunks[-1]
    assert len(pieces) == len(REPLY.split()) > 1
    assert "".join(c.text for c in pieces) == REPLY
    assert all(c.text and c.finish_reason is None for c in pieces)
    assert final.text == "" and final.finish_reason == "stop"
    assert (final.prompt_tokens, final.completion_tokens) == (15, 10)
    body = server.requests[-1]
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}


def test_api_key_is_sent_as_bearer_header() -> None:
    with FakeOpenAIServer(REPLY, api_key="sk-right") as srv:
        assert chat(OpenAICompatibleBackend(srv.base_url, "m", "sk-right")).text == REPLY
        assert header(srv, "Authorization") == "Bearer sk-right"
        assert stream(OpenAICompatibleBackend(srv.base_url, "m", "sk-right"))[-1].finish_reason \
            == "stop"
        assert header(srv, "Authorization") == "Bearer sk-right"

        with pytest.raises(BackendError, match="401") as excinfo:
            chat(OpenAICompatibleBackend(srv.base_url, "m", "sk-wrong-secret"))
        assert "Invalid API key" in str(excinfo.value)
        assert "sk-wrong-secret" not in str(excinfo.value)  # keys never go into messages
        assert header(srv, "Authorization") == "Bearer sk-wrong-secret"

        with pytest.raises(BackendError, match="401"):
            stream(OpenAICompatibleBackend(srv.base_url, "m", "sk-wrong-secret"))
        with pytest.raises(BackendError, match="401"):
            chat(OpenAICompatibleBackend(srv.base_url, "m"))  # no key at all


def test_no_authorization_header_without_a_key(server: FakeOpenAIServer) -> None:
    chat(OpenAICompatibleBackend(server.base_url, "m"))
    assert header(server, "Authorization") is None


def test_server_error_status_is_a_backend_error() -> None:
    with FakeOpenAIServer(REPLY, fail_status=503) as srv:
        with pytest.raises(BackendError, match="503") as excinfo:
            chat(OpenAICompatibleBackend(srv.base_url, "m"))
        assert "overloaded" in str(excinfo.value)
        with pytest.raises(BackendError, match="503"):
            stream(OpenAICompatibleBackend(srv.base_url, "m"))
        assert len(srv.requests) == 2


def test_wrong_path_is_a_backend_error(server: FakeOpenAIServer) -> None:
    base = server.base_url.removesuffix("/v1")
    with pytest.raises(BackendError, match="404"):
        chat(OpenAICompatibleBackend(base, "m"))


def test_unreachable_server_is_a_backend_error() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(BackendError, match="cannot reach") as excinfo:
        chat(OpenAICompatibleBackend(url, "m", timeout_s=5))
    assert url in str(excinfo.value)
    with pytest.raises(BackendError, match="cannot reach"):
        stream(OpenAICompatibleBackend(url, "m", timeout_s=5))


def test_request_body_carries_the_generation_params(server: FakeOpenAIServer) -> None:
    params = GenerationParams(max_tokens=77, temperature=0.65, top_p=0.8,
                              stop=("\n\n", "User:"), seed=1234)
    chat(OpenAICompatibleBackend(server.base_url, "bakery-model-7b"), params)
    body = server.requests[-1]
    assert body["model"] == "bakery-model-7b"
    assert body["temperature"] == 0.65
    assert body["top_p"] == 0.8
    assert body["max_tokens"] == 77
    assert body["stop"] == ["\n\n", "User:"]
    assert body["seed"] == 1234
    assert body["stream"] is False
    assert "stream_options" not in body
    assert body["messages"] == [{"role": "system", "content": "You are the bakery's helper."},
                                {"role": "user", "content": "When do you open on Sunday?"}]

    stream(OpenAICompatibleBackend(server.base_url, "bakery-model-7b"), params)
    body = server.requests[-1]
    assert (body["model"], body["temperature"], body["max_tokens"], body["stop"],
            body["seed"]) == ("bakery-model-7b", 0.65, 77, ["\n\n", "User:"], 1234)


def test_unset_stop_and_seed_are_left_out(server: FakeOpenAIServer) -> None:
    chat(OpenAICompatibleBackend(server.base_url, "m"), GenerationParams())
    body = server.requests[-1]
    assert "stop" not in body and "seed" not in body
    assert body["max_tokens"] == GenerationParams().max_tokens


def test_missing_model_name_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="DOPPEL_OPENAI_MODEL"):
        OpenAICompatibleBackend("http://127.0.0.1:1/v1", "")


def test_backend_properties() -> None:
    backend = OpenAICompatibleBackend("http://127.0.0.1:1/v1/", "m", context_window=4096)
    assert backend.base_url == "http://127.0.0.1:1/v1"
    assert backend.model_name == "m" and backend.context_window == 4096
    assert backend.count_tokens("") == 1 and backend.count_tokens("a" * 40) == 10
    assert isinstance(backend, ChatBackend)
    asyncio.run(backend.aclose())


def test_load_backend_from_configuration(server: FakeOpenAIServer, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, chat_backend="openai", openai_base_url=server.base_url,
                        openai_model="m")
    backend = load_backend(settings)
    assert isinstance(backend, OpenAICompatibleBackend)
    assert backend.model_name == "m"
    assert chat(backend).text == REPLY
    assert server.requests[-1]["model"] == "m"


def test_load_backend_passes_the_api_key(tmp_path: Path) -> None:
    with FakeOpenAIServer(REPLY, api_key="sk-conf") as srv:
        settings = Settings(home=tmp_path, chat_backend="openai", openai_base_url=srv.base_url,
                            openai_model="m", openai_api_key="sk-conf")
        assert chat(load_backend(settings)).text == REPLY
        assert header(srv, "Authorization") == "Bearer sk-conf"


def test_load_backend_without_a_model_name_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="model name"):
        load_backend(Settings(home=tmp_path, chat_backend="openai", openai_model=""))


def test_unknown_backend_name_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no-such-backend"):
        load_backend(Settings(home=tmp_path, chat_backend="no-such-backend"))


def test_service_uses_the_configured_remote_backend(server: FakeOpenAIServer,
                                                    tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", models_home=tmp_path / "models",
                        chat_backend="openai", openai_base_url=server.base_url,
                        openai_model="served-model")
    app = Doppel(settings, embedder=FakeEmbedder())
    try:
        backend = app.backend_for(AgentSpec(slug="shop", name="Shop"))
        assert isinstance(backend, OpenAICompatibleBackend)
        assert app.backend_for(AgentSpec(slug="other", name="Other")) is backend  # shared
        assert chat(backend).text == REPLY
        assert server.requests[-1]["model"] == "served-model"
    finally:
        app.close()


def test_backend_works_across_event_loops(server: FakeOpenAIServer) -> None:
    backend = OpenAICompatibleBackend(server.base_url, "m")
    assert asyncio.run(backend.chat(MESSAGES, GenerationParams())).text == REPLY
    assert asyncio.run(backend.chat(MESSAGES, GenerationParams())).text == REPLY
