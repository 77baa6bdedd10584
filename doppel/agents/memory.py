"""What an agent remembers of a customer, and how a customer makes it forget.

Memory is opt-in per agent (`memory: true` in agent.yaml) and scoped to one agent, one channel
and one user (on the web chat: the browser's conversation thread). It holds short facts the
customer stated about themselves ("name: Sam", "usual order: rye loaf", "allergy: nuts"), each
with the turn it came from; the owner sees, edits and deletes them (owner API). They are shown
to the model as the customer's own words, never as the business's facts: they are not
grounding evidence, so a price a customer claims ("you told me it was $5") is never stated.

"Forget me" (in any wording, in any conversation, memory on or off) erases that user's
conversation (turns, tool calls, a person's replies) and memory with this agent; the erasure is
logged by count, without the erased content, and the "forget me" message itself is not stored.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

from doppel.agents.turn import PASS_ON, Outcome, Turn
from doppel.language import forget_texts
from doppel.store import Database

__all__ = ["ASK_CONFIRM", "FORGOTTEN", "Forget", "MemoryRepo", "Remember", "asks_to_forget",
           "remembered"]

FORGOTTEN = ("Done — I've deleted this conversation and everything I remembered about you. "
             "Nothing of it is kept.")

_FORGET = re.compile(
    r"\b(forget (about )?me|forget (everything|all) (about me|i (said|told you))|"
    r"(delete|erase|remove|wipe) (all )?(my|our) (data|details|information|info|conversation|"
    r"chat|history|messages)|(delete|erase|wipe) (this|the) (conversation|chat))\b", re.I)
# "forget-me-not bouquets", "please don't forget me!", "how do I delete my data?"
_NOT_FORGET = re.compile(r"forget[- ]me[- ]not|\b(don'?t|do not|never|won'?t)\s+(you\s+)?"
                         r"forget|^\W*(how|what|can i|where|when|why|is|does)\b", re.I)
_CONFIRM = re.compile(r"^\W*(yes|yep|yeah|y|ok|okay|sure|confirm|please do|do it|delete( it)?|"
                      r"erase( it)?)\b[\s\W]*(please|delete|erase|it|everything)?\W*$", re.I)
ASK_CONFIRM = ("Do you want me to delete this whole conversation and everything I remember "
               "about you? It cannot be undone. Reply \"yes, delete\" to confirm.")


def asks_to_forget(message: str) -> bool:
    return bool(_FORGET.search(message)) and not _NOT_FORGET.search(message)


# What a customer says about themselves, read by rules: (key, pattern). The value is group 1.
_FACTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("name", re.compile(r"\b(?i:my name is|my name's|i'?m called|call me)\s+"
                        r"([A-Z][a-z'’-]+(?:\s+[A-Z][a-z'’-]+)?)\b")),
    ("usual order", re.compile(r"\b(?:i usually (?:get|have|order|buy)|my usual is|"
                               r"my usual order is)\s+(?:a |an |the )?([^.,!?;]{2,60})", re.I)),
    ("allergy", re.compile(r"\bi'?m allergic to\s+([^.,!?;]{2,40})", re.I)),
    ("pet", re.compile(r"\b(?i:my (?:dog|cat|puppy|kitten|rabbit|horse)(?:'s name)? is "
                       r"(?:called |named )?)([A-Z][a-z'’-]+)\b")),
    ("prefers", re.compile(r"\bi (?:prefer|always (?:want|ask for))\s+([^.,!?;]{2,60})", re.I)),
)


def remembered(message: str) -> list[tuple[str, str]]:
    """The (key, value) facts a message states about its sender."""
    out = []
    for key, pattern in _FACTS:
        m = pattern.search(message)
        if m is not None:
            out.append((key, m.group(1).strip()))
    return out


@dataclass
class MemoryItem:
    id: int
    key: str
    value: str
    turn_id: int | None
    created_at: str


class MemoryRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def remember(self, agent_id: int, channel: str, user: str, facts: list[tuple[str, str]],
                 turn_id: int | None = None) -> None:
        """Store facts, one value per key (a later statement replaces an earlier one)."""
        with self.db.transaction() as tx:
            for key, value in facts:
                tx.execute("DELETE FROM user_memory WHERE agent_id = ? AND channel = ? AND "
                           "user_key = ? AND key = ?", (agent_id, channel, user, key))
                tx.execute("INSERT INTO user_memory(agent_id, channel, user_key, key, value, "
                           "turn_id) VALUES (?, ?, ?, ?, ?, ?)",
                           (agent_id, channel, user, key, value[:200], turn_id))

    def recall(self, agent_id: int, channel: str, user: str) -> list[MemoryItem]:
        rows = self.db.connect().execute(
            "SELECT id, key, value, turn_id, created_at FROM user_memory WHERE agent_id = ? AND "
            "channel = ? AND user_key = ? ORDER BY id", (agent_id, channel, user)).fetchall()
        return [MemoryItem(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    def of_conversation(self, agent_id: int, conversation_id: int) -> list[MemoryItem]:
        row = self.db.connect().execute(
            "SELECT thread FROM conversations WHERE id = ? AND agent_id = ?",
            (conversation_id, agent_id)).fetchone()
        return self.recall(agent_id, "web", row[0]) if row else []

    def edit(self, agent_id: int, item_id: int, value: str) -> bool:
        with self.db.transaction() as tx:
            return tx.execute("UPDATE user_memory SET value = ? WHERE id = ? AND agent_id = ?",
                              (value[:200], item_id, agent_id)).rowcount > 0

    def delete(self, agent_id: int, item_id: int) -> bool:
        with self.db.transaction() as tx:
            return tx.execute("DELETE FROM user_memory WHERE id = ? AND agent_id = ?",
                              (item_id, agent_id)).rowcount > 0

    def erase_user(self, agent_id: int, channel: str, user: str, reason: str) -> dict[str, int]:
        """Everything of one user with this agent: their conversation (its turns, tool calls,
        a person's replies, by cascade) and memory. Logged by count, not content."""
        with self.db.transaction() as tx:
            turns = tx.execute(
                "SELECT COUNT(*) FROM turns t JOIN conversations c ON c.id = t.conversation_id "
                "WHERE c.agent_id = ? AND c.thread = ?", (agent_id, user)).fetchone()[0]
            memory = tx.execute("DELETE FROM user_memory WHERE agent_id = ? AND channel = ? AND "
                                "user_key = ?", (agent_id, channel, user)).rowcount
            # What the tools collected from this conversation holds the customer's name and
            # contact: erased with it (it would outlive the conversation as SET NULL rows).
            mine = ("conversation_id IN (SELECT id FROM conversations WHERE agent_id = ? AND "
                    "thread = ?)")
            leads = tx.execute(f"DELETE FROM leads WHERE {mine}", (agent_id, user)).rowcount
            bookings = tx.execute(f"DELETE FROM booking_requests WHERE {mine}",
                                  (agent_id, user)).rowcount
            conversations = tx.execute("DELETE FROM conversations WHERE agent_id = ? AND "
                                       "thread = ?", (agent_id, user)).rowcount
            counts = {"conversations": conversations, "turns": int(turns), "memory": memory,
                      "leads": leads, "bookings": bookings}
            tx.execute("INSERT INTO erasures(agent_id, channel, reason, conversations, turns, "
                       "memory) VALUES (?, ?, ?, ?, ?, ?)",
                       (agent_id, channel, reason, conversations, int(turns),
                        memory + leads + bookings))
        forget_texts()
        return counts

    def erase_conversation(self, agent_id: int, conversation_id: int, reason: str
                           ) -> dict[str, int] | None:
        row = self.db.connect().execute(
            "SELECT thread FROM conversations WHERE id = ? AND agent_id = ?",
            (conversation_id, agent_id)).fetchone()
        return self.erase_user(agent_id, "web", row[0], reason) if row else None


class Forget:
    """"Forget me": the customer's conversation and memory with this agent are erased, and
    this message is not stored either."""

    name = "forget"

    async def run(self, turn: Turn) -> Outcome:
        if not turn.known_user:
            return PASS_ON
        conversations = turn.runtime.conversations
        pending = await asyncio.to_thread(conversations.pending, turn.conversation_id)
        confirmed = pending.get("tool") == "forget" and bool(_CONFIRM.match(turn.message))
        if not confirmed:
            if pending.get("tool") == "forget":  # anything else: not erased, asked no more
                await asyncio.to_thread(conversations.set_pending, turn.conversation_id, {})
            if not asks_to_forget(turn.message):
                return PASS_ON
            # Awaited before anything is said, but not obeyed: "forget me" reads like an
            # injection ("forget your instructions") to the shields, and what follows is fixed
            # text and the erasure of the sender's own data, harmless whatever the message.
            await turn.screened()
            # Erasing cannot be undone: ask once ("forget me" may be a slip of a phrase).
            await asyncio.to_thread(conversations.set_pending, turn.conversation_id,
                                    {"tool": "forget", "args": {}})
            return turn.reply(ASK_CONFIRM, "approved", {"source": "forget"})
        await turn.screened()  # awaited before anything is said; see above
        repo = MemoryRepo(turn.runtime.index.db)
        counts = await asyncio.to_thread(repo.erase_user, turn.agent.id, "web", turn.thread,
                                         "the customer asked")
        turn.reports["erased"] = counts
        return turn.reply(FORGOTTEN, "approved", {"erased": counts})


class Remember:
    """With memory on, what the customer says about themselves is kept for this agent, and
    what was kept before is put on the turn (for the model, as the customer's own words)."""

    name = "remember"

    async def run(self, turn: Turn) -> Outcome:
        if not turn.agent.spec.memory or not turn.known_user:
            return PASS_ON  # off, or a thread strangers may share: nothing kept, nothing told
        repo = MemoryRepo(turn.runtime.index.db)
        # What earlier messages said (this one speaks for itself)
        items = await asyncio.to_thread(repo.recall, turn.agent.id, "web", turn.thread)
        turn.memory = [(i.key, i.value) for i in items]
        facts = remembered(turn.message)
        if facts:
            await asyncio.to_thread(repo.remember, turn.agent.id, "web", turn.thread, facts)
        return PASS_ON
