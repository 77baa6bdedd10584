"""LoRA training of the student on the real weights: tiny runs (batch 2, <64 tokens, 4 steps).

One uninterrupted run and one interrupted-then-resumed run are made once per module and shared;
the adapter, curve and report tests read the uninterrupted one.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("peft")

from doppel.config import Settings  # noqa: E402
from doppel.distill.train import (  # noqa: E402
    StepInfo,
    TrainConfig,
    encode_examples,
    generate,
    load_adapter_model,
    train,
)
from doppel.errors import ValidationError  # noqa: E402
from tests.conftest import shared_models_dir  # noqa: E402

pytestmark = pytest.mark.model

SYSTEM = "You answer for a bakery."  # short: every token costs training time
EXAMPLES: list[dict[str, Any]] = [
    {"messages": [{"role": "user", "content": "When do you open on Sunday?"}],
     "answer": "We open at 8 am on Sunday."},
    {"messages": [{"role": "user", "content": "Do you sell gift cards?"}],
     "answer": "Yes, gift cards are sold at the counter."},
    {"messages": [{"role": "user", "content": "How much is a croissant?"}],
     "answer": "An almond croissant costs $5.25."},
    {"messages": [{"role": "user", "content": "Can I order a cake?"}],
     "answer": "Yes, order cakes two days ahead."},
]
# 4 examples, batch 2, 2 epochs = 4 steps; a high lr so that 2 steps visibly move LoRA's B.
CONFIG = TrainConfig(epochs=2, batch_size=2, max_len=64, lr=5e-3, checkpoint_every=100)


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    from doppel.distill.student import prepare_student

    settings = Settings(home=tmp_path_factory.mktemp("train-home"),
                        models_home=shared_models_dir())
    prepare_student(settings)
    return settings


@pytest.fixture(scope="module")
def student(settings: Settings) -> Path:
    from doppel.distill.student import student_dir

    return student_dir(settings)


@pytest.fixture(scope="module")
def uninterrupted(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run-a")
    train(EXAMPLES, out, settings, CONFIG, system=SYSTEM, progress=False, log=lambda m: None)
    return out


@pytest.fixture(scope="module")
def resumed(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """The same run, interrupted (Ctrl-C) after step 1, half-way through the first epoch, and
    started again: the resumed part finishes that epoch and reshuffles for the next."""
    out = tmp_path_factory.mktemp("run-b")
    messages: list[str] = []

    def interrupt(info: StepInfo) -> None:
        if info.step == 1:
            raise KeyboardInterrupt

    config = replace(CONFIG, checkpoint_every=1)
    with pytest.raises(KeyboardInterrupt):
        train(EXAMPLES, out, settings, config, system=SYSTEM, progress=False,
              log=messages.append, on_step=interrupt)
    assert not (out / "adapter").exists() and (out / "checkpoint" / "meta.json").is_file()
    result = train(EXAMPLES, out, settings, config, system=SYSTEM, progress=False,
                   log=messages.append)
    assert result.resumed_from == 1 and result.steps == 4
    return out, messages


def lora_weights(adapter: Path) -> dict[str, Any]:
    from safetensors.torch import load_file

    return load_file(str(adapter / "adapter_model.safetensors"))


def test_adapter_loads_and_changes_the_student(uninterrupted: Path, student: Path) -> None:
    import torch

    config = json.loads((uninterrupted / "adapter" / "adapter_config.json").read_text())
    assert config["r"] == 8 and config["lora_alpha"] == 16
    assert set(config["target_modules"]) == {"q_proj", "k_proj", "v_proj", "o_proj"}
    model, tokenizer = load_adapter_model(student, uninterrupted / "adapter")
    assert not model.training
    ids = tokenizer("When do you open?", return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        tuned = model(input_ids=ids).logits
        with model.disable_adapter():
            base = model(input_ids=ids).logits
    delta = (tuned - base).abs().max().item()
    assert delta > 1e-3  # LoRA's B starts at zero: any difference was learnt
    answer = generate(model, tokenizer, SYSTEM,
                      [{"role": "user", "content": "Do you sell gift cards?"}], 12)
    assert isinstance(answer, str) and answer


def test_resume_equals_uninterrupted(uninterrupted: Path,
                                     resumed: tuple[Path, list[str]]) -> None:
    import torch

    out, messages = resumed
    assert any("resuming from step 1" in m for m in messages)
    a, b = lora_weights(uninterrupted / "adapter"), lora_weights(out / "adapter")
    assert a.keys() == b.keys()
    assert max((a[k] - b[k]).abs().max().item() for k in a) <= 1e-6
    assert any(torch.count_nonzero(a[k]) for k in a if "lora_B" in k)
    report_a = json.loads((uninterrupted / "train.json").read_text())
    report_b = json.loads((out / "train.json").read_text())
    assert report_a["losses"] == report_b["losses"] and len(report_a["losses"]) == 4


def test_loss_curve_and_report(uninterrupted: Path) -> None:
    assert (uninterrupted / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = json.loads((uninterrupted / "train.json").read_text())
    for key in ("config", "steps", "losses", "seconds", "examples_per_s", "peak_rss_mb"):
        assert key in report
    assert report["steps"] == report["total_steps"] == 4 and report["examples"] == 4
    assert report["config"]["lr"] == CONFIG.lr and report["peak_rss_mb"] > 100
    assert all(loss > 0 for loss in report["losses"])


# --- bad input ------------------------------------------------------------------------------------

def test_bad_examples_are_refused(student: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(student))
    with pytest.raises(ValidationError, match="no training examples"):
        encode_examples([], tokenizer, 64, SYSTEM)
    empty = {"messages": [{"role": "user", "content": "Hi"}], "answer": "  "}
    with pytest.raises(ValidationError, match="empty answer"):
        encode_examples([EXAMPLES[0], empty], tokenizer, 64, SYSTEM)
    long = {"messages": [{"role": "user", "content": "Tell me"}], "answer": "bread " * 40}
    with pytest.raises(ValidationError, match="too short for every answer"):
        encode_examples([long], tokenizer, 32, SYSTEM)
    encoded, dropped = encode_examples([long, EXAMPLES[0]], tokenizer, 32, SYSTEM)
    assert dropped == 1 and len(encoded[0].input_ids) <= 32
    # Loss only on the answer and its end mark; the prompt was cut from the left to fit.
    target = [t for t in encoded[0].labels if t != -100]
    assert tokenizer.decode(target) == "We open at 8 am on Sunday.<|im_end|>"
    assert encoded[0].input_ids[-len(target):] == target


def test_corrupt_or_foreign_checkpoint_starts_fresh(uninterrupted: Path, settings: Settings,
                                                    tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt"
    shutil.copytree(uninterrupted / "checkpoint", corrupt / "checkpoint")
    (corrupt / "checkpoint" / "state.pt").write_bytes(b"not a checkpoint")
    messages: list[str] = []
    result = train(EXAMPLES, corrupt, settings, replace(CONFIG, max_steps=1), system=SYSTEM,
                   progress=False, log=messages.append)
    assert any("unreadable" in m and "starting fresh" in m for m in messages)
    assert result.resumed_from == 0 and result.steps == 1
    # The fresh run's first step matches the original run's first step.
    original = json.loads((uninterrupted / "train.json").read_text())["losses"]
    assert result.losses == original[:1]

    foreign = tmp_path / "foreign"
    shutil.copytree(uninterrupted / "checkpoint", foreign / "checkpoint")
    messages.clear()
    result = train(EXAMPLES[:2], foreign, settings, replace(CONFIG, max_steps=1),
                   system=SYSTEM, progress=False, log=messages.append)
    assert any("another dataset or config" in m for m in messages) and result.resumed_from == 0


@pytest.mark.skipif(not os.environ.get("DOPPEL_TRAIN_OVERFIT"),
                    reason="15 training steps (~40 s on 2 idle cores): set DOPPEL_TRAIN_OVERFIT=1")
def test_overfits_three_examples(settings: Settings, student: Path, tmp_path: Path) -> None:
    """The loop learns at all: 3 examples x 15 steps at lr 2e-3 are reproduced word for word
    (loss 2.24 -> 0.006 when measured)."""
    config = TrainConfig(epochs=15, batch_size=3, max_len=64, lr=2e-3, checkpoint_every=100)
    result = train(EXAMPLES[:3], tmp_path, settings, config, system=SYSTEM, progress=False,
                   log=lambda m: None)
    assert result.losses[-1] < 0.1
    model, tokenizer = load_adapter_model(student, result.adapter_dir)
    for example in EXAMPLES[:3]:
        assert generate(model, tokenizer, SYSTEM, example["messages"], 24) == example["answer"]
