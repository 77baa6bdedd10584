"""LoRA fine-tuning of the student: a plain PyTorch loop you can read top to bottom.

    examples -> token ids, loss only on the answer -> AdamW on the LoRA weights (warm-up, cosine
    decay, gradient accumulation, clipping) -> checkpoints that resume exactly -> the adapter in
    peft's format (what vLLM's `--enable-lora` and llama.cpp's converter read), loss.png and
    train.json in `out_dir`.

Everything that decides the trajectory is a function of the optimizer step: the shuffled order of
epoch e comes from a generator seeded with (seed, e), the learning rate from the step number. A
checkpoint therefore only needs the LoRA weights, AdamW's moments, torch's RNG (LoRA dropout) and
the step; a resumed run follows the uninterrupted one bit for bit on the same machine.

On 2 CPU cores, r=8 on q/k/v/o, batch 4, 256 tokens, fp32: about 7 s per step (MODELS.md).
"""

from __future__ import annotations

import hashlib
import json
import math
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from doppel.config import Settings
from doppel.errors import ConfigError, ValidationError

__all__ = [
    "TrainConfig", "TrainExample", "Encoded", "StepInfo", "TrainResult",
    "encode_examples", "lr_at", "train", "load_adapter_model", "generate", "merge_and_save",
]

CHECKPOINT = "checkpoint"
ADAPTER = "adapter"
# An answer is only worth training on with some of its question in view: an example whose answer
# leaves fewer than this many tokens of prompt inside max_len is dropped.
MIN_PROMPT_TOKENS = 16
IGNORE = -100  # label of tokens that carry no loss (prompt, padding); PyTorch's ignore_index


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of one training run. All but `checkpoint_every` and `max_steps` are part
    of the checkpoint's hash: changing them makes a new run."""

    epochs: int = 3
    lr: float = 5e-4
    min_lr_ratio: float = 0.1  # cosine decay ends at lr * this
    warmup_ratio: float = 0.05  # fraction of all steps spent warming up linearly
    batch_size: int = 4  # examples per forward pass
    grad_accum: int = 1  # forward passes per optimizer step
    max_len: int = 256  # tokens per example, prompt truncated from the left to fit
    weight_decay: float = 0.0  # LoRA's few weights need no decay
    grad_clip: float = 1.0  # max global L2 norm of the gradient
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.05
    target_modules: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj")
    seed: int = 0
    checkpoint_every: int = 50  # optimizer steps between checkpoints (and one per epoch end)
    # Stop after this many optimizer steps in all; the schedule still spans `epochs`, so a run cut
    # at max_steps and resumed without it ends where an uninterrupted run ends.
    max_steps: int | None = None

    def check(self) -> None:
        if min(self.epochs, self.batch_size, self.grad_accum, self.lora_r) < 1:
            raise ValidationError("epochs, batch_size, grad_accum and lora_r must be at least 1")
        if self.lr <= 0 or not 0 <= self.min_lr_ratio <= 1 or not 0 <= self.warmup_ratio < 1:
            raise ValidationError("lr must be > 0, min_lr_ratio in [0, 1], warmup_ratio in [0, 1)")
        if self.max_len <= MIN_PROMPT_TOKENS:
            raise ValidationError(f"max_len must exceed {MIN_PROMPT_TOKENS} tokens")
        if self.checkpoint_every < 1 or (self.max_steps is not None and self.max_steps < 1):
            raise ValidationError("checkpoint_every and max_steps must be at least 1")


class TrainExample(Protocol):
    """What training reads from an example (doppel.distill.dataset.Example fits); a mapping with
    the keys "messages" and "answer" (and optionally "system") works too."""

    @property
    def messages(self) -> Sequence[Any]: ...

    @property
    def answer(self) -> str: ...


@dataclass(frozen=True)
class Encoded:
    """One example as the model sees it: labels are IGNORE except on the answer and its end mark."""

    input_ids: list[int]
    labels: list[int]


