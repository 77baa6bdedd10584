"""The tool evaluation (examples/eval/tools): does a real turn choose the right tool, pass it
the right arguments and answer right, without a wrong fact, at the customer's moment?

Each agent is built from its answer-suite content (as `doppel create` would), with the tools
its tools.yaml configures: the owner's calendar served from 127.0.0.1 (`FakeWebsite`), the
order system a real signed endpoint on 127.0.0.1 (`FakeOrderEndpoint`) holding orders.yaml.
Each question runs in its own conversation, at its own `now` in the business's time zone.

What a question's chosen tool is: the tool of the last turn's last call when the turn went
through the `tools` step; `handoff` when the turn handed the conversation to a person;
`none` otherwise. Arguments are compared as the eval set writes them (`start` is the booking's
local ISO start, `order`, `email`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from doppel.agents.spec import AgentSpec
from doppel.agents.turn import TurnResult
from doppel.errors import ValidationError
from doppel.evaluation.answers import _normal, _pct
from doppel.testing import FakeOrderEndpoint, FakeWebsite, SitePage

__all__ = ["ToolCase", "ToolQuestion", "ToolSet", "format_tool_table", "load_tool_sets",
           "run_tool_set"]

SECRET = "evaluation-signing-secret-0123456789"


@dataclass
class ToolQuestion:
    id: str
    now: str
    turns: list[str]
    tool: str
    args: dict[str, str]
    expect: list[str]
    wrong: list[str]


@dataclass
class ToolSet:
    name: str
    split: str
    folder: Path
    content: Path
    timezone: str
    tools: dict[str, dict[str, Any]]
    questions: list[ToolQuestion]


@dataclass
class ToolCase:
    id: str
    question: str
    expected: str
    chosen: str
    arguments: dict[str, Any]
    args_ok: bool
    answer: str
    path: str
    right: bool
    wrong_fact: str
    invalid_calls: int = 0          # calls whose arguments failed validation (asked again)
    latency_ms: float = 0.0
    tool_ms: float | None = None
    route_ms: float | None = None

    @property
    def right_tool(self) -> bool:
        return self.chosen == self.expected


@dataclass
class ToolReport:
    name: str
    split: str
    cases: list[ToolCase] = field(default_factory=list)

    def figures(self) -> dict[str, Any]:
        c = self.cases
        with_args = [x for x in c if x.right_tool and x.expected not in ("none", "handoff")]
        return {"questions": len(c), "right_tool": sum(x.right_tool for x in c),
                "args_checked": len(with_args), "args_ok": sum(x.args_ok for x in with_args),
                "right": sum(x.right for x in c), "wrong_facts": sum(bool(x.wrong_fact)
                                                                     for x in c)}

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "split": self.split, "figures": self.figures(),
                "cases": [asdict(x) for x in self.cases]}


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def load_tool_set(path: Path, split: str) -> ToolSet:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ValidationError(f"{path}: unreadable tool evaluation set ({exc})") from None
    folder = path.parent
    content = (folder / str(data["suite"]) / "content").resolve()
    questions = [ToolQuestion(str(q.get("id") or f"q{i + 1:02d}"), str(q["now"]),
                              _strings(q.get("turns")),
                              str(q.get("tool") or "none"),
                              {k: str(v) for k, v in (q.get("args") or {}).items()},
                              _strings(q.get("expect")), _strings(q.get("wrong")))
                 for i, q in enumerate(data.get("questions") or [])]
    return ToolSet(str(data.get("name") or folder.name), split, folder, content,
                   str(data.get("timezone") or "UTC"), dict(data.get("tools") or {}), questions)


def load_tool_sets(root: Path) -> list[ToolSet]:
    files = sorted(root.rglob("tools.yaml"))
    if not files:
        raise ValidationError(f"no tools.yaml under {root}")
    return [load_tool_set(f, f.parent.parent.name) for f in files]


@contextlib.contextmanager
def _services(ts: ToolSet) -> Iterator[dict[str, dict[str, Any]]]:
    """The agent's tool settings, with the owner's calendar and order system on 127.0.0.1."""
    tools: dict[str, dict[str, Any]] = {"open_now": {}, "catalog_lookup": {},
                                        "lead_capture": {}}
    with contextlib.ExitStack() as stack:
        booking = ts.tools.get("booking")
        if booking:
            ics = (ts.folder / booking["calendar"]).read_bytes()
            site = stack.enter_context(FakeWebsite({"/calendar.ics": SitePage(
                ics, content_type="text/calendar; charset=utf-8")}))
            tools["booking"] = {"calendar_url": site.url("/calendar.ics"),
                                "slot_minutes": int(booking.get("slot_minutes", 60))}
        orders = ts.tools.get("order_status")
        if orders:
            data = yaml.safe_load((ts.folder / orders["orders"]).read_text(encoding="utf-8"))
            endpoint = stack.enter_context(FakeOrderEndpoint(SECRET, {
                str(k): {kk: vv for kk, vv in v.items() if vv is not None}
                for k, v in data.items()}))
            tools["order_status"] = {"endpoint": endpoint.url}
        yield tools


def _chosen(result: TurnResult, calls: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    if calls and result.path in ("tool", "handoff") and "tool" in result.grounding:
        return calls[-1]["tool"], calls[-1].get("arguments", {})
    if calls and result.path == "handoff" and calls[-1].get("status") == "failed":
        return calls[-1]["tool"], calls[-1].get("arguments", {})
    if result.path == "handoff":
        return "handoff", {}
    return "none", {}


def _args_ok(expected: dict[str, str], got: dict[str, Any]) -> bool:
    for key, want in expected.items():
        if key == "start":
            have = f"{got.get('day', '')}T{str(got.get('time') or '')[:5]}"
        else:
            have = str(got.get(key, ""))
        if have.lower() != want.lower():
            return False
    return True


def run_tool_set(app: Any, ts: ToolSet, progress: Callable[[ToolCase], None] | None = None
                 ) -> ToolReport:
    slug = "tools-" + ts.folder.name
    if slug in {a.slug for a in app.agents.list()}:
        app.agents.delete(slug)
    report = ToolReport(ts.name, ts.split)
    with _services(ts) as tools, tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "content"
        shutil.copytree(ts.content, copy, ignore=shutil.ignore_patterns("eval.yaml"))
        spec = AgentSpec.parse({"slug": slug, "name": ts.name, "timezone": ts.timezone,
                                "tools": tools})
        agent, _ = app.create_agent(spec, [copy])
        app.runtime.secrets.set(agent.id, "order_status.secret", SECRET)
        zone = ZoneInfo(ts.timezone)
        real_now = app.runtime.now
        try:
            for q in ts.questions:
                moment = dt.datetime.fromisoformat(q.now).replace(tzinfo=zone)
                app.runtime.now = lambda m=moment: m
                case = asyncio.run(_ask(app, slug, q))
                report.cases.append(case)
                if progress is not None:
                    progress(case)
        finally:
            app.runtime.now = real_now
    return report


async def _ask(app: Any, slug: str, q: ToolQuestion) -> ToolCase:
    thread = f"tools-{q.id}-{time.monotonic_ns()}"
    result: TurnResult | None = None
    started = time.perf_counter()
    for message in q.turns:
        started = time.perf_counter()
        result = await app.runtime.turn(app.agents.get(slug), message, thread)
    assert result is not None
    latency = (time.perf_counter() - started) * 1000
    rows = app.conversations.turns(app.agents.get(slug).id,
                                   conversation_id=result.conversation_id, limit=50)
    invalid = sum(1 for r in rows for c in r.tool_calls if c["status"] == "invalid")
    last = next((r for r in rows if r.id == result.id), None)
    calls = last.tool_calls if last is not None else []
    chosen, arguments = _chosen(result, calls)
    answer = result.answer
    # The set's own definition: case-insensitive substrings (examples/eval/tools/README.md).
    wrong = next((w for w in q.wrong if _normal(w) in _normal(answer)), "")
    hit = any(_normal(e) in _normal(answer) for e in q.expect) if q.expect else True
    args_ok = _args_ok(q.args, arguments) if chosen == q.tool else False
    right = chosen == q.tool and hit and not wrong and (args_ok or not q.args)
    return ToolCase(q.id, " / ".join(q.turns), q.tool, chosen, arguments, args_ok, answer,
                    result.path, right, wrong, invalid, round(latency, 3),
                    result.timings.get("tool_ms"), result.timings.get("route_ms"))


def format_tool_table(reports: list[ToolReport]) -> str:
    head = (f"{'agent':28s} {'split':8s} {'right tool':>13s} {'args':>13s} {'right':>13s} "
            f"{'wrong':>5s}")
    lines = [head, "-" * len(head)]

    def row(name: str, split: str, f: dict[str, Any]) -> str:
        return (f"{name[:28]:28s} {split:8s} {_pct(f['right_tool'], f['questions']):>13s} "
                f"{_pct(f['args_ok'], f['args_checked']):>13s} "
                f"{_pct(f['right'], f['questions']):>13s} {f['wrong_facts']:>5d}")

    for split in dict.fromkeys(r.split for r in reports):
        group = [r for r in reports if r.split == split]
        for r in group:
            lines.append(row(r.name, r.split, r.figures()))
        total = {k: sum(r.figures()[k] for r in group) for k in group[0].figures()}
        lines.append(row(f"all {split}", split, total))
        lines.append("")
    return "\n".join(lines)
