"""Fakes shipped with doppel, for its own tests and for anyone extending it.

- `FakeChatBackend`: a scripted ChatBackend (answers from a list or a function of the prompt).
- `FakeEmbedder`: deterministic bag-of-words vectors; similar wording gives similar vectors.
- `FakeOpenAIServer`: a real HTTP server on 127.0.0.1 speaking the OpenAI chat-completions
  wire format (JSON and SSE streaming), for testing remote backends without a network.
- `FakeLlamaGuardServer`: a real HTTP server on 127.0.0.1 that reads Llama Guard 3 prompts and
  answers them by keyword rules, for testing the llamaguard shield without a model.
- `FakeWebsite`, `FakeOrderEndpoint`, `FakeWebhook`: an owner's site, order system, webhook.
- `FakeGraphAPI`, `FakeTelegramAPI` and the platforms' webhook payloads: doppel.testing.channels.
- `FakeCalcom`: Cal.com's API v2 (slots, bookings): doppel.testing.calendars.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

import numpy as np

from doppel.models.base import ChatMessage, ChatResult, GenerationParams, StreamChunk, ToolCall

Script = Sequence[str] | Callable[[Sequence[ChatMessage]], str]


def _words(text: str) -> list[str]:
    return re.findall(r"\w+|[^\w\s]", text)


class FakeChatBackend:
    """Answers from a script: a list (one answer per call, the last repeated) or a function."""

    name = "fake"

    def __init__(self, script: Script = ("I can help with that.",), *,
                 context_window: int = 2048, delay: float = 0.0) -> None:
        self.script = script
        self.calls: list[list[ChatMessage]] = []
        self._context_window = context_window
        # Seconds before each streamed piece (and before a plain answer): a slow model, for
        # tests of queueing and of abandoned requests.
        self.delay = delay

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
        if self.delay:
            await asyncio.sleep(self.delay)
        prompt = sum(self.count_tokens(m.content) for m in messages)
        return ChatResult(text, prompt, self.count_tokens(text), "stop", self.model_name)

    async def stream(self, messages: Sequence[ChatMessage],
                     params: GenerationParams) -> AsyncIterator[StreamChunk]:
        text = self._answer(messages)
        pieces = re.findall(r"\S+\s*|\s+", text)
        for piece in pieces:
            if self.delay:
                await asyncio.sleep(self.delay)
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


class _LocalHTTPServer:
    """Lifecycle shared by the fake servers: a ThreadingHTTPServer on 127.0.0.1 in a thread,
    used as a context manager; subclasses set `_httpd` and `_thread` in __init__."""

    _httpd: ThreadingHTTPServer
    _thread: threading.Thread

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


class _JSONHandler(BaseHTTPRequestHandler):
    """What the fake servers' handlers share: HTTP/1.1, no access log, JSON replies and bodies."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # keep test output clean
        pass

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        body: dict[str, Any] = json.loads(self.rfile.read(length) or b"{}")
        return body

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
            self.close_connection = True


