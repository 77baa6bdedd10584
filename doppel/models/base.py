"""The model interfaces: ChatBackend (chat, stream, token counting) and Embedder.

These are the extension points for models. A backend is registered by name in BACKENDS with a
factory taking Settings; the built-in 'embedded' (llama.cpp) and 'openai' (any OpenAI-compatible
server) backends register exactly as a third-party one would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import numpy as np

from doppel.registry import Registry

if TYPE_CHECKING:
    from doppel.config import Settings

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str


@dataclass(frozen=True)
class GenerationParams:
    """Sampling parameters, always set explicitly: engines' defaults differ (see MODELS.md)."""

    max_tokens: int = 160
    temperature: float = 0.2
    top_p: float = 0.9
    repeat_penalty: float = 1.1
    stop: tuple[str, ...] = ()
    seed: int | None = None
    # The agent slug whose LoRA adapter to apply (None: the base model). A backend without that
    # adapter serves the base model and says so in ChatResult.adapter.
    adapter: str | None = None
    # A JSON Schema (as JSON text) the output must follow: the embedded model generates under
    # the llama.cpp grammar made from it. Backends that cannot constrain output ignore it.
    json_schema: str | None = None


@dataclass
class ChatResult:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str | None
    model: str
    adapter: str | None = None  # the adapter that actually served the answer (None: base)


@dataclass(frozen=True)
class ToolCall:
    """A model's choice of a tool and the arguments it filled (not yet validated)."""

    name: str
    arguments: dict[str, Any]


@runtime_checkable
class ToolCallingBackend(Protocol):
    """A chat backend that can choose a tool natively (OpenAI `tools`; vLLM with
    --enable-auto-tool-choice). The embedded 135M model cannot: doppel routes by rules there."""

    async def call_tool(self, messages: Sequence[ChatMessage], tools: Sequence[dict[str, Any]],
                        params: GenerationParams) -> ToolCall | None:
        """The tool the model chose for the conversation, or None for a plain answer."""
        ...


@dataclass
class StreamChunk:
    """A piece of a streamed answer; the last chunk has finish_reason and token counts.

    A backend may also report the counts so far on any chunk, so that a consumer that stops
    reading early still knows what was generated."""

    text: str
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    adapter: str | None = None  # on the last chunk: the adapter that served it (None: base)


@runtime_checkable
class ChatBackend(Protocol):
    """A chat model. Implementations must be safe to share between agents in one process."""

    name: str

    @property
    def model_name(self) -> str: ...

    @property
    def context_window(self) -> int: ...

    async def chat(self, messages: Sequence[ChatMessage], params: GenerationParams) -> ChatResult:
        """Generate a whole answer."""
        ...

    def stream(
        self, messages: Sequence[ChatMessage], params: GenerationParams
    ) -> AsyncIterator[StreamChunk]:
        """Generate an answer piece by piece. Closing the iterator early stops generation."""
        ...

    def count_tokens(self, text: str) -> int:
        """Tokens in text for this model (an estimate where the model's tokenizer is remote)."""
        ...

    async def aclose(self) -> None: ...


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of a fixed dimension."""

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32, each row of unit length."""
        ...


def message_overhead_tokens() -> int:
    """Chat templates add a few tokens per message (role markers); used for budgeting."""
    return 5


def count_message_tokens(backend: ChatBackend, messages: Sequence[ChatMessage]) -> int:
    return sum(backend.count_tokens(m.content) + message_overhead_tokens() for m in messages)


@dataclass
class BackendFactory:
    """Registry entry: builds a backend from Settings."""

    name: str
    create: Callable[[Settings], ChatBackend]
    description: str = ""
    tags: list[str] = field(default_factory=list)


# Third-party backends: a `BackendFactory` in the `doppel.backends` entry-point group.
BACKENDS: Registry[BackendFactory] = Registry(
    "chat backend", group="doppel.backends", accepts=lambda obj: isinstance(obj, BackendFactory))
