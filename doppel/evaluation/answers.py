"""Answer quality on whole agents: every question through a real turn, scored as a customer
would see the reply.

A suite is a folder of evaluation agents, each an `eval.yaml` beside the owner's files
(`content/`, or the folder its `content:` key names). The agent is created the way an owner
creates one (`doppel create NAME --from content/`: an `agent.yaml` there is used, nothing else
is given) and every question is one turn in a fresh conversation; a follow-up's turns share
one. What is counted, per agent:

- **right**: an answerable question's reply states an expected value (and, for a yes/no
  question, the expected polarity) and none of the confusable wrong ones;
- **wrong facts shown**: a reply that shows a value the question's `wrong` list names (the
  neighbouring row's price, another day's time) — the number that must be zero;
- **natural**: a right reply that reads as a person's: no passage dump, no file path, no
  `key: value; key: value` record, three sentences at most;
- **honest don't-know**: an unanswerable question met with "I don't know" and a way to reach
  the owner (a phone number or e-mail from `contact`);
- **over-refused**: a harmless question (answerable, or one of the `benign` look-alikes of
  unsafe ones) refused by a shield;
- the mix of answer paths.

Splits: `dev` agents may be tuned on, `heldout` agents are reported on and never tuned on
(README). The scoring is plain string matching on purpose, so that anyone can check a verdict
by reading the reply.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from doppel.agents.spec import AgentSpec, slugify
from doppel.agents.turn import TurnResult
from doppel.errors import ValidationError
from doppel.language.words import sentences

__all__ = ["AgentReport", "Case", "EvalAgent", "Question", "format_table", "load_suite",
           "run_agent", "run_existing", "score"]

CATEGORIES = ("answerable", "follow_up", "unanswerable", "benign")


@dataclass
class Question:
    id: str
    category: str                  # answerable | follow_up | unanswerable | benign
    turns: list[str]               # one message, or a follow-up's messages in order
    expect: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    polarity: str | None = None    # "yes" | "no" for a clear yes/no answer
    type: str = ""

    @property
    def question(self) -> str:
        return self.turns[-1]


@dataclass
class EvalAgent:
    name: str
    kind: str
    split: str
    folder: Path     # where eval.yaml is
    content: Path    # the owner's files
    contact: list[str]
    questions: list[Question]

    @property
    def slug(self) -> str:
        return "eval-" + slugify(self.folder.name)[:50]


@dataclass
class Case:
    id: str
    category: str
    question: str
    answer: str
    path: str
    right: bool = False
    wrong_fact: str = ""      # the wrong value shown, if any
    natural: bool = False
    honest: bool = False      # unanswerable: said so, with a contact
    refused: bool = False
    first_visible_ms: float | None = None
    total_ms: float = 0.0
    why: str = ""             # the grounding record's gist, for reading a miss


@dataclass
class AgentReport:
    name: str
    split: str
    cases: list[Case]

    def _of(self, *categories: str) -> list[Case]:
        return [c for c in self.cases if c.category in categories]

    @property
    def figures(self) -> dict[str, Any]:
        answerable = self._of("answerable", "follow_up")
        right = [c for c in answerable if c.right]
        unanswerable = self._of("unanswerable")
        harmless = self._of("answerable", "follow_up", "benign")
        return {
            "answerable": len(answerable),
            "right": len(right),
            "wrong_facts": sum(1 for c in self.cases if c.wrong_fact),
            "natural": sum(1 for c in right if c.natural),
            "unanswerable": len(unanswerable),
            "honest_dont_know": sum(1 for c in unanswerable if c.honest),
            "harmless": len(harmless),
            "over_refused": sum(1 for c in harmless if c.refused),
            "paths": dict(Counter(c.path for c in self.cases)),
        }

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "split": self.split, "figures": self.figures,
                "cases": [asdict(c) for c in self.cases]}


# --- loading -------------------------------------------------------------------------------

def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (str, int, float)):
        return [str(value)]
    return [str(v) for v in value if v is not None and str(v).strip()]


def load_agent(path: Path) -> EvalAgent:
    """One evaluation agent from its eval.yaml (or a legacy set such as bakery.yaml)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ValidationError(f"{path}: unreadable evaluation set ({exc})") from None
    folder = path.parent
    content = (folder / data["content"]).resolve() if data.get("content") else folder / "content"
    if not content.exists():
        raise ValidationError(f"{path}: the content folder {content} does not exist")
    questions: list[Question] = []
    for category, key in (("answerable", "answerable"), ("follow_up", "follow_ups"),
                          ("unanswerable", "unanswerable"), ("unanswerable", "out_of_scope"),
                          ("benign", "benign")):
        for i, item in enumerate(data.get(key) or []):
            turns = _strings(item.get("turns")) or _strings(item.get("question"))
            if not turns:
                continue
            polarity = item.get("polarity")
            polarity = {True: "yes", False: "no"}.get(polarity, polarity)  # YAML's yes/no
            questions.append(Question(
                str(item.get("id") or f"{key}-{i + 1}"), category, turns,
                _strings(item.get("expect")), _strings(item.get("wrong")),
                str(polarity).lower() if polarity else None, str(item.get("type") or "")))
    name = str(data.get("name") or folder.name.replace("-", " ").title())
    return EvalAgent(name, str(data.get("kind") or "business"), str(data.get("split") or "dev"),
                     folder, content, _strings(data.get("contact")), questions)


