"""Per-agent LoRA adapters: GGUF conversion, serving on the shared embedded model, vLLM naming.

Two tiny adapters are built with peft on the dense student checkpoint, with seeded random A and
B matrices (peft starts B at zero, which would change nothing), converted to GGUF LoRA and
served by ONE embedded backend on the prepared Q8_0 chat model.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from doppel.config import Settings
from doppel.distill.gguf import (
    TOOLS_DIR,
    ConversionError,
    _installed_version,
    _is_complete,
    to_gguf_lora,
)
from doppel.errors import BackendError
from doppel.models.base import ChatMessage, ChatResult, GenerationParams, StreamChunk
from doppel.models.embedded import EmbeddedBackend, check_lora_file
from doppel.models.remote import OpenAICompatibleBackend
from doppel.testing import FakeOpenAIServer

MESSAGES = [ChatMessage("system", "You are the helper of a small bakery."),
            ChatMessage("user", "What do you sell?")]
GREEDY = GenerationParams(max_tokens=16, temperature=0.0, seed=7, repeat_penalty=1.0)


def _converter(settings: Settings) -> Path:
    folder = settings.models_dir / TOOLS_DIR
    if not _is_complete(folder, _installed_version()):
        pytest.skip("the GGUF converter is not prepared (run `doppel init`; tests stay offline)")
    return folder


def _make_peft_adapter(base_dir: Path, out: Path, seed: int) -> Path:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(base_dir), dtype=torch.float32)
    config = LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0,
                        target_modules=["q_proj", "k_proj", "v_proj", "o_proj"])
    peft_model = get_peft_model(model, config)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_" in name:  # 0.05: large enough to change greedy answers, not to garble
                param.copy_(torch.randn(param.shape, generator=generator) * 0.05)
    peft_model.save_pretrained(str(out))
    return out


@pytest.fixture(scope="module")
def student(model_settings: Settings) -> Path:
    from doppel.distill.student import prepare_student

    return prepare_student(model_settings)


@pytest.fixture(scope="module")
def ggufs(model_settings: Settings, student: Path,
          tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two agents' adapters, 'bakery' and 'bikes', as GGUF LoRA files."""
    converter = _converter(model_settings)
    work = tmp_path_factory.mktemp("adapters")
    out = {}
    for seed, slug in ((1, "bakery"), (2, "bikes")):
        peft_dir = _make_peft_adapter(student, work / f"{slug}-peft", seed)
        out[slug] = to_gguf_lora(peft_dir, student, work / f"{slug}.gguf", converter=converter)
    return out


@pytest.fixture(scope="module")
def backend(model_settings: Settings) -> Iterator[EmbeddedBackend]:
    from doppel.models.prepare import model_paths

    b = EmbeddedBackend(model_paths(model_settings).chat, n_ctx=512, max_loaded_adapters=2)
    yield b
    b.close()


def ask(backend: EmbeddedBackend, adapter: str | None) -> ChatResult:
    params = GenerationParams(**{**GREEDY.__dict__, "adapter": adapter})
    return asyncio.run(backend.chat(MESSAGES, params))


@pytest.mark.model
def test_conversion_gives_a_gguf_lora_for_the_base(ggufs: dict[str, Path]) -> None:
    for path in ggufs.values():
        check_lora_file(path, "llama")
        assert 1_000_000 < path.stat().st_size < 5_000_000  # r=8 on q/k/v/o in f16: ~1.8 MB
    with pytest.raises(BackendError, match="architecture llama, the base is gemma3"):
        check_lora_file(ggufs["bakery"], "gemma3")