@dataclass(frozen=True)
class StepInfo:
    """Passed to `on_step` after each optimizer step (and after any checkpoint it triggered)."""

    step: int  # optimizer steps done, 1-based
    total_steps: int
    epoch: int  # 0-based epoch the step belonged to
    loss: float  # mean cross-entropy per answer token in this step
    lr: float


@dataclass
class TrainResult:
    adapter_dir: Path
    steps: int  # optimizer steps done in all (across resumes)
    total_steps: int
    losses: list[float]
    resumed_from: int  # step the run started from (0: fresh)
    seconds: float  # wall time of this call's steps
    examples_per_s: float
    peak_rss_mb: float
    report: dict[str, Any] = field(default_factory=dict)  # what train.json holds


# --- examples -> token ids ------------------------------------------------------------------------

def _get(example: Any, name: str) -> Any:
    return example.get(name) if isinstance(example, Mapping) else getattr(example, name, None)


def _chat(example: Any, index: int, system: str | None) -> tuple[list[dict[str, str]], str]:
    """The example's conversation (system first) and its answer, validated."""
    raw_messages, answer = _get(example, "messages"), _get(example, "answer")
    if not isinstance(answer, str) or not answer.strip():
        raise ValidationError(f"training example {index} has an empty answer")
    if not raw_messages:
        raise ValidationError(f"training example {index} has no messages")
    messages = []
    for m in raw_messages:
        role, content = _get(m, "role"), _get(m, "content")
        if role not in ("system", "user", "assistant") or not isinstance(content, str):
            raise ValidationError(f"training example {index} has a malformed message: {m!r}")
        messages.append({"role": role, "content": content})
    # The example's own system prompt wins over the shared one.
    own = _get(example, "system")
    if isinstance(own, str) and own:
        messages = [{"role": "system", "content": own},
                    *(m for m in messages if m["role"] != "system")]
    elif messages[0]["role"] != "system" and system:
        messages.insert(0, {"role": "system", "content": system})
    return messages, answer.strip()


def encode_examples(examples: Sequence[TrainExample | Mapping[str, Any]], tokenizer: Any,
                    max_len: int, system: str | None = None) -> tuple[list[Encoded], int]:
    """Token ids with answer-only labels, and how many examples were dropped as too long.

    The prompt is the chat template up to the assistant's header; the target is what the template
    puts after it: the answer and `<|im_end|>` (so the student learns to stop). A prompt that does
    not fit loses its oldest tokens: the question, right before the answer, is kept.
    """
    if not examples:
        raise ValidationError("no training examples")
    encoded, dropped, shortest = [], 0, None
    for i, example in enumerate(examples):
        messages, answer = _chat(example, i, system)
        prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True,
                                               tokenize=False)
        full = tokenizer.apply_chat_template(
            [*messages, {"role": "assistant", "content": answer}], tokenize=False)
        if not full.startswith(prompt):  # a template that rewrites earlier turns
            raise ConfigError("the student's chat template does not extend the prompt with the "
                              "answer; cannot tell answer tokens from prompt tokens")
        target = full[len(prompt):].rstrip("\n")  # the newline after the end mark is not learnt
        prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        target_ids = tokenizer(target, add_special_tokens=False)["input_ids"]
        shortest = min(shortest or len(target_ids), len(target_ids))
        room = max_len - len(target_ids)
        if room < MIN_PROMPT_TOKENS:
            dropped += 1
            continue
        prompt_ids = prompt_ids[-room:]
        encoded.append(Encoded(input_ids=prompt_ids + target_ids,
                               labels=[IGNORE] * len(prompt_ids) + target_ids))
    if not encoded:
        raise ValidationError(
            f"max_len={max_len} is too short for every answer: the shortest takes {shortest} "
            f"tokens and needs {MIN_PROMPT_TOKENS} more of prompt")
    return encoded, dropped


