"""The learned tool router (doppel.tools.router) and its recipe (doppel.evaluation.router)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import pytest

from doppel.agents.spec import AgentSpec
from doppel.config import Settings
from doppel.errors import ConfigError
from doppel.evaluation.answers import load_suite
from doppel.evaluation.router import (
    ANSWER_SETS,
    CLASSES,
    TRAIN_SETS,
    fit,
    train,
    training_examples,
)
from doppel.service import Doppel
from doppel.testing import FakeOrderEndpoint
from doppel.tools import TOOLS
from doppel.tools.router import NONE, ROUTER_FILE, ToolRouter, bundled_router


def _toy(classes: tuple[str, ...] = (NONE, "open_now", "booking")) -> ToolRouter:
    # one dimension per class: a vector along axis k is class k
    n = len(classes)
    return ToolRouter(classes, np.eye(n, dtype=np.float32) * 8, np.zeros(n, np.float32), "toy",
                      {})


def test_the_router_chooses_only_among_the_agents_own_tools() -> None:
    router = _toy()
    booking = np.array([0.0, 0.2, 1.0], np.float32)
    assert router.choose(booking, ["open_now", "booking"])[0] == "booking"
    # an agent without booking: its share goes to what the agent has, never to booking
    chosen, p = router.choose(booking, ["open_now"])
    assert chosen in (NONE, "open_now") and chosen != "booking"
    assert set(router.probabilities(booking, ["open_now"])) == {NONE, "open_now"}
    assert abs(sum(router.probabilities(booking, ["open_now", "booking"]).values()) - 1) < 1e-6
    assert router.choose(booking, [])[0] == NONE and router.knows("booking")
    assert not router.knows("mcp")


def test_a_saved_router_loads_identically_and_a_broken_one_is_a_config_error(
        tmp_path: Path) -> None:
    router = _toy()
    path = tmp_path / "router.json"
    router.save(path)
    again = ToolRouter.load(path)
    assert again.classes == router.classes and again.embedder == "toy"
    assert np.allclose(again.weights, router.weights)
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ConfigError, match="unreadable"):
        ToolRouter.load(tmp_path / "bad.json")
    data = json.loads(path.read_text())
    data["classes"] = ["booking", NONE, "open_now"]  # `none` must come first
    (tmp_path / "order.json").write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="does not fit"):
        ToolRouter.load(tmp_path / "order.json")


def test_training_is_deterministic_and_learns_a_separable_problem() -> None:
    rng = np.random.default_rng(7)
    centres = rng.normal(size=(3, 16))
    y = np.repeat(np.arange(3), 20)
    x = centres[y] + 0.1 * rng.normal(size=(60, 16))
    w1, b1 = fit(x, y, 3, steps=200)
    w2, b2 = fit(x, y, 3, steps=200)
    assert np.array_equal(w1, w2) and np.array_equal(b1, b2)
    assert ((x @ w1 + b1).argmax(axis=1) == y).all()


def test_the_shipped_router_was_trained_on_the_committed_tuning_data_only() -> None:
    """router.json says which data made it: the same questions as the tuning sets hold now
    (retrain with `make router` after changing them), and never a held-out set."""
    router = bundled_router()
    examples = training_examples()
    assert router is not None and router.classes == CLASSES
    assert router.embedder == "all-MiniLM-L6-v2" and router.dim == 384
    assert router.recipe["data"] == list(TRAIN_SETS + ANSWER_SETS)
    assert not any(h in s for s in TRAIN_SETS + ANSWER_SETS
                   for h in ("heldout4", "heldout5", "heldout6", "answers-heldout3"))
    assert {e.group for e in examples} >= {"Millrace Coffee Roasters", "examples"}
    root = Path(__file__).resolve().parent.parent / "examples/eval"
    held_out = {a.name for a in load_suite(root / "suite") if a.split == "heldout"} | {
        a.name for a in load_suite(root / "answers-heldout3")}
    assert held_out and not {e.group for e in examples} & held_out
    assert router.recipe["examples"] == len(examples)
    fresh = train(examples, np.zeros((len(examples), 4)), "x")  # the digest, not the weights
    assert fresh.recipe["data_sha256"] == router.recipe["data_sha256"], (
        "the tool evaluation's tuning sets changed: run `make router`")
    assert ROUTER_FILE.stat().st_size < 100_000


SECRET = "test-signing-secret-0123456789"


@pytest.mark.parametrize("router_on", [True, False])
def test_a_message_no_rule_catches_reaches_the_order_tool_by_the_learned_router(
        model_settings: Settings, tmp_path: Path, router_on: bool) -> None:
    """Through a real turn on the real embedder: the order number is read, and the e-mail is
    asked for before anything is looked up. With the router off only the rules and the
    example bar choose, as before it existed."""
    message = "my parcel still hasn't turned up, it's number 5521"
    assert not any(TOOLS.get(n).wants(message) for n in CLASSES[1:])  # no rule claims it
    settings = model_settings.model_copy(update={
        "home": tmp_path / "home", "shields": False, "tool_router": router_on})
    with FakeOrderEndpoint(SECRET, {"5521": {"email": "ana@example.com",
                                             "status": "shipped"}}) as endpoint:
        app = Doppel(settings)
        try:
            agent = app.agents.create(AgentSpec(slug="parcel", name="Parcel Co", tools={
                "order_status": {"endpoint": endpoint.url}, "open_now": {},
                "catalog_lookup": {}}))
            app.ingestor.ingest_bytes(agent, b"# About\n\nWe sell handmade soap online.\n",
                                      "about.md")
            app.runtime.secrets.set(agent.id, "order_status.secret", SECRET)
            result = asyncio.run(app.runtime.turn(app.agents.get("parcel"), message, "t1"))
            rows = app.conversations.turns(agent.id, conversation_id=result.conversation_id)
            calls = next(r.tool_calls for r in rows if r.id == result.id)
            chosen = [(c["tool"], c["chosen_by"]) for c in calls]
            if router_on:
                assert chosen == [("order_status", "learned")], result.answer
                assert result.path == "tool" and "e-mail" in result.answer
                assert calls[0]["arguments"] == {"order": "5521"}
                assert endpoint.calls == 0
            else:
                assert all(how != "learned" for _, how in chosen)
        finally:
            app.close()


def test_a_content_question_stays_with_the_content(model_settings: Settings) -> None:
    from doppel.models import load_embedder

    router = bundled_router()
    assert router is not None
    vectors = load_embedder(model_settings).embed(["what is your refund policy?",
                                                   "do you have parking nearby?"])
    tools = ["open_now", "catalog_lookup", "booking", "order_status", "lead_capture"]
    assert [router.choose(v, tools)[0] for v in vectors] == [NONE, NONE]


def test_a_day_that_is_not_today_stays_with_the_content(model_settings: Settings,
                                                        tmp_path: Path) -> None:
    """The router reads "are you open on Sunday?" as an open-now question (it is one, by its
    words); asked on a Tuesday it is about Sunday's hours, which the content answers."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    settings = model_settings.model_copy(update={"home": tmp_path / "home", "shields": False})
    app = Doppel(settings)
    try:
        agent = app.agents.create(AgentSpec(slug="bakery", name="Rye Bakery",
                                            timezone="Europe/London", tools={"open_now": {}}))
        app.ingestor.ingest_bytes(agent, b"# Opening hours\n\n| Day | Hours |\n|---|---|\n"
                                  b"| Monday - Saturday | 8am - 4pm |\n| Sunday | Closed |\n",
                                  "hours.md")
        tuesday = dt.datetime(2027, 3, 9, 10, 0, tzinfo=ZoneInfo("Europe/London"))
        app.runtime.now = lambda: tuesday
        sunday = asyncio.run(app.runtime.turn(app.agents.get("bakery"),
                                              "are you open on sunday?", "t1"))
        assert sunday.path != "tool" and "closed" in sunday.answer.lower(), sunday.answer
        now = asyncio.run(app.runtime.turn(app.agents.get("bakery"),
                                           "is anybody in the shop at the moment?", "t2"))
        assert now.path == "tool" and "until 4 pm" in now.answer, now.answer
    finally:
        app.close()
    tool = TOOLS.get("open_now")
    friday = dt.datetime(2027, 3, 12, 10, 0)
    assert not tool.declines_at("open today? saw something about march 12 being closed", friday)
    assert tool.declines_at("are you open tomorrow morning?", friday)


def test_a_damaged_router_file_leaves_the_choice_to_the_examples(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import doppel.tools.router as module

    bad = tmp_path / "router.json"
    bad.write_text('{"classes": ["none"]')  # cut short
    monkeypatch.setattr(module, "ROUTER_FILE", bad)
    module.bundled_router.cache_clear()
    try:
        assert module.bundled_router() is None
    finally:
        module.bundled_router.cache_clear()
