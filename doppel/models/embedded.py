"""The embedded chat backend: a GGUF model (SmolLM2-135M-Instruct by default) on llama.cpp.

One model is loaded once per process and shared by every agent (`shared_embedded_backend`).
All llama.cpp work runs on one dedicated thread: llama.cpp is built with OpenMP here, and when
generation hops between threads OpenMP's workers sleep between steps and speed drops ~40 %
(measured in MODELS.md). One thread also serialises generations, which a single llama context
requires anyway.

The prompt is rendered with the chat template stored in the GGUF and sent as tokens, so the
prompt token count is exact and llama.cpp's prefix reuse applies: an agent's fixed system
prompt is evaluated once and reused by the next turn.

Per-agent LoRA adapters (GGUF, from `doppel.distill.gguf`) are applied to the one shared base
model per request (`GenerationParams.adapter`). Registering an adapter only records and checks
its file; up to `max_loaded_adapters` are held loaded in llama.cpp (an LRU, ~2 MB each for r=8
on SmolLM2), so memory is the base once plus the loaded adapters, never a base per agent.
Switching adapters is a pointer swap on the context, but the KV cache computed under another
adapter is wrong for this one: a switch drops the prefix cache, and the next prompt is
evaluated in full. A corrupt or mismatched adapter is refused with a one-line log and the
request is served by the base model.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import ctypes
import functools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from doppel.errors import BackendError, ConfigError, ContextOverflowError
from doppel.models.base import ChatMessage, ChatResult, GenerationParams, StreamChunk

_DONE = object()
log = logging.getLogger(__name__)


@dataclass
class AdapterInfo:
    """A registered LoRA adapter: its GGUF file and, once llama.cpp refused it, why."""

    name: str
    path: Path
    size_bytes: int
    mtime_ns: int
    scale: float = 1.0
    error: str | None = None


class EmbeddedBackend:
    """llama-cpp-python behind the ChatBackend protocol."""

    name = "embedded"

    def __init__(self, model_path: Path, *, n_ctx: int = 2048, n_threads: int = 2,
                 max_loaded_adapters: int = 8) -> None:
        if not Path(model_path).is_file():
            raise ConfigError(f"model file not found: {model_path} (run `doppel init`)")
        if max_loaded_adapters < 1:
            raise ConfigError("max_loaded_adapters must be at least 1")
        self.model_path = Path(model_path)
        self._n_ctx = n_ctx
        self.max_loaded_adapters = max_loaded_adapters
        # Registered adapters, read by the llama thread and written by any: under the lock.
        self._adapters: dict[str, AdapterInfo] = {}
        self._adapters_lock = threading.Lock()
        # Touched only on the llama thread: loaded adapters in LRU order (oldest first) with
        # the file signature they were loaded from, and the adapter set on the context.
        self._loaded: OrderedDict[str, tuple[tuple[str, int, int], Any]] = OrderedDict()
        self._active: str | None = None
        self._warned: set[str] = set()
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

    # --- adapters -----------------------------------------------------------------------------
    def register_adapter(self, name: str, gguf_path: Path, *, scale: float = 1.0) -> AdapterInfo:
        """Record a GGUF LoRA for `name` (an agent slug) after checking its header; cheap, any
        thread. Raises BackendError with the reason when the file is not a LoRA for this base;
        requests for an unregistered name are served by the base model."""
        path = Path(gguf_path)
        try:
            check_lora_file(path, self.architecture)
            stat = path.stat()
        except (OSError, BackendError) as exc:
            reason = str(exc) if isinstance(exc, BackendError) else f"cannot read {path}: {exc}"
            log.warning("adapter %r refused: %s", name, reason)
            raise BackendError(f"adapter {name!r} refused: {reason}") from exc
        info = AdapterInfo(name=name, path=path, size_bytes=stat.st_size,
                           mtime_ns=stat.st_mtime_ns, scale=scale)
        with self._adapters_lock:
            self._adapters[name] = info
            self._warned.discard(name)
        return info

    def unregister_adapter(self, name: str) -> None:
        """Forget an adapter; it is unloaded on the llama thread after the current request."""
        with self._adapters_lock:
            known = self._adapters.pop(name, None) is not None
        if known and self._llama is not None:
            self._executor.submit(self._unload_adapter, name)

    def adapters(self) -> list[AdapterInfo]:
        """The registered adapters."""
        with self._adapters_lock:
            return list(self._adapters.values())

    def loaded_adapters(self) -> list[str]:
        """Names of the adapters loaded in llama.cpp, least recently used first (waits for the
        llama thread: for tests, benchmarks and admin pages, not for the hot path)."""
        return self._executor.submit(lambda: list(self._loaded)).result()

    def activate_adapter(self, name: str | None) -> str | None:
        """Set `name`'s adapter (None: none) on the context now, as a request would; returns
        the adapter actually applied. For warming up and measuring switches."""
        return self._executor.submit(self._use_adapter, name).result()

    @property
    def architecture(self) -> str:
        return str(self._llama.metadata.get("general.architecture", ""))

    def _use_adapter(self, name: str | None) -> str | None:
        """On the llama thread: make `name`'s adapter the one set on the context, falling back
        to the base model when it is unknown or refused. Returns what is applied."""
        handle: Any = None
        scale = 1.0
        if name is not None:
            with self._adapters_lock:
                info = self._adapters.get(name)
            if info is None:
                self._warn_once(name, f"adapter {name!r} is not registered; serving the base "
                                "model")
            elif info.error is None:
                handle = self._load_adapter(info)
                scale = info.scale
            if handle is None:
                name = None
        if name == self._active:
            return name
        import llama_cpp

        ctx = self._llama._ctx.ctx
        if handle is None:
            rc = llama_cpp.llama_set_adapters_lora(ctx, None, 0, None)
        else:
            rc = llama_cpp.llama_set_adapters_lora(
                ctx, (llama_cpp.llama_adapter_lora_p_ctypes * 1)(handle), 1,
                (ctypes.c_float * 1)(scale))
        if rc != 0:  # the context may hold a partial set: serve with none
            llama_cpp.llama_set_adapters_lora(ctx, None, 0, None)
            self._warn_once(f"set:{name}", f"llama.cpp could not set adapter {name!r} "
                            f"(code {rc}); serving the base model")
            name = None
        # The KV cache holds keys and values computed under the previous adapter: reusing the
        # cached prefix would mix two models. Forget it; the next prompt is evaluated in full.
        self._llama.reset()
        self._active = name
        return name

    def _load_adapter(self, info: AdapterInfo) -> Any:
        """On the llama thread: the loaded adapter for `info`, loading (and evicting the least
        recently used beyond capacity) when needed; None when llama.cpp refuses the file."""
        import llama_cpp

        signature = (str(info.path), info.size_bytes, info.mtime_ns)
        entry = self._loaded.get(info.name)
        if entry is not None and entry[0] == signature:
            self._loaded.move_to_end(info.name)
            return entry[1]
        if entry is not None:  # re-registered with another file: the old one goes first
            self._unload_adapter(info.name)
        handle = llama_cpp.llama_adapter_lora_init(self._llama._model.model,
                                                   str(info.path).encode())
        if not handle:  # a NULL pointer comes back as a false ctypes pointer, not None
            info.error = ("llama.cpp could not load it (truncated file, or tensors that do "
                          "not fit this base model)")
            self._warn_once(info.name, f"adapter {info.name!r} refused at load: {info.error}; "
                            "serving the base model")
            return None
        self._loaded[info.name] = (signature, handle)
        while len(self._loaded) > self.max_loaded_adapters:
            self._unload_adapter(next(iter(self._loaded)))
        return handle

    def _unload_adapter(self, name: str) -> None:
        """On the llama thread: free a loaded adapter, detaching it from the context first."""
        import llama_cpp

        entry = self._loaded.pop(name, None)
        if entry is None:
            return
        if self._active == name:
            llama_cpp.llama_set_adapters_lora(self._llama._ctx.ctx, None, 0, None)
            self._llama.reset()
            self._active = None
        llama_cpp.llama_adapter_lora_free(entry[1])

    def _unload_all(self) -> None:
        for name in list(self._loaded):
            self._unload_adapter(name)

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning("%s", message)

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
                          finish_reason=last.finish_reason, model=self.model_name,
                          adapter=last.adapter)

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
                served = self._use_adapter(params.adapter)
                grammar = _grammar(params.json_schema) if params.json_schema else None
                for part in self._llama.create_completion(
                    prompt=tokens, max_tokens=params.max_tokens, temperature=params.temperature,
                    top_p=params.top_p, top_k=40, min_p=0.05,
                    repeat_penalty=params.repeat_penalty, stop=stop, seed=params.seed,
                    stream=True, grammar=grammar,
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
                            # The adapter on every chunk: a turn that stops generating early
                            # (a sentence failed the gate) still records who drafted it.
                            put(StreamChunk(pending, prompt_tokens=len(tokens),
                                            completion_tokens=n_out, adapter=served))
                            pending, since = "", time.perf_counter()
                    if choice.get("finish_reason"):
                        finish = choice["finish_reason"]
                if pending:
                    put(StreamChunk(pending, prompt_tokens=len(tokens), completion_tokens=n_out,
                                    adapter=served))
                put(StreamChunk("", finish_reason=finish or "stop", prompt_tokens=len(tokens),
                                completion_tokens=n_out, adapter=served))
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
            # Adapters are freed before the model they belong to, on the llama thread; at
            # interpreter exit the executor takes no new work, but its thread is idle by then.
            try:
                self._executor.submit(self._unload_all).result()
            except RuntimeError:
                self._unload_all()
            self._executor.shutdown(wait=True)
            self._llama.close()
            self._llama = None


@functools.lru_cache(maxsize=32)
def _grammar(schema: str) -> Any:
    """llama.cpp's grammar for a JSON Schema (built once per schema: it takes milliseconds)."""
    from llama_cpp import LlamaGrammar

    return LlamaGrammar.from_json_schema(schema, verbose=False)