def _collate(batch: Sequence[Encoded], pad_id: int, device: Any) -> tuple[Any, Any, Any]:
    """Right-padded (input_ids, attention_mask, labels), each (B, T) on `device`."""
    import torch

    width = max(len(e.input_ids) for e in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    labels = torch.full((len(batch), width), IGNORE, dtype=torch.long)
    for row, e in enumerate(batch):
        n = len(e.input_ids)
        ids[row, :n] = torch.tensor(e.input_ids)
        mask[row, :n] = 1
        labels[row, :n] = torch.tensor(e.labels)
    return ids.to(device), mask.to(device), labels.to(device)


# --- schedule and order ---------------------------------------------------------------------------

def lr_at(step: int, total_steps: int, config: TrainConfig) -> float:
    """Learning rate of optimizer step `step` (0-based): linear warm-up, then cosine decay to
    lr * min_lr_ratio (nanoGPT's get_lr). Warm-up starts above zero so step 0 learns."""
    warmup = math.ceil(config.warmup_ratio * total_steps)
    if step < warmup:
        return config.lr * (step + 1) / (warmup + 1)
    min_lr = config.lr * config.min_lr_ratio
    progress = (step - warmup) / max(1, total_steps - warmup)  # 0 -> <1
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * progress)) * (config.lr - min_lr)


def _epoch_order(n: int, seed: int, epoch: int) -> list[int]:
    """The shuffled order of one epoch; the same for a given (seed, epoch) on every run."""
    import torch

    generator = torch.Generator().manual_seed(seed * 100_003 + epoch)
    return [int(i) for i in torch.randperm(n, generator=generator)]


def _run_hash(encoded: Sequence[Encoded], config: TrainConfig, student: Path) -> str:
    """Identity of a run: its tokens, the config fields that shape it, and the base model."""
    shaping = {k: v for k, v in asdict(config).items() if k not in ("checkpoint_every",
                                                                    "max_steps")}
    h = hashlib.sha256(json.dumps(shaping, sort_keys=True).encode())
    h.update((student / "config.json").read_bytes())
    weights = student / "model.safetensors"
    h.update(str(weights.stat().st_size if weights.is_file() else 0).encode())
    for e in encoded:
        h.update(json.dumps([e.input_ids, e.labels]).encode())
    return h.hexdigest()[:16]


# --- checkpoints ----------------------------------------------------------------------------------

