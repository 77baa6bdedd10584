"""Facts in text: prices, numbers, times, dates, weekdays, months, phones, emails, URLs and
proper names, each normalised ("$9", "9.00" and "nine" are one value; "7am" and "7:00 a.m." one
time).

The grounding check compares a draft's facts with the evidence's (doppel.agents.grounding), and
the console's facts review lists the same facts from an owner's content
(doppel.knowledge.facts), so what the owner reviews is what the agent may say.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from doppel.language.words import STOPWORDS

__all__ = ["MONTHS", "WEEKDAYS", "WORD", "Fact", "expand_dates", "expand_weekdays", "extract_facts",
           "particulars", "same_particulars"]

# --- vocabulary ---------------------------------------------------------------------------------

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_WEEKDAY_ABBR = {"mon": 0, "tue": 1, "tues": 1, "wed": 2, "thu": 3, "thur": 3, "thurs": 3,
                 "fri": 4, "sat": 5, "sun": 6}
MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december"]
_MONTH_ABBR = {m[:3]: i for i, m in enumerate(MONTHS)} | {"sept": 8}
_NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero _ two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty".split()) if w != "_"}
_NUMBER_WORDS |= {"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "hundred": 100,
                  "dozen": 12}

# Capitalised words that are not names, for sentence-initial words not seen in the evidence.
_COMMON_STARTERS = frozenset("""yes no sure of course absolutely certainly unfortunately sorry
hi hello hey thanks thank welcome great good glad happy please we our you your i it its this
that these those there here they their the a an and but so if when while as at in on for from
to with by about after before during until since also just only currently right now today
tomorrow however otherwise alternatively additionally also both each every all most some many
any none nothing everything feel let yes, definitely enjoy note keep check call email visit
come stop drop ask try order contact reach find see look pick bring book reserve plan expect
generally usually typically normally perhaps maybe well oh ah great perfect lovely wonderful
what which who whom whose why how where would could should can will may might must do does did
is are was were be have has had my me mine us regular holiday hours opening prices menu""".split())


@dataclass(frozen=True)
class Fact:
    kind: str   # money | number | time | date | weekday | month | phone | email | url | name
    text: str   # as written in the draft
    value: str  # normalised key

    def __str__(self) -> str:
        return f"{self.kind} '{self.text}'"


# --- fact extraction ----------------------------------------------------------------------------

_URL = re.compile(r"\bhttps?://[^\s<>\"')\]]+|\bwww\.[^\s<>\"')\]]+"
                  r"|\b(?:[a-z0-9-]+\.)+(?:com|org|net|io|co|us|uk|ca|de|fr|shop|store|example"
                  r"|info|biz|app|dev)\b(?:/[^\s<>\"')\]]*)?", re.I)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_ISO_DATE = re.compile(r"\b(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])\b")
_PHONE = re.compile(r"(?<![\w.])\+?\(?\d[\d\s().-]{6,}\d(?![\w.]*\d)")
_TIME = re.compile(
    r"\b(\d{1,2})(?::([0-5]\d))?\s*([ap])\.?\s?m\b\.?|\b(\d{1,2}):([0-5]\d)\b"
    r"|\b(noon|midday|midnight)\b", re.I)
_MONTH_RE = (r"(january|february|march|april|may|june|july|august|september|october|november|"
             r"december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?")
_DATE_MD = re.compile(rf"\b{_MONTH_RE}\s+(\d{{1,2}})(?:st|nd|rd|th)?\b", re.I)
_DATE_DM = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH_RE}\b", re.I)
_DATE_RANGE = re.compile(
    rf"\b{_MONTH_RE}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s*(?:-|–|—|to|through|until|and)\s*"
    rf"(?:(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday),?\s*)?"
    rf"(?:{_MONTH_RE}\s+)?(\d{{1,2}})\b(?!:)", re.I)
_MONTH_ONLY = re.compile(rf"\b{_MONTH_RE}\b", re.I)
_MONEY = re.compile(r"[$€£]\s?(\d[\d,]*(?:\.\d{1,2})?)|(\d[\d,]*(?:\.\d{1,2})?)\s?"
                    r"(?:dollars|usd|eur|euros|bucks)\b", re.I)
_NUMBER = re.compile(r"(?<![\w.])(\d[\d,]*(?:\.\d+)?)(?:st|nd|rd|th|%)?(?![\w])|(?<![\w.])"
                     r"(\d[\d,]*(?:\.\d+)?)(?=-?[a-z])", re.I)
_WEEKDAY = re.compile(r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?\b"
                      r"|\b(Mon|Tues?|Wed|Thu(?:rs?)?|Fri|Sat|Sun)\b\.?", re.I)
_WEEKDAY_RANGE = re.compile(
    r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tues?|wed|thu(?:rs?)?|fri|"
    r"sat|sun)s?\.?\s*(?:-|–|—|to|through|thru|till|until)\s*"
    r"(monday|tuesday|wednesday|thursday|"
    r"friday|saturday|sunday|mon|tues?|wed|thu(?:rs?)?|fri|sat|sun)s?\b", re.I)
WORD = re.compile(r"[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ'’-]*")


def _num(text: str) -> str:
    value = float(text.replace(",", ""))
    return f"{value:g}"


def _month_index(token: str) -> int:
    token = token.lower().rstrip(".")
    return MONTHS.index(token) if token in MONTHS else _MONTH_ABBR[token[:4] if token ==
                                                                     "sept" else token[:3]]


def _weekday_index(token: str) -> int:
    token = token.lower().rstrip(".")
    if token.endswith("s") and token[:-1] in WEEKDAYS:
        token = token[:-1]
    return WEEKDAYS.index(token) if token in WEEKDAYS else _WEEKDAY_ABBR[token]


def _blank(text: str, span: tuple[int, int]) -> str:
    return text[:span[0]] + " " * (span[1] - span[0]) + text[span[1]:]


def extract_facts(text: str, *, names: bool = True) -> list[Fact]:
    """Every checkable fact in `text`. Matched spans are blanked so a phone's digits are not
    also read as numbers, a price not also as a plain number, and so on."""
    return list(_extract_facts(text, names))


# Facts are frozen and the same passages come back turn after turn: read once per process (the
# largest single cost of a composed turn before: ~10 % of its CPU).
@functools.lru_cache(maxsize=32768)
def _extract_facts(text: str, names: bool) -> tuple[Fact, ...]:
    facts: list[Fact] = []
    work = text
    for m in _EMAIL.finditer(work):
        facts.append(Fact("email", m.group(0), m.group(0).lower()))
        work = _blank(work, m.span())
    for m in _URL.finditer(work):
        raw = m.group(0).rstrip(".,;:!?")
        value = re.sub(r"^(https?://)?(www\.)?", "", raw.lower()).rstrip("/")
        facts.append(Fact("url", raw, value))
        work = _blank(work, (m.start(), m.start() + len(raw)))
    for m in _ISO_DATE.finditer(work):  # "2024-05-03" (social posts' dates): not a phone
        facts.append(Fact("date", m.group(0), f"{m.group(2)}-{m.group(3)}"))
        work = _blank(work, m.span())
    for m in _PHONE.finditer(work):
        digits = re.sub(r"\D", "", m.group(0))
        if 7 <= len(digits) <= 15 and not re.fullmatch(r"\d{1,2}[.:]\d{2}", m.group(0).strip()):
            facts.append(Fact("phone", m.group(0).strip(), digits[-10:]))
            work = _blank(work, m.span())
    for m in _TIME.finditer(work):
        if m.group(6):
            word = m.group(6).lower()
            facts.append(Fact("time", m.group(0), "00:00" if word == "midnight" else "12:00"))
        elif m.group(3):
            hour, minute = int(m.group(1)), int(m.group(2) or 0)
            if not 1 <= hour <= 12:
                continue
            hour = hour % 12 + (12 if m.group(3).lower() == "p" else 0)
            facts.append(Fact("time", m.group(0).strip(), f"{hour:02d}:{minute:02d}"))
        else:
            hour, minute = int(m.group(4)), int(m.group(5))
            if hour > 23:
                continue
            # "7:00" without am/pm: ambiguous, matched on the 12-hour clock
            facts.append(Fact("time", m.group(0), f"~{hour % 12:02d}:{minute:02d}"
                              if hour <= 12 else f"{hour:02d}:{minute:02d}"))
        work = _blank(work, m.span())
    for m in _DATE_MD.finditer(work):
        month = _month_index(m.group(1))
        facts.append(Fact("date", m.group(0), f"{month + 1:02d}-{int(m.group(2)):02d}"))
        work = _blank(work, m.span())
    for m in _DATE_DM.finditer(work):
        month = _month_index(m.group(2))
        facts.append(Fact("date", m.group(0), f"{month + 1:02d}-{int(m.group(1)):02d}"))
        work = _blank(work, m.span())
    for m in _MONTH_ONLY.finditer(work):
        token = m.group(1)
        if token.lower() == "may" and not token[0].isupper():
            continue  # the verb
        if len(token) <= 4 and token.lower() not in MONTHS and not token[0].isupper():
            continue  # "mar", "dec" in running text
        facts.append(Fact("month", token, f"{_month_index(token) + 1:02d}"))
        work = _blank(work, m.span())
    for m in _MONEY.finditer(work):
        facts.append(Fact("money", m.group(0).strip(), _num(m.group(1) or m.group(2))))
        work = _blank(work, m.span())
    for m in _WEEKDAY.finditer(work):
        token = m.group(1) or m.group(2)
        if m.group(2) and not token[0].isupper():
            continue  # "sun", "sat", "wed" as ordinary words
        facts.append(Fact("weekday", m.group(0).strip(), WEEKDAYS[_weekday_index(token)]))
        work = _blank(work, m.span())
    for m in _NUMBER.finditer(work):
        raw = m.group(1) or m.group(2)
        try:
            facts.append(Fact("number", raw, _num(raw)))
        except ValueError:
            continue
        work = _blank(work, m.span())
    for m in re.finditer(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", work, re.I):
        facts.append(Fact("number", m.group(0), _num(str(_NUMBER_WORDS[m.group(1).lower()]))))
    if names:
        facts.extend(_names(work))
    return tuple(facts)


_PARTICULAR_KINDS = ("money", "number", "time", "date", "weekday", "month")


def particulars(text: str) -> dict[str, frozenset[str]]:
    """The specifics a question asks about: days, dates, times, amounts, numbers."""
    found: dict[str, set[str]] = {}
    for fact in extract_facts(text, names=False):
        if fact.kind in _PARTICULAR_KINDS:
            found.setdefault(fact.kind, set()).add(fact.value)
    return {kind: frozenset(values) for kind, values in found.items()}


def same_particulars(question: str, other: str) -> bool:
    """Whether two similar questions ask about the same specifics. Sentence embeddings barely
    see them: MiniLM puts "Are you open on Sunday?" and "...on Monday?" at cosine 0.91, above
    the approved-answer threshold, and the owner's Sunday answer must not answer Monday."""
    return particulars(question) == particulars(other)