@pytest.mark.model
def test_conversion_failure_names_the_reason(model_settings: Settings, student: Path,
                                             tmp_path: Path) -> None:
    converter = _converter(model_settings)
    bad = tmp_path / "bad-peft"
    bad.mkdir()
    (bad / "adapter_config.json").write_text(json.dumps({"r": 8, "lora_alpha": 16}))
    (bad / "adapter_model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(ConversionError, match="converting bad-peft to GGUF failed: .+"):
        to_gguf_lora(bad, student, tmp_path / "bad.gguf", converter=converter)
    assert not (tmp_path / "bad.gguf").exists()
    with pytest.raises(ConversionError, match="not a peft adapter"):
        to_gguf_lora(tmp_path, student, tmp_path / "bad.gguf", converter=converter)


@pytest.mark.model
def test_each_agent_gets_its_own_answers_when_switching(backend: EmbeddedBackend,
                                                        ggufs: dict[str, Path]) -> None:
    for slug, path in ggufs.items():
        backend.register_adapter(slug, path)
    base, bakery, bikes = ask(backend, None), ask(backend, "bakery"), ask(backend, "bikes")
    assert (base.adapter, bakery.adapter, bikes.adapter) == (None, "bakery", "bikes")
    assert len({base.text, bakery.text, bikes.text}) == 3, (base.text, bakery.text, bikes.text)
    # Back and forth: each answer is reproduced exactly, so no KV cache computed under one
    # adapter leaks into another's prompt (the prompts are identical, the prefix would match).
    # Every step switches: a repeat under the same adapter reuses the cached prefix, and
    # llama.cpp's one-token and batched evaluations differ in the last bits (the base's too),
    # enough to flip a near-tie in greedy decoding.
    for adapter, expected in (("bakery", bakery), ("bikes", bikes), ("bakery", bakery),
                              (None, base), ("bikes", bikes), (None, base), ("bakery", bakery)):
        assert ask(backend, adapter).text == expected.text, adapter


@pytest.mark.model
def test_stream_reports_the_serving_adapter(backend: EmbeddedBackend,
                                            ggufs: dict[str, Path]) -> None:
    backend.register_adapter("bakery", ggufs["bakery"])

    async def last_chunk() -> StreamChunk:
        chunks = [c async for c in backend.stream(
            MESSAGES, GenerationParams(**{**GREEDY.__dict__, "adapter": "bakery"}))]
        return chunks[-1]
    assert asyncio.run(last_chunk()).adapter == "bakery"


def _wrong_architecture_lora(path: Path) -> Path:
    import gguf

    writer = gguf.GGUFWriter(str(path), "gemma3")
    writer.add_type("adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", 16.0)
    writer.add_tensor("blk.0.attn_q.weight.lora_a", np.zeros((8, 576), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def _misshapen_lora(path: Path) -> Path:
    """A well-formed llama LoRA whose tensors do not fit SmolLM2: refused by llama.cpp only."""
    import gguf

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_type("adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", 16.0)
    writer.add_tensor("blk.0.attn_q.weight.lora_a", np.zeros((8, 100), dtype=np.float32))
    writer.add_tensor("blk.0.attn_q.weight.lora_b", np.zeros((100, 8), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


@pytest.mark.model
def test_corrupt_adapter_is_refused_and_the_base_serves(
        backend: EmbeddedBackend, ggufs: dict[str, Path], tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    ask(backend, None)
    base = ask(backend, None)  # with the prefix cached, as for every fallback below
    truncated = tmp_path / "truncated.gguf"
    truncated.write_bytes(ggufs["bakery"].read_bytes()[:100_000])
    noise = tmp_path / "noise.gguf"
    noise.write_bytes(np.random.default_rng(0).bytes(50_000))
    wrong_arch = _wrong_architecture_lora(tmp_path / "gemma.gguf")
    caplog.set_level(logging.WARNING, logger="doppel.models.embedded")
    for path, reason in ((truncated, "damaged|truncated"), (noise, "not a GGUF file"),
                         (wrong_arch, "architecture gemma3"), (tmp_path / "missing.gguf",
                                                               "cannot read")):
        with pytest.raises(BackendError, match=reason):
            backend.register_adapter("broken", path)
        # The agent's requests still get answers, from the base model.
        served = ask(backend, "broken")
        assert (served.text, served.adapter) == (base.text, None)
    assert "adapter 'broken' refused" in caplog.text

    # A file that passes the header check but does not fit the base: refused at first load.
    info = backend.register_adapter("misshapen", _misshapen_lora(tmp_path / "shape.gguf"))
    served = ask(backend, "misshapen")
    assert (served.text, served.adapter) == (base.text, None)
    assert info.error and "misshapen" not in backend.loaded_adapters()
    assert "refused at load" in caplog.text
    backend.unregister_adapter("misshapen")


@pytest.mark.model
def test_lru_frees_adapters_beyond_capacity(backend: EmbeddedBackend, ggufs: dict[str, Path],
                                            tmp_path: Path) -> None:
    third = shutil.copyfile(ggufs["bakery"], tmp_path / "cafe.gguf")
    for slug, path in (*ggufs.items(), ("cafe", third)):
        backend.register_adapter(slug, path)
    first = ask(backend, "bakery")
    ask(backend, "bikes")
    ask(backend, "cafe")  # capacity 2: 'bakery', the least recently used, is freed
    assert backend.loaded_adapters() == ["bikes", "cafe"]
    again = ask(backend, "bakery")  # reloaded from its file
    assert (again.text, again.adapter) == (first.text, "bakery")
    assert backend.loaded_adapters() == ["cafe", "bakery"]
    assert ask(backend, "cafe").text == first.text  # the same weights under another name
    backend.unregister_adapter("cafe")
    assert backend.loaded_adapters() == ["bakery"]
    assert ask(backend, "cafe").adapter is None  # unregistered: the base serves


def test_remote_backend_names_the_adapter_as_model() -> None:
    with FakeOpenAIServer("Fresh bread daily.") as server:
        async def go(backend: OpenAICompatibleBackend, adapter: str | None,
                     stream: bool) -> str | None:
            params = GenerationParams(max_tokens=8, adapter=adapter)
            try:
                if stream:
                    chunks = [c async for c in backend.stream(MESSAGES, params)]
                    return chunks[-1].adapter
                return (await backend.chat(MESSAGES, params)).adapter
            finally:
                await backend.aclose()

        lora = OpenAICompatibleBackend(server.base_url, "smollm2", use_adapters=True)
        plain = OpenAICompatibleBackend(server.base_url, "smollm2")
        assert asyncio.run(go(lora, "bakery", False)) == "bakery"
        assert asyncio.run(go(lora, "bakery", True)) == "bakery"
        assert asyncio.run(go(lora, None, False)) is None
        assert asyncio.run(go(plain, "bakery", False)) is None
        assert [r["model"] for r in server.requests] == ["bakery", "bakery", "smollm2",
                                                         "smollm2"]


@pytest.mark.model
def test_two_agents_in_one_process_each_answer_with_their_own_student(
        model_settings: Settings, ggufs: dict[str, Path], tmp_path: Path) -> None:
    """Through the service and the runtime: each agent's turn is generated on its own
    adapter over the one shared base; an agent whose adapter file is corrupt answers with the
    base model."""
    from doppel.agents.spec import AgentSpec
    from doppel.service import Doppel

    settings = model_settings.model_copy(update={"home": tmp_path / "home", "seed": 3,
                                                 "min_relevance": 0.0, "shields": False,
                                                 "compose_answers": False})
    app = Doppel(settings)
    drafts, models, groundings = {}, {}, {}
    corrupt = tmp_path / "corrupt.gguf"
    corrupt.write_bytes(b"GGUF" + bytes(64))
    for slug, gguf in (("bakery", ggufs["bakery"]), ("bikes", ggufs["bikes"]),
                       ("broken", corrupt)):
        agent = app.agents.create(AgentSpec(slug=slug, name=slug.title()))
        app.ingestor.ingest_bytes(agent, b"# Hours\n\nWe are open every day from 8am to 6pm.\n",
                                  "hours.md")
        app.students.save(agent.id, tmp_path / slug, gguf, {}, passed=True)
        result = asyncio.run(app.runtime.turn(agent, "When are you open?"))
        drafts[slug], models[slug] = result.draft, result.model
        groundings[slug] = result.grounding
    assert models["bakery"].endswith("+bakery") and models["bikes"].endswith("+bikes"), (
        drafts, models, groundings)
    assert "+" not in models["broken"]  # refused: the base model answered
    assert drafts["bakery"] != drafts["bikes"]
    app.close()