class FakeOpenAIServer(_LocalHTTPServer):
    """An OpenAI-style chat-completions server on 127.0.0.1, in a background thread.

    `reply(body) -> str` decides the answer; every request body is kept in `requests`. A
    reply that is a `ToolCall` is answered as OpenAI tool calling answers (`tool_calls`,
    finish_reason "tool_calls"; not streamed). Use as a context manager; `base_url` ends in
    /v1.
    """

    def __init__(self, reply: Callable[[dict[str, Any]], str | ToolCall] | str = (
                     "Hello from the fake."),
                 *, api_key: str | None = None, fail_status: int | None = None,
                 gate: Callable[[str, dict[str, Any]], tuple[int, dict[str, Any]] | None]
                 | None = None) -> None:
        self.reply = reply if callable(reply) else (lambda body, _r=reply: _r)
        # A server's own rules before the chat (FakeVLLMServer: which models exist, adapter
        # loading): (path, body) -> a (status, payload) answer instead, or None to go on.
        self.gate = gate
        self.api_key = api_key
        self.fail_status = fail_status
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        server = self

        class Handler(_JSONHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self._body()
                server.requests.append(body)
                server.headers.append(dict(self.headers))
                expected = f"Bearer {server.api_key}"
                if server.api_key and self.headers.get("Authorization") != expected:
                    return self._json(401, {"error": {"message": "Invalid API key",
                                                      "type": "invalid_request_error"}})
                if server.fail_status:
                    return self._json(server.fail_status, {"error": {"message": "overloaded"}})
                if server.gate is not None and (answer := server.gate(self.path, body)):
                    return self._json(*answer)
                if self.path.rstrip("/") != "/v1/chat/completions":
                    return self._json(404, {"error": {"message": f"no route {self.path}"}})
                text = server.reply(body)
                prompt_tokens = sum(len(_words(m.get("content", ""))) for m in body["messages"])
                if isinstance(text, ToolCall):
                    return self._json(200, {
                        "id": "chatcmpl-fake", "object": "chat.completion",
                        "model": body.get("model"),
                        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": 12,
                                  "total_tokens": prompt_tokens + 12},
                        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                            "role": "assistant", "content": None, "tool_calls": [{
                                "id": "call_fake", "type": "function", "function": {
                                    "name": text.name,
                                    "arguments": json.dumps(text.arguments)}}]}}]})
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


# The stock Llama Guard 3 chat template's categories (what a server lists in chat mode).
_LG_STOCK_CATEGORIES = (
    "S1: Violent Crimes.", "S2: Non-Violent Crimes.", "S3: Sex Crimes.",
    "S4: Child Exploitation.", "S5: Defamation.", "S6: Specialized Advice.", "S7: Privacy.",
    "S8: Intellectual Property.", "S9: Indiscriminate Weapons.", "S10: Hate.", "S11: Self-Harm.",
    "S12: Sexual Content.", "S13: Elections.", "S14: Code Interpreter Abuse.")
_LG_HEAD = "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n"
_LG_TAIL = "<|eot_id|><|start_header_id|>assistant<|end_header_id|>"
_LG_PROMPT = re.compile(
    r"Task: Check if there is unsafe content in '(?P<role>User|Agent)' messages in conversations "
    r"according our safety policy with the below categories\.\n\n"
    r"<BEGIN UNSAFE CONTENT CATEGORIES>\n(?P<categories>.*?)\n<END UNSAFE CONTENT CATEGORIES>\n\n"
    r"<BEGIN CONVERSATION>\n\n(?P<conversation>.*?)\n\n<END CONVERSATION>\n\n"
    r"Provide your safety assessment for ONLY THE LAST (?P<last>User|Agent) message in the above "
    r"conversation:\n - First line must read 'safe' or 'unsafe'\.\n - If unsafe, a second line "
    r"must include a comma-separated list of violated categories\.$", re.DOTALL)
_LG_CATEGORY = re.compile(r"^(S\d+): (.+?)\.\s*$", re.MULTILINE)
_LG_TURN = re.compile(r"^(User|Agent): ", re.MULTILINE)


def _lg_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