def _names(text: str) -> list[Fact]:
    """Capitalised words that may be names. Sentence-initial words are candidates only when
    they are not common sentence starters (checked again against the evidence later)."""
    out = []
    for sentence in re.split(r"(?<=[.!?:;\n])\s+|[\"“”()]", text):
        words = list(WORD.finditer(sentence))
        for i, m in enumerate(words):
            word = m.group(0).strip("'’-")
            if len(word) < 2 or not word[0].isupper() or word == "I" or word.startswith("I'"):
                continue
            lower = word.lower()
            if i == 0:
                # A capital at the start of a sentence says nothing, unless a second
                # capitalised word follows ("Maria Lopez will help").
                follows = words[1].group(0) if len(words) > 1 else ""
                if (lower in _COMMON_STARTERS or lower in STOPWORDS or not follows[:1].isupper()
                        or follows.lower() in STOPWORDS):
                    continue
            out.append(Fact("name", word, lower.replace("’", "'")))
    return out


def expand_weekdays(text: str) -> set[str]:
    """Every weekday a range names: "Tue-Fri" -> tuesday, wednesday, thursday, friday."""
    days = set()
    for m in _WEEKDAY_RANGE.finditer(text):
        a, b = _weekday_index(m.group(1)), _weekday_index(m.group(2))
        i = a
        while True:
            days.add(WEEKDAYS[i])
            if i == b:
                break
            i = (i + 1) % 7
    return days


def expand_dates(text: str) -> set[str]:
    dates: set[str] = set()
    for m in _DATE_RANGE.finditer(text):
        month = _month_index(m.group(1)) + 1
        if m.group(3) and _month_index(m.group(3)) + 1 != month:
            continue  # spans two months: the endpoints are facts already
        a, b = int(m.group(2)), int(m.group(4))
        if 1 <= a <= b <= 31:
            dates.update(f"{month:02d}-{d:02d}" for d in range(a, b + 1))
    return dates
