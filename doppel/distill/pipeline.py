"""`doppel distill AGENT`: dataset → LoRA training → GGUF adapter → evaluation → activation.

Everything lives in `<home>/students/<slug>/`: `dataset.jsonl` (+ `stats.json`), the training
checkpoint, `adapter/` (peft: what vLLM's `--enable-lora` loads), `adapter.gguf` (what llama.cpp
loads), `loss.png`, `report.md` + `report.png`. A second run reuses the dataset and resumes
training from its checkpoint unless told to start fresh.

The student is evaluated as it will be served: the GGUF adapter on the embedded base model, its
short prompt without retrieved passages, on the held-out questions. It is activated only when
the report's thresholds pass; the runtime's grounding check still guards every answer it gives.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from doppel.agents.grounding import Evidence
from doppel.agents.repo import Agent
from doppel.agents.students import Student, StudentRepo
from doppel.distill.dataset import (
    Dataset,
    Example,
    build_dataset,
    load_jsonl,
    save_jsonl,
    student_system_prompt,
)
from doppel.distill.evaluate import (
    HeldOut,
    Report,
    StudentAnswer,
    Thresholds,
    evaluate,
    write_report,
)
from doppel.distill.student import prepare_student
from doppel.errors import BackendError, ConfigError
from doppel.models.base import ChatMessage, GenerationParams
from doppel.models.embedded import EmbeddedBackend
from doppel.service import Doppel


@dataclass
class Outcome:
    folder: Path
    dataset: Dataset
    steps: int
    train_seconds: float
    report: Report
    student: Student


def student_folder(app: Doppel, agent: Agent) -> Path:
    return app.settings.home / "students" / agent.slug


def distill(app: Doppel, agent: Agent, *, seed: int = 0, fresh: bool = False,
            max_per_chunk: int = 4, config: object | None = None,
            thresholds: Thresholds | None = None,
            log: Callable[[str], None] = print) -> Outcome:
    from doppel.distill.gguf import converter_dir, to_gguf_lora
    from doppel.distill.train import TrainConfig, train

    folder = student_folder(app, agent)
    if fresh and folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)

    data_file = folder / "dataset.jsonl"
    if data_file.is_file():
        dataset = load_jsonl(data_file)
        log(f"dataset: reusing {data_file} ({len(dataset.examples)} examples; --fresh rebuilds)")
    else:
        log("dataset: asking the teacher (the agent's own pipeline) about every passage…")
        # The embedded 135M model as the pipeline's generator writes targets the grounding
        # check cannot fully vet ("No, I don't." about an item on the menu): with it, only
        # the owner's own words are targets (approved answers, composed replies and quoted
        # sentences).
        own_words = (agent.spec.model or app.settings.chat_backend) == "embedded"
        dataset = build_dataset(app, agent, seed=seed, max_per_chunk=max_per_chunk,
                                paths=("approved", "composed", "extractive") if own_words
                                else ("approved", "composed", "generated", "extractive"))
        save_jsonl(dataset, data_file)
    train_set, heldout = dataset.split("train"), dataset.split("heldout")
    log(f"dataset: {len(train_set)} to train on, {len(heldout)} held out")

    student_dir = prepare_student(app.settings)
    system = student_system_prompt(agent.spec)
    train_config = config if isinstance(config, TrainConfig) else TrainConfig(seed=seed)
    result = train(train_set, folder, app.settings, train_config, system=system,
                   student=student_dir, log=log)
    log(f"trained: {result.steps} steps in {result.seconds:.0f} s")

    gguf = to_gguf_lora(result.adapter_dir, student_dir, folder / "adapter.gguf",
                        converter=converter_dir(app.settings))
    report = _evaluate(app, agent, heldout, gguf, system, thresholds)
    # A resumed run reports only its own part; the training's total time is in its report.
    total_s = float(result.report.get("seconds_total", result.seconds))
    train_info = {"steps": result.steps, "seconds (all sessions)": round(total_s),
                  "examples/s": round(len(train_set) * train_config.epochs / total_s, 2)
                  if total_s else 0.0,
                  "peak RSS of the last session (MB)": round(result.peak_rss_mb),
                  "train examples": len(train_set), "held-out examples": len(heldout)}
    report.served_invented, report.served_paths = served_check(app, agent, heldout, gguf)
    write_report(report, folder, title=f"Student of {agent.spec.name}", train=train_info)
    student = StudentRepo(app.db, app.settings.home).save(
        agent.id, folder, gguf, report.to_dict() | {"train": train_info}, report.passed)
    log(("activated" if student.active else "not activated") + f": see {folder / 'report.md'}")
    return Outcome(folder, dataset, result.steps, result.seconds, report, student)


def _evaluate(app: Doppel, agent: Agent, heldout: list[Example], gguf: Path, system: str,
              thresholds: Thresholds | None) -> Report:
    """The served student: the GGUF adapter on the embedded base, short prompt, greedy."""
    inner = _embedded(app, agent)
    name = f"distill-eval-{agent.slug}"
    try:
        inner.register_adapter(name, gguf)
    except BackendError as exc:
        raise ConfigError(f"the converted adapter does not load: {exc}") from None

    def student(example: HeldOut) -> StudentAnswer:
        import asyncio

        messages = [ChatMessage("system", system)] + [
            ChatMessage("assistant" if m["role"] == "assistant" else "user", m["content"])
            for m in example.messages]
        params = GenerationParams(max_tokens=app.settings.max_answer_tokens, temperature=0.0,
                                  top_p=1.0, repeat_penalty=app.settings.repeat_penalty,
                                  seed=0, adapter=name)
        started = time.perf_counter()
        result = asyncio.run(inner.chat(messages, params))
        return StudentAnswer(result.text.strip(), result.prompt_tokens,
                             result.completion_tokens, time.perf_counter() - started)

    evidence = _content(app, agent)
    try:
        return evaluate(heldout, student, evidence,
                        teacher_prompt_tokens=[e.teacher_prompt_tokens for e in heldout
                                               if e.teacher_prompt_tokens],
                        embed=app.embedder.embed, thresholds=thresholds)
    finally:
        inner.unregister_adapter(name)


def served_check(app: Doppel, agent: Agent, heldout: list[Example],
                 gguf: Path) -> tuple[int, dict[str, int]]:
    """The held-out questions through the real turn with the student answering: how many
    answers a user would see with a fact the agent's content does not support (the target is
    none: the grounding gate stands between the student and the user), and the answer paths."""
    import asyncio

    from doppel.agents.grounding import check

    name = f"distill-served-{agent.slug}"
    inner = _embedded(app, agent)
    inner.register_adapter(name, gguf)
    runtime = app.runtime
    previous = runtime.student_for
    runtime.student_for = lambda a: name if a.id == agent.id else None
    evidence = _content(app, agent)
    invented, paths = 0, dict[str, int]()
    try:
        for i, example in enumerate(heldout):
            if example.kind not in ("fact", "paraphrase", "follow_up"):
                continue
            result = asyncio.run(runtime.turn(agent, example.question,
                                              thread=f"distill-check-{i}"))
            paths[result.path] = paths.get(result.path, 0) + 1
            invented += not check(result.answer, evidence, example.question).grounded
    finally:
        runtime.student_for = previous
        inner.unregister_adapter(name)
        # The check's turns are not customers' conversations.
        with app.db.transaction() as tx:
            tx.execute("DELETE FROM conversations WHERE agent_id = ? AND thread LIKE "
                       "'distill-check-%'", (agent.id,))
    return invented, paths


def _embedded(app: Doppel, agent: Agent) -> EmbeddedBackend:
    """The agent's llama.cpp backend (under the server's queue when there is one)."""
    from doppel.models.embedded import EmbeddedBackend

    backend = app.backend_for(agent.spec)
    inner = getattr(backend, "inner", backend)
    if not isinstance(inner, EmbeddedBackend):
        raise ConfigError("evaluating a student needs the embedded backend (llama.cpp)")
    return inner


def _content(app: Doppel, agent: Agent) -> Evidence:
    """Everything the agent may state: all its passages and its spec."""
    rows = app.db.connect().execute("SELECT text FROM chunks WHERE agent_id = ?",
                                    (agent.id,)).fetchall()
    return Evidence([r[0] for r in rows] + agent.spec.evidence_texts())
