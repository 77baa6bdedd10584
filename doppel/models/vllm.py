"""Many agents' students on one vLLM: each active student's LoRA adapter, published where vLLM
loads adapters on demand, and a request for an agent names its adapter as the model.

vLLM serves one base model and any number of LoRA adapters on it, loading them as requests ask
for them (`--enable-lora --max-loras N --max-cpu-loras M --max-lora-rank R`). Two ways for it to
find an adapter it has not loaded yet, and doppel supports both:

- **the filesystem resolver** (`VLLM_PLUGINS=lora_filesystem_resolver`,
  `VLLM_ALLOW_RUNTIME_LORA_UPDATING=True`, `VLLM_LORA_RESOLVER_CACHE_DIR=DIR`): a request for
  model `NAME` that vLLM does not know makes it look for `DIR/NAME/adapter_config.json`, whose
  `peft_type` must be LORA and whose `base_model_name_or_path` must equal the served base
  model's name. doppel publishes each student there (`DOPPEL_VLLM_LORA_DIR`, the same folder
  seen from both machines), under the agent's slug, with that field set to the served name.
- **runtime loading** (`VLLM_ALLOW_RUNTIME_LORA_UPDATING=True`, `DOPPEL_VLLM_RUNTIME_LOAD=true`):
  when vLLM answers 404 for an agent's adapter (never loaded, or lost in a restart), the
  backend posts `/v1/load_lora_adapter` with the published path and asks again, once.

An adapter whose rank exceeds `DOPPEL_VLLM_MAX_LORA_RANK` (the server's `--max-lora-rank`) is
not published: vLLM would refuse it at every request; the agent answers on the base model.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path

from doppel.errors import ConfigError

__all__ = ["AdapterDirectory", "ADAPTER_FILES"]

# What vLLM reads of a peft adapter folder.
ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")  # an agent's slug: one path segment


class AdapterDirectory:
    """The folder vLLM's resolver reads: one sub-folder per agent, named by its slug."""

    def __init__(self, root: Path, base_model: str, max_rank: int | None = None) -> None:
        if not base_model:
            raise ConfigError("publishing adapters for vLLM needs the served base model's name "
                              "(DOPPEL_OPENAI_MODEL)")
        self.root = root
        self.base_model = base_model
        self.max_rank = max_rank

    def path(self, name: str) -> Path:
        if not _NAME.match(name):
            raise ConfigError(f"{name!r} cannot name an adapter folder")
        return self.root / name

    def publish(self, name: str, peft_dir: Path) -> Path:
        """Copy a peft adapter to ROOT/NAME, its base set to the served model; replaced whole
        (a reader sees the old adapter or the new one, never half of one). ConfigError when
        it is not a LoRA adapter vLLM would take."""
        config_path = peft_dir / "adapter_config.json"
        try:
            config = json.loads(config_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{peft_dir} is not a peft adapter ({exc})") from None
        if str(config.get("peft_type", "")).upper() != "LORA":
            raise ConfigError(f"{peft_dir}: peft_type {config.get('peft_type')!r}, not LORA")
        rank = int(config.get("r") or 0)
        if self.max_rank is not None and rank > self.max_rank:
            raise ConfigError(f"{peft_dir}: LoRA rank {rank} is above the server's "
                              f"--max-lora-rank {self.max_rank}")
        for file in ADAPTER_FILES[1:]:
            if not (peft_dir / file).is_file():
                raise ConfigError(f"{peft_dir} has no {file}")
        target = self.path(name)
        self.root.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=self.root))
        try:
            shutil.copy2(peft_dir / "adapter_model.safetensors", work)
            config["base_model_name_or_path"] = self.base_model
            (work / "adapter_config.json").write_text(json.dumps(config, indent=2),
                                                      encoding="utf-8")
            os.chmod(work, 0o755)  # mkdtemp's 0700 would hide it from a vLLM run as another user
            old = None
            if target.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{name}-old-", dir=self.root))
                os.replace(target, old / "adapter")
            os.replace(work, target)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        return target

    def withdraw(self, name: str) -> bool:
        target = self.path(name)
        if not target.exists():
            return False
        shutil.rmtree(target)
        return True

    def published(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir()
                      if p.is_dir() and not p.name.startswith("."))
