"""What the tools collected for an owner: leads and booking requests, read and decided."""

from __future__ import annotations

from typing import Any, Literal

from doppel.store import Database

__all__ = ["ToolRecords"]


class ToolRecords:
    def __init__(self, db: Database) -> None:
        self.db = db

    def leads(self, agent_id: int, limit: int = 500) -> list[dict[str, Any]]:
        rows = self.db.connect().execute(
            "SELECT id, conversation_id, name, contact, need, status, created_at FROM leads "
            "WHERE agent_id = ? ORDER BY id DESC LIMIT ?", (agent_id, limit)).fetchall()
        return [dict(r) for r in rows]

    def bookings(self, agent_id: int, limit: int = 500) -> list[dict[str, Any]]:
        rows = self.db.connect().execute(
            "SELECT id, conversation_id, starts_at, ends_at, name, contact, service, status, "
            "created_at FROM booking_requests WHERE agent_id = ? ORDER BY starts_at LIMIT ?",
            (agent_id, limit)).fetchall()
        return [dict(r) for r in rows]

    def booking(self, agent_id: int, booking_id: int) -> dict[str, Any] | None:
        """One of the agent's booking requests, or None when it is not one."""
        row = self.db.connect().execute(
            "SELECT id, conversation_id, starts_at, ends_at, name, contact, service, status, "
            "created_at FROM booking_requests WHERE id = ? AND agent_id = ?",
            (booking_id, agent_id)).fetchone()
        return dict(row) if row is not None else None

    def decide(self, agent_id: int, booking_id: int,
               status: Literal["confirmed", "declined"]) -> bool:
        """Confirm or decline one of the agent's booking requests; False when it is not one."""
        with self.db.transaction() as tx:
            cur = tx.execute("UPDATE booking_requests SET status = ? WHERE id = ? AND "
                             "agent_id = ?", (status, booking_id, agent_id))
            return cur.rowcount > 0

    def waiting(self, agent_id: int) -> dict[str, int]:
        """What waits for the owner: conversations for a person, new leads, requests."""
        conn = self.db.connect()
        people = conn.execute("SELECT COUNT(*) FROM conversations WHERE agent_id = ? AND "
                              "state = 'waiting_for_human'", (agent_id,)).fetchone()[0]
        leads = conn.execute("SELECT COUNT(*) FROM leads WHERE agent_id = ? AND status = 'new'",
                             (agent_id,)).fetchone()[0]
        bookings = conn.execute("SELECT COUNT(*) FROM booking_requests WHERE agent_id = ? AND "
                                "status = 'requested'", (agent_id,)).fetchone()[0]
        return {"people": int(people), "leads": int(leads), "bookings": int(bookings)}
