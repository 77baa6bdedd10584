"""The channels' tables: links, every inbound delivery once, the durable outbox.

Synchronous store calls (SQLite or PostgreSQL), made from the hub through
`asyncio.to_thread`. Each method is one short transaction; the ones that must be atomic
together (a reply's parts and its inbound's state) are one method.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from doppel.channels.base import Incoming, Link
from doppel.store import Database, now_iso

__all__ = ["ChannelStore", "InboundRow", "OutboxRow", "parse_thread", "stamp", "thread_of"]


def stamp(when: dt.datetime) -> str:
    """The tables' time format (UTC, milliseconds, Z), which sorts as text."""
    return now_iso(when)


@dataclass(frozen=True)
class InboundRow:
    id: int
    agent_id: int
    channel: str
    external_id: str
    user_key: str
    kind: str
    text: str
    state: str
    received_at: str


@dataclass(frozen=True)
class OutboxRow:
    id: int
    agent_id: int
    channel: str
    user_key: str
    conversation_id: int | None
    kind: str
    text: str
    state: str
    attempts: int
    next_at: str
    error: str
    external_id: str | None
    delivery: str
    created_at: str
    sent_at: str | None


_LINK = "id, agent_id, channel, account, enabled, status, status_detail"
_OUT = ("id, agent_id, channel, user_key, conversation_id, kind, text, state, attempts, "
        "next_at, error, external_id, delivery, created_at, sent_at")
_IN = "id, agent_id, channel, external_id, user_key, kind, text, state, received_at"


def _link(row: Any) -> Link:
    return Link(row[0], row[1], row[2], row[3], bool(row[4]), row[5], row[6])


class ChannelStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- links --------------------------------------------------------------------------
    def link(self, agent_id: int, channel: str) -> Link | None:
        row = self.db.connect().execute(
            f"SELECT {_LINK} FROM channel_links WHERE agent_id = ? AND channel = ?",
            (agent_id, channel)).fetchone()
        return _link(row) if row else None

    def links(self, agent_id: int) -> list[Link]:
        rows = self.db.connect().execute(
            f"SELECT {_LINK} FROM channel_links WHERE agent_id = ? ORDER BY channel",
            (agent_id,)).fetchall()
        return [_link(r) for r in rows]

    def save_link(self, agent_id: int, channel: str, account: str, status: str,
                  detail: str) -> Link:
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO channel_links(agent_id, channel, account, status, status_detail) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(agent_id, channel) DO UPDATE SET "
                "account = excluded.account, status = excluded.status, enabled = 1, "
                "status_detail = excluded.status_detail, updated_at = ?",
                (agent_id, channel, account, status, detail, now_iso()))
        found = self.link(agent_id, channel)
        assert found is not None
        return found

    def set_status(self, link_id: int, status: str, detail: str) -> None:
        with self.db.transaction() as tx:
            tx.execute("UPDATE channel_links SET status = ?, status_detail = ?, updated_at = ? "
                       "WHERE id = ?", (status, detail[:300], now_iso(), link_id))

    def delete_link(self, agent_id: int, channel: str) -> bool:
        with self.db.transaction() as tx:
            prefix = f"channel_{channel}."
            tx.execute("DELETE FROM agent_secrets WHERE agent_id = ? AND substr(name, 1, ?) = ?",
                       (agent_id, len(prefix), prefix))
            return tx.execute("DELETE FROM channel_links WHERE agent_id = ? AND channel = ?",
                              (agent_id, channel)).rowcount > 0

    # --- inbound ------------------------------------------------------------------------
    def record(self, agent_id: int, channel: str, events: list[Incoming]) -> list[int]:
        """Each message once: the ids of the rows this call inserted (a delivery seen before,
        or being handled by another request, inserts nothing)."""
        return self.record_many([(agent_id, channel, events)])[0]

    def record_many(self, deliveries: list[tuple[int, str, list[Incoming]]]
                    ) -> list[list[int]]:
        """`record` for several deliveries in one transaction (the hub's group commit)."""
        out: list[list[int]] = []
        with self.db.transaction() as tx:
            for agent_id, channel, events in deliveries:
                new: list[int] = []
                for e in events:
                    cur = tx.execute(
                        "INSERT INTO channel_inbound(agent_id, channel, external_id, "
                        "user_key, kind, text) VALUES (?, ?, ?, ?, ?, ?) "
                        "ON CONFLICT(channel, external_id) DO NOTHING RETURNING id",
                        (agent_id, channel, e.external_id, e.user_key, e.kind,
                         e.text[:20000]))
                    if (row := cur.fetchone()) is not None:
                        new.append(int(row[0]))
                out.append(new)
        return out

    def claim(self, inbound_id: int) -> InboundRow | None:
        """received -> processing, for one worker only."""
        with self.db.transaction() as tx:
            if not tx.execute("UPDATE channel_inbound SET state = 'processing' WHERE id = ? "
                              "AND state = 'received'", (inbound_id,)).rowcount:
                return None
            row = tx.execute(f"SELECT {_IN} FROM channel_inbound WHERE id = ?",
                             (inbound_id,)).fetchone()
        return InboundRow(*row)

    def finish(self, inbound_id: int, state: str, conversation_id: int | None,
               turn_id: int | None, replies: list[tuple[str, str]],
               link: Link | None = None, user_key: str = "") -> None:
        """The inbound's end state and its reply's parts (kind, text), in one transaction:
        after a crash either both are there or neither (and the message is answered again)."""
        with self.db.transaction() as tx:
            tx.execute("UPDATE channel_inbound SET state = ?, conversation_id = ?, turn_id = ? "
                       "WHERE id = ?", (state, conversation_id, turn_id, inbound_id))
            for part, (kind, text) in enumerate(replies):
                assert link is not None
                tx.execute(
                    "INSERT INTO channel_outbox(agent_id, channel, user_key, conversation_id, "
                    "inbound_id, part, kind, text) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT(inbound_id, part) DO NOTHING",
                    (link.agent_id, link.channel, user_key, conversation_id, inbound_id, part,
                     kind, text))

    def unfinished(self) -> list[int]:
        """After a restart: messages received or half-processed, oldest first (those being
        processed when the process stopped are received again)."""
        with self.db.transaction() as tx:
            tx.execute("UPDATE channel_inbound SET state = 'received' "
                       "WHERE state = 'processing'")
            rows = tx.execute("SELECT id FROM channel_inbound WHERE state = 'received' "
                              "ORDER BY id").fetchall()
        return [int(r[0]) for r in rows]

    def received(self, limit: int = 500) -> list[int]:
        """Messages recorded and not yet taken, oldest first."""
        rows = self.db.connect().execute(
            "SELECT id FROM channel_inbound WHERE state = 'received' ORDER BY id LIMIT ?",
            (limit,)).fetchall()
        return [int(r[0]) for r in rows]

    def last_inbound(self, agent_id: int, channel: str, user_key: str) -> str | None:
        row = self.db.connect().execute(
            "SELECT MAX(received_at) FROM channel_inbound WHERE agent_id = ? AND channel = ? "
            "AND user_key = ? AND kind != 'owner'", (agent_id, channel, user_key)).fetchone()
        return str(row[0]) if row and row[0] else None

    def recent_users(self, agent_id: int, channel: str, limit: int = 5) -> list[str]:
        rows = self.db.connect().execute(
            "SELECT user_key, MAX(id) AS last FROM channel_inbound WHERE agent_id = ? AND "
            "channel = ? AND kind != 'owner' GROUP BY user_key ORDER BY last DESC LIMIT ?",
            (agent_id, channel, limit)).fetchall()
        return [str(r[0]) for r in rows]

    def inbound(self, agent_id: int, channel: str | None = None,
                limit: int = 20) -> list[dict[str, Any]]:
        rows = self.db.connect().execute(
            "SELECT id, channel, user_key, kind, text, state, received_at, conversation_id "
            "FROM channel_inbound WHERE agent_id = ? AND "
            "(CAST(? AS TEXT) IS NULL OR channel = ?) "
            "ORDER BY id DESC LIMIT ?", (agent_id, channel, channel, limit)).fetchall()
        return [dict(r) for r in rows]

    # --- outbox -------------------------------------------------------------------------
    def enqueue(self, agent_id: int, channel: str, user_key: str, conversation_id: int | None,
                kind: str, texts: list[str]) -> list[int]:
        ids = []
        with self.db.transaction() as tx:
            for text in texts:
                cur = tx.execute(
                    "INSERT INTO channel_outbox(agent_id, channel, user_key, conversation_id, "
                    "kind, text) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                    (agent_id, channel, user_key, conversation_id, kind, text))
                ids.append(int(cur.fetchone()[0]))
        return ids

    def due(self, now: dt.datetime, limit: int = 100) -> list[OutboxRow]:
        rows = self.db.connect().execute(
            f"SELECT {_OUT} FROM channel_outbox WHERE state = 'pending' AND next_at <= ? "
            "ORDER BY id LIMIT ?", (stamp(now), limit)).fetchall()
        return [OutboxRow(*r) for r in rows]

    def earlier_pending(self, row: OutboxRow) -> bool:
        """A message to the same customer is still waiting before this one (order kept)."""
        found = self.db.connect().execute(
            "SELECT 1 FROM channel_outbox WHERE agent_id = ? AND channel = ? AND user_key = ? "
            "AND state = 'pending' AND id < ? LIMIT 1",
            (row.agent_id, row.channel, row.user_key, row.id)).fetchone()
        return found is not None

    def sent(self, outbox_id: int, external_id: str, now: dt.datetime) -> None:
        with self.db.transaction() as tx:
            tx.execute("UPDATE channel_outbox SET state = 'sent', external_id = ?, sent_at = ?, "
                       "attempts = attempts + 1, error = '', delivery = 'sent' WHERE id = ?",
                       (external_id, stamp(now), outbox_id))

    def retry(self, outbox_id: int, error: str, at: dt.datetime) -> None:
        with self.db.transaction() as tx:
            tx.execute("UPDATE channel_outbox SET attempts = attempts + 1, error = ?, "
                       "next_at = ? WHERE id = ?", (error[:300], stamp(at), outbox_id))

    def retry_later(self, outbox_id: int, at: dt.datetime) -> None:
        """Paced: not a failure, the message waits its turn."""
        with self.db.transaction() as tx:
            tx.execute("UPDATE channel_outbox SET next_at = ? WHERE id = ?", (stamp(at), outbox_id))

    def give_up(self, outbox_id: int, state: str, error: str) -> None:
        with self.db.transaction() as tx:
            tx.execute("UPDATE channel_outbox SET state = ?, error = ?, attempts = attempts + 1 "
                       "WHERE id = ?", (state, error[:300], outbox_id))

    def release_held(self, agent_id: int, channel: str, user_key: str) -> int:
        """The customer wrote again: replies held outside the window may go now."""
        with self.db.transaction() as tx:
            return tx.execute(
                "UPDATE channel_outbox SET state = 'pending', error = '', next_at = ? "
                "WHERE agent_id = ? AND channel = ? AND user_key = ? AND state = 'held' AND "
                "kind = 'person'", (now_iso(), agent_id, channel, user_key)).rowcount

    def delivered(self, channel: str, external_id: str, status: str) -> int | None:
        """A delivery status for a sent message; its outbox id (None: not ours)."""
        with self.db.transaction() as tx:
            row = tx.execute("SELECT id FROM channel_outbox WHERE channel = ? AND "
                             "external_id = ?", (channel, external_id)).fetchone()
            if row is None:
                return None
            tx.execute("UPDATE channel_outbox SET delivery = ? WHERE id = ?", (status, row[0]))
            return int(row[0])

    def read_all(self, agent_id: int, channel: str, user_key: str) -> None:
        with self.db.transaction() as tx:
            tx.execute("UPDATE channel_outbox SET delivery = 'read' WHERE agent_id = ? AND "
                       "channel = ? AND user_key = ? AND state = 'sent'",
                       (agent_id, channel, user_key))

    def is_ours(self, channel: str, external_id: str) -> bool:
        return self.db.connect().execute(
            "SELECT 1 FROM channel_outbox WHERE channel = ? AND external_id = ?",
            (channel, external_id)).fetchone() is not None

    def outbox(self, agent_id: int, channel: str | None = None,
               limit: int = 20) -> list[dict[str, Any]]:
        rows = self.db.connect().execute(
            f"SELECT {_OUT} FROM channel_outbox WHERE agent_id = ? AND "
            "(CAST(? AS TEXT) IS NULL OR channel = ?) ORDER BY id DESC LIMIT ?",
            (agent_id, channel, channel, limit)).fetchall()
        return [dict(r) for r in rows]

    def conversation_of(self, agent_id: int, conversation_id: int) -> tuple[str, str] | None:
        """(channel, user key) of a conversation that lives on a channel."""
        row = self.db.connect().execute(
            "SELECT thread FROM conversations WHERE id = ? AND agent_id = ?",
            (conversation_id, agent_id)).fetchone()
        return parse_thread(str(row[0])) if row else None


def thread_of(channel: str, user_key: str) -> str:
    """A channel customer's conversation thread: one per customer and channel."""
    return f"channel:{channel}:{user_key}"


def parse_thread(thread: str) -> tuple[str, str] | None:
    if not thread.startswith("channel:"):
        return None
    _, channel, user = thread.split(":", 2)
    return channel, user
