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

from doppel.language.bound import (
    Unit,
    WordWeights,
    claim_words,
    holiday_dates,
    parse_units,
    subject_score,
    unit_days,
)
from doppel.language.facts import WORD, Fact, expand_dates, expand_weekdays, extract_facts
from doppel.language.words import NEGATORS, POLAR_WORDS, content_words, sentences, stem


@dataclass
class GroundingVerdict:
    grounded: bool
    facts_checked: int = 0
    unsupported: list[str] = field(default_factory=list)
    contradictions: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    def merge(self, other: GroundingVerdict) -> GroundingVerdict:
        return GroundingVerdict(self.grounded and other.grounded,
                                self.facts_checked + other.facts_checked,
                                self.unsupported + other.unsupported,
                                self.contradictions + other.contradictions)


# --- evidence -----------------------------------------------------------------------------------

def _polarity(text: str) -> int:
    """+1 or -1: parity of negations, ignoring a leading "Yes,"/"No," interjection."""
    text = re.sub(r"^\s*(yes|no|nope|yep|sorry)\b[,.!]?", "", text, flags=re.I)
    tokens = re.findall(r"[a-z]+(?:'[a-z]+)?|n't", text.lower().replace("’", "'"))
    negations = sum(1 for t in tokens if t in NEGATORS or t.endswith("n't"))
    return -1 if negations % 2 else 1


def _has_polar_word(text: str) -> bool:
    tokens = re.findall(r"[a-z]+(?:'[a-z]+)?", text.lower().replace("’", "'"))
    return any(t in POLAR_WORDS or t.endswith("n't") for t in tokens)


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
    for sentence in sentences(text):
        whole = _polarity(sentence)
        sentence_polar = _has_polar_word(sentence)
        for segment in re.split(r"[;,]|\bbut\b|—", sentence):
            if not segment.strip():
                continue
            facts = extract_facts(segment, names=False)
            days = {f.value for f in facts if f.kind == "weekday"} | expand_weekdays(segment)
            dates = ({f.value for f in facts if f.kind == "date"} | expand_dates(segment)
                     | holiday_dates(segment))
            own = _has_polar_word(segment)
            polarity = _polarity(segment) if own else whole
            out.append(_Clause(segment.strip(), own or sentence_polar, polarity, days, dates,
                               content_words(segment)))
    return out


@dataclass(frozen=True)
class _ParsedText:
    values: frozenset[tuple[str, str]]
    lines: tuple[tuple[str, frozenset[str], frozenset[str]], ...]  # (line, numbers, words)
    words: frozenset[str]
    clauses: tuple[_Clause, ...]
    quantities: frozenset[tuple[str, str]]  # ("2", "week"), ("20", "people")
    statements: tuple[tuple[frozenset[str], int], ...]  # each sentence's words and polarity


# A number with its unit: "2 weeks" is not supported by a "2" that counts hours elsewhere.
_UNITS = (r"(?:weeks?|days?|hours?|hrs?|minutes?|mins?|months?|years?|yrs?|nights?|people|"
          r"persons?|guests?|kids?|children|adults?|inch(?:es)?|in\b|oz|ounces?|lbs?|pounds?|"
          r"kg|grams?|g\b|ml|litres?|liters?|miles?|mi\b|km|kilometres?|kilometers?|feet|ft|"
          r"percent|%|classes|class|sessions?|lessons?|visits?|slices?|servings?|pieces?)")
_QUANTITY = re.compile(
    r"(?<![\w.$£€])(\d+(?:\.\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|"
    r"twelve|fifteen|twenty|thirty|forty|fifty|sixty|ninety|hundred)"
    r"(?:\s*(?:-|–|to)\s*(\d+(?:\.\d+)?))?(?:\s*|-)(" + _UNITS + r")(?![\w])", re.I)
