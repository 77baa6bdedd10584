"""The grounding check: a drafted answer may state only facts found in the agent's own content.

The embedded model invents prices, hours and names and flips negations (MODELS.md), so every
generated answer passes through this check before a user sees it. It works on *facts* — prices,
numbers, times, dates, weekdays, phones, emails, URLs and proper names — extracted from the
draft and normalised ("$9", "9.00" and "nine" are one value; "7am" and "7:00 a.m." one time),
each of which must occur in the evidence: the passages given to the model and the agent spec.

Two stricter checks on top of presence:
- **prices are anchored**: a price must occur in an evidence line that shares a content word
  with the draft sentence or the question ("latte ... $5.25" fails when 5.25 is the croissant);
- **polarity**: a draft clause about a weekday, a date or the same content words as an evidence
  clause must not flip its negation ("open on Monday" against "Monday: Closed").

The check is deliberately conservative: a false alarm costs fluency (the turn falls back to
quoting the best passage), a miss costs trust.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

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

# Words that flip a clause's polarity ("closed" is the negation of "open").
_NEGATORS = {"not", "no", "never", "cannot", "can't", "closed", "unavailable", "without", "none",
             "nothing", "nobody", "neither", "nor", "isn't", "aren't", "don't", "doesn't",
             "didn't", "won't", "wouldn't", "shouldn't", "couldn't", "wasn't", "weren't",
             "haven't", "hasn't", "n't"}
_POLAR = _NEGATORS | {"open", "available", "yes", "offer", "offers", "have", "has", "do", "does"}

_STOP = frozenset("""a about above after again all also am an and any are as at be because been
before being below between both but by can could did do does doing down during each few for from
further had has have having he her here hers him his how i if in into is it its itself just me
more most my no nor not of off on once only or other our ours out over own same she should so
some such than that the their theirs them then there these they this those through to too under
until up very was we were what when where which while who whom why will with would you your
yours yes sure hi hello hey thanks thank please ok okay great happy help let know like get got
just really can't don't we're you're it's i'm i'd we'll you'll that's there's here's what's
cost costs price prices much many dollar dollars buy sell sells one ones""".split())

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


@dataclass
class GroundingVerdict:
    grounded: bool
    facts_checked: int = 0
    unsupported: list[str] = field(default_factory=list)
    contradictions: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    def merge(self, other: "GroundingVerdict") -> "GroundingVerdict":
        return GroundingVerdict(self.grounded and other.grounded,
                                self.facts_checked + other.facts_checked,
                                self.unsupported + other.unsupported,
                                self.contradictions + other.contradictions)


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
_WORD = re.compile(r"[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ'’-]*")


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
    return facts


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
        words = list(_WORD.finditer(sentence))
        for i, m in enumerate(words):
            word = m.group(0).strip("'’-")
            if len(word) < 2 or not word[0].isupper() or word == "I" or word.startswith("I'"):
                continue
            lower = word.lower()
            if i == 0:
                # A capital at the start of a sentence says nothing, unless a second
                # capitalised word follows ("Maria Lopez will help").
                follows = words[1].group(0) if len(words) > 1 else ""
                if (lower in _COMMON_STARTERS or lower in _STOP or not follows[:1].isupper()
                        or follows.lower() in _STOP):
                    continue
            out.append(Fact("name", word, lower.replace("’", "'")))
    return out


# --- evidence -----------------------------------------------------------------------------------

def _stem(word: str) -> str:
    word = word.lower().replace("’", "'")
    for suffix in ("ies", "ing", "ery", "ed", "es", "s", "y"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def content_words(text: str) -> set[str]:
    return {_stem(w) for w in re.findall(r"[a-zA-Z][a-zA-Z']+|\d+(?:\.\d+)?", text)
            if w.lower() not in _STOP and w.lower() not in _POLAR}


def _polarity(text: str) -> int:
    """+1 or -1: parity of negations, ignoring a leading "Yes,"/"No," interjection."""
    text = re.sub(r"^\s*(yes|no|nope|yep|sorry)\b[,.!]?", "", text, flags=re.I)
    tokens = re.findall(r"[a-z]+(?:'[a-z]+)?|n't", text.lower().replace("’", "'"))
    negations = sum(1 for t in tokens if t in _NEGATORS or t.endswith("n't"))
    return -1 if negations % 2 else 1


def _has_polar_word(text: str) -> bool:
    tokens = re.findall(r"[a-z]+(?:'[a-z]+)?", text.lower().replace("’", "'"))
    return any(t in _POLAR or t.endswith("n't") for t in tokens)


@dataclass
class _Clause:
    text: str
    polar: bool  # the segment or its sentence says something is / is not so
    polarity: int
    days: set[str]
    dates: set[str]
    words: set[str]


def _clauses(text: str) -> list[_Clause]:
    """Sentences, with polarity decided per segment when the segment carries its own verb."""
    out = []
    for sentence in re.split(r"(?<=[.!?])\s+|\n+", text):
        if not sentence.strip():
            continue
        whole = _polarity(sentence)
        sentence_polar = _has_polar_word(sentence)
        for segment in re.split(r"[;,]|\bbut\b|—", sentence):
            if not segment.strip():
                continue
            facts = extract_facts(segment, names=False)
            days = {f.value for f in facts if f.kind == "weekday"} | _expand_weekdays(segment)
            dates = {f.value for f in facts if f.kind == "date"} | _expand_dates(segment)
            own = _has_polar_word(segment)
            polarity = _polarity(segment) if own else whole
            out.append(_Clause(segment.strip(), own or sentence_polar, polarity, days, dates,
                               content_words(segment)))
    return out


def _expand_weekdays(text: str) -> set[str]:
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


def _expand_dates(text: str) -> set[str]:
    dates: set[str] = set()
    for m in _DATE_RANGE.finditer(text):
        month = _month_index(m.group(1)) + 1
        if m.group(3) and _month_index(m.group(3)) + 1 != month:
            continue  # spans two months: the endpoints are facts already
        a, b = int(m.group(2)), int(m.group(4))
        if 1 <= a <= b <= 31:
            dates.update(f"{month:02d}-{d:02d}" for d in range(a, b + 1))
    return dates


@dataclass(frozen=True)
class _ParsedText:
    values: frozenset[tuple[str, str]]
    lines: tuple[tuple[str, frozenset[str], frozenset[str]], ...]  # (line, numbers, words)
    words: frozenset[str]
    clauses: tuple[_Clause, ...]


@functools.lru_cache(maxsize=8192)
def _parse(text: str) -> _ParsedText:
    """One evidence text, parsed once: passages and the agent spec recur turn after turn."""
    values: set[tuple[str, str]] = set()
    for fact in extract_facts(text):
        _add_value(values, fact)
    lines = []
    for line in text.split("\n"):
        numbers = frozenset(f.value for f in extract_facts(line, names=False)
                            if f.kind in ("money", "number"))
        if numbers:
            lines.append((line, numbers, frozenset(content_words(line))))
    values |= {("weekday", day) for day in _expand_weekdays(text)}
    values |= {("date", date) for date in _expand_dates(text)}
    words = {w.lower().replace("’", "'") for w in _WORD.findall(text)}
    words |= {w.strip("'’-") for w in words}
    return _ParsedText(frozenset(values), tuple(lines), frozenset(words), tuple(_clauses(text)))


def _add_value(values: set[tuple[str, str]], fact: Fact) -> None:
    values.add((fact.kind, fact.value))
    if fact.kind in ("money", "number"):
        values.add(("number", fact.value))
    elif fact.kind == "time":
        clock = fact.value.lstrip("~")
        hour, minute = int(clock[:2]), int(clock[3:])
        values.add(("time", f"~{hour % 12:02d}:{minute:02d}"))
        # "we open at 7" -- an hour supports a plain number, never an amount of money
        values.add(("hour", str(hour % 12 or 12)))
        if fact.value.startswith("~"):  # ambiguous in the source: either half of the day
            values.add(("time", f"{hour % 12:02d}:{minute:02d}"))
            values.add(("time", f"{hour % 12 + 12:02d}:{minute:02d}"))
    elif fact.kind == "date":
        values.add(("month", fact.value[:2]))
        values.add(("day", str(int(fact.value[3:]))))  # "the 14th"


class Evidence:
    """The trusted texts of one turn, indexed for the checks."""

    def __init__(self, texts: Iterable[str]) -> None:
        self.texts = [t for t in texts if t and t.strip()]
        parsed = [_parse(t) for t in dict.fromkeys(self.texts)]
        self.values: set[tuple[str, str]] = set().union(*(p.values for p in parsed))
        self.lines = [line for p in parsed for line in p.lines]
        self.words: set[str] = set().union(*(p.words for p in parsed))
        self.clauses = [c for p in parsed for c in p.clauses]

    def supports(self, fact: Fact, anchors: set[str]) -> bool:
        kind, value = fact.kind, fact.value
        if kind == "name":
            return value in self.words or value.rstrip("s'") in self.words
        if kind == "phone":
            return any(k == "phone" and (v.endswith(value[-7:]) or value.endswith(v[-7:]))
                       for k, v in self.values)
        if kind == "time":  # "~07:00" (no am/pm) matches either half of the day's values
            return ("time", value) in self.values
        if kind in ("money", "number"):
            # Money needs a number the evidence states as a number or amount: "10am" does not
            # make "10 dollars" true. A plain number may also be an hour or a day of a date.
            if ("number", value) not in self.values and (
                    kind == "money" or (("hour", value) not in self.values
                                        and ("day", value) not in self.values)):
                return False
            # Anchored: some evidence line with this number shares a word with the claim.
            lines = [words for _, numbers, words in self.lines if value in numbers]
            return not anchors or not lines or any(words & anchors for words in lines)
        return (kind, value) in self.values


# --- the check ----------------------------------------------------------------------------------

def check(draft: str, evidence: Evidence, question: str = "") -> GroundingVerdict:
    """Is every fact in the draft supported, and no clause a flipped negation of the evidence?"""
    question_words = {w.lower() for w in _WORD.findall(question)}
    anchors_q = content_words(question)
    verdict = GroundingVerdict(True)
    for sentence in re.split(r"(?<=[.!?])\s+|\n+", draft):
        if not sentence.strip():
            continue
        facts = extract_facts(sentence)
        anchors = {w for w in content_words(sentence) | anchors_q if not w[0].isdigit()}
        verdict.facts_checked += len(facts)
        for fact in facts:
            if fact.kind == "name" and fact.value in question_words:
                continue  # echoing the user's own words ("Hi Sam")
            if not evidence.supports(fact, anchors):
                verdict.grounded = False
                verdict.unsupported.append(str(fact))
        contradiction = _contradiction(sentence, evidence)
        if contradiction:
            verdict.grounded = False
            verdict.contradictions.append(contradiction)
    return verdict


def _contradiction(sentence: str, evidence: Evidence) -> str | None:
    for clause in _clauses(sentence):
        if not clause.polar:
            continue
        if clause.dates:
            related = [c for c in evidence.clauses if clause.dates & c.dates]
        elif clause.days:
            # A weekday claim is about the weekly rule: compare with undated evidence first
            # (a dated clause such as a holiday week is an exception, not the rule).
            related = [c for c in evidence.clauses if clause.days & c.days and not c.dates]
            related = related or [c for c in evidence.clauses if clause.days & c.days]
        elif clause.words:
            need = max(1, -(-2 * len(clause.words) // 3))  # two thirds of the clause's words
            related = [c for c in evidence.clauses
                       if c.polar and len(clause.words & c.words) >= need]
        else:
            continue
        if related and all(c.polarity != clause.polarity for c in related):
            return f"'{clause.text}' contradicts '{related[0].text}'"
    return None
