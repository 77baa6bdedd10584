"""Facts found in an agent's content, bound to their subject, for the owner to review and fix.

After an import the console shows what the agent will state as fact: each price with the row it
belongs to and its column ("City bike · Full day · $28"), each day's hours ("Saturday ·
9am–4pm", closed days and holidays), the contacts, each with the line and the file it comes
from. They come from the same units the grounding check and the composer read
(doppel.language.bound), so what the owner reviews is what the agent may say. Text written by
third parties (reviews, testimonials) and passages flagged as instructions to an AI are never
listed as the business's facts.

The owner can change or remove a line (`FactOverrides`): the agent then reads the owner's
version wherever the line appears, in the prompt, the grounding evidence and composed answers,
until the owner undoes it.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

from doppel.language.bound import Unit, parse_units
from doppel.language.facts import extract_facts
from doppel.safety.private import mask, private_line, rule_subjects
from doppel.store import Database

__all__ = ["POSTCODE", "STREET_WORDS", "THIRD_PARTY", "FactOverrides", "FactsFound",
           "FoundFact", "facts_found", "found_contact"]

_HOURS_WORDS = re.compile(r"\b(open|opens|opening|close|closes|closed|hours|daily|weekdays?|"
                          r"weekends?)\b", re.I)
# Sections written by third parties: a customer's phone number in a review is not the shop's.
THIRD_PARTY = re.compile(r"\b(reviews?|testimonials?|what (our )?(customers|clients|guests|"
                         r"students|patients|people|riders|fans) (say|said)|guestbook|"
                         r"comments?|kind words|feedback|happy customers)\b", re.I)


@dataclass
class FoundFact:
    kind: str     # price | hours | email | phone | url | secret | rule
    value: str    # the fact as written ("$5.25", "hello@bakery.example")
    line: str     # the line it appears in (what an owner's change replaces)
    source: str   # the document it comes from
    subject: str = ""  # what it belongs to: "City bike · Full day", "Saturday"
    edited: bool = False  # the owner changed this line


@dataclass
class FactsFound:
    prices: list[FoundFact] = field(default_factory=list)
    hours: list[FoundFact] = field(default_factory=list)
    contacts: list[FoundFact] = field(default_factory=list)
    # Lines the agent withholds from customers (a password, a door code, a subject the owner's
    # rules forbid), shown masked so the owner notices a staff note uploaded by mistake.
    private: list[FoundFact] = field(default_factory=list)
    # The owner's changes: (line as in the file, the owner's version or "" when removed)
    changes: list[tuple[str, str]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.prices or self.hours or self.contacts or self.private)


def _short(text: str) -> str:
    return text if len(text) <= 160 else text[:157] + "…"


def _prices(unit: Unit) -> list[tuple[str, str]]:
    """(subject, value) for each price a unit binds to its subject, from any price-like
    column ("price_usd: 9.00" too)."""
    out = []
    subject = unit.subject or (unit.heading.split(" > ")[-1] if unit.heading else "")
    for cell in unit.cells_with("money"):
        where = subject if cell.header in ("", subject) or unit.kind == "label" \
            else f"{subject} · {cell.header}"
        value = cell.value.strip()
        if "money" not in {f.kind for f in extract_facts(value, names=False)} and re.fullmatch(
                r"\d[\d,]*(\.\d{1,2})?", value):
            value = f"{value} ({cell.header})"  # a bare amount: say which column it is
        out.append((where.strip(" ·"), value))
    if not out and unit.kind == "prose":
        out = [("", f.text) for f in extract_facts(unit.text, names=False) if f.kind == "money"]
    return out


def _hours(unit: Unit) -> str | None:
    """'9am–4pm' or 'Closed' for a line that gives a day's or a holiday's hours."""
    if not unit.structured or not (unit.days or unit.dates):
        return None
    value = "; ".join(c.value for c in unit.cells if c.value != unit.subject).strip()
    kinds = {f.kind for f in extract_facts(value, names=False)}
    if "time" in kinds or re.match(r"\W*closed\b", value, re.I):
        return value
    return None


def facts_found(db: Database, agent_id: int, limit: int = 30,
                rules: list[str] | tuple[str, ...] = ()) -> FactsFound:
    """Prices, hours, contacts and private lines in the agent's chunks, bound to their
    subjects, deduplicated, at most `limit` each, with the owner's changes applied. `rules` are
    the agent's own rules: lines about a subject they forbid are private too."""
    subjects = rule_subjects(rules)
    overrides = FactOverrides(db)
    changes = overrides.list(agent_id)
    changed = dict(changes)
    rows = db.connect().execute(
        "SELECT c.text, c.heading, c.flags_json, d.source FROM chunks c "
        "JOIN documents d ON d.id = c.document_id WHERE c.agent_id = ? ORDER BY d.source, c.ord",
        (agent_id,)).fetchall()
    found = FactsFound(changes=changes)
    seen: set[tuple[str, str]] = set()

    def add(bucket: list[FoundFact], fact: FoundFact, key: str) -> None:
        if (fact.kind, key) in seen or len(bucket) >= limit:
            return
        seen.add((fact.kind, key))
        bucket.append(fact)

    for row in rows:
        heading, source = str(row["heading"]), str(row["source"])
        if THIRD_PARTY.search(heading) or row["flags_json"] not in ("[]", "", None):
            continue  # a customer's words, or text planted for AI assistants
        text = overrides.apply_lines(str(row["text"]), changed)
        for unit in parse_units(text, heading):
            line = unit.text if unit.kind != "qa" else f"Q: {unit.subject} A: {unit.text}"
            withheld = private_line(unit.text, subjects)
            if withheld is not None:
                shown = mask(withheld)
                add(found.private, FoundFact(withheld.kind, withheld.reason, shown[:160],
                                             source), shown.lower())
                continue  # never listed as a fact the agent states
            edited = any(new and new in unit.text for new in changed.values())
            for subject, value in _prices(unit):
                add(found.prices, FoundFact("price", value, _short(line), source, subject,
                                            edited), f"{subject}|{value}".lower())
            hours = _hours(unit)
            if hours is not None:
                add(found.hours, FoundFact("hours", hours, _short(line), source,
                                           unit.subject, edited), _short(line).lower())
            elif unit.kind == "prose" and _HOURS_WORDS.search(unit.text) and any(
                    f.kind == "time" for f in extract_facts(unit.text, names=False)):
                add(found.hours, FoundFact("hours", "", _short(line), source, "", edited),
                    _short(line).lower())
            for f in extract_facts(unit.text, names=False):
                if f.kind in ("email", "phone", "url"):
                    add(found.contacts, FoundFact(f.kind, f.text, _short(line), source,
                                                  unit.subject if unit.kind == "label" else "",
                                                  edited), f.value)
    return found