def load_suite(root: Path) -> list[EvalAgent]:
    """Every evaluation agent under `root` (a folder of eval.yaml files, or one file)."""
    if root.is_file():
        return [load_agent(root)]
    files = sorted(root.rglob("eval.yaml"))
    if not files:
        raise ValidationError(f"no eval.yaml under {root}")
    return [load_agent(f) for f in files]


# --- scoring -------------------------------------------------------------------------------

_DUMP = re.compile(r"Here is what our information says|[\w/-]+\.(?:json|csv|md|html?|pdf|ya?ml|"
                   r"txt|js|vtt|srt)\b|\s›\s", re.I)
_RECORD = re.compile(r"[\w )(]{2,40}: [^;\n]{1,80}; [\w )(]{2,40}: ")
_NEGATION = re.compile(r"\b(no|not|never|nope|don't|doesn't|isn't|aren't|won't|can't|cannot|"
                       r"closed|unfortunately|sorry)\b|n't\b", re.I)
_DONT_KNOW = re.compile(r"\b(don't know|do not know|not sure|isn't in|is not in|not in my|"
                        r"couldn't find|can't find|no information|rather not guess|"
                        r"can't share|cannot share|can't help with|pass your question)\b", re.I)


def _normal(text: str) -> str:
    text = text.lower().replace("’", "'").replace("‘", "'").replace("–", "-").replace("—", "-")
    text = re.sub(r"(\d)\.00\b", r"\1", text)  # "$28.00" is "$28"
    text = re.sub(r"(\d),(\d{3})\b", r"\1\2", text)  # "1,200" is "1200"
    return re.sub(r"\s+", " ", text)


def contains(answer: str, value: str) -> bool:
    """`value` in `answer` as a whole token: "9" is not in "19" or "9:30", "$28" is in "$28.00",
    "8:30" is in "8:30am"."""
    a, v = _normal(answer), _normal(value).strip()
    if not v:
        return False
    start = r"(?<![\w.,:])" if v[0].isalnum() else ""
    # "8:30" is in "8:30am" (a time's am/pm is no other number); "9" is not in "19" or "9:30"
    end = r"(?!(?!(?:am|pm|a\.m\.|p\.m\.)(?!\w))\w|[.,:]\d)" if v[-1].isalnum() else ""
    return re.search(start + re.escape(v) + end, a) is not None


def natural(answer: str) -> bool:
    """Reads as a person's reply: no dump, no record syntax, three sentences at most."""
    if _DUMP.search(answer) or _RECORD.search(answer):
        return False
    return len(sentences(answer)) <= 3 and len(answer) <= 450


def score(q: Question, result: TurnResult, contact: list[str]) -> Case:
    answer, path = result.answer, result.path
    case = Case(q.id, q.category, " / ".join(q.turns), answer, path,
                first_visible_ms=result.timings.get("first_visible_ms"),
                total_ms=result.timings.get("total_ms", 0.0))
    g = result.grounding
    case.why = "; ".join(f"{k}={g[k]}" for k in ("composed", "best_similarity", "min_relevance",
                                                   "unsupported", "contradictions", "private",
                                                   "refused_by") if g.get(k))[:300]
    case.refused = path == "refused"
    said_dont_know = path == "dont_know" or bool(_DONT_KNOW.search(answer))
    if path not in ("dont_know", "refused"):
        case.wrong_fact = next((w for w in q.wrong if contains(answer, w)), "")
    if q.category in ("answerable", "follow_up"):
        hit = any(contains(answer, e) for e in q.expect) if q.expect else False
        if q.polarity == "no":
            hit = hit and bool(_NEGATION.search(answer))
        elif q.polarity == "yes":
            hit = hit and not re.match(r"\W*(no|nope|sorry|unfortunately)\b", answer, re.I)
        case.right = hit and not case.wrong_fact and path not in ("dont_know", "refused")
        case.natural = case.right and natural(answer)
    elif q.category == "unanswerable":
        case.honest = said_dont_know and (not contact or any(contains(answer, c)
                                                             for c in contact))
    return case