def _replace_dir(work: Path, target: Path) -> None:
    """Move a finished `work` folder to `target`. Two renames: POSIX cannot rename onto a
    non-empty folder. A crash between them leaves no checkpoint (a fresh start), never half one."""
    old = target.with_name(f".{target.name}-old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    work.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def _save_checkpoint(out_dir: Path, model: Any, optimizer: Any, meta: dict[str, Any]) -> None:
    import torch
    from peft import get_peft_model_state_dict
    from safetensors.torch import save_file

    work = Path(tempfile.mkdtemp(prefix=".checkpoint-", dir=out_dir))
    try:
        lora = {k: v.detach().cpu().contiguous() for k, v in
                get_peft_model_state_dict(model).items()}
        save_file(lora, str(work / "lora.safetensors"))
        rng = {"cpu": torch.get_rng_state()}
        if torch.cuda.is_available():
            rng["cuda"] = torch.cuda.get_rng_state()
        torch.save({"optimizer": optimizer.state_dict(), "rng": rng}, work / "state.pt")
        # Written last: a folder with meta.json is a complete checkpoint.
        (work / "meta.json").write_text(json.dumps(meta))
        _replace_dir(work, out_dir / CHECKPOINT)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _load_checkpoint(out_dir: Path, run_hash: str, model: Any,
                     log: Callable[[str], None]) -> dict[str, Any] | None:
    """The checkpoint's contents if it belongs to this run and reads whole; else None (logged).

    Nothing is applied to the model here: a checkpoint that fails half-way must not leave half
    its weights behind."""
    import torch
    from peft import get_peft_model_state_dict
    from safetensors.torch import load_file

    folder = out_dir / CHECKPOINT
    if not folder.is_dir():
        return None
    try:
        meta = json.loads((folder / "meta.json").read_text())
        if meta.get("hash") != run_hash:
            # A changed dataset or config is a new run of this agent's adapter (new content is
            # the usual reason to retrain): start fresh rather than make the owner delete files.
            log(f"the checkpoint in {folder} is from another dataset or config; starting fresh")
            return None
        lora = load_file(str(folder / "lora.safetensors"))
        expected = {k: tuple(v.shape) for k, v in get_peft_model_state_dict(model).items()}
        if {k: tuple(v.shape) for k, v in lora.items()} != expected:
            raise ValueError("LoRA weights do not match the model")
        state = torch.load(folder / "state.pt", weights_only=True)
        if not isinstance(meta.get("step"), int) or not isinstance(meta.get("losses"), list) \
                or "optimizer" not in state or "cpu" not in state.get("rng", {}):
            raise ValueError("fields are missing")
    except Exception as exc:  # noqa: BLE001 - any unreadable checkpoint is refused the same way
        log(f"the checkpoint in {folder} is unreadable ({type(exc).__name__}: {exc}); "
            "starting fresh")
        return None
    return {"meta": meta, "lora": lora, **state}


# --- the training loop ----------------------------------------------------------------------------

def _log_stderr(message: str) -> None:
    print(message, file=sys.stderr)


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024  # bytes vs KiB


def train(examples: Sequence[TrainExample | Mapping[str, Any]], out_dir: Path,
          settings: Settings, config: TrainConfig | None = None, *,
          system: str | None = None, student: Path | None = None, progress: bool = True,
          log: Callable[[str], None] = _log_stderr,
          on_step: Callable[[StepInfo], None] | None = None) -> TrainResult:
    """Train a LoRA adapter on `examples` into `out_dir`, resuming from its checkpoint if one of
    the same run is there. `system` is the system prompt of examples that bring none."""
    config = config or TrainConfig()
    config.check()
    try:
        import torch
        from peft import LoraConfig, get_peft_model, set_peft_model_state_dict
        from tqdm import tqdm
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ConfigError("training needs torch, transformers and peft (run `make`)") from exc
    from doppel.distill.student import prepare_student

    student = student or prepare_student(settings)
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(settings.n_threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    # Data: token ids and the run's identity.
    tokenizer = AutoTokenizer.from_pretrained(str(student))
    encoded, dropped = encode_examples(examples, tokenizer, config.max_len, system)
    if dropped:
        log(f"{dropped} of {len(examples)} examples dropped: their answer does not fit "
            f"max_len={config.max_len}")
    run_hash = _run_hash(encoded, config, student)
    per_step = config.batch_size * config.grad_accum  # examples per optimizer step
    steps_per_epoch = math.ceil(len(encoded) / per_step)
    total_steps = config.epochs * steps_per_epoch
    stop_at = min(total_steps, config.max_steps or total_steps)

    # Model: the dense student, frozen, with LoRA on the attention projections. Weights stay fp32;
    # on a GPU the forward pass runs under bf16 autocast.
    model: Any = AutoModelForCausalLM.from_pretrained(str(student), dtype=torch.float32)
    model.config.use_cache = False  # the KV cache is for generation, training only wastes memory
    torch.manual_seed(config.seed)  # LoRA's A matrices are drawn here
    model = get_peft_model(model, LoraConfig(
        r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
        target_modules=list(config.target_modules), task_type="CAUSAL_LM"))
    model.to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)

    # Resume: weights, AdamW moments, the dropout RNG and the step; the rest follows from step.
    step, losses, seconds_before = 0, [], 0.0
    saved = _load_checkpoint(out_dir, run_hash, model, log)
    if saved is not None:
        set_peft_model_state_dict(model, {k: v.to(device) for k, v in saved["lora"].items()})
        optimizer.load_state_dict(saved["optimizer"])
        torch.set_rng_state(saved["rng"]["cpu"])
        if "cuda" in saved["rng"] and torch.cuda.is_available():
            torch.cuda.set_rng_state(saved["rng"]["cuda"])
        step, losses = int(saved["meta"]["step"]), [float(x) for x in saved["meta"]["losses"]]
        seconds_before = float(saved["meta"].get("seconds", 0.0))
        log(f"resuming from step {step} of {total_steps} ({out_dir / CHECKPOINT})")
    resumed_from = step

    def checkpoint(seconds: float) -> None:
        epoch, position = divmod(step, steps_per_epoch)
        _save_checkpoint(out_dir, model, optimizer, {
            "hash": run_hash, "step": step, "total_steps": total_steps, "epoch": epoch,
            "position": min(position * per_step, len(encoded)), "losses": losses,
            "seconds": seconds, "config": asdict(config)})

    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda")
    model.train()
    bar = tqdm(total=total_steps, initial=step, disable=not progress, file=sys.stderr,
               desc="training", unit="step")
    started = time.perf_counter()
    seen = 0  # examples through the model in this call
    try:  # an interrupt (Ctrl-C) leaves the last checkpoint; the next call resumes from it
        while step < stop_at:
            epoch, k = divmod(step, steps_per_epoch)
            chunk = _epoch_order(len(encoded), config.seed, epoch)[k * per_step:(k + 1) * per_step]
            batch = [encoded[i] for i in chunk]
            lr = lr_at(step, total_steps, config)
            for group in optimizer.param_groups:
                group["lr"] = lr

            # Loss = mean over every answer token of the step, however it splits into
            # micro-batches: each one's summed loss is divided by the step's token count.
            n_tokens = sum(sum(1 for t in e.labels if t != IGNORE) for e in batch)
            step_loss = 0.0
            for m in range(0, len(batch), config.batch_size):
                ids, mask, labels = _collate(batch[m:m + config.batch_size],
                                             tokenizer.pad_token_id, device)
                with autocast:
                    logits = model(input_ids=ids, attention_mask=mask).logits  # (B, T, vocab)
                # Position t predicts token t + 1.
                loss = torch.nn.functional.cross_entropy(
                    logits[:, :-1].float().reshape(-1, logits.size(-1)), labels[:, 1:].reshape(-1),
                    ignore_index=IGNORE, reduction="sum") / n_tokens
                loss.backward()
                step_loss += loss.item()
            torch.nn.utils.clip_grad_norm_(params, config.grad_clip)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)

            step += 1
            seen += len(batch)
            losses.append(step_loss)
            bar.update(1)
            bar.set_postfix(loss=f"{step_loss:.3f}", lr=f"{lr:.1e}")
            epoch_end = step % steps_per_epoch == 0
            if step % config.checkpoint_every == 0 or epoch_end or step == stop_at:
                checkpoint(seconds_before + time.perf_counter() - started)
            if on_step is not None:
                on_step(StepInfo(step=step, total_steps=total_steps, epoch=epoch, loss=step_loss,
                                 lr=lr))
    finally:
        bar.close()
    seconds = time.perf_counter() - started

    # Outputs: the adapter (written aside, then swapped in), the curve, the report.
    work = Path(tempfile.mkdtemp(prefix=".adapter-", dir=out_dir))
    model.save_pretrained(str(work))
    _replace_dir(work, out_dir / ADAPTER)
    plot_losses(losses, out_dir / "loss.png")
    examples_per_s = seen / seconds if seconds > 0 else 0.0
    peak_rss_mb = _peak_rss_mb()
    report: dict[str, Any] = {
        "config": asdict(config), "hash": run_hash, "student": str(student),
        "device": device.type, "threads": settings.n_threads,
        "examples": len(encoded), "dropped": dropped, "steps": step, "total_steps": total_steps,
        "steps_per_epoch": steps_per_epoch, "epochs_done": step / steps_per_epoch,
        "resumed_from": resumed_from, "losses": losses,
        "seconds": seconds, "seconds_total": seconds_before + seconds,
        "s_per_step": seconds / max(1, step - resumed_from),
        "examples_per_s": examples_per_s, "peak_rss_mb": peak_rss_mb,
    }
    (out_dir / "train.json").write_text(json.dumps(report, indent=2))
    return TrainResult(adapter_dir=out_dir / ADAPTER, steps=step, total_steps=total_steps,
                       losses=losses, resumed_from=resumed_from, seconds=seconds,
                       examples_per_s=examples_per_s, peak_rss_mb=peak_rss_mb, report=report)


