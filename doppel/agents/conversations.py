"""Conversations (one per agent and end-user thread) and their recorded turns."""

from __future__ import annotations

import builtins
import json
from dataclasses import dataclass
from typing import Any

from doppel.store.db import Database


@dataclass
class TurnRow:
    id: int
    conversation_id: int
    thread: str
    user_message: str
    answer: str
    path: str
    draft: str | None
    grounding: dict[str, Any]
    passages: list[dict[str, Any]]
    prompt_tokens: int
    completion_tokens: int
    timings: dict[str, float]
    model: str
    created_at: str
    shields: dict[str, Any]
    owner_mark: str = ""  # '', 'right' or 'wrong': the owner's verdict in the console


class ConversationRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get_or_create(self, agent_id: int, thread: str) -> int:
        conn = self.db.connect()
        row = conn.execute("SELECT id FROM conversations WHERE agent_id = ? AND thread = ?",
                           (agent_id, thread)).fetchone()
        if row:
            return int(row[0])
        with self.db.transaction() as tx:
            tx.execute("INSERT OR IGNORE INTO conversations(agent_id, thread) VALUES (?, ?)",
                       (agent_id, thread))
            row = tx.execute("SELECT id FROM conversations WHERE agent_id = ? AND thread = ?",
                             (agent_id, thread)).fetchone()
        return int(row[0])

    def history(self, conversation_id: int, turns: int) -> list[tuple[str, str]]:
        """The last `turns` (question, answer) pairs, oldest first.

        Only model-voiced answers (generated or approved) are replayed: a small model imitates
        whatever the history shows, and replaying extractive quotes taught it to fabricate
        quotes of its own.
        """
        if turns <= 0:
            return []
        rows = self.db.connect().execute(
            "SELECT user_message, answer FROM turns WHERE conversation_id = ? AND path IN "
            "('generated', 'approved') ORDER BY id DESC LIMIT ?",
            (conversation_id, turns)).fetchall()
        return [(r[0], r[1]) for r in reversed(rows)]

    def last_question(self, conversation_id: int) -> str | None:
        row = self.db.connect().execute(
            "SELECT user_message FROM turns WHERE conversation_id = ? AND path != 'refused' "
            "ORDER BY id DESC LIMIT 1",
            (conversation_id,)).fetchone()
        return row[0] if row else None

    def record(self, *, conversation_id: int, agent_id: int, user_message: str, answer: str,
               path: str, draft: str | None, grounding: dict[str, Any],
               passages: list[dict[str, Any]], prompt_tokens: int, completion_tokens: int,
               timings: dict[str, float], model: str,
               shields: dict[str, Any] | None = None) -> int:
        with self.db.transaction() as tx:
            cur = tx.execute(
                "INSERT INTO turns(conversation_id, agent_id, user_message, answer, path, draft, "
                "grounding_json, passages_json, prompt_tokens, completion_tokens, timings_json, "
                "model, shields_json) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (conversation_id, agent_id, user_message, answer, path, draft,
                 json.dumps(grounding), json.dumps(passages), prompt_tokens, completion_tokens,
                 json.dumps(timings), model, json.dumps(shields or {})))
            return int(cur.lastrowid or 0)

    def list(self, agent_id: int, limit: int = 100,
             offset: int = 0) -> builtins.list[dict[str, Any]]:
        """The agent's conversations, most recent first, with their turn counts."""
        rows = self.db.connect().execute(
            "SELECT c.id, c.thread, c.created_at, COUNT(t.id) AS turns, MAX(t.created_at) AS "
            "last_at FROM conversations c LEFT JOIN turns t ON t.conversation_id = c.id "
            "WHERE c.agent_id = ? GROUP BY c.id ORDER BY COALESCE(MAX(t.id), 0) DESC, c.id DESC "
            "LIMIT ? OFFSET ?", (agent_id, limit, offset)).fetchall()
        return [dict(r) for r in rows]

    def turns(self, agent_id: int, thread: str | None = None, limit: int = 100,
              conversation_id: int | None = None) -> builtins.list[TurnRow]:
        sql = ("SELECT t.*, c.thread FROM turns t JOIN conversations c ON c.id = t.conversation_id"
               " WHERE t.agent_id = ?")
        args: builtins.list[Any] = [agent_id]
        if thread is not None:
            sql += " AND c.thread = ?"
            args.append(thread)
        if conversation_id is not None:
            sql += " AND c.id = ?"
            args.append(conversation_id)
        sql += " ORDER BY t.id DESC LIMIT ?"
        args.append(limit)
        rows = self.db.connect().execute(sql, args).fetchall()
        return [TurnRow(r["id"], r["conversation_id"], r["thread"], r["user_message"], r["answer"],
                        r["path"], r["draft"], json.loads(r["grounding_json"]),
                        json.loads(r["passages_json"]), r["prompt_tokens"],
                        r["completion_tokens"], json.loads(r["timings_json"]), r["model"],
                        r["created_at"], json.loads(r["shields_json"]), r["owner_mark"])
                for r in reversed(rows)]

    def mark(self, agent_id: int, turn_id: int, mark: str) -> bool:
        """The owner's verdict on one of the agent's answers ('right', 'wrong' or '' to
        clear); False when the turn is not the agent's."""
        if mark not in ("", "right", "wrong"):
            raise ValueError(f"unknown mark {mark!r}")
        with self.db.transaction() as tx:
            cur = tx.execute("UPDATE turns SET owner_mark = ? WHERE id = ? AND agent_id = ?",
                             (mark, turn_id, agent_id))
            return cur.rowcount > 0