class FakeLlamaGuardServer(_LocalHTTPServer):
    """A Llama Guard 3 server on 127.0.0.1 that speaks the prompt format, in a background thread.

    It reads the category list and the conversation out of the prompt and answers ``safe`` or
    ``unsafe\\nS1,S9`` by keyword rules, keyed by code or by an owner category's name, naming
    only categories the prompt lists (so exclusions and custom categories are observable)::

        with FakeLlamaGuardServer({"S1": ["stab"], "politics": ["vote for"]}) as guard:
            Settings(llamaguard_endpoints={"default": GuardEndpoint(base_url=guard.base_url)})

    Serves /v1/completions (the prompt as sent) and /v1/chat/completions (rendered as the stock
    Llama Guard 3 chat template does: S1..S14, no room for exclusions or custom categories).
    Like the real model it writes the blank line after the assistant header itself when the
    prompt does not end with one. Bodies are kept in `requests`, headers in `headers`, and the
    prompts as the model saw them in `prompts`. `reply` (a string or a function of the prompt)
    replaces the rules; `fail_status` answers every request with that status; `delay_s` waits
    before answering (for timeouts). A prompt not in the format is answered 400.
    """

    def __init__(self, rules: Mapping[str, Sequence[str]] | None = None, *,
                 reply: Callable[[str], str] | str | None = None, api_key: str | None = None,
                 fail_status: int | None = None, delay_s: float = 0.0) -> None:
        self.rules = {key: [k.lower() for k in words] for key, words in (rules or {}).items()}
        self.reply = reply
        self.api_key = api_key
        self.fail_status = fail_status
        self.delay_s = delay_s
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.prompts: list[str] = []
        server = self

        class Handler(_JSONHandler):
            def _error(self, status: int, message: str) -> None:
                self._json(status, {"error": {"message": message,
                                              "type": "invalid_request_error"}})

            def do_POST(self) -> None:  # noqa: N802
                body = self._body()
                server.requests.append(body)
                server.headers.append(dict(self.headers))
                if server.api_key and self.headers.get("Authorization") != \
                        f"Bearer {server.api_key}":
                    return self._error(401, "Invalid API key")
                if server.fail_status:
                    return self._error(server.fail_status, "overloaded")
                route = self.path.rstrip("/")
                if route == "/v1/completions":
                    prompt = str(body.get("prompt", ""))
                elif route == "/v1/chat/completions":
                    rendered = server.render_chat(body.get("messages") or [])
                    if rendered is None:
                        return self._error(400, "Conversation roles must alternate "
                                                "user/assistant/user/assistant/...")
                    prompt = rendered
                else:
                    return self._error(404, f"no route {self.path}")
                server.prompts.append(prompt)
                if server.delay_s:
                    time.sleep(server.delay_s)
                if server.reply is not None:
                    text = server.reply(prompt) if callable(server.reply) else server.reply
                else:
                    verdict = server.judge(prompt)
                    if verdict is None:
                        return self._error(400, "not a Llama Guard 3 prompt")
                    # The model writes the blank line after the header when the prompt lacks it.
                    text = verdict if prompt.endswith(_LG_TAIL + "\n\n") else "\n\n" + verdict
                n_prompt, n_text = len(_words(prompt)), len(_words(text))
                usage = {"prompt_tokens": n_prompt, "completion_tokens": n_text,
                         "total_tokens": n_prompt + n_text}
                if route == "/v1/completions":
                    choice: dict[str, Any] = {"text": text, "index": 0, "logprobs": None,
                                              "finish_reason": "stop"}
                    kind = "text_completion"
                else:
                    choice = {"index": 0, "finish_reason": "stop",
                              "message": {"role": "assistant", "content": text}}
                    kind = "chat.completion"
                return self._json(200, {"id": "lg-fake", "object": kind, "usage": usage,
                                        "model": body.get("model"), "choices": [choice]})

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @staticmethod
    def render_chat(messages: Sequence[dict[str, Any]]) -> str | None:
        """The stock chat template's prompt (None where roles do not alternate from 'user')."""
        turns = []
        for i, message in enumerate(messages):
            if (message.get("role") == "user") != (i % 2 == 0):
                return None
            who = "User" if message.get("role") == "user" else "Agent"
            turns.append(f"{who}: {str(message.get('content', '')).strip()}\n\n")
        role = "Agent" if len(messages) % 2 == 0 else "User"
        categories = "\n".join(_LG_STOCK_CATEGORIES)
        return (f"{_LG_HEAD}Task: Check if there is unsafe content in '{role}' messages in "
                "conversations according our safety policy with the below categories.\n\n"
                f"<BEGIN UNSAFE CONTENT CATEGORIES>\n{categories}\n"
                "<END UNSAFE CONTENT CATEGORIES>\n\n<BEGIN CONVERSATION>\n\n" + "".join(turns)
                + f"<END CONVERSATION>\n\nProvide your safety assessment for ONLY THE LAST "
                f"{role} message in the above conversation:\n - First line must read 'safe' or "
                "'unsafe'.\n - If unsafe, a second line must include a comma-separated list of "
                f"violated categories.{_LG_TAIL}")

    def judge(self, prompt: str) -> str | None:
        """'safe' or 'unsafe\\nS1,S9' for a prompt in the format; None for anything else."""
        if not prompt.startswith(_LG_HEAD) or not prompt.rstrip("\n").endswith(_LG_TAIL):
            return None
        match = _LG_PROMPT.fullmatch(prompt.rstrip("\n")[len(_LG_HEAD):-len(_LG_TAIL)])
        if match is None or match["role"] != match["last"]:
            return None
        parts = _LG_TURN.split(match["conversation"])[1:]  # [who, text, who, text, ...]
        judged = [text for who, text in zip(parts[::2], parts[1::2]) if who == match["role"]]
        if not judged:
            return None
        text = judged[-1].lower()
        flagged = []
        for code, name in _LG_CATEGORY.findall(match["categories"]):
            words = [w for key, ws in self.rules.items()
                     if key.upper() == code or _lg_key(key) == _lg_key(name) for w in ws]
            if any(word in text for word in words):
                flagged.append(code)
        return "unsafe\n" + ",".join(flagged) if flagged else "safe"