def plot_losses(losses: Sequence[float], path: Path) -> None:
    """Loss per step with an exponentially smoothed line, as a PNG. Uses matplotlib's Agg canvas
    directly, leaving the process's pyplot backend alone."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    steps = list(range(1, len(losses) + 1))
    smooth, avg = [], 0.0
    for i, x in enumerate(losses):  # EMA, bias-corrected so the line starts on the first point
        avg = 0.9 * avg + 0.1 * x
        smooth.append(avg / (1 - 0.9 ** (i + 1)))
    figure = Figure(figsize=(7, 4), dpi=100)
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    ax.plot(steps, losses, alpha=0.35, label="loss per step")
    ax.plot(steps, smooth, linewidth=2, label="smoothed")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("cross-entropy per answer token (nats)")
    ax.set_title("LoRA training loss")
    ax.grid(alpha=0.3)
    ax.legend()
    figure.tight_layout()
    figure.savefig(str(path), format="png")


# --- using an adapter -----------------------------------------------------------------------------

def load_adapter_model(student_dir: Path, adapter_dir: Path) -> tuple[Any, Any]:
    """(model, tokenizer): the student with the adapter applied, in eval mode, fp32 on CPU."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if not (adapter_dir / "adapter_config.json").is_file():
        raise ConfigError(f"no adapter in {adapter_dir}")
    tokenizer = AutoTokenizer.from_pretrained(str(student_dir))
    base = AutoModelForCausalLM.from_pretrained(str(student_dir), dtype=torch.float32)
    model = PeftModel.from_pretrained(base, str(adapter_dir))
    model.eval()
    return model, tokenizer


