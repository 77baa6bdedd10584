"""Fakes shipped with doppel, for its own tests and for anyone extending it.

- `FakeChatBackend`: a scripted ChatBackend (answers from a list or a function of the prompt).
- `FakeEmbedder`: deterministic bag-of-words vectors; similar wording gives similar vectors.
- `FakeOpenAIServer`: a real HTTP server on 127.0.0.1 speaking the OpenAI chat-completions
  wire format (JSON and SSE streaming), for testing remote backends without a network.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np

from doppel.models.base import ChatMessage, ChatResult, GenerationParams, StreamChunk

Script = Sequence[str] | Callable[[Sequence[ChatMessage]], str]


def _words(text: str) -> list[str]:
    return re.findall(r"\w+|[^\w\s]", text)


class FakeChatBackend:
    """Answers from a script: a list (one answer per call, the last repeated) or a function."""

    name = "fake"

    def __init__(self, script: Script = ("I can help with that.",), *,
                 context_window: int = 2048) -> None:
        self.script = script
        self.calls: list[list[ChatMessage]] = []
        self._context_window = context_window

    @property
    def model_name(self) -> str:
        return "fake-model"

    @property
    def context_window(self) -> int:
        return self._context_window

    def count_tokens(self, text: str) -> int:
        return len(_words(text))

    def _answer(self, messages: Sequence[ChatMessage]) -> str:
        self.calls.append(list(messages))
        if callable(self.script):
            return self.script(messages)
        index = min(len(self.calls) - 1, len(self.script) - 1)
        return self.script[index]

    async def chat(self, messages: Sequence[ChatMessage], params: GenerationParams) -> ChatResult:
        text = self._answer(messages)
        prompt = sum(self.count_tokens(m.content) for m in messages)
        return ChatResult(text, prompt, self.count_tokens(text), "stop", self.model_name)

    async def stream(self, messages: Sequence[ChatMessage],
                     params: GenerationParams) -> AsyncIterator[StreamChunk]:
        text = self._answer(messages)
        pieces = re.findall(r"\S+\s*|\s+", text)
        for piece in pieces:
            yield StreamChunk(piece)
        yield StreamChunk("", "stop", sum(self.count_tokens(m.content) for m in messages),
                          len(pieces))

    async def aclose(self) -> None:
        pass


_FAKE_STOPWORDS = frozenset("a an and are at be can do does for how i in is it me my of on or "
                            "the to we what when you your".split())


class FakeEmbedder:
    """Hashed bag of (crudely stemmed) content words: deterministic, instant, lexical
    similarity (cosine = word overlap), so retrieval logic can be tested without a model."""

    name = "fake-embedder"

    def __init__(self, dim: int = 384) -> None:
        self.dim = dim

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9]+", text.lower()):
                if word in _FAKE_STOPWORDS:
                    continue
                word = re.sub(r"(ing|ed|es|s)$", "", word) if len(word) > 4 else word
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "big")
                out[row, h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
            norm = np.linalg.norm(out[row])
            if norm > 0:
                out[row] /= norm
        return out


class FakeOpenAIServer:
    """An OpenAI-style chat-completions server on 127.0.0.1, in a background thread.

    `reply(body) -> str` decides the answer; every request body is kept in `requests`.
    Use as a context manager; `base_url` ends in /v1.
    """

    def __init__(self, reply: Callable[[dict[str, Any]], str] | str = "Hello from the fake.",
                 *, api_key: str | None = None, fail_status: int | None = None) -> None:
        self.reply = reply if callable(reply) else (lambda body, _r=reply: _r)
        self.api_key = api_key
        self.fail_status = fail_status
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                server.requests.append(body)
                server.headers.append(dict(self.headers))
                expected = f"Bearer {server.api_key}"
                if server.api_key and self.headers.get("Authorization") != expected:
                    return self._json(401, {"error": {"message": "Invalid API key",
                                                      "type": "invalid_request_error"}})
                if server.fail_status:
                    return self._json(server.fail_status, {"error": {"message": "overloaded"}})
                if self.path.rstrip("/") != "/v1/chat/completions":
                    return self._json(404, {"error": {"message": f"no route {self.path}"}})
                text = server.reply(body)
                prompt_tokens = sum(len(_words(m.get("content", ""))) for m in body["messages"])
                words = re.findall(r"\S+\s*", text)
                usage = {"prompt_tokens": prompt_tokens, "completion_tokens": len(words),
                         "total_tokens": prompt_tokens + len(words)}
                if not body.get("stream"):
                    return self._json(200, {
                        "id": "chatcmpl-fake", "object": "chat.completion",
                        "model": body.get("model"), "usage": usage,
                        "choices": [{"index": 0, "finish_reason": "stop",
                                     "message": {"role": "assistant", "content": text}}]})
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()

                def event(payload: dict[str, Any]) -> None:
                    self.wfile.write(f"data: {json.dumps(payload)}\n\n".encode())
                    self.wfile.flush()

                base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk",
                        "model": body.get("model")}
                for word in words:
                    event(base | {"choices": [{"index": 0, "delta": {"content": word},
                                               "finish_reason": None}]})
                event(base | {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
                if (body.get("stream_options") or {}).get("include_usage"):
                    event(base | {"choices": [], "usage": usage})
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def __enter__(self) -> "FakeOpenAIServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


class ServerThread:
    """A real uvicorn server for an ASGI app on 127.0.0.1 (a free port), in a thread.

        with ServerThread(create_app(doppel=app, preload=False)) as base_url:
            httpx.get(base_url + "/healthz")
    """

    def __init__(self, app: Any, host: str = "127.0.0.1") -> None:
        import socket

        import uvicorn

        with socket.socket() as probe:
            probe.bind((host, 0))
            self.port = probe.getsockname()[1]
        self.host = host
        config = uvicorn.Config(app, host=host, port=self.port, log_level="warning",
                                access_log=False, lifespan="on")
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> str:
        import time

        self._thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        return self.base_url

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=10)