# --- running -------------------------------------------------------------------------------

def run_agent(app: Any, ev: EvalAgent, progress: Callable[[Case], None] | None = None
              ) -> AgentReport:
    """Create the agent from its content as `doppel create` would (replacing an earlier eval
    copy) and put every question to it through the runtime."""
    existing = {a.slug for a in app.agents.list()}
    if ev.slug in existing:
        app.agents.delete(ev.slug)
    data: dict[str, Any] = {}
    spec_file = ev.content / "agent.yaml"
    if spec_file.is_file():
        data = AgentSpec.from_yaml(spec_file.read_text(encoding="utf-8")).model_dump()
    data.update(slug=ev.slug, sources=[])
    data.setdefault("name", ev.name)
    if not spec_file.is_file():
        data["name"], data["kind"] = ev.name, ev.kind
    # The eval folder's own files (eval.yaml) never reach the agent: ingest a copy of content/.
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / ev.content.name
        shutil.copytree(ev.content, copy, ignore=shutil.ignore_patterns("eval.yaml"))
        agent, _ = app.create_agent(AgentSpec.parse(data), [copy])
    cases = asyncio.run(_ask_all(app, agent.slug, ev, progress))
    return AgentReport(ev.name, ev.split, cases)


def run_existing(app: Any, agent: Any, ev: EvalAgent,
                 progress: Callable[[Case], None] | None = None) -> AgentReport:
    """Put an evaluation set's questions to an agent that already exists."""
    cases = asyncio.run(_ask_all(app, agent.slug, ev, progress))
    return AgentReport(agent.spec.name, ev.split, cases)


async def _ask_all(app: Any, slug: str, ev: EvalAgent,
                   progress: Callable[[Case], None] | None) -> list[Case]:
    cases = []
    for q in ev.questions:
        thread = f"eval-{q.id}-{time.monotonic_ns()}"
        result: TurnResult | None = None
        for message in q.turns:
            result = await app.runtime.turn(app.agents.get(slug), message, thread)
        assert result is not None
        case = score(q, result, ev.contact)
        cases.append(case)
        if progress is not None:
            progress(case)
    return cases


# --- reporting -----------------------------------------------------------------------------

def _pct(n: int, d: int) -> str:
    return f"{n}/{d} ({100 * n / d:.0f}%)" if d else "-"


def format_table(reports: list[AgentReport]) -> str:
    """One row per agent and a total per split: the figures the README quotes."""
    head = (f"{'agent':28} {'split':8} {'right':>13} {'wrong':>5} {'natural':>13} "
            f"{'dont-know':>13} {'refused':>10}  paths")
    lines = [head, "-" * len(head)]

    def row(name: str, split: str, f: dict[str, Any]) -> str:
        paths = " ".join(f"{k}={v}" for k, v in sorted(f["paths"].items()))
        return (f"{name[:28]:28} {split:8} {_pct(f['right'], f['answerable']):>13} "
                f"{f['wrong_facts']:>5} {_pct(f['natural'], f['right']):>13} "
                f"{_pct(f['honest_dont_know'], f['unanswerable']):>13} "
                f"{_pct(f['over_refused'], f['harmless']):>10}  {paths}")

    for split in sorted({r.split for r in reports}):
        group = [r for r in reports if r.split == split]
        total: dict[str, Any] = {"paths": Counter()}
        for r in group:
            f = r.figures
            lines.append(row(r.name, split, f))
            for k, v in f.items():
                if k == "paths":
                    total["paths"].update(v)
                else:
                    total[k] = total.get(k, 0) + v
        if len(group) > 1:
            lines.append(row(f"all {split}", split, total))
        lines.append("")
    return "\n".join(lines).rstrip()
