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


# --- the contact card, from the content ---------------------------------------------------------

# Sections written by third parties: a customer's phone number in a review is not the shop's.
THIRD_PARTY = re.compile(r"\b(reviews?|testimonials?|what (our )?(customers|clients|guests|"
                         r"students|patients|people) (say|said)|guestbook|comments?|"
                         r"kind words|feedback)\b", re.I)
_CONTACT_HEADING = re.compile(r"\b(contact|find us|visit|location|locations|address|get in "
                              r"touch|reach us|where|directions|about)\b", re.I)
_STREET = re.compile(r"\b\d{1,5}\s+[A-Z][\w.' -]{1,40}?\b(?:Street|St\.?|Avenue|Ave\.?|Road|Rd\.?|"
                     r"Lane|Ln\.?|Boulevard|Blvd\.?|Way|Drive|Dr\.?|Place|Pl\.?|Square|Court|"
                     r"Ct\.?|Highway|Hwy\.?|Parkway|Pkwy\.?|Terrace|Row)\b"
                     r"(?:[,\s]+(?:(?:Suite|Unit|Ste\.?|#)\s*\w+[,\s]+)?[A-Z][\w .'-]{1,30}?"
                     r"(?:,\s*[A-Z]{2})?(?:\s+\d{5}(?:-\d{4})?)?)?(?=[.;\n]|$|\s[-–(]|,\s[a-z])")


def found_contact(db: Database, agent_id: int) -> dict[str, str]:
    """The phone, e-mail and street address the owner's content gives for the business,
    for an agent whose owner filled in none: `doppel create` and the console fill the contact
    card from it (shown for review). A value counts once per document; labelled lines
    ("Phone: …") and contact sections ("Find us") weigh more; reviews and testimonials, and
    passages flagged as instructions to an AI, never count."""
    rows = db.connect().execute(
        "SELECT c.text, c.heading, c.flags_json, d.source, d.loader FROM chunks c "
        "JOIN documents d ON d.id = c.document_id WHERE c.agent_id = ? ORDER BY d.id, c.ord",
        (agent_id,)).fetchall()
    votes: dict[str, dict[str, float]] = {"phone": {}, "email": {}, "address": {}}
    shown: dict[tuple[str, str], str] = {}
    seen: set[tuple[str, str, str]] = set()
    for row in rows:
        heading, text = str(row["heading"]), str(row["text"])
        if THIRD_PARTY.search(heading) or row["flags_json"] not in ("[]", "", None):
            continue
        weight_base = 2.0 if _CONTACT_HEADING.search(heading) else 1.0
        for line in text.split("\n"):
            if THIRD_PARTY.search(line[:40]) or private_line(line, []) is not None:
                continue
            labelled = bool(re.match(r"\s*(phone|tel|telephone|call|e-?mail|address|"
                                     r"find us|visit us|location)\b", line, re.I))
            weight = weight_base + (2.0 if labelled else 0.0)
            found = [(f.kind, f.value, f.text) for f in extract_facts(line, names=False)
                     if f.kind in ("phone", "email")]
            found += [("address", m.group(0).strip().lower(), m.group(0).strip().rstrip(","))
                      for m in _STREET.finditer(line)]
            for kind, value, text_ in found:
                key = (kind, value, str(row["source"]))
                if key in seen:
                    continue
                seen.add(key)
                votes[kind][value] = votes[kind].get(value, 0.0) + weight
                shown.setdefault((kind, value), text_)
    out: dict[str, str] = {}
    for kind, counts in votes.items():
        if counts:
            value = max(counts, key=lambda v: counts[v])
            out[kind] = shown[(kind, value)]
    return out