def generate(model: Any, tokenizer: Any, system: str | None,
             messages: Sequence[Mapping[str, str]], max_new_tokens: int = 160) -> str:
    """The model's greedy answer to `messages` (system first when given)."""
    import torch

    chat = [{"role": m["role"], "content": m["content"]} for m in messages]
    if system:
        chat.insert(0, {"role": "system", "content": system})
    prompt = tokenizer.apply_chat_template(chat, add_generation_prompt=True, tokenize=False)
    ids = tokenizer(prompt, add_special_tokens=False, return_tensors="pt")["input_ids"]
    ids = ids.to(model.device)
    with torch.inference_mode():
        out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids),
                             max_new_tokens=max_new_tokens, do_sample=False,
                             eos_token_id=tokenizer.eos_token_id,
                             pad_token_id=tokenizer.pad_token_id)
    return str(tokenizer.decode(out[0, ids.size(1):], skip_special_tokens=True)).strip()


def merge_and_save(student_dir: Path, adapter_dir: Path, out_dir: Path) -> Path:
    """A dense checkpoint with the adapter folded in (for engines without LoRA support)."""
    model, tokenizer = load_adapter_model(student_dir, adapter_dir)
    merged = model.merge_and_unload()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".merged-", dir=out_dir.parent))
    try:
        merged.save_pretrained(str(work), safe_serialization=True)
        tokenizer.save_pretrained(str(work))
        _replace_dir(work, out_dir)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return out_dir
