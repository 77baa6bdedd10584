"""The embedded chat backend: a GGUF model (SmolLM2-135M-Instruct by default) on llama.cpp.

One model is loaded once per process and shared by every agent (`shared_embedded_backend`).
All llama.cpp work runs on one dedicated thread: llama.cpp is built with OpenMP here, and when
generation hops between threads OpenMP's workers sleep between steps and speed drops ~40 %
(measured in MODELS.md). One thread also serialises generations, which a single llama context
requires anyway.

The prompt is rendered with the chat template stored in the GGUF and sent as tokens, so the
prompt token count is exact and llama.cpp's prefix reuse applies: an agent's fixed system
prompt is evaluated once and reused by the next turn.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import threading
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from doppel.errors import BackendError, ConfigError, ContextOverflowError
from doppel.models.base import ChatMessage, ChatResult, GenerationParams, StreamChunk

_DONE = object()


class EmbeddedBackend:
    """llama-cpp-python behind the ChatBackend protocol."""

    name = "embedded"

    def __init__(self, model_path: Path, *, n_ctx: int = 2048, n_threads: int = 2) -> None:
        if not Path(model_path).is_file():
            raise ConfigError(f"model file not found: {model_path} (run `doppel init`)")
        self.model_path = Path(model_path)
        self._n_ctx = n_ctx
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="doppel-llama")
        # Load on the generation thread itself so that OpenMP's pool belongs to it.
        self._llama: Any = self._executor.submit(self._load, n_ctx, n_threads).result()
        self._formatter = self._make_formatter()

    # --- set-up -----------------------------------------------------------------------------
    def _load(self, n_ctx: int, n_threads: int) -> Any:
        try:
            from llama_cpp import Llama
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ConfigError("llama-cpp-python is not installed (run `make`)") from exc
        return Llama(model_path=str(self.model_path), n_ctx=n_ctx, n_threads=n_threads,
                     n_threads_batch=n_threads, n_batch=512, verbose=False)

    def _make_formatter(self) -> Any:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        meta = self._llama.metadata
        template = meta.get("tokenizer.chat_template")
        if not template:
            raise ConfigError(f"{self.model_path.name} has no chat template")
        vocab = self._llama
        eos = vocab.detokenize([vocab.token_eos()], special=True).decode("utf-8", "ignore")
        bos = vocab.detokenize([vocab.token_bos()], special=True).decode("utf-8", "ignore")
        return Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos,
                                   add_generation_prompt=True)

    # --- protocol -----------------------------------------------------------------------------
    @property
    def model_name(self) -> str:
        return self.model_path.stem

    @property
    def context_window(self) -> int:
        return self._n_ctx

    def count_tokens(self, text: str) -> int:
        return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def render(self, messages: Sequence[ChatMessage]) -> tuple[str, list[str]]:
        """The exact prompt text the model sees, and the template's stop strings."""
        response = self._formatter(messages=[{"role": m.role, "content": m.content}
                                             for m in messages])
        stop = response.stop if isinstance(response.stop, list) else (
            [response.stop] if response.stop else [])
        return response.prompt, [s for s in stop if s]

    def prompt_tokens(self, messages: Sequence[ChatMessage]) -> list[int]:
        prompt, _ = self.render(messages)
        # The template writes special tokens (<|im_start|>) as text: tokenise them as specials.
        return list(self._llama.tokenize(prompt.encode("utf-8"), add_bos=False, special=True))

    async def chat(self, messages: Sequence[ChatMessage], params: GenerationParams) -> ChatResult:
        parts: list[str] = []
        last = StreamChunk("")
        async for chunk in self.stream(messages, params):
            parts.append(chunk.text)
            last = chunk
        return ChatResult(text="".join(parts), prompt_tokens=last.prompt_tokens or 0,
                          completion_tokens=last.completion_tokens or 0,
                          finish_reason=last.finish_reason, model=self.model_name)

    async def stream(
        self, messages: Sequence[ChatMessage], params: GenerationParams
    ) -> AsyncIterator[StreamChunk]:
        prompt, template_stop = self.render(messages)
        tokens = list(self._llama.tokenize(prompt.encode("utf-8"), add_bos=False, special=True))
        if len(tokens) + params.max_tokens > self._n_ctx:
            raise ContextOverflowError(
                f"prompt of {len(tokens)} tokens + {params.max_tokens} to generate exceeds the "
                f"context window of {self._n_ctx}")
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[object] = asyncio.Queue()
        cancel = threading.Event()
        stop = list(dict.fromkeys([*params.stop, *template_stop]))

        def put(item: object) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, item)

        def work() -> None:
            n_out = 0
            finish: str | None = None
            pending, since = "", time.perf_counter()
            try:
                for part in self._llama.create_completion(
                    prompt=tokens, max_tokens=params.max_tokens, temperature=params.temperature,
                    top_p=params.top_p, top_k=40, min_p=0.05,
                    repeat_penalty=params.repeat_penalty, stop=stop, seed=params.seed,
                    stream=True,
                ):
                    if cancel.is_set():
                        finish = "cancelled"
                        break
                    choice = part["choices"][0]
                    if choice["text"]:
                        n_out += 1
                        pending += choice["text"]
                        # Hand text over at word ends that may close a sentence, or every
                        # 50 ms: waking the event loop for every token costs generation speed.
                        if (n_out == 1 or pending[-1] in ".!?\n:;"
                                or time.perf_counter() - since > 0.05):
                            put(StreamChunk(pending, prompt_tokens=len(tokens),
                                            completion_tokens=n_out))
                            pending, since = "", time.perf_counter()
                    if choice.get("finish_reason"):
                        finish = choice["finish_reason"]
                if pending:
                    put(StreamChunk(pending, prompt_tokens=len(tokens), completion_tokens=n_out))
                put(StreamChunk("", finish_reason=finish or "stop", prompt_tokens=len(tokens),
                                completion_tokens=n_out))
            except Exception as exc:  # surfaced to the awaiting coroutine
                put(BackendError(f"embedded model failed: {exc}"))
            finally:
                put(_DONE)

        future = loop.run_in_executor(self._executor, work)
        try:
            while True:
                item = await queue.get()
                if item is _DONE:
                    break
                if isinstance(item, BaseException):
                    raise item
                assert isinstance(item, StreamChunk)
                yield item
        finally:
            cancel.set()
            await asyncio.shield(future)

    async def aclose(self) -> None:
        """The shared model lives for the whole process; closing is a no-op."""

    def close(self) -> None:
        """Free the model (called at exit: llama.cpp's own finaliser fails at shutdown)."""
        if self._llama is not None:
            self._executor.shutdown(wait=True)
            self._llama.close()
            self._llama = None


_shared: dict[tuple[str, int, int], EmbeddedBackend] = {}
_shared_lock = threading.Lock()


def shared_embedded_backend(model_path: Path, n_ctx: int, n_threads: int) -> EmbeddedBackend:
    """The process-wide instance for this model file and shape (loaded on first use)."""
    key = (str(Path(model_path).resolve()), n_ctx, n_threads)
    with _shared_lock:
        backend = _shared.get(key)
        if backend is None:
            started = time.perf_counter()
            backend = EmbeddedBackend(model_path, n_ctx=n_ctx, n_threads=n_threads)
            backend.load_seconds = time.perf_counter() - started  # type: ignore[attr-defined]
            _shared[key] = backend
        return backend


@atexit.register
def _close_shared() -> None:
    for backend in _shared.values():
        backend.close()
    _shared.clear()
