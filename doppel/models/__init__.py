"""Chat and embedding backends, and the registry that names them."""

from __future__ import annotations

from doppel.config import Settings
from doppel.errors import ConfigError
from doppel.models.base import (
    BACKENDS,
    BackendFactory,
    ChatBackend,
    ChatMessage,
    ChatResult,
    Embedder,
    GenerationParams,
    StreamChunk,
)
from doppel.models.prepare import model_paths

__all__ = [
    "BACKENDS", "BackendFactory", "ChatBackend", "ChatMessage", "ChatResult", "Embedder",
    "GenerationParams", "StreamChunk", "load_backend", "load_embedder",
]


def _embedded(settings: Settings) -> ChatBackend:
    from doppel.models.embedded import shared_embedded_backend

    return shared_embedded_backend(model_paths(settings).chat, settings.n_ctx, settings.n_threads,
                                   max_loaded_adapters=settings.max_loaded_adapters)


def _openai(settings: Settings) -> ChatBackend:
    from doppel.models.remote import OpenAICompatibleBackend

    folder = settings.vllm_lora_dir
    loads = settings.vllm_runtime_load and folder is not None

    def adapter_path(name: str) -> str | None:
        path = folder / name if folder is not None else None
        return str(path) if path is not None and (path / "adapter_config.json").is_file() \
            else None

    return OpenAICompatibleBackend(settings.openai_base_url, settings.openai_model,
                                   settings.openai_api_key, timeout_s=settings.openai_timeout_s,
                                   use_adapters=settings.openai_lora_adapters,
                                   adapter_path=adapter_path if loads else None)


BACKENDS.register(BackendFactory("embedded", _embedded,
                                 "SmolLM2-135M-Instruct (or DOPPEL_MODEL_PATH) on llama.cpp"))
BACKENDS.register(BackendFactory("openai", _openai,
                                 "any OpenAI-compatible server (vLLM, llama.cpp, Ollama, ...)"))


def load_backend(settings: Settings, name: str | None = None) -> ChatBackend:
    """The chat backend named by the settings (or `name`)."""
    try:
        factory = BACKENDS.get(name or settings.chat_backend)
    except KeyError as exc:
        raise ConfigError(str(exc.args[0])) from None
    return factory.create(settings)


_embedders: dict[str, Embedder] = {}


def load_embedder(settings: Settings) -> Embedder:
    """The process-wide MiniLM embedder for this data directory."""
    from doppel.models.embedder import OnnxEmbedder

    paths = model_paths(settings)
    key = str(paths.embedder_onnx)
    if key not in _embedders:
        _embedders[key] = OnnxEmbedder(paths.embedder_onnx, paths.embedder_tokenizer,
                                       n_threads=settings.n_threads)
    return _embedders[key]
