"""Conversations (one per agent and end-user thread) and their recorded turns."""

from __future__ import annotations

import builtins
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from doppel.store import Database, now_iso


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
    tool_calls: list[dict[str, Any]] = field(default_factory=list)


ConversationState = Literal["agent", "waiting_for_human", "human"]


@dataclass
class Holder:
    """Who holds a conversation, since when and why."""

    state: ConversationState
    reason: str
    since: str | None


@dataclass
class HumanMessage:
    """A person's reply or a notice, shown to the customer outside a turn's answer."""

    id: int
    kind: Literal["human", "notice"]
    author: str
    text: str
    created_at: str


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
            row = tx.execute("INSERT INTO conversations(agent_id, thread) VALUES (?, ?) "
                             "ON CONFLICT DO NOTHING RETURNING id",
                             (agent_id, thread)).fetchone()
            if row is None:  # another request created it in between
                row = tx.execute("SELECT id FROM conversations WHERE agent_id = ? AND "
                                 "thread = ?", (agent_id, thread)).fetchone()
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
               shields: dict[str, Any] | None = None,
               tool_calls: builtins.list[dict[str, Any]] | None = None) -> int:
        with self.db.transaction() as tx:
            cur = tx.execute(
                "INSERT INTO turns(conversation_id, agent_id, user_message, answer, path, draft, "
                "grounding_json, passages_json, prompt_tokens, completion_tokens, timings_json, "
                "model, shields_json, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
                "RETURNING id",
                (conversation_id, agent_id, user_message, answer, path, draft,
                 json.dumps(grounding), json.dumps(passages), prompt_tokens, completion_tokens,
                 json.dumps(timings), model, json.dumps(shields or {}), now_iso()))
            turn_id = int(cur.fetchone()[0])
            for call in tool_calls or []:
                tx.execute(
                    "INSERT INTO tool_calls(turn_id, agent_id, tool, arguments_json, status, "
                    "result_json, error, latency_ms, chosen_by) VALUES (?,?,?,?,?,?,?,?,?)",
                    (turn_id, agent_id, call["tool"], json.dumps(call.get("arguments", {}),
                                                                 default=str),
                     call["status"], json.dumps(call.get("result", {}), default=str),
                     call.get("error", ""), float(call.get("latency_ms", 0.0)),
                     call.get("chosen_by", "")))
            return turn_id

    # --- who holds the conversation (issue 14: handoff) ---------------------------------------
    def holder(self, conversation_id: int) -> Holder:
        row = self.db.connect().execute(
            "SELECT state, state_reason, state_since FROM conversations WHERE id = ?",
            (conversation_id,)).fetchone()
        if row is None:
            return Holder("agent", "", None)
        return Holder(row[0], row[1], row[2])

    def set_holder(self, conversation_id: int, state: ConversationState, reason: str = "") -> None:
        with self.db.transaction() as tx:
            tx.execute("UPDATE conversations SET state = ?, state_reason = ?, state_since = ?, "
                       "pending_json = '{}' WHERE id = ?",
                       (state, reason, now_iso(), conversation_id))

    def move_to(self, conversation_id: int, state: ConversationState, reason: str = "") -> bool:
        """set_holder unless the conversation is in `state` already; whether it moved. One
        conditional UPDATE, not a read then a write: two events for one conversation (the
        inbox's hand-back, a person's reply) cannot both see the old holder and both act."""
        with self.db.transaction() as tx:
            return bool(tx.execute(
                "UPDATE conversations SET state = ?, state_reason = ?, state_since = ?, "
                "pending_json = '{}' WHERE id = ? AND state != ?",
                (state, reason, now_iso(), conversation_id, state)).rowcount)

    def held(self, agent_id: int) -> builtins.list[dict[str, Any]]:
        """The agent's conversations waiting for or held by a person, oldest wait first."""
        rows = self.db.connect().execute(
            "SELECT c.id, c.thread, c.state, c.state_reason, c.state_since, "
            "(SELECT COUNT(*) FROM turns t WHERE t.conversation_id = c.id) AS turns "
            "FROM conversations c WHERE c.agent_id = ? AND c.state != 'agent' "
            "ORDER BY c.state_since", (agent_id,)).fetchall()
        return [dict(r) for r in rows]

    def add_message(self, conversation_id: int, agent_id: int, kind: Literal["human", "notice"],
                    text: str, author: str = "") -> int:
        with self.db.transaction() as tx:
            cur = tx.execute("INSERT INTO human_messages(conversation_id, agent_id, kind, author, "
                             "text, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                             (conversation_id, agent_id, kind, author, text, now_iso()))
            return int(cur.fetchone()[0])

    def messages(self, conversation_id: int, after: int = 0,
                 limit: int = 100) -> builtins.list[HumanMessage]:
        """A person's replies and notices in the conversation after message id `after`."""
        rows = self.db.connect().execute(
            "SELECT id, kind, author, text, created_at FROM human_messages WHERE "
            "conversation_id = ? AND id > ? ORDER BY id LIMIT ?",
            (conversation_id, after, limit)).fetchall()
        return [HumanMessage(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    def find(self, agent_id: int, thread: str) -> int | None:
        row = self.db.connect().execute(
            "SELECT id FROM conversations WHERE agent_id = ? AND thread = ?",
            (agent_id, thread)).fetchone()
        return int(row[0]) if row else None

    def owns(self, agent_id: int, conversation_id: int) -> bool:
        return self.db.connect().execute(
            "SELECT 1 FROM conversations WHERE id = ? AND agent_id = ?",
            (conversation_id, agent_id)).fetchone() is not None

    # --- a tool call waiting for the customer's answer ----------------------------------------
    def pending(self, conversation_id: int) -> dict[str, Any]:
        row = self.db.connect().execute(
            "SELECT pending_json FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
        return json.loads(row[0]) if row and row[0] else {}

    def set_pending(self, conversation_id: int, pending: dict[str, Any]) -> None:
        with self.db.transaction() as tx:
            tx.execute("UPDATE conversations SET pending_json = ? WHERE id = ?",
                       (json.dumps(pending, default=str), conversation_id))

    def recent_paths(self, conversation_id: int, n: int) -> builtins.list[str]:
        rows = self.db.connect().execute(
            "SELECT path FROM turns WHERE conversation_id = ? ORDER BY id DESC LIMIT ?",
            (conversation_id, n)).fetchall()
        return [r[0] for r in rows]

    def tool_calls(self, turn_ids: builtins.list[int]) -> dict[int, builtins.list[dict[str, Any]]]:
        if not turn_ids:
            return {}
        marks = ",".join("?" * len(turn_ids))
        rows = self.db.connect().execute(
            f"SELECT turn_id, tool, arguments_json, status, result_json, error, latency_ms, "
            f"chosen_by FROM tool_calls WHERE turn_id IN ({marks}) ORDER BY id",
            turn_ids).fetchall()
        out: dict[int, builtins.list[dict[str, Any]]] = {}
        for r in rows:
            out.setdefault(r[0], []).append({
                "tool": r[1], "arguments": json.loads(r[2]), "status": r[3],
                "result": json.loads(r[4]), "error": r[5], "latency_ms": r[6],
                "chosen_by": r[7]})
        return out

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
        calls = self.tool_calls([r["id"] for r in rows])
        return [TurnRow(r["id"], r["conversation_id"], r["thread"], r["user_message"], r["answer"],
                        r["path"], r["draft"], json.loads(r["grounding_json"]),
                        json.loads(r["passages_json"]), r["prompt_tokens"],
                        r["completion_tokens"], json.loads(r["timings_json"]), r["model"],
                        r["created_at"], json.loads(r["shields_json"]), r["owner_mark"],
                        calls.get(r["id"], []))
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
