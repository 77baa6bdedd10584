"""The OpenAI-compatible remote backend: vLLM, llama.cpp's server, Ollama or a hosted provider.

Configuration alone plugs one in (DOPPEL_CHAT_BACKEND=openai, DOPPEL_OPENAI_BASE_URL,
DOPPEL_OPENAI_MODEL, DOPPEL_OPENAI_API_KEY). Requests run concurrently; the API key is sent in
the Authorization header and never logged or put in error messages.

Per-agent LoRA adapters: with `use_adapters`, a request whose `GenerationParams.adapter` is set
names that adapter as its model. vLLM started with `--enable-lora --lora-modules
<slug>=<peft adapter dir>` serves each agent's adapter under its slug, on the shared base; or
finds it on demand in the folder doppel publishes to (doppel/models/vllm.py). With
`adapter_path` (runtime loading), a 404 for an adapter is answered by loading it through
`/v1/load_lora_adapter` and asking once more.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import httpx

from doppel.errors import BackendError, ConfigError
from doppel.models.base import ChatMessage, ChatResult, GenerationParams, StreamChunk, ToolCall


class OpenAICompatibleBackend:
    """Chat completions over HTTP, streaming by server-sent events."""

    name = "openai"

    def __init__(self, base_url: str, model: str, api_key: str = "", *,
                 timeout_s: float = 60.0, context_window: int = 8192,
                 transport: httpx.AsyncBaseTransport | None = None,
                 use_adapters: bool = False,
                 adapter_path: Callable[[str], str | None] | None = None) -> None:
        if not model:
            raise ConfigError("the OpenAI-compatible backend needs a model name "
                              "(DOPPEL_OPENAI_MODEL)")
        self.base_url = base_url.rstrip("/")
        self._model = model
        self._context_window = context_window
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._timeout_s = timeout_s
        self._transport = transport
        self.use_adapters = use_adapters
        self.adapter_path = adapter_path
        self._client_loop: asyncio.AbstractEventLoop | None = None
        self._http: httpx.AsyncClient | None = None

    @property
    def _client(self) -> httpx.AsyncClient:
        """One pooled client per event loop: pooled connections belong to the loop that
        opened them, and the CLI runs each turn in a fresh loop."""
        loop = asyncio.get_running_loop()
        if self._http is None or self._client_loop is not loop:
            self._http = httpx.AsyncClient(base_url=self.base_url, headers=self._headers,
                                           timeout=self._timeout_s, transport=self._transport)
            self._client_loop = loop
        return self._http

    @property
    def model_name(self) -> str:
        return self._model

    @property
    def context_window(self) -> int:
        return self._context_window

    def count_tokens(self, text: str) -> int:
        # The tokenizer lives on the server; ~4 characters per token is the usual estimate for
        # English BPE vocabularies. Budgets keep a margin; exact counts come back in `usage`.
        return max(1, (len(text) + 3) // 4)

    def _adapter(self, params: GenerationParams) -> str | None:
        """The adapter this request is served by: its name is the model the server is asked."""
        return params.adapter if self.use_adapters and params.adapter else None

    def _body(self, messages: Sequence[ChatMessage], params: GenerationParams,
              stream: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self._adapter(params) or self._model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "stream": stream,
        }
        if params.stop:
            body["stop"] = list(params.stop)
        if params.seed is not None:
            body["seed"] = params.seed
        if stream:
            body["stream_options"] = {"include_usage": True}
        return body

    async def _load_missing(self, response: httpx.Response, params: GenerationParams) -> bool:
        """After a 404: load the request's adapter at run time when it is one doppel publishes
        (vLLM never saw it, or lost it in a restart); True when the request may be retried."""
        name = self._adapter(params)
        if response.status_code != 404 or name is None or self.adapter_path is None:
            return False
        path = self.adapter_path(name)
        if path is None:
            return False
        try:
            loaded = await self._client.post("/load_lora_adapter",
                                             json={"lora_name": name, "lora_path": path})
        except httpx.HTTPError:
            return False
        # 400 "already loaded": another worker loaded it meanwhile, which is as good
        return loaded.status_code < 400 or "already" in loaded.text

    async def _post(self, body: dict[str, Any], params: GenerationParams) -> httpx.Response:
        try:
            response = await self._client.post("/chat/completions", json=body)
            if await self._load_missing(response, params):
                response = await self._client.post("/chat/completions", json=body)
        except httpx.HTTPError as exc:
            raise BackendError(f"cannot reach {self.base_url}: {type(exc).__name__}") from exc
        _raise_for_status(response)
        return response

    async def chat(self, messages: Sequence[ChatMessage], params: GenerationParams) -> ChatResult:
        response = await self._post(self._body(messages, params, False), params)
        try:
            data = response.json()
            choice = data["choices"][0]
            usage = data.get("usage") or {}
            return ChatResult(text=choice["message"].get("content") or "",
                              prompt_tokens=int(usage.get("prompt_tokens", 0)),
                              completion_tokens=int(usage.get("completion_tokens", 0)),
                              finish_reason=choice.get("finish_reason"),
                              model=data.get("model", self._model),
                              adapter=self._adapter(params))
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise BackendError(f"malformed response from {self.base_url}: {exc}") from exc

    async def call_tool(self, messages: Sequence[ChatMessage], tools: Sequence[dict[str, Any]],
                        params: GenerationParams) -> ToolCall | None:
        """OpenAI tool calling (vLLM: --enable-auto-tool-choice --tool-call-parser
        llama3_json): the first tool the model calls, or None when it answers instead."""
        body = self._body(messages, params, False) | {"tools": list(tools),
                                                       "tool_choice": "auto"}
        response = await self._post(body, params)
        try:
            calls = response.json()["choices"][0]["message"].get("tool_calls") or []
            if not calls:
                return None
            function = calls[0]["function"]
            arguments = function.get("arguments") or "{}"
            parsed = json.loads(arguments) if isinstance(arguments, str) else arguments
            if not isinstance(parsed, dict):
                raise ValueError("tool arguments are not an object")
            return ToolCall(str(function["name"]), parsed)
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise BackendError(f"malformed tool call from {self.base_url}: {exc}") from exc

    async def _open_stream(self, body: dict[str, Any],
                           params: GenerationParams) -> httpx.Response:
        """The streaming response, its status checked (an adapter loaded and asked again once,
        as `_post` does); the caller reads and closes it."""
        for attempt in (1, 2):
            request = self._client.build_request("POST", "/chat/completions", json=body)
            response = await self._client.send(request, stream=True)
            if response.status_code < 400:
                return response
            await response.aread()
            await response.aclose()
            if attempt == 1 and await self._load_missing(response, params):
                continue
            _raise_for_status(response)
        raise BackendError(f"model server at {self.base_url} refused the request")

    async def stream(
        self, messages: Sequence[ChatMessage], params: GenerationParams
    ) -> AsyncIterator[StreamChunk]:
        finish: str | None = None
        usage: dict[str, Any] = {}
        n_chunks = 0
        try:
            response = await self._open_stream(self._body(messages, params, True), params)
            try:
                async for line in response.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    payload = line[5:].strip()
                    if payload == "[DONE]":
                        break
                    try:
                        event = json.loads(payload)
                    except json.JSONDecodeError as exc:
                        raise BackendError(f"malformed stream event from {self.base_url}") from exc
                    if event.get("usage"):
                        usage = event["usage"]
                    for choice in event.get("choices") or []:
                        text = (choice.get("delta") or {}).get("content") or ""
                        if text:
                            n_chunks += 1
                            yield StreamChunk(text, adapter=self._adapter(params))
                        if choice.get("finish_reason"):
                            finish = choice["finish_reason"]
            finally:
                await response.aclose()
        except httpx.HTTPError as exc:
            raise BackendError(f"cannot reach {self.base_url}: {type(exc).__name__}") from exc
        yield StreamChunk("", finish_reason=finish or "stop",
                          prompt_tokens=int(usage.get("prompt_tokens", 0)),
                          completion_tokens=int(usage.get("completion_tokens", n_chunks)),
                          adapter=self._adapter(params))

    async def aclose(self) -> None:
        if self._http is not None and self._client_loop is asyncio.get_running_loop():
            await self._http.aclose()
        self._http = None


def _raise_for_status(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    try:
        message = response.json()["error"]["message"]
    except Exception:
        message = response.text[:200]
    raise BackendError(f"model server answered {response.status_code}: {message}")