class FactOverrides:
    """The owner's changes to lines of their content: a line replaced by the owner's version,
    or removed. Applied to passages before anything reads them (doppel.agents.steps.Withhold),
    so the prompt, the grounding check and composed answers all see the owner's version. A
    change is undone by deleting it; re-importing the file keeps it while the line is there."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._cache: dict[int, tuple[int, dict[str, str]]] = {}
        self._lock = threading.Lock()

    def set(self, agent_id: int, line: str, replacement: str) -> None:
        """Replace `line` by `replacement` ("" removes it) wherever it appears."""
        line, replacement = line.strip(), replacement.strip()
        if not line:
            from doppel.errors import ValidationError
            raise ValidationError("which line? (none given)")
        with self.db.transaction() as tx:
            tx.execute("INSERT INTO fact_overrides(agent_id, line, replacement) VALUES (?,?,?) "
                       "ON CONFLICT(agent_id, line) DO UPDATE SET replacement = excluded."
                       "replacement", (agent_id, line, replacement))
            _bump(tx, agent_id)

    def undo(self, agent_id: int, line: str) -> bool:
        with self.db.transaction() as tx:
            cur = tx.execute("DELETE FROM fact_overrides WHERE agent_id = ? AND line = ?",
                             (agent_id, line.strip()))
            if cur.rowcount:
                _bump(tx, agent_id)
            return cur.rowcount > 0

    def list(self, agent_id: int) -> list[tuple[str, str]]:
        return [(r[0], r[1]) for r in self.db.connect().execute(
            "SELECT line, replacement FROM fact_overrides WHERE agent_id = ? "
            "ORDER BY created_at, line",
            (agent_id,))]

    def for_agent(self, agent_id: int, version: int) -> dict[str, str]:
        """The agent's changes, cached per knowledge version (a change bumps it)."""
        with self._lock:
            cached = self._cache.get(agent_id)
        if cached is not None and cached[0] == version:
            return cached[1]
        changes = dict(self.list(agent_id))
        with self._lock:
            self._cache[agent_id] = (version, changes)
        return changes

    @staticmethod
    def apply_lines(text: str, changes: dict[str, str]) -> str:
        """`text` with the owner's changes applied (a removed line leaves no empty line)."""
        for line, replacement in changes.items():
            if line in text:
                text = text.replace(line, replacement)
        return re.sub(r"\n{2,}", "\n", text).strip() if changes else text


def _bump(tx: object, agent_id: int) -> None:
    tx.execute("UPDATE agents SET knowledge_version = knowledge_version + 1 "  # type: ignore[attr-defined]
               "WHERE id = ?", (agent_id,))


# --- the contact card, from the content ---------------------------------------------------------

_CONTACT_HEADING = re.compile(r"\b(contact|find us|visit|location|locations|address|get in "
                              r"touch|reach us|where|directions|about)\b", re.I)
# The words that end a street's name, for every reader of addresses (the card, the answer).
STREET_WORDS = (r"Street|St\.?|Avenue|Ave\.?|Road|Rd\.?|Lane|Ln\.?|Boulevard|Blvd\.?|Way|Drive|"
                r"Dr\.?|Place|Pl\.?|Square|Sq\.?|Court|Ct\.?|Yard|Close|Crescent|Mews|Gardens|"
                r"Green|Walk|Circle|Trail|Plaza|Highway|Hwy\.?|Parkway|Pkwy\.?|Terrace|Row")