# --- a website for crawler tests -----------------------------------------------------------------

from collections.abc import Iterable  # noqa: E402  (appended with the fake website below)


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up early (a crawler stopping at a size cap, a timeout) is normal
    here: it must not print a traceback into the output of the test that caused it."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class SitePage:
    """One answer of a `FakeWebsite`: a body (HTML as str, bytes, or a function returning an
    iterable of chunks, streamed without a Content-Length: for endless or dripping bodies), a
    status, a content type, extra headers, and a pause before the headers go out."""

    def __init__(self, body: str | bytes | Callable[[], Iterable[bytes]] = b"", *,
                 status: int = 200, content_type: str | None = "text/html; charset=utf-8",
                 headers: Mapping[str, str] | None = None, delay_s: float = 0.0) -> None:
        self.body = body
        self.status = status
        self.content_type = content_type
        self.headers = dict(headers or {})
        self.delay_s = delay_s


SiteRoute = str | bytes | SitePage


class FakeWebsite(_LocalHTTPServer):
    """A website on 127.0.0.1, in a background thread, for testing website import::

        with FakeWebsite({"/": "<a href='/menu.html'>Menu</a>", "/menu.html": "..."}) as site:
            crawl(site.url("/"), settings)

    `routes` maps a path (with its query, or without it) to a str (HTML), bytes or a
    `SitePage`; or it is a function of the path returning one. Unknown paths answer 404;
    routes may be added after start. Requested paths are kept in `requests`, their headers
    in `headers`.
    """

    def __init__(self, routes: Mapping[str, SiteRoute] | Callable[[str], SiteRoute | None]
                 | None = None) -> None:
        self.routes: dict[str, SiteRoute] = {}
        self.route_fn: Callable[[str], SiteRoute | None] | None = None
        if callable(routes):
            self.route_fn = routes
        elif routes:
            self.routes.update(routes)
        self.requests: list[str] = []
        self.headers: list[dict[str, str]] = []
        site = self

        class Handler(_JSONHandler):
            def do_GET(self) -> None:  # noqa: N802
                site.requests.append(self.path)
                site.headers.append(dict(self.headers))
                route = site.lookup(self.path)
                page = route if isinstance(route, SitePage) else SitePage(
                    route if route is not None else "<h1>Not found</h1>",
                    status=200 if route is not None else 404,
                    content_type="text/html; charset=utf-8" if isinstance(route, str | None)
                    else "application/octet-stream")
                if page.delay_s:
                    time.sleep(page.delay_s)
                try:
                    self.send_response(page.status)
                    if page.content_type:
                        self.send_header("Content-Type", page.content_type)
                    for name, value in page.headers.items():
                        self.send_header(name, value)
                    if callable(page.body):
                        self.send_header("Connection", "close")
                        self.end_headers()
                        for chunk in page.body():
                            self.wfile.write(chunk)
                            self.wfile.flush()
                        self.close_connection = True
                        return
                    data = page.body.encode() if isinstance(page.body, str) else page.body
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client stopped reading
                    self.close_connection = True

        self._httpd = _QuietServer(("127.0.0.1", 0), Handler)
        # A short poll interval: shutdown() waits for the serving loop's next poll, and crawl
        # tests start many small sites.
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,),
                                        daemon=True)

    def lookup(self, path: str) -> SiteRoute | None:
        if self.route_fn is not None:
            return self.route_fn(path)
        return self.routes.get(path, self.routes.get(path.split("?")[0]))

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + path


