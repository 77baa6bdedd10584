"""Which agents have a distilled student, and whether it answers for them.

A student is activated only when its evaluation passed the thresholds in its report; an owner
may force it on or off (`doppel distill AGENT --activate/--deactivate`). Whatever the switch
says, the grounding check still guards every answer the student gives.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from doppel.errors import NotFoundError, ValidationError
from doppel.store import Database, now_iso


@dataclass(frozen=True)
class Student:
    agent_id: int
    dir: Path
    adapter_gguf: Path
    report: dict[str, Any]
    passed: bool
    active: bool
    created_at: str


class StudentRepo:
    """Paths under the data directory are stored relative to it, so an exported or moved data
    directory keeps its students."""

    def __init__(self, db: Database, home: Path) -> None:
        self.db = db
        self.home = home

    def _stored(self, path: Path) -> str:
        try:
            return str(Path(path).resolve().relative_to(self.home.resolve()))
        except ValueError:
            return str(path)

    def _resolved(self, stored: str) -> Path:
        path = Path(stored)
        return path if path.is_absolute() else self.home / path

    def save(self, agent_id: int, folder: Path, adapter_gguf: Path, report: dict[str, Any],
             passed: bool) -> Student:
        """Record a new distillation; it replaces the previous one and is active iff passed."""
        with self.db.transaction() as tx:
            tx.execute("INSERT INTO students(agent_id, dir, adapter_gguf, report_json, passed, "
                       "active, created_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT(agent_id) DO "
                       "UPDATE SET dir = excluded.dir, adapter_gguf = excluded.adapter_gguf, "
                       "report_json = excluded.report_json, passed = excluded.passed, "
                       "active = excluded.active, created_at = excluded.created_at",
                       (agent_id, self._stored(folder), self._stored(adapter_gguf),
                        json.dumps(report), int(passed), int(passed), now_iso()))
        return self.get(agent_id)

    def find(self, agent_id: int) -> Student | None:
        row = self.db.connect().execute("SELECT * FROM students WHERE agent_id = ?",
                                        (agent_id,)).fetchone()
        if row is None:
            return None
        return Student(int(row["agent_id"]), self._resolved(row["dir"]),
                       self._resolved(row["adapter_gguf"]),
                       json.loads(row["report_json"]), bool(row["passed"]), bool(row["active"]),
                       row["created_at"])

    def get(self, agent_id: int) -> Student:
        student = self.find(agent_id)
        if student is None:
            raise NotFoundError("this agent has no distilled student (run `doppel distill`)")
        return student

    def set_active(self, agent_id: int, active: bool, *, force: bool = False) -> Student:
        student = self.get(agent_id)
        if active and not student.passed and not force:
            raise ValidationError("the student did not pass its evaluation (see its report); "
                                  "use --force to switch it on anyway")
        with self.db.transaction() as tx:
            tx.execute("UPDATE students SET active = ? WHERE agent_id = ?",
                       (int(active), agent_id))
        return self.get(agent_id)

    def active(self, agent_id: int) -> Student | None:
        student = self.find(agent_id)
        return student if student is not None and student.active else None
