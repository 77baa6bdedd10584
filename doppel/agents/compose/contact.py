"""Contact answers: the phone, e-mail, street address or parking line — the one the question
qualifies ("the after-hours line") when there is one."""

from __future__ import annotations

import re

from doppel.agents.compose.base import (
    Ask,
    Composed,
    Found,
    clean_sentence,
    coverage,
    finish,
)
from doppel.agents.spec import AgentSpec
from doppel.knowledge.facts import POSTCODE, STREET_WORDS
from doppel.language.bound import (
    WordWeights,
)
from doppel.language.facts import extract_facts
from doppel.language.words import stem

# Where a line of content talks about parking ("Lowfold Trade Park" is an address).
_PARKING_LINE = re.compile(r"\bparking\b|\bcar park\b|\bpark (on|in|at|for|behind|outside|"
                           r"nearby|free)\b|\bparking lot\b", re.I)


# Where a line of content tells how to come by bus, train or tram.
_TRANSIT_LINE = re.compile(r"\b(bus|buses|train|trains|tram|subway|metro|underground|tube|"
                           r"station|light rail|streetcar|ferry|transit)\b", re.I)


_STREET = re.compile(rf"\b\d{{1,5}}\s+[A-Z][\w.' -]{{1,40}}\b({STREET_WORDS})\b", re.I)




_PERSONAL = re.compile(r"\b(home|personal|private)\b|\b(?!(?:What|It|That|Where|Who|Here|There|"
                       r"Let|How|When|He|She)'s)[A-Z][a-zà-ÿ]+'s\b")


# A question about someone else's contact: "their", "they", "the other clinic's"
_THEIRS = re.compile(r"\b(their|theirs|they|them)\b", re.I)


def contact_answer(ask: Ask, found: list[Found], spec: AgentSpec,
                   weights: WordWeights) -> Composed | None:
    c = spec.contact
    kind = ask.intent
    if _PERSONAL.search(ask.text):
        return None  # a person's own number or home address is not the business's
    if kind in ("phone", "email"):
        # "the emergency line", "your WhatsApp", "who do I e-mail about wholesale?": the line
        # that names it, when there is one
        qualified = _qualified(ask, found, weights, kind)
        if qualified is not None:
            return qualified
        if _THEIRS.search(ask.text):
            return None  # "what's their number?": someone else's, never ours by default
        value = (c.phone if kind == "phone" else c.email) or _first_fact(found, kind)
        if not value:
            return None
        return Composed(f"You can call us on {value}." if kind == "phone"
                        else f"You can e-mail us at {value}.", "contact")
    if kind == "address":
        # "where do I go for an emergency at night?": the emergency clinic's street, not ours
        qualified = _qualified(ask, found, weights, "address")
        if qualified is not None:
            return qualified
        if _THEIRS.search(ask.text):
            return None  # "the emergency vet? what's their address?": not ours
        if c.address:
            return Composed(f"You'll find us at {c.address}.", "contact")
        for f in found:
            if f.unit.kind in ("label", "record") and re.search(
                    r"address|find us|location|where", f.unit.subject, re.I):
                value = f.unit.cells[-1].value if f.unit.cells else f.unit.text
                return finish("contact", [(f"You'll find us at {value.rstrip('.')}.",
                                           f.passage)])
        for f in found:  # "The Old Bobbin Mill, 3 Mill Yard, Kirkby Wendle HG4 7RW"
            if POSTCODE.search(f.unit.text) and len(f.unit.text) <= 200 and not re.search(
                    r"[$€£]", f.unit.text):
                return finish("contact", [(
                    f"You'll find us at {f.unit.text.strip().rstrip('.')}.", f.passage)])
        for f in found:
            m = _STREET.search(f.unit.text)
            if m:
                return finish("contact", [(clean_sentence(f.unit.text), f.passage)])
        return None
    # parking, or the bus or train: the sentence that talks about it (not a link to a page
    # that does)
    line = _PARKING_LINE if kind == "parking" else _TRANSIT_LINE
    best: tuple[float, Found] | None = None
    for f in found:
        if not line.search(f.unit.text) or re.search(r"\(/[\w/-]*\)\s*$", f.unit.text):
            continue
        cover = coverage(ask.words, f.unit.words | f.unit.subject_words, weights)
        cover += 0.1 * min(len(f.unit.words), 10) / 10  # a sentence over a label
        if best is None or cover > best[0]:
            best = (cover, f)
    if best is None:
        return None
    return finish("contact", [(clean_sentence(best[1].unit.text), best[1].passage)])


def _qualified(ask: Ask, found: list[Found], weights: WordWeights,
               kind: str) -> Composed | None:
    """The line with a phone, e-mail or street address that the question's own words name:
    "Emergency line (24/7): 0161 555 0199" for "the out-of-hours emergency number"."""
    words = ask.words - _CONTACT_WORDS
    if not words:
        return None
    best: tuple[float, Found] | None = None
    channel = _CHANNEL.findall(ask.text)
    for f in found:
        # "your WhatsApp", "the after-hours line", "about wholesale": the line that names it
        if channel and kind != "address" and any(
                re.search(r"\b" + re.escape(c.lower()[:6]).replace(r"\-", "[- ]").replace(
                    r"\ ", "[- ]"), f.unit.text, re.I) for c in channel) and any(
                x.kind == kind for x in extract_facts(f.unit.text, names=False)):
            return finish("contact", [(clean_sentence(f.unit.text), f.passage)])
    for f in found:
        if kind == "address":
            if not _STREET.search(f.unit.text):
                continue
        elif not any(x.kind == kind for x in extract_facts(f.unit.text, names=False)):
            continue
        cover = coverage(words, f.unit.words | f.unit.subject_words, weights)
        if cover >= 0.5 and (best is None or cover > best[0]):
            best = (cover, f)
    if best is None:
        return None
    return finish("contact", [(clean_sentence(best[1].unit.text), best[1].passage)])


_CHANNEL = re.compile(r"\b(whatsapp|text|sms|emergenc(?:y|ies)|after[- ]hours|out[- ]of[- ]hours|"
                      r"wholesale|stockists?|press|media|billing|accounts|bookings?|orders?)\b",
                      re.I)


# The words of any contact question: they qualify no line.
_CONTACT_WORDS = frozenset(stem(w) for w in """number phone call ring email mail e-mail
address where located location find directions reach contact us you your""".split())


def _first_fact(found: list[Found], kind: str) -> str:
    for f in found:
        for x in extract_facts(f.unit.text, names=False):
            if x.kind == kind:
                return x.text
    return ""
