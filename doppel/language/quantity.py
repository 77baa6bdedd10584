"""Quantities a question states against the bounds a row or sentence sets on them.

"How much is a powerflush? I've got 10 radiators" is not answered by "Powerflush – up to 8
radiators: £395", and "deep cleaning on 2 teeth" not by "4+ teeth per quadrant: $265": the
price is present, and belongs to another variant. A unit whose bound on a thing excludes the
quantity the customer gave for that thing does not answer them (doppel.agents.compose drops
it, so a variant that fits — "1–3 teeth" — or an honest don't-know answers instead).
"""

from __future__ import annotations

import functools
import re

from doppel.language.words import stem

__all__ = ["bounds", "excludes", "quantities"]

# Nouns counted or measured, by one key: "teeth"/"tooth", "lbs"/"pounds"/"lb".
_SAME = {"teeth": "tooth", "people": "person", "persons": "person", "guests": "person",
         "lbs": "lb", "pounds": "lb", "pound": "lb", "kgs": "kg", "kilos": "kg", "kilo": "kg",
         "kilograms": "kg", "kilogram": "kg", "hrs": "hour", "hr": "hour", "mins": "minute",
         "min": "minute", "yrs": "year", "yr": "year", "years": "year", "months": "month",
         "weeks": "week", "days": "day", "hours": "hour", "minutes": "minute"}
# Words between a number and its noun that change nothing: "10 cast iron radiators" is a count
# of radiators only through its last word, so a noun is the word right after the number, or
# after one adjective.
_NUM = r"(\d{1,5}(?:\.\d+)?)"
_NOUN = r"([a-z][a-z'-]{1,20})"
_UPPER = re.compile(r"\b(up\s*to|upto|max(?:imum)?(?:\s+of)?|no more than|at most|under|below|"
                    r"less than|fewer than)\s+" + _NUM + r"\s*" + _NOUN, re.I)
_LOWER = re.compile(r"\b(over|above|more than|at least|min(?:imum)?(?:\s+of)?)\s+" + _NUM
                    + r"\s*" + _NOUN, re.I)
_PLUS = re.compile(r"(?<![\d.])" + _NUM + r"\s*\+\s*" + _NOUN, re.I)
_OR_MORE = re.compile(r"(?<![\d.])" + _NUM + r"\s*" + _NOUN + r"\s+(?:or (?:more|longer|older|"
                      r"bigger|larger|over)|and (?:up|over|above|longer|older))\b", re.I)
# Numbers written as words, as owners write bounds ("under three hours")
_NUMBER_WORDS = {w: str(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve".split())}
_NUMBER_WORD = re.compile(r"\b(" + "|".join(list(_NUMBER_WORDS)[2:]) + r")\b(?=\s+[a-z])", re.I)


def _digits(text: str) -> str:
    """ "under three hours" as "under 3 hours" (two and up: "one" is too often no count)."""
    return _NUMBER_WORD.sub(lambda m: _NUMBER_WORDS[m.group(1).lower()], text)
_RANGE = re.compile(r"(?<![\d.])" + _NUM + r"\s*(?:-|–|—|to)\s*" + _NUM + r"\s*" + _NOUN, re.I)
_COUNT = re.compile(r"(?<![\d.$£€:/-])" + _NUM + r"\s*(?:x\s*)?" + _NOUN, re.I)


# What follows a number without being a thing counted: clock times, ordinals, prepositions.
_NOT_NOUNS = frozenset({"am", "pm", "at", "to", "for", "of", "and", "or", "in", "on", "per",
                        "a", "an", "the", "x", "st", "nd", "rd", "th", "o'clock", "ish",
                        "percent", "is", "are", "was", "please", "pls"})


def _key(noun: str) -> str:
    noun = noun.lower().strip("'-")
    return _SAME.get(noun, stem(noun))


# Pure functions of a text, called for every unit of every composed answer (the same rows
# turn after turn): cached. Callers must not change the dicts they get.
@functools.lru_cache(maxsize=4096)
def bounds(text: str) -> dict[str, tuple[float, float]]:
    """The bounds `text` sets on things, by noun: "up to 8 radiators" → {radiator: (0, 8)},
    "4+ teeth" → {tooth: (4, inf)}, "1–3 teeth" → {tooth: (1, 3)}, "under 20 kg" → (0, <20).
    A noun bounded twice in one text (a row for two variants) is left out: no single bound."""
    found: dict[str, list[tuple[float, float]]] = {}
    text = _digits(text)

    def add(noun: str, lo: float, hi: float) -> None:
        if noun.lower() not in _NOT_NOUNS:
            found.setdefault(_key(noun), []).append((lo, hi))

    for m in _UPPER.finditer(text):
        n = float(m.group(2))
        strict = m.group(1).lower() in ("under", "below", "less than", "fewer than")
        add(m.group(3), 0.0, n - 1e-9 if strict else n)
    for m in _LOWER.finditer(text):
        n = float(m.group(2))
        strict = m.group(1).lower() in ("over", "above", "more than")
        add(m.group(3), n + 1e-9 if strict else n, float("inf"))
    for m in (*_PLUS.finditer(text), *_OR_MORE.finditer(text)):
        add(m.group(2), float(m.group(1)), float("inf"))
    for m in _RANGE.finditer(text):
        lo, hi = float(m.group(1)), float(m.group(2))
        if lo < hi:
            add(m.group(3), lo, hi)
    return {k: v[0] for k, v in found.items() if len(set(v)) == 1}


@functools.lru_cache(maxsize=1024)
def quantities(text: str) -> dict[str, float]:
    """The counts and measures a question gives: "I've got 10 radiators" → {radiator: 10},
    "he's about 70 lbs" → {lb: 70}; a noun given two different numbers is left out."""
    seen: dict[str, set[float]] = {}
    for m in _COUNT.finditer(_digits(text)):
        if m.group(2).lower() not in _NOT_NOUNS:
            seen.setdefault(_key(m.group(2)), set()).add(float(m.group(1)))
    return {k: next(iter(v)) for k, v in seen.items() if len(v) == 1}


def excludes(question: str, text: str) -> bool:
    """Whether a bound in `text` leaves out a quantity the question gives for the same thing.
    A question that itself sets a bound ("anything under 20 kg?") is not a count: skipped."""
    asked = quantities(question)
    if not asked or bounds(question):
        return False
    for noun, (lo, hi) in bounds(text).items():
        if noun in asked and not lo <= asked[noun] <= hi:
            return True
    return False
