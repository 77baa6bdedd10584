"""Third-party plug-ins through real entry points: a distribution's metadata on sys.path, read by
importlib.metadata exactly as for an installed package."""

from __future__ import annotations

import logging
import sys
import textwrap
from pathlib import Path

import pytest

from doppel.channels import CHANNELS
from doppel.knowledge.loaders import LOADERS, loader_for
from doppel.models.base import BACKENDS
from doppel.registry import Registry
from doppel.safety.base import SHIELDS
from doppel.tools import TOOLS

PLUGIN = '''
from doppel.knowledge.loaders import LoadedDocument, Section, decode_text
from doppel.models.base import BackendFactory
from doppel.safety.base import ShieldFactory
from doppel.tools import Tool, ToolResult
from doppel.channels import Channel, Incoming


class Weather(Tool):
    name = "weather-test"
    description = "Today's weather at the shop."

    def wants(self, message):
        return "weather" in message

    async def run(self, ctx, args, settings):
        return ToolResult("ok", "It's sunny at the shop.", ("sunny",))


class ICSLoader:
    name = "ics-test"
    suffixes = (".ics",)

    def load(self, data, filename):
        text = decode_text(data, filename)
        events = [ln.split(":", 1)[1] for ln in text.splitlines() if ln.startswith("SUMMARY:")]
        return LoadedDocument("calendar", [Section("Events", events, records=True)])


class Line(Channel):
    name = "line-test"
    title = "LINE"
    max_chars = 5000

    async def authenticate(self, ctx, headers, raw):
        pass

    def parse(self, link, body):
        return [Incoming(str(e["id"]), str(e["user"]), str(e["text"])) for e in body["events"]]

    async def send(self, ctx, link, user_key, text):
        return "1"


shield = ShieldFactory("shout-test", lambda services: None, {"output"}, "test shield")
backend = BackendFactory("echo-test", lambda settings: None, "test backend")
not_a_loader = object()


def broken():
    raise RuntimeError("boom")
'''


def _distribution(root: Path, name: str, entry_points: str) -> None:
    info = root / f"{name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))


@pytest.fixture()
def plugin_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "doppel_plugin_test.py").write_text(PLUGIN)
    _distribution(tmp_path, "doppel_plugin_test", """
        [doppel.loaders]
        ics = doppel_plugin_test:ICSLoader
        wrong-kind = doppel_plugin_test:not_a_loader
        missing = doppel_plugin_test_missing:Loader
        [doppel.shields]
        shout = doppel_plugin_test:shield
        [doppel.backends]
        echo = doppel_plugin_test:backend
        [doppel.tools]
        weather = doppel_plugin_test:Weather
        not-a-tool = doppel_plugin_test:not_a_loader
        [doppel.channels]
        line = doppel_plugin_test:Line
        not-a-channel = doppel_plugin_test:not_a_loader
        """)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("doppel_plugin_test", None)


def _fresh(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget earlier discoveries, and undo this test's registrations afterwards."""
    monkeypatch.setattr(registry, "_items", dict(registry._items))
    monkeypatch.setattr(registry, "_discovered", None)


def test_entry_points_register_a_loader_after_the_built_ins(plugin_path, monkeypatch, caplog):
    _fresh(LOADERS, monkeypatch)
    before = LOADERS.names()
    with caplog.at_level(logging.WARNING, logger="doppel.registry"):
        found = LOADERS.discover()
    assert found == ["ics-test"]
    assert LOADERS.names() == before + ["ics-test"]
    loader = loader_for("calendar.ics", b"SUMMARY:Bread class\n")
    assert loader is not None and loader.name == "ics-test"
    doc = loader.load(b"BEGIN:VEVENT\nSUMMARY:Bread class\nEND:VEVENT\n", "calendar.ics")
    assert doc.sections[0].units == ["Bread class"]
    # The broken ones are skipped with a reason in the log, never an exception.
    assert "'wrong-kind'" in caplog.text and "is not a loader" in caplog.text
    assert "'missing'" in caplog.text and "ModuleNotFoundError" in caplog.text
    # Read once: a second call neither re-imports nor registers twice.
    assert LOADERS.discover() == ["ics-test"]
    assert LOADERS.names().count("ics-test") == 1


def test_shields_and_backends_come_from_their_groups(plugin_path, monkeypatch):
    from doppel.plugins import load_plugins

    for registry in (LOADERS, SHIELDS, BACKENDS, TOOLS, CHANNELS):
        _fresh(registry, monkeypatch)
    found = load_plugins()
    assert found == {"loader": ["ics-test"], "shield": ["shout-test"],
                     "chat backend": ["echo-test"], "tool": ["weather-test"],
                     "channel": ["line-test"]}
    # a channel from a package gets the built-ins' webhook route, hub and outbox
    assert CHANNELS.get("line-test").parse(None, {"events": [
        {"id": 1, "user": "u", "text": "hi"}]})[0].text == "hi"
    assert "shout-test" in SHIELDS and "echo-test" in BACKENDS


def test_a_third_party_tool_answers_a_turn(plugin_path, monkeypatch, settings):
    """A tool from an entry point is chosen, run and checked exactly like a built-in."""
    import asyncio

    from doppel.agents.spec import AgentSpec
    from doppel.service import Doppel
    from doppel.testing import FakeChatBackend, FakeEmbedder

    for registry in (LOADERS, SHIELDS, BACKENDS, TOOLS):
        _fresh(registry, monkeypatch)
    app = Doppel(settings, backend=FakeChatBackend(), embedder=FakeEmbedder())  # loads plug-ins
    try:
        assert "weather-test" in TOOLS
        agent = app.agents.create(AgentSpec(slug="shop", name="Shop",
                                            tools={"weather-test": {}}))
        result = asyncio.run(app.runtime.turn(agent, "what's the weather like at the shop?"))
        assert result.path == "tool" and result.answer == "It's sunny at the shop."
    finally:
        app.close()


def test_a_plugin_never_replaces_a_built_in(tmp_path, monkeypatch, caplog):
    (tmp_path / "doppel_plugin_clash.py").write_text(
        "class Md:\n    name = 'markdown'\n    suffixes = ('.md',)\n"
        "    def load(self, data, filename):\n        raise AssertionError('replaced')\n")
    _distribution(tmp_path, "doppel_plugin_clash",
                  "[doppel.loaders]\nmd = doppel_plugin_clash:Md\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    _fresh(LOADERS, monkeypatch)
    builtin = LOADERS.get("markdown")
    with caplog.at_level(logging.WARNING, logger="doppel.registry"):
        assert LOADERS.discover() == []
    assert LOADERS.get("markdown") is builtin
    assert "already registered" in caplog.text
    sys.modules.pop("doppel_plugin_clash", None)


def test_the_built_in_order_is_explicit():
    from doppel.knowledge.loaders import BUILT_IN

    names = [loader.name for loader in BUILT_IN]
    assert LOADERS.names()[:len(names)] == names
    # Exports are claimed by sniffing before any suffix match: a Shopify CSV is no plain CSV.
    assert names.index("shopify") < names.index("catalog") < names.index("csv")
    assert names.index("instagram") < names.index("posts") < names.index("faq")