_COLUMN_QUANTITY = re.compile(r"\((" + _UNITS + r")\)\s*:\s*(\d+(?:\.\d+)?)\b", re.I)
_NUMBER_NAMES = {w: str(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve".split())} | {
    "fifteen": "15", "twenty": "20", "thirty": "30", "forty": "40", "fifty": "50",
    "sixty": "60", "ninety": "90", "hundred": "100"}


def _unit_key(unit: str) -> str:
    """'minutes', 'mins' and 'min' are one unit; so are 'people' and 'persons'."""
    unit = unit.lower()
    aliases = {"%": "percent", "hrs": "hour", "hr": "hour", "mins": "minute", "min": "minute",
               "yrs": "year", "yr": "year", "in": "inch", "inches": "inch", "ft": "feet",
               "mi": "mile", "lbs": "pound", "lb": "pound", "persons": "people",
               "person": "people", "children": "kid", "liters": "litre", "liter": "litre",
               "litres": "litre", "classes": "class", "g": "gram", "ounces": "oz",
               "ounce": "oz"}
    if unit in aliases:
        return aliases[unit]
    return unit[:-1] if unit.endswith("s") and len(unit) > 3 else unit


def quantities(text: str) -> set[tuple[str, str]]:
    """The amounts with units a text states; a range states both ends ("20-25 people")."""
    out: set[tuple[str, str]] = set()
    for m in _COLUMN_QUANTITY.finditer(text):  # "Duration (min): 45"
        out.add((f"{float(m.group(2)):g}", _unit_key(m.group(1))))
    for m in _QUANTITY.finditer(text):
        unit = _unit_key(m.group(3))
        for raw in (m.group(1), m.group(2)):
            if raw:
                raw = _NUMBER_NAMES.get(raw.lower(), raw)
                out.add((f"{float(raw):g}", unit))
    return out


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
    values |= {("weekday", day) for day in expand_weekdays(text)}
    values |= {("date", date) for date in expand_dates(text)}
    words = {w.lower().replace("’", "'") for w in WORD.findall(text)}
    words |= {w.strip("'’-") for w in words}
    statements = tuple((frozenset(content_words(s) - _FILLER), _polarity(s))
                       for s in sentences(text))
    return _ParsedText(frozenset(values), tuple(lines), frozenset(words), tuple(_clauses(text)),
                       frozenset(quantities(text)), statements)


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

    def __init__(self, texts: Iterable[str], name: str = "") -> None:
        self.texts = [t for t in texts if t and t.strip()]
        # The business's or creator's own name: saying it asserts nothing.
        self.name_words: set[str] = content_words(name) if name else set()
        parsed = [_parse(t) for t in dict.fromkeys(self.texts)]
        self.values: set[tuple[str, str]] = set().union(*(p.values for p in parsed))
        self.lines = [line for p in parsed for line in p.lines]
        self.words: set[str] = set().union(*(p.words for p in parsed))
        self.clauses = [c for p in parsed for c in p.clauses]
        self.quantities: set[tuple[str, str]] = set().union(*(p.quantities for p in parsed))
        self.statements = [st for p in parsed for st in p.statements if st[0]]
        self.units: list[Unit] = [u for t in dict.fromkeys(self.texts) for u in parse_units(t)]
        self.structured = [u for u in self.units if u.structured]
        self.weights = WordWeights(self.units)

    def bound(self, fact: Fact, claim: frozenset[str]) -> bool | None:
        """Is the value stated by the row, label or product the claim is about?

        True when the unit whose subject `claim` names best states this value (in the column
        the claim names, if it names one); False when that unit states another value of the
        kind ("$28" for the e-bike, whose full day is $55); None when no table row, label or
        product is about the claim's subject (prose decides, by the anchored rule)."""
        kinds = {"money": ("money",), "number": ("money", "number"),
                 "time": ("time",)}.get(fact.kind)
        if kinds is None or not self.structured:
            return None
        scored = [(subject_score(u, claim, self.weights), u) for u in self.structured
                  if u.values(kinds)]
        best = max((score for score, _ in scored), default=0.0)
        if best <= 0:
            return None
        top = [u for score, u in scored if score >= best - 1e-9]
        if any(_states(u, fact, claim, kinds) for u in top):
            return True
        # The content's own sentence with this value ("the ovens start at 4 am"): a row
        # about something else does not make it wrong.
        words = {w for w in claim if not w[0].isdigit()}
        need = max(1, len(words) // 2)
        return any(u.kind in ("prose", "qa") and _holds(u.text, fact)
                   and len(words & u.words) >= need for u in self.units) or False

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


def _unit_values(text: str) -> set[tuple[str, str]]:
    values: set[tuple[str, str]] = set()
    for f in extract_facts(text, names=False):
        _add_value(values, f)
    return values


def _holds(text: str, fact: Fact, money_column: bool = False) -> bool:
    values = _unit_values(text)
    if fact.kind == "number" or (fact.kind == "money" and money_column):
        # "price: 9.00" states $9.00: a plain number in a price column is an amount
        return any((k, fact.value) in values for k in ("number", "hour", "day", "money"))
    return (fact.kind, fact.value) in values


def _states(unit: Unit, fact: Fact, claim: frozenset[str], kinds: tuple[str, ...]) -> bool:
    """The unit states the value, in the column the claim names when it names one of the
    unit's columns ("a full day" picks "Full day: $28" over "Half day: $18")."""
    if fact.kind == "number" and _holds(unit.text, fact):
        return True  # a count or size that names the row ("the 200 ml diffuser")
    cells = [c for c in unit.cells if c.kinds() & set(kinds)]
    if not cells:
        return _holds(unit.text, fact)
    overlap = [len(claim_words(c.header) & claim) for c in cells]
    best = max(overlap)
    chosen = [c for c, o in zip(cells, overlap) if o == best] if best > 0 else cells
    return any(_holds(c.value, fact, "money" in c.kinds()) for c in chosen) or (
        best == 0 and _holds(unit.text, fact))


_MARKER = re.compile(r"\s?\[\d{1,2}\](?=\s|$|[.,;:!?\[])")
# A clause with no other content words than these says only *whether* (or *until when*).
_WHEN_WORDS = frozenset({"toda", "tonight", "tomorrow", "then", "hour", "till", "until", "still",
                         "right", "now", "usual", "regular", "normal"})
_CLAUSE_BREAK = re.compile(r"[;,]|\b(?:but|while|whereas|and)\b|—")


def _claim(sentence: str, fact: Fact, question_claim: frozenset[str],
           evidence: Evidence) -> frozenset[str]:
    """What the part of the sentence stating `fact` is about; the question's words join in
    when that part names no subject the evidence knows ("It's $28 for a full day")."""
    clause = next((part for part in _CLAUSE_BREAK.split(sentence) if part and fact.text in part),
                  sentence)
    own = claim_words(clause)
    if any(subject_score(u, own, evidence.weights) > 0 for u in evidence.structured):
        return own
    return own | question_claim


# --- the check ----------------------------------------------------------------------------------

def check(draft: str, evidence: Evidence, question: str = "") -> GroundingVerdict:
    """Is every fact in the draft supported, and no clause a flipped negation of the evidence?"""
    question_words = {w.lower() for w in WORD.findall(question)}
    anchors_q = content_words(question)
    question_claim = claim_words(question)
    verdict = GroundingVerdict(True)
    draft = _MARKER.sub("", draft)  # citation markers ("[1]") are no facts
    for sentence in sentences(draft):
        facts = extract_facts(sentence)
        anchors = {w for w in content_words(sentence) | anchors_q if not w[0].isdigit()}
        # Names are weak evidence (a capitalised word found anywhere): they do not make an
        # answer "verified" on their own.
        verdict.facts_checked += sum(1 for f in facts if f.kind != "name")
        for fact in facts:
            if fact.kind == "name" and fact.value in question_words:
                continue  # echoing the user's own words ("Hi Sam")
            supported = evidence.supports(fact, anchors)
            if supported and fact.kind in ("money", "number", "time"):
                # Present is not enough: bound to the subject the claim is about.
                bound = evidence.bound(fact, _claim(sentence, fact, question_claim, evidence))
                if bound is False:
                    verdict.grounded = False
                    verdict.unsupported.append(f"{fact} (not the value of what was asked)")
                    continue
            if not supported:
                verdict.grounded = False
                verdict.unsupported.append(str(fact))
        for number, unit in quantities(sentence) - evidence.quantities:
            verdict.grounded = False
            verdict.unsupported.append(f"quantity '{number} {unit}'")
        # What the sentence asserts beyond its checked values must be what the content says:
        # "we can't bring the cake" is not in content that says "we deliver custom cakes";
        # "the booth is closed to the public" is not in "booth: Saturdays 8-1". The business's
        # own name is no claim ("The journey to Hollow Pine" is not supported by "Hollow Pine").
        rest = sentence
        for fact in facts:  # the checked values, and names, are not words of the claim
            rest = rest.replace(fact.text, " ")
        claim = {w for w in content_words(rest) - _FILLER - evidence.name_words
                 if not w[0].isdigit() and len(w) > 2}
        stated = _stated(claim, evidence, _polarity(sentence)) if claim else True
        if stated is None:
            verdict.grounded = False
            verdict.unsupported.append(f"claim '{sentence.strip()[:80]}'")
        elif stated is False:
            verdict.grounded = False
            verdict.contradictions.append(f"'{sentence.strip()[:80]}' says the opposite of "
                                          "the content")
        contradiction = _contradiction(sentence, evidence, question)
        if contradiction:
            verdict.grounded = False
            verdict.contradictions.append(contradiction)
    return verdict


# Words of courtesy and offers of help: they state nothing about the business.
_FILLER = frozenset(stem(w) for w in """every always also just open opens opening close closes
closing hours hour start starts starting begin begins end ends finish happy glad help helping
love lovely great wonderful
welcome visit come stop drop question questions anything something info information details
detail more feel free contact reach team assist assistance sure course absolutely definitely
today soon day hope enjoy thank thanks need want like look looking forward see hear
know let tell ask answer""".split())


def _stated(claim: set[str], evidence: Evidence, polarity: int) -> bool | None:
    """True when a sentence of the content carries at least half of the claim's words with
    the same polarity; False when the only such sentences say the opposite ("you can pay by
    cheque" against "we do not accept cheques"); None when none carries them."""
    need = -(-len(claim) // 2)
    support = [p for words, p in evidence.statements if len(claim & words) >= need]
    if not support:
        return None
    # One shared word says too little about which way a sentence goes: presence only.
    return polarity in support or len(claim) < 2


def _contradiction(sentence: str, evidence: Evidence, question: str = "") -> str | None:
    asked_days, asked_dates = unit_days(question) if question else (frozenset(), frozenset())
    for clause in _clauses(sentence):
        if not clause.polar or re.fullmatch(r"\W*(yes|no|nope|yep|sorry|sure)\W*", clause.text,
                                            re.I):
            continue
        if not clause.days and not clause.dates and (asked_days or asked_dates):
            # "Yes, we're open" answers the question's day: checked against that day's rule.
            if not {w for w in clause.words if not w[0].isdigit()} - _WHEN_WORDS:
                clause = _Clause(clause.text, True, clause.polarity, set(asked_days),
                                 set(asked_dates), clause.words)
        if clause.dates:
            related = [c for c in evidence.clauses if clause.dates & c.dates]
        elif clause.days:
            # A weekday claim is about the weekly rule: compare with undated evidence first
            # (a dated clause such as a holiday week is an exception, not the rule). A range
            # is a claim about each of its days: "open Monday to Friday" is wrong when Monday
            # alone is closed.
            for day in sorted(clause.days):
                on_day = [c for c in evidence.clauses if day in c.days and not c.dates and c.polar]
                if on_day and all(c.polarity != clause.polarity for c in on_day):
                    return f"'{clause.text}' contradicts '{on_day[0].text}'"
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
