"""`doppel export AGENT --out DIR`: one agent as a folder that runs offline on another laptop.

The folder holds a data directory with a database of this agent alone (its spec and persona,
its passages with their vectors and full-text index, its approved answers), the models it needs
(the chat model GGUF, the MiniLM ONNX embedder, and the agent's student adapter when it has an
active one), and `run.py`, a runner: `pip install doppel` then `python run.py` chats in the
terminal, `python run.py serve` starts the web page and the API on 127.0.0.1.

What is left out on purpose: other agents, every conversation (customers' words are not the
owner's to hand around), owners, API keys, console sessions and import jobs.

The folder is built beside the target and renamed at the end: an interrupted export leaves no
half-written folder behind, and an existing folder is never overwritten.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from doppel.agents.repo import Agent
from doppel.errors import ValidationError
from doppel.models.prepare import model_paths
from doppel.service import Doppel

RUNNER = '''#!/usr/bin/env python3
"""Run the exported agent {slug!r} offline: `python run.py` (chat), `python run.py serve`,
or `python run.py ask "a question"`. Needs only `pip install doppel`."""

import os
import subprocess
import sys
from pathlib import Path

here = Path(__file__).resolve().parent
os.environ["DOPPEL_HOME"] = str(here / "home")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
command = sys.argv[1] if len(sys.argv) > 1 else "chat"
if command == "serve":
    args = ["serve", *sys.argv[2:]]
elif command == "ask":
    args = ["chat", {slug!r}, "-m", " ".join(sys.argv[2:])]
else:
    args = ["chat", {slug!r}, *sys.argv[2:]]
sys.exit(subprocess.call([sys.executable, "-m", "doppel", *args]))
'''


@dataclass
class ExportResult:
    path: Path
    bytes: int
    passages: int
    approved_answers: int
    adapter: bool


def export_agent(app: Doppel, agent: Agent, out: Path) -> ExportResult:
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ValidationError(f"{out} already exists and is not empty: choose a new folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        home = work / "home"
        (home / "models").mkdir(parents=True)
        passages, answers = _database(app, agent, home / "doppel.db")
        paths = model_paths(app.settings)
        for source in (paths.chat, paths.embedder_onnx, paths.embedder_tokenizer):
            if not source.is_file():
                raise ValidationError(f"model file missing: {source} (run `doppel init`)")
            shutil.copy2(source, home / "models" / source.name)
        adapter = _adapter(app, agent, home)
        (work / "agent.yaml").write_text(agent.spec.to_yaml(), encoding="utf-8")
        runner = work / "run.py"
        runner.write_text(RUNNER.format(slug=agent.slug), encoding="utf-8")
        runner.chmod(0o755)
        (work / "README.txt").write_text(
            f"{agent.spec.name}, exported from doppel.\n\n"
            "    pip install doppel\n    python run.py            # chat in the terminal\n"
            "    python run.py serve      # chat page and OpenAI-compatible API on "
            "127.0.0.1:8080\n\nEverything runs offline from this folder.\n", encoding="utf-8")
        if out.exists():
            out.rmdir()  # empty, checked above
        work.rename(out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    return ExportResult(out, size, passages, answers, adapter)


def _database(app: Doppel, agent: Agent, target: Path) -> tuple[int, int]:
    """A copy of the database (SQLite's online backup: consistent while the server writes)
    reduced to this agent's knowledge."""
    source = app.db.connect()
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
        copy.execute("PRAGMA foreign_keys=ON")
        with copy:
            copy.execute("DELETE FROM agents WHERE id != ?", (agent.id,))
            copy.execute("UPDATE agents SET owner_id = NULL")
            for table in ("conversations", "console_sessions", "import_jobs",
                          "inbox_dismissals", "api_keys", "owners"):
                copy.execute(f"DELETE FROM {table}")
            # The full-text index is a virtual table: no cascade reaches it.
            copy.execute("DELETE FROM chunks_fts WHERE rowid NOT IN (SELECT id FROM chunks)")
        passages = copy.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        answers = copy.execute("SELECT COUNT(*) FROM approved_answers").fetchone()[0]
        copy.execute("VACUUM")
    finally:
        copy.close()
    return int(passages), int(answers)


def _adapter(app: Doppel, agent: Agent, home: Path) -> bool:
    """The agent's active student, when it has one: its adapter and report, at the same place
    relative to the data directory (the database stores them relative to it)."""
    from doppel.distill.students import StudentRepo

    student = StudentRepo(app.db, app.settings.home).active(agent.id)
    if student is None or not student.adapter_gguf.is_file():
        return False
    try:
        relative = student.dir.resolve().relative_to(app.settings.home.resolve())
    except ValueError:
        relative = Path("students") / agent.slug
    target = home / relative
    target.mkdir(parents=True)
    for source in (student.adapter_gguf, student.dir / "report.md", student.dir / "report.png"):
        if source.is_file():
            shutil.copy2(source, target / source.name)
    return True
