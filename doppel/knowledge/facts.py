"""Facts found in an agent's content (prices, opening hours, contacts) for the owner to review.

After an import the console shows what the agent will state as fact, each with the line and the
file it comes from, so an owner notices a stale price list before a customer does. It uses the
same fact extraction as the grounding check, so what the owner reviews is exactly what the
agent is allowed to say.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from doppel.language.facts import extract_facts
from doppel.language.words import sentences
from doppel.safety.private import mask, private_line, rule_subjects
from doppel.store.db import Database

_HOURS_WORDS = re.compile(r"\b(open|opens|opening|close|closes|closed|hours|daily|weekdays?|"
                          r"weekends?)\b", re.I)


@dataclass
class FoundFact:
    kind: str     # price | hours | email | phone | url | secret | rule
    value: str    # the fact as written ("$5.25", "hello@bakery.example")
    line: str     # the sentence or record it appears in
    source: str   # the document it comes from


@dataclass
class FactsFound:
    prices: list[FoundFact] = field(default_factory=list)
    hours: list[FoundFact] = field(default_factory=list)
    contacts: list[FoundFact] = field(default_factory=list)
    # Lines the agent withholds from customers (a password, a door code, a subject the owner's
    # rules forbid), shown masked so the owner notices a staff note uploaded by mistake.
    private: list[FoundFact] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.prices or self.hours or self.contacts or self.private)


def _lines(text: str) -> list[str]:
    # A price list's "Croissant $4; Latte $5" is two lines to review, not one.
    return [part.strip() for line in sentences(text) for part in re.split(r";\s+", line)
            if part.strip()]


def facts_found(db: Database, agent_id: int, limit: int = 30,
                rules: list[str] | tuple[str, ...] = ()) -> FactsFound:
    """Prices, hours, contacts and private lines in the agent's chunks, deduplicated, at most
    `limit` each. `rules` are the agent's own rules: lines about a subject they forbid are
    private too."""
    subjects = rule_subjects(rules)
    rows = db.connect().execute(
        "SELECT c.text, d.source FROM chunks c JOIN documents d ON d.id = c.document_id "
        "WHERE c.agent_id = ? ORDER BY d.source, c.ord", (agent_id,)).fetchall()
    found = FactsFound()
    seen: set[tuple[str, str]] = set()

    def add(bucket: list[FoundFact], fact: FoundFact, key: str) -> None:
        if (fact.kind, key) in seen or len(bucket) >= limit:
            return
        seen.add((fact.kind, key))
        bucket.append(fact)

    for row in rows:
        for line in _lines(str(row["text"])):
            withheld = private_line(line, subjects)
            if withheld is not None:
                shown = mask(withheld)
                add(found.private, FoundFact(withheld.kind, withheld.reason, shown[:160],
                                             row["source"]), shown.lower())
                continue  # never listed as a fact the agent states
            facts = extract_facts(line, names=False)
            kinds = {f.kind for f in facts}
            short = line if len(line) <= 160 else line[:157] + "…"
            for f in facts:
                if f.kind == "money":
                    add(found.prices, FoundFact("price", f.text, short, row["source"]),
                        short.lower())
                elif f.kind in ("email", "phone", "url"):
                    add(found.contacts, FoundFact(f.kind, f.text, short, row["source"]),
                        f.value)
            if "time" in kinds and ("weekday" in kinds or _HOURS_WORDS.search(line)):
                times = [f.text for f in facts if f.kind == "time"]
                add(found.hours, FoundFact("hours", " – ".join(times), short, row["source"]),
                    short.lower())
    return found
