"""Many agents' students on one vLLM (a fake that enforces vLLM's rules, doppel.testing.vllm):
each active student is published where vLLM's filesystem resolver finds it, with the served
base model's name, and each agent's turn names its own adapter; runtime loading after a vLLM
restart; a student vLLM would refuse is not published and its agent answers on the base."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from doppel.agents.spec import AgentSpec
from doppel.config import Settings
from doppel.errors import ConfigError
from doppel.models.vllm import AdapterDirectory
from doppel.service import Doppel
from doppel.testing import FakeEmbedder
from doppel.testing.vllm import FakeVLLMServer

BASE = "meta-llama/Llama-3.1-8B-Instruct"


def answers(vllm: FakeVLLMServer) -> list[str]:
    """The model each answer was asked of (a remote model first chooses tools on the base:
    those requests carry `tools`)."""
    return [r["model"] for r in vllm.requests if "messages" in r and "tools" not in r]


def peft_adapter(folder: Path, rank: int = 8, base: str = "HuggingFaceTB/SmolLM2-135M") -> Path:
    """A peft LoRA adapter folder as `doppel distill` writes one (student dir / adapter)."""
    adapter = folder / "adapter"
    adapter.mkdir(parents=True)
    (adapter / "adapter_config.json").write_text(json.dumps({
        "peft_type": "LORA", "r": rank, "lora_alpha": 16, "base_model_name_or_path": base,
        "target_modules": ["q_proj", "v_proj"], "task_type": "CAUSAL_LM"}))
    (adapter / "adapter_model.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}  ")
    return adapter


@pytest.fixture
def vllm(tmp_path: Path) -> Iterator[FakeVLLMServer]:
    with FakeVLLMServer(BASE, resolver_dir=tmp_path / "loras", max_cpu_loras=3) as server:
        yield server


def service(settings: Settings, vllm: FakeVLLMServer, **extra: object) -> Doppel:
    settings = settings.model_copy(update={
        "chat_backend": "openai", "openai_base_url": vllm.base_url, "openai_model": BASE,
        "openai_lora_adapters": True, "vllm_lora_dir": vllm.resolver_dir, "shields": False,
        "compose_answers": False, "min_relevance": 0.0, **extra})
    return Doppel(settings, embedder=FakeEmbedder())


def agent_with_student(app: Doppel, slug: str, tmp_path: Path, rank: int = 8) -> None:
    agent = app.agents.create(AgentSpec(slug=slug, name=slug.title()))
    app.ingestor.ingest_bytes(agent, b"# Hours\n\nWe are open every day from 8am to 6pm.\n",
                              "hours.md")
    folder = tmp_path / "students" / slug
    peft_adapter(folder, rank)
    app.students.save(agent.id, folder, folder / "adapter.gguf", {}, passed=True)


def test_each_agent_is_served_by_its_own_adapter_found_on_demand(
        settings: Settings, vllm: FakeVLLMServer, tmp_path: Path) -> None:
    app = service(settings, vllm)
    slugs = [f"shop-{i}" for i in range(6)]  # more agents than vLLM keeps loaded (3)
    try:
        for slug in slugs:
            agent_with_student(app, slug, tmp_path)
        for slug in [*slugs, *slugs]:  # the second round reloads those the LRU dropped
            asyncio.run(app.runtime.turn(app.agents.get(slug), "When are you open?"))
    finally:
        app.close()
    assert answers(vllm) == [*slugs, *slugs]
    # published under the slug, for the served base, whole
    for slug in slugs:
        config = json.loads((vllm.resolver_dir / slug / "adapter_config.json").read_text())
        assert config["base_model_name_or_path"] == BASE and config["peft_type"] == "LORA"
    assert [n for n, how in vllm.loads] == [*slugs, *slugs] and \
        {how for _, how in vllm.loads} == {"resolver"}


def test_an_agent_without_a_student_asks_for_the_base(settings: Settings,
                                                      vllm: FakeVLLMServer) -> None:
    app = service(settings, vllm)
    try:
        agent = app.agents.create(AgentSpec(slug="plain", name="Plain"))
        app.ingestor.ingest_bytes(agent, b"We are open every day from 8am to 6pm.\n", "h.md")
        asyncio.run(app.runtime.turn(agent, "When are you open?"))
    finally:
        app.close()
    assert answers(vllm) == [BASE]


def test_runtime_loading_after_a_vllm_restart(settings: Settings, tmp_path: Path) -> None:
    """No resolver plugin: vLLM answers 404 for an adapter it has not loaded; doppel loads it
    through /v1/load_lora_adapter and asks again, also after vLLM restarted."""
    with FakeVLLMServer(BASE, runtime_updates=True) as vllm:
        vllm.resolver_dir = None
        app = service(settings, vllm, vllm_lora_dir=tmp_path / "shared", vllm_runtime_load=True)
        try:
            agent_with_student(app, "bakery", tmp_path)
            bakery = app.agents.get("bakery")
            asyncio.run(app.runtime.turn(bakery, "When are you open?"))
            vllm.restart()
            asyncio.run(app.runtime.turn(bakery, "Open on Sunday?"))
        finally:
            app.close()
    assert vllm.loads == [("bakery", "runtime"), ("bakery", "runtime")]
    assert answers(vllm) == ["bakery"] * 4  # 404, loaded, asked again


def test_a_student_vllm_would_refuse_is_not_published(settings: Settings, vllm: FakeVLLMServer,
                                                      tmp_path: Path,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    app = service(settings, vllm, vllm_max_lora_rank=16)
    try:
        agent_with_student(app, "wide", tmp_path, rank=64)
        asyncio.run(app.runtime.turn(app.agents.get("wide"), "When are you open?"))
    finally:
        app.close()
    assert answers(vllm) == [BASE]
    assert not (vllm.resolver_dir / "wide").exists()
    assert any("rank 64" in r.getMessage() for r in caplog.records)


def test_switching_a_student_off_withdraws_it(settings: Settings, vllm: FakeVLLMServer,
                                              tmp_path: Path) -> None:
    app = service(settings, vllm)
    try:
        agent_with_student(app, "bakery", tmp_path)
        bakery = app.agents.get("bakery")
        asyncio.run(app.runtime.turn(bakery, "When are you open?"))
        assert (vllm.resolver_dir / "bakery").is_dir()
        app.students.set_active(bakery.id, False)
        app.withdraw_student(bakery)
        asyncio.run(app.runtime.turn(bakery, "When are you open?"))
    finally:
        app.close()
    assert not (vllm.resolver_dir / "bakery").exists()
    assert answers(vllm) == ["bakery", BASE]


def test_the_adapter_folder_refuses_what_vllm_would(tmp_path: Path) -> None:
    folder = AdapterDirectory(tmp_path / "loras", BASE, max_rank=16)
    good = peft_adapter(tmp_path / "good")
    assert folder.publish("bakery", good) == tmp_path / "loras" / "bakery"
    assert folder.publish("bakery", good).is_dir()  # replaced whole, again
    assert folder.published() == ["bakery"]
    for name in ("../etc", "Bakery", "a/b", ""):
        with pytest.raises(ConfigError):
            folder.publish(name, good)
    (good / "adapter_config.json").write_text('{"peft_type": "PREFIX_TUNING"}')
    with pytest.raises(ConfigError, match="not LORA"):
        folder.publish("other", good)
    with pytest.raises(ConfigError, match="not a peft adapter"):
        folder.publish("other", tmp_path / "missing")
    assert folder.withdraw("bakery") and not folder.withdraw("bakery")