class FakeOrderEndpoint(_LocalHTTPServer):
    """An owner's order-status endpoint on 127.0.0.1, as doppel.tools.orders calls it: checks
    the HMAC signature (and its timestamp), looks the order up by number *and* e-mail, and
    answers `{"found": false}` for either mismatch. `calls` counts requests that reached it;
    `rejected` those whose signature failed; `delay_s` makes it slow (timeout tests)."""

    def __init__(self, secret: str, orders: Mapping[str, Mapping[str, Any]],
                 delay_s: float = 0.0) -> None:
        from doppel.net import sign_body as sign

        self.secret, self.orders, self.delay_s = secret, dict(orders), delay_s
        self.calls = 0
        self.rejected = 0
        fake = self

        class Handler(_JSONHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                fake.calls += 1
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                stamp = self.headers.get("X-Doppel-Timestamp", "")
                given = self.headers.get("X-Doppel-Signature", "")
                fresh = stamp.isdigit() and abs(time.time() - int(stamp)) < 300
                if not (fresh and hmac.compare_digest(given, sign(fake.secret, stamp, raw))):
                    fake.rejected += 1
                    self._json(401, {"error": "bad signature"})
                    return
                if fake.delay_s:
                    time.sleep(fake.delay_s)
                body = json.loads(raw or b"{}")
                order = fake.orders.get(str(body.get("order", "")))
                if order is None or str(order.get("email", "")).lower() != str(
                        body.get("email", "")).lower():
                    self._json(200, {"found": False})
                    return
                self._json(200, {"found": True, "order": body["order"], **order})

        self._httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/orders/status"


class FakeWebhook(_LocalHTTPServer):
    """An owner's webhook receiver on 127.0.0.1: keeps each POSTed JSON body whose
    X-Doppel-Signature verifies under `secret` in `received`, and counts the others in
    `rejected`."""

    def __init__(self, secret: str) -> None:
        from doppel.net import sign_body

        self.secret = secret
        self.received: list[dict[str, Any]] = []
        self.rejected = 0
        hook = self

        class Handler(_JSONHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                stamp = self.headers.get("X-Doppel-Timestamp", "")
                if not hmac.compare_digest(self.headers.get("X-Doppel-Signature", ""),
                                           sign_body(hook.secret, stamp, raw)):
                    hook.rejected += 1
                    self._json(401, {"error": "bad signature"})
                    return
                hook.received.append(json.loads(raw))
                self._json(200, {"ok": True})

        self._httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/hooks/doppel"


# The messaging platforms', Cal.com's and the search APIs' fakes live beside these
# (doppel.testing.channels, .calendars, .search); re-exported so that `from doppel.testing
# import FakeTelegramAPI` works too.
from doppel.testing.calendars import FakeCalcom  # noqa: E402
from doppel.testing.channels import (  # noqa: E402
    FakeGraphAPI,
    FakeTelegramAPI,
    instagram_message,
    messenger_echo,
    messenger_message,
    meta_signature,
    telegram_update,
    whatsapp_message,
    whatsapp_status,
)
from doppel.testing.search import FakeBraveSearch, FakeTavily  # noqa: E402

__all__ = ["FakeBraveSearch", "FakeCalcom", "FakeChatBackend", "FakeEmbedder", "FakeGraphAPI",
           "FakeLlamaGuardServer", "FakeOpenAIServer", "FakeOrderEndpoint", "FakeTavily",
           "FakeTelegramAPI",
           "FakeWebhook", "FakeWebsite", "ServerThread", "SitePage", "instagram_message",
           "messenger_echo", "messenger_message", "meta_signature", "telegram_update",
           "whatsapp_message", "whatsapp_status"]