_STREET = re.compile(rf"\b\d{{1,5}}\s+[A-Z][\w.' -]{{1,40}}?\b(?:{STREET_WORDS})\b"
                     r"(?:[,\s]+(?:(?:Suite|Unit|Ste\.?|#)\s*\w+[,\s]+)?[A-Z][\w .'-]{1,30}?"
                     r"(?:,\s*[A-Z]{2})?(?:\s+\d{5}(?:-\d{4})?)?)?(?=[.;\n]|$|\s[-–(]|,\s[a-z])")


_SECONDARY = re.compile(r"\b(wholesale|roastery|emergenc\w*|after[- ]hours|out[- ]of[- ]hours|"
                        r"fax|press|media|sales|billing|accounts|careers|jobs|returns|orders|"
                        r"trade|lab|warehouse)\b", re.I)


# The end of a postal address: a UK postcode, a US state and ZIP, a Canadian postal code.
POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s+\d[A-Z]{2}\b|\b[A-Z]{2}\s+\d{5}(?:-\d{4})?\b"
                       r"|\b[A-Z]\d[A-Z]\s?\d[A-Z]\d\b")


def _postal(line: str) -> list[str]:
    """Addresses a line gives by their postcode, where no street word names them (a mill, a
    farm): the part of the line around the postcode, between separators (" · ", "|"), with
    no price, order number, e-mail or phone in it."""
    out = []
    for part in re.split(r"\s+[·•|]\s+|\s{3,}", line):
        m = POSTCODE.search(part)
        if (m and len(part) <= 140 and re.search(r"[A-Za-z]{3}", part[:m.start()])
                and not re.search(r"[$€£@#]|\d{3}[\s-]\d{3,4}", part)):
            out.append(part.strip().rstrip(".,"))
    return out


# A line of an address written over several: "The Old Bobbin Mill, 3 Mill Yard", "Unit 4"
_ADDRESS_LINE = re.compile(r"^\s*[^$€£@#:]{0,40}\b(\d{1,5}[A-Za-z]?|Unit|Suite)\s+"
                           r"[A-Z][\w' -]{2,30},?\s*$")


def _address_key(address: str) -> str:
    """One address however each page writes it: by its postcode when it has one."""
    m = POSTCODE.search(address)
    return m.group(0).replace(" ", "").upper() if m else address.lower()


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
    shown: dict[tuple[str, str], dict[str, int]] = {}  # how each value is written, how often
    seen: set[tuple[str, str, str]] = set()
    for row in rows:
        heading, text = str(row["heading"]), str(row["text"])
        if THIRD_PARTY.search(heading) or row["flags_json"] not in ("[]", "", None):
            continue
        weight_base = 2.0 if _CONTACT_HEADING.search(heading) else 1.0
        lines = text.split("\n")
        for n, line in enumerate(lines):
            if THIRD_PARTY.search(line[:40]) or private_line(line, []) is not None:
                continue
            labelled = bool(re.match(r"\s*(phone|tel|telephone|call|e-?mail|address|"
                                     r"find us|visit us|location)\b", line, re.I))
            weight = weight_base + (2.0 if labelled else 0.0)
            found = [(f.kind, f.value, f.text) for f in extract_facts(line, names=False)
                     if f.kind in ("phone", "email")]
            streets = [m.group(0).strip().rstrip(",") for m in _STREET.finditer(line)]
            found += [("address", _address_key(a), a) for a in streets]
            if not streets:  # "The Old Bobbin Mill, 3 Mill Yard, Kirkby Wendle HG4 7RW"
                postal = _postal(line)
                if postal == [line.strip().rstrip(".,")] and n and _ADDRESS_LINE.match(
                        lines[n - 1]):  # "3 Mill Yard" on the line before the town
                    postal = [f"{lines[n - 1].strip().rstrip(',')}, {postal[0]}"]
                found += [("address", _address_key(a), a) for a in postal]
            start = 0
            for kind, value, text_ in sorted(found, key=lambda f: line.find(f[2])):
                # "Roastery & wholesale: …", "Emergency line: …" (the words since the line's
                # previous value): a department's, not the business's first line
                at = line.find(text_, start)
                before, start = (line[start:at], at + len(text_)) if at >= 0 else ("", start)
                key = (kind, value, str(row["source"]))
                if key in seen:
                    continue
                seen.add(key)
                secondary = 0.25 if _SECONDARY.search(before) else 1.0
                votes[kind][value] = votes[kind].get(value, 0.0) + weight * secondary
                writings = shown.setdefault((kind, value), {})
                writings[text_] = writings.get(text_, 0) + 1
    out: dict[str, str] = {}
    for kind, counts in votes.items():
        if counts:
            value = max(counts, key=lambda v: counts[v])
            writings = shown[(kind, value)]  # an address by its postcode: its usual writing
            out[kind] = max(writings, key=lambda t: (  # the street first, then the usual
                bool(re.match(r"\d", t)), writings[t], len(t)))
    return out
