"""The distillation dataset: mined questions, the pipeline as teacher, filters, split by chunk."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from doppel.agents.grounding import Evidence, check
from doppel.agents.spec import AgentSpec, Contact
from doppel.agents.steps import dont_know
from doppel.config import Settings
from doppel.demo import DEMO_SLUG, build_demo
from doppel.distill.dataset import (
    Dataset,
    build_dataset,
    load_jsonl,
    mine_questions,
    paraphrases,
    save_jsonl,
    student_system_prompt,
)
from doppel.errors import ValidationError
from doppel.safety.pipeline import SELF_HARM_REPLY
from doppel.service import Doppel
from doppel.testing import FakeChatBackend, FakeEmbedder

from .conftest import EXAMPLES, copy_demo, shared_models_dir

KINDS = {"fact", "paraphrase", "follow_up", "dont_know", "refusal", "greeting"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Doppel]:
    """The demo agent on fakes, built once for the module (building it takes seconds)."""
    settings = Settings(home=tmp_path_factory.mktemp("distill") / "home",
                        models_home=shared_models_dir())
    settings.min_relevance = 0.08  # the fake embedder's cosine is plain word overlap
    # The shields' classifier needs real sentence vectors (see conftest's server_app); the
    # refusals then come from the shields' own refusal template, checked below.
    settings.shields = False
    app = Doppel(settings, backend=FakeChatBackend(), embedder=FakeEmbedder())
    with contextlib.redirect_stdout(io.StringIO()):
        build_demo(app)
    yield app
    app.close()


@pytest.fixture(scope="module")
def dataset(demo: Doppel) -> Dataset:
    return build_dataset(demo, demo.agents.get(DEMO_SLUG), seed=0)


def _chunk_texts(app: Doppel) -> dict[int, tuple[str, str, str]]:
    rows = app.db.connect().execute(
        "SELECT c.id, c.text, c.heading, d.source FROM chunks c JOIN documents d "
        "ON d.id = c.document_id").fetchall()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def test_every_kind_with_provenance(demo: Doppel, dataset: Dataset) -> None:
    assert {e.kind for e in dataset.examples} == KINDS
    assert dataset.stats["usable_knowledge_examples"] >= 30
    for e in dataset.examples:
        assert e.messages[-1]["role"] == "user" and e.answer
        assert e.provenance.seed == 0 and e.provenance.path and e.provenance.method
        assert e.student_prompt_tokens > 0
        if e.kind in ("fact", "paraphrase", "follow_up"):
            assert e.provenance.chunk_ids and e.provenance.sources
            assert e.provenance.path in ("approved", "composed", "generated", "extractive")
    methods = {e.provenance.method for e in dataset.examples}
    assert {"faq", "catalog", "hours", "policy"} <= methods
    follow = next(e for e in dataset.examples if e.kind == "follow_up")
    assert [m["role"] for m in follow.messages] == ["user", "assistant", "user"]
    spec = demo.agents.get(DEMO_SLUG).spec
    assert all(e.answer == dont_know(spec) for e in dataset.examples if e.kind == "dont_know")
    assert all(e.answer == spec.greeting for e in dataset.examples if e.kind == "greeting")
    assert all(e.answer.startswith("Sorry, I can't") or e.answer == SELF_HARM_REPLY
               for e in dataset.examples if e.kind == "refusal")


def test_unsafe_prompts_come_from_the_training_set_never_the_eval_set(dataset: Dataset) -> None:
    def strings(node: object) -> list[str]:
        if isinstance(node, dict):
            return [s for v in node.values() for s in strings(v)]
        if isinstance(node, list):
            return [s for v in node for s in strings(v)]
        return [node.strip().lower()] if isinstance(node, str) else []

    eval_texts = set(strings(yaml.safe_load((EXAMPLES.parent / "eval" / "safety.yaml")
                                            .read_text())))
    refusals = [e.question.strip().lower() for e in dataset.examples if e.kind == "refusal"]
    assert len(refusals) >= 10 and not set(refusals) & eval_texts


def test_split_is_by_source_chunk(dataset: Dataset) -> None:
    train = {e.provenance.chunk_ids[0] for e in dataset.split("train") if e.provenance.chunk_ids}
    held = {e.provenance.chunk_ids[0] for e in dataset.split("heldout")
            if e.provenance.chunk_ids}
    assert train and held and not train & held
    assert held == set(dataset.stats["heldout_chunks"])
    assert 0.1 < len(held) / (len(held) + len(train)) < 0.3
    # no train target is a held-out target (that would test recall)
    knowledge = [e for e in dataset.examples if e.provenance.chunk_ids]
    held_answers = {e.answer for e in knowledge if e.split == "heldout"}
    assert not any(e.answer in held_answers for e in knowledge if e.split == "train")
    assert dataset.stats["by_split"]["heldout"] == len(dataset.split("heldout"))


def test_grounding_holds_for_every_knowledge_example(demo: Doppel, dataset: Dataset) -> None:
    chunks = _chunk_texts(demo)
    spec = demo.agents.get(DEMO_SLUG).spec
    for e in dataset.examples:
        if not e.provenance.chunk_ids:
            continue
        used = [chunks[c] for c in e.provenance.chunk_ids]
        evidence = Evidence([t for c in used for t in c] + spec.evidence_texts())
        assert check(e.answer, evidence, e.question).grounded, e


def test_questions_are_not_near_duplicates(dataset: Dataset) -> None:
    keys = [" ".join(m["content"].lower().strip("?.!") for m in e.messages if m["role"] ==
                     "user") for e in dataset.examples]
    assert len(keys) == len(set(keys))


def test_deterministic_for_a_seed_and_no_turn_recorded(demo: Doppel, dataset: Dataset,
                                                       tmp_path: Path) -> None:
    agent = demo.agents.get(DEMO_SLUG)
    again = build_dataset(demo, agent, seed=0)
    first, second = save_jsonl(dataset, tmp_path / "a" / "d.jsonl"), \
        save_jsonl(again, tmp_path / "b" / "d.jsonl")
    assert first.read_bytes() == second.read_bytes()
    other = build_dataset(demo, agent, seed=1)
    assert other.stats["heldout_chunks"] != dataset.stats["heldout_chunks"]
    # The teacher's turns never reach the owner's conversations, inbox or analytics.
    conn = demo.db.connect()
    assert conn.execute("SELECT COUNT(*) FROM turns").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM conversations").fetchone()[0] == 0


def test_jsonl_round_trip_with_stats(dataset: Dataset, tmp_path: Path) -> None:
    path = save_jsonl(dataset, tmp_path / "data.jsonl")
    lines = path.read_text().splitlines()
    assert len(lines) == len(dataset.examples)
    assert json.loads(lines[0])["provenance"]["chunk_ids"] is not None  # no header line
    loaded = load_jsonl(path)
    assert loaded.examples == dataset.examples
    assert loaded.stats == json.loads(json.dumps(dataset.stats))
    assert (tmp_path / "stats.json").is_file()


def test_student_prompt_is_short_and_names_the_contact(demo: Doppel, dataset: Dataset) -> None:
    spec = demo.agents.get(DEMO_SLUG).spec
    prompt = student_system_prompt(spec)
    assert spec.name in prompt and spec.contact.phone in prompt
    assert len(prompt.split()) < 50
    stats = dataset.stats
    assert stats["teacher_prompt_tokens_mean"] > 3 * stats["student_prompt_tokens_mean"]


def test_mining_rules() -> None:
    from doppel.distill.dataset import _Chunk

    row = _Chunk(1, "prices.csv", "csv", "prices",
                 "item: Latte; category: drink; size: 16 oz; price: 5.50")
    asked = [q.text for q in mine_questions(row, repeated={"Latte"})]
    assert "How much is a 16 oz Latte?" in asked and "Do you have the Latte?" in asked
    hours = _Chunk(2, "hours.md", "markdown", "Hours",
                   "Day: Monday; Hours: Closed\nDay: Sunday; Hours: 8:00 am – 2:00 pm")
    found = mine_questions(hours)
    assert {"Are you open on Monday?", "What time do you close on Sunday?"} <= \
        {q.text for q in found}
    assert any(q.kind == "follow_up" and q.text == "And on Sundays?" for q in found)
    assert "What does the Latte cost?" in paraphrases("How much is the Latte?")


def test_too_little_knowledge_is_a_clear_error(app: Doppel) -> None:
    app.settings.shields = False
    agent = app.agents.create(AgentSpec(slug="tiny", name="Tiny Shop",
                                        contact=Contact(email="hi@tiny.example")))
    app.ingestor.ingest_bytes(agent, b"We sell handmade mugs.", "about.txt")
    with pytest.raises(ValidationError, match=r"not enough knowledge to distill: \d+ usable "
                       r"examples from 1 passages \(at least 30 needed"):
        build_dataset(app, agent)


@pytest.mark.model
def test_real_pipeline_teaches_no_invented_fact(model_settings: Settings, demo_snapshot: Path,
                                                tmp_path: Path) -> None:
    """The real embedded model and MiniLM as the teacher, on a slice of the demo's chunks:
    no answer states a fact that the sources it cites do not contain."""
    settings = model_settings.model_copy(
        update={"home": copy_demo(demo_snapshot, tmp_path / "home"), "seed": 7})
    app = Doppel(settings)
    agent = app.agents.get(DEMO_SLUG)
    chunks = _chunk_texts(app)
    ids = sorted(chunks)[::12]  # every 12th chunk: FAQ, prices, pages and policies
    data = build_dataset(app, agent, seed=0, max_per_chunk=1, chunk_ids=ids, min_examples=3)
    knowledge = [e for e in data.examples if e.provenance.chunk_ids]
    assert len(knowledge) >= 3
    for e in knowledge:
        evidence = Evidence([t for c in e.provenance.chunk_ids for t in chunks[c]]
                            + agent.spec.evidence_texts())
        assert check(e.answer, evidence, e.question).grounded, e
    assert app.db.connect().execute("SELECT COUNT(*) FROM turns").fetchone()[0] == 0
    app.close()