def check_lora_file(path: Path, architecture: str) -> None:
    """Raise BackendError unless `path` is a complete GGUF LoRA adapter for `architecture`.

    Reads the header and tensor index only (a few ms for a 2 MB adapter); llama.cpp checks
    each tensor's shape against the base when it loads the adapter."""
    with open(path, "rb") as f:
        if f.read(4) != b"GGUF":
            raise BackendError(f"{path.name} is not a GGUF file")
    try:
        from gguf import GGUFReader
    except ImportError:  # pragma: no cover - gguf comes with transformers' GGUF support
        return
    try:
        reader = GGUFReader(str(path))
    except Exception as exc:  # the reader raises ValueError, IndexError... on damaged files
        raise BackendError(f"{path.name} is damaged ({type(exc).__name__}: {exc})") from exc

    def field(key: str) -> str:
        f = reader.get_field(key)
        return str(f.contents()) if f is not None else ""

    if field("general.type") != "adapter" or field("adapter.type") != "lora":
        raise BackendError(f"{path.name} is not a LoRA adapter (general.type="
                           f"{field('general.type') or '?'}, adapter.type="
                           f"{field('adapter.type') or '?'})")
    if architecture and field("general.architecture") != architecture:
        raise BackendError(f"{path.name} is for architecture "
                           f"{field('general.architecture') or '?'}, the base is {architecture}")
    size = path.stat().st_size
    if not reader.tensors or any(t.data_offset + t.n_bytes > size for t in reader.tensors):
        raise BackendError(f"{path.name} is truncated or holds no tensors")


_shared: dict[tuple[str, int, int], EmbeddedBackend] = {}
_shared_lock = threading.Lock()


def shared_embedded_backend(model_path: Path, n_ctx: int, n_threads: int, *,
                            max_loaded_adapters: int = 8) -> EmbeddedBackend:
    """The process-wide instance for this model file and shape (loaded on first use; the
    adapter capacity of the first call wins)."""
    key = (str(Path(model_path).resolve()), n_ctx, n_threads)
    with _shared_lock:
        backend = _shared.get(key)
        if backend is None:
            started = time.perf_counter()
            backend = EmbeddedBackend(model_path, n_ctx=n_ctx, n_threads=n_threads,
                                      max_loaded_adapters=max_loaded_adapters)
            backend.load_seconds = time.perf_counter() - started  # type: ignore[attr-defined]
            _shared[key] = backend
        return backend


@atexit.register
def _close_shared() -> None:
    for backend in _shared.values():
        backend.close()
    _shared.clear()
