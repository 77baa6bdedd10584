"""What kind of value a question wants, and whether a sentence carries one.

"How long does the 200 ml diffuser last?" is answered by a duration, "how old does my kitten
need to be?" by an age, "what days does Dr Raman work?" by weekdays. A sentence about the
right subject that carries no value of that kind ("The Reed Diffuser is $48.00") is about the
thing asked about, not an answer to what was asked: shown, it reads as a reply that ignored
the question. The composer keeps such a sentence only when no candidate carries the kind, and
then says it does not know instead (right or silent).

Deliberately few kinds, each with a question form that leaves no doubt. "What"/"which"
questions in general, "who" (a name, "I", "our team", a company) and yes/no questions want no
one kind, and are left to the similarity ranking.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

from doppel.language.facts import extract_facts

Kind = Literal["duration", "age", "weekday", "count", "money", "when", "person"]

_NUMBER_WORDS = (r"(?:\d+(?:[.,]\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|"
                 r"twelve|fifteen|twenty|thirty|forty|fifty|sixty|a|an|a few|a couple(?: of)?|"
                 r"several|half an?|a half|few)")

_UNIT = r"(?:sec(?:ond)?s?|min(?:ute)?s?|h(?:ou)?rs?|hours?|days?|nights?|weeks?|wks?|months?|" \
        r"mos?|years?|yrs?|sessions?|classes|lessons|visits)"

# "2–3 hours", "45 min", "a couple of weeks", "6-week", "overnight", "same day"
_DURATION = re.compile(
    rf"\b{_NUMBER_WORDS}\s*(?:(?:-|–|to|or)\s*{_NUMBER_WORDS}\s*)?-?\s*{_UNIT}\b"
    r"|\b(overnight|same[- ]day|next[- ]day|all day|half[- ]day|full[- ]day|"
    r"lifetime|forever|for life|indefinitely|until|up to \d+)\b", re.I)

# "ages 14 and up", "12+", "over 18", "16 weeks old", "at 6 months", "under 5s"
_AGE = re.compile(
    r"\b(ages?|aged|years? old|yrs? old|months? old|weeks? old|old enough|adults?|"
    r"kids?|child(ren)?|teens?|toddlers?|seniors?|minors?|grown-?ups?|puppy|puppies|"
    r"kittens?)\b|\b\d+\s*\+|\b(over|under|from|at|after|before)\s+\d+\b"
    rf"|\b{_NUMBER_WORDS}\s*(?:-|–|to)?\s*\d*\s*(weeks?|months?|years?|yrs?)\b", re.I)

_WEEKDAY = re.compile(
    r"\b(mon|tues?|wed|thu(rs?)?|fri|sat|sun)(day)?s?\b|\b(weekdays?|weekends?|daily|"
    r"every day|each day|7 days|seven days)\b", re.I)

_COUNT_WORDS = re.compile(r"\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                          r"fifteen|twenty|thirty|forty|fifty|a few|a couple|several|no|"
                          r"unlimited|any number|dozens?|hundreds?)\b", re.I)

# "free", "no charge", "included": a price question answered without a figure
_FREE = re.compile(r"\b(free|no charge|no cost|no fee|no extra|included|includes|complimentary|"
                   r"at no|without charge|waived|on the house)\b", re.I)

# "+55p", "75 cents": what _MONEY in facts leaves to the currency sign
_PENCE = re.compile(r"\b\d+(?:\.\d+)?\s?(p|pence|c|cents|¢)(?!\w)", re.I)

_WHEN = re.compile(
    r"\b(today|tomorrow|tonight|yesterday|now|soon|weekly|monthly|daily|every|each|next|"
    r"this (week|month|year|spring|summer|fall|autumn|winter)|spring|summer|fall|autumn|"
    r"winter|season|morning|afternoon|evening|night|noon|midnight|already|released|out now|"
    r"since|ago|later|before|after|until|by)\b|\b(19|20)\d\d\b", re.I)


# A person named: "Dr. Okafor", "Ana Lima", "Owen Tattersall"; or the creator or owner
# speaking for themself ("I started it in 2015", "my wife and I")
_NAME = r"[A-ZÀ-Ý][a-zà-ÿ'’]+"
_PERSON = re.compile(
    rf"\b(Dr|Mr|Mrs|Ms|Mx|Prof)\.?\s+{_NAME}|\b{_NAME}(?:\s+[A-Z]\.)?\s+{_NAME}"
    rf"(?:-{_NAME})?|\b(I'm|I am|we are|we're|my name is|run by|owned by|founded by|started by|"
    rf"opened by)\s+{_NAME}|\bI\b|\b(my|our) (husband|wife|partner|mum|mom|dad|father|mother|"
    r"family|sister|brother|daughter|son|team)\b", re.M)

# The question forms, tried in order; the first that matches names the kind.
_ASKS: tuple[tuple[Kind, re.Pattern[str]], ...] = (
    ("person", re.compile(r"\bwho (owns|runs|started|founded|made|makes|built|is the (owner|"
                          r"founder|chef|head|boss|manager|vet|dentist|doctor|stylist|"
                          r"teacher|instructor))\b|\bwho'?s the (owner|founder|chef|boss|"
                          r"manager)\b|\bwhat'?s the owner'?s name\b", re.I)),
    ("age", re.compile(r"\bhow old\b|\bwhat age\b|\bage (limit|requirement|range|minimum)\b|"
                       r"\bminimum age\b|\bat what age\b|\bwhich ages?\b", re.I)),
    ("duration", re.compile(r"\bhow long\b(?! ago\b)(?!\s+(have|has|had)\b)|"
                            r"\bhow much (notice|time|warning|lead time)\b|"
                            r"\bhow many (minutes|hours|days|weeks|months|years)\b", re.I)),
    ("weekday", re.compile(r"\b(what|which) days?\b(?! (of|in) the (month|year))", re.I)),
    ("count", re.compile(r"\bhow many\b", re.I)),
    ("when", re.compile(r"^\W*(when|what date|which date)\b|\bwhen (is|are|does|do|will|did|"
                        r"was|'s)\b", re.I)),
)


def wanted(question: str) -> Kind | None:
    """The kind of value `question` asks for, or None when its form names none."""
    for kind, pattern in _ASKS:
        if pattern.search(question):
            return kind
    return None


@lru_cache(maxsize=8192)
def carries(kind: Kind, text: str) -> bool:
    """Whether `text` states a value of `kind`."""
    if kind == "duration":
        return bool(_DURATION.search(text))
    if kind == "age":
        return bool(_AGE.search(text))
    if kind == "weekday":
        return bool(_WEEKDAY.search(text))
    if kind == "count":  # a number that is not a price, a time or a date
        return bool(_COUNT_WORDS.search(text)) or any(
            f.kind == "number" for f in extract_facts(text, names=False))
    if kind == "money":
        return bool(_FREE.search(text) or _PENCE.search(text)) or any(
            f.kind == "money" for f in extract_facts(text, names=False))
    if kind == "person":
        return bool(_PERSON.search(text))
    # when: a date, a time, a weekday, a month or a word that places it in time
    return bool(_WEEKDAY.search(text) or _WHEN.search(text)) or any(
        f.kind in ("date", "time", "month") for f in extract_facts(text, names=False))
