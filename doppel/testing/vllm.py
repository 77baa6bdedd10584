"""A fake vLLM server that enforces vLLM's rules for many LoRA adapters on one base model.

It answers chat completions as FakeOpenAIServer does, for the served base model and for
adapters, and refuses what vLLM refuses (its error shape: `{"error": {"message", "type",
"code"}}`):
- a model that is neither the base nor a loaded adapter: 404 "The model `X` does not exist.",
  unless the filesystem resolver finds it (`resolver_dir`, as VLLM_LORA_RESOLVER_CACHE_DIR):
  `DIR/X/adapter_config.json` with peft_type LORA and base_model_name_or_path equal to the
  served name, and an `adapter_model.safetensors`; then it is loaded and answers;
- an adapter whose rank is above `max_lora_rank` (vLLM's --max-lora-rank, default 16);
- `/v1/load_lora_adapter` and `/v1/unload_lora_adapter` only with `runtime_updates`
  (VLLM_ALLOW_RUNTIME_LORA_UPDATING); loading one already loaded is a 400.
At most `max_cpu_loras` adapters stay loaded (least recently used dropped), as vLLM's CPU LRU
cache does; `loads` records every load, `restart()` forgets them all.

    with FakeVLLMServer("meta-llama/Llama-3.1-8B-Instruct", resolver_dir=folder) as vllm:
        ... DOPPEL_OPENAI_BASE_URL=vllm.base_url ...
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from doppel.testing import FakeOpenAIServer

__all__ = ["FakeVLLMServer"]


def _error(status: int, message: str, kind: str) -> tuple[int, dict[str, Any]]:
    return status, {"error": {"message": message, "type": kind, "param": None, "code": status}}


class FakeVLLMServer(FakeOpenAIServer):
    def __init__(self, base_model: str, *, resolver_dir: Path | None = None,
                 runtime_updates: bool = False, max_lora_rank: int = 16,
                 max_cpu_loras: int = 4) -> None:
        self.base_model = base_model
        self.resolver_dir = resolver_dir
        self.runtime_updates = runtime_updates or resolver_dir is not None
        self.max_lora_rank = max_lora_rank
        self.max_cpu_loras = max_cpu_loras
        self.loaded: OrderedDict[str, str] = OrderedDict()  # name -> path, LRU order
        self.loads: list[tuple[str, str]] = []  # (name, how: "resolver" | "runtime")
        self._lock = threading.Lock()
        super().__init__(self._reply, gate=self._gate)

    def restart(self) -> None:
        """A vLLM restart: adapters loaded at run time are gone."""
        with self._lock:
            self.loaded.clear()

    def _reply(self, body: dict[str, Any]) -> str:
        model = body.get("model")
        return f"answered by {model}" if model != self.base_model else "answered by the base"

    def _check(self, path: Path) -> str | None:
        """Why vLLM would refuse the adapter folder, or None."""
        config_file = path / "adapter_config.json"
        if not config_file.is_file():
            return f"No adapter found for {path}"
        config = json.loads(config_file.read_text(encoding="utf-8"))
        if str(config.get("peft_type", "")).upper() != "LORA":
            return f"{path} is not a LoRA adapter"
        if config.get("base_model_name_or_path") != self.base_model:
            return f"{path} was trained for {config.get('base_model_name_or_path')!r}"
        if int(config.get("r") or 0) > self.max_lora_rank:
            return (f"LoRA rank {config.get('r')} is greater than max_lora_rank "
                    f"{self.max_lora_rank}.")
        if not (path / "adapter_model.safetensors").is_file():
            return f"No adapter weights found in {path}"
        return None

    def _load(self, name: str, path: str, how: str) -> None:
        self.loaded[name] = path
        self.loaded.move_to_end(name)
        self.loads.append((name, how))
        while len(self.loaded) > self.max_cpu_loras:
            self.loaded.popitem(last=False)

    def _gate(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        route = path.rstrip("/")
        with self._lock:
            if route == "/v1/load_lora_adapter":
                if not self.runtime_updates:
                    return _error(404, "Not Found", "NotFoundError")
                name, where = str(body.get("lora_name", "")), str(body.get("lora_path", ""))
                if name in self.loaded:
                    return _error(400, f"The lora adapter '{name}' has already been loaded.",
                                  "InvalidUserInput")
                if (problem := self._check(Path(where))) is not None:
                    return _error(400, problem, "BadRequestError")
                self._load(name, where, "runtime")
                return 200, {"message": f"Success: LoRA adapter '{name}' added successfully."}
            if route == "/v1/unload_lora_adapter":
                name = str(body.get("lora_name", ""))
                if self.loaded.pop(name, None) is None:
                    return _error(404, f"The lora adapter '{name}' cannot be found.",
                                  "NotFoundLoRAAdapter")
                return 200, {"message": f"Success: LoRA adapter '{name}' removed successfully."}
            if route != "/v1/chat/completions":
                return None
            model = str(body.get("model", ""))
            if model == self.base_model:
                return None
            if model in self.loaded:
                self.loaded.move_to_end(model)
                return None
            if self.resolver_dir is not None and "/" not in model and model not in ("", ".."):
                folder = self.resolver_dir / model
                if folder.is_dir():
                    if (problem := self._check(folder)) is not None:
                        return _error(400, problem, "BadRequestError")
                    self._load(model, str(folder), "resolver")
                    return None
            return _error(404, f"The model `{model}` does not exist.", "NotFoundError")
