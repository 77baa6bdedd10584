"""The student in trainable form: the packaged SmolLM2-135M-Instruct GGUF, dequantised once into
a dense Hugging Face checkpoint under `<models>/student-hf/`.

transformers reads a GGUF with `gguf_file=`, but refuses to train or save a model it considers
quantised: the quantizer and `quantization_config` are dropped first (MODELS.md). The shipped
GGUF is Q4_1, so the dense weights carry its rounding; the student and the adapter's GGUF
conversion both start from this same checkpoint, so the adapter fits the base it is served on.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from doppel.config import Settings
from doppel.errors import ConfigError

STUDENT_DIR = "student-hf"


def student_dir(settings: Settings) -> Path:
    return settings.models_dir / STUDENT_DIR


def prepare_student(settings: Settings) -> Path:
    """The dense checkpoint's folder, made on first use (about half a minute on 2 cores)."""
    target = student_dir(settings)
    if (target / "config.json").is_file():
        return target
    from doppel.models.prepare import shipped_chat_gguf

    source = shipped_chat_gguf()
    if not source.is_file():
        raise ConfigError(f"the packaged student model is missing: {source} (run `make`)")
    try:
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ConfigError("distillation needs transformers and peft (run `make`)") from exc
    tokenizer = AutoTokenizer.from_pretrained(str(source.parent), gguf_file=source.name)
    model = AutoModelForCausalLM.from_pretrained(str(source.parent), gguf_file=source.name)
    model.hf_quantizer = None  # type: ignore[assignment]
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    target.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the target and renamed: a half-written checkpoint is never picked up.
    work = Path(tempfile.mkdtemp(prefix=".student-", dir=target.parent))
    try:
        model.save_pretrained(str(work), safe_serialization=True)
        tokenizer.save_pretrained(str(work))
        work.rename(target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return target
