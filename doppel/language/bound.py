"""Facts bound to their subject: the lines of an owner's content as units that say *what* a
value belongs to.

"$28" occurring in the evidence does not make it the price of the thing asked about: in a
rentals table it may be the city bike's full day while the question is about the e-bike. So
each line of content is parsed into a `Unit`: a table row or CSV record ("Bike: City bike; Half
day: $18; Full day: $28"), a `Label: value` line ("Saturday: 9am–4pm", "Phone: 555-0142"), a
catalogue product ("Beeswax pillar — Candles. Sizes: 8 oz $24.00, 12 oz $32.00."), a FAQ pair,
or a prose sentence. A unit knows its **subject** (the row's name cells, the label, the FAQ's
question), its **cells** (attribute → value), the weekdays, dates and holidays it is about, and
its polarity ("We do not accept cheques" is -1).

The grounding check (doppel.agents.grounding) accepts a stated value only when the unit that
holds it is the one whose subject the claim is about; the composer (doppel.agents.compose)
answers from the unit that best matches the question. Both score subjects the same way
(`subject_score`), so what the gate accepts is what the composer would say.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from doppel.language.facts import WEEKDAYS, expand_dates, expand_weekdays, extract_facts
from doppel.language.words import NEGATORS, content_words, sentences, stem

__all__ = ["HOLIDAY_WORDS", "Cell", "Unit", "WordWeights", "claim_words", "holiday_dates",
           "parse_units", "polarity", "question_words", "subject_score", "unit_days"]

# Columns that name what a row is about (after lower-casing); the first such non-empty cell
# is the row's subject. Otherwise the row's first cell without a number is.
# In order of preference: a row is named by its item before its category or size.
_SUBJECT_HEADERS = ("name", "item", "product", "service", "job", "title", "treatment", "class",
                    "bike", "model", "package", "plan", "day", "days", "date", "holiday",
                    "option", "course", "programme", "program", "menu item", "dish", "room",
                    "session", "what", "style", "procedure", "membership", "pass", "rental",
                    "vehicle", "equipment", "description", "type", "category", "size", "level")
# Columns that name a row only when no other does: "Size" tells variants apart, it is no name.
_WEAK_SUBJECT = _SUBJECT_HEADERS.index("description")
# ... nor does a code ("item_code", "SKU", "EX100")
_CODE = re.compile(r"\b(code|sku|id|ref|no|number)\b|_code|#", re.I)

# Holidays a question or an hours page names by name. Fixed ones are dates ("12-25"); movable
# ones are keys of their own ("h:thanksgiving"): they match each other, never a weekday rule.
_HOLIDAYS: tuple[tuple[str, str], ...] = (
    (r"christmas\s+eve|xmas\s+eve", "12-24"),
    (r"christmas(\s+day)?|xmas(\s+day)?", "12-25"),
    (r"boxing\s+day|st\.?\s+stephen'?s\s+day", "12-26"),
    (r"new\s+year'?s\s+eve|nye", "12-31"),
    (r"new\s+year'?s(\s+day)?", "01-01"),
    (r"independence\s+day|(the\s+)?(fourth|4th)\s+of\s+july|july\s+4(th)?", "07-04"),
    (r"halloween", "10-31"),
    (r"valentine'?s(\s+day)?", "02-14"),
    (r"canada\s+day", "07-01"),
    (r"veterans'?\s+day|remembrance\s+day", "11-11"),
    (r"juneteenth", "06-19"),
    (r"(the\s+)?(day|friday)\s+after\s+thanksgiving|black\s+friday", "h:black-friday"),
    (r"thanksgiving(\s+day)?", "h:thanksgiving"),
    (r"easter(\s+(sunday|monday|weekend))?", "h:easter"),
    (r"good\s+friday", "h:good-friday"),
    (r"memorial\s+day", "h:memorial-day"),
    (r"labou?r\s+day", "h:labor-day"),
    (r"mlk\s+day|martin\s+luther\s+king(\s+jr\.?)?(\s+day)?", "h:mlk-day"),
    (r"presidents'?\s+day", "h:presidents-day"),
    (r"bank\s+holidays?|public\s+holidays?|statutory\s+holidays?|stat\s+holidays?|"
     r"major\s+holidays|all\s+holidays", "h:holidays"),
)
_HOLIDAY_RE = [(re.compile(rf"\b(?:{p})\b", re.I), key) for p, key in _HOLIDAYS]

# The words of holiday names ("christmas", "eve", "thanksgiving"): a follow-up that names
# its own day leaves the previous question's holiday behind
HOLIDAY_WORDS = frozenset(stem(w) for pattern, _ in _HOLIDAYS
                          for w in re.findall(r"[a-z]{3,}", pattern)
                          if w not in ("the", "day", "after", "friday", "and", "all"))

_RECORD_PART = re.compile(r"^\s*([^:;]{1,48}?):\s+(.+?)\s*$")
_LABEL_LINE = re.compile(r"^\s*(?:[-*•]\s*)?([A-Za-z][^:\n]{0,40}?)\s*:\s+(\S.*?)\s*$")
_QA = re.compile(r"^Q:\s*(.+?)\nA:\s*(.+)$", re.S)
# A catalogue loader's product: "Name — Category. Sizes: 8 oz $24.00, 12 oz $32.00. ..."
_PRODUCT = re.compile(r"^(?P<name>[^.—\n]{2,80}?) — (?P<category>[^.:\n]{1,40})\.\s+"
                      r"(?P<rest>[A-Z][^.:\n]{0,40}: .*)$", re.S)
_VARIANT = re.compile(r"([^,:;]*?)\s*([$€£]\s?\d[\d,]*(?:\.\d{1,2})?(?:\s*\([^)]*\))?)")
_DAY_LEAD = re.compile(
    r"^\s*(?:[-*•]\s*)?((?:(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)[a-z]*\.?"
    r"(?:\s*(?:-|–|—|to|through|thru|&|and|,)\s*)?)+)\s+(?=\d|closed|open|by\b|noon)", re.I)
_NEGATION_WORDS = NEGATORS - {"closed"} | {"no", "never", "nope"}


_SEASON_MONTHS = {"winter": {12, 1, 2}, "spring": {3, 4, 5}, "summer": {6, 7, 8},
                  "autumn": {9, 10, 11}, "fall": {9, 10, 11}}
_MONTH_ABBR = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
               "dec"]


def months_named(text: str, *, southern: bool = False) -> set[int]:
    """The months a question, a column or a heading names: "in November", "Summer",
    "Oct–Mar" (a span, wrapping the year), "Heating season (October – March)". South of the
    equator (`southern`) summer is December to February."""
    low = text.lower()
    out: set[int] = set()
    for season, months in _SEASON_MONTHS.items():
        if re.search(rf"\b{season}\b", low):
            out |= {(m + 5) % 12 + 1 for m in months} if southern else months
    found = [(m.start(), _MONTH_ABBR.index(m.group(1)[:3]) + 1) for m in re.finditer(
        r"\b(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
        r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b", low)]
    if len(found) == 2 and re.search(r"[–—-]|\bto\b|through", low[found[0][0]:found[1][0]]):
        month = found[0][1]
        out = set()  # the span names the months; a season word beside it only labels them
        while True:
            out.add(month)
            if month == found[1][1]:
                break
            month = month % 12 + 1
    else:
        out |= {n for _, n in found}
    return out


def holiday_dates(text: str) -> set[str]:
    """The holidays `text` names, as dates ("12-25") or keys ("h:thanksgiving")."""
    found: set[str] = set()
    work = text
    for pattern, key in _HOLIDAY_RE:
        for m in pattern.finditer(work):
            found.add(key)
            work = work[:m.start()] + " " * (m.end() - m.start()) + work[m.end():]
    return found


# The functions below are pure over their text and run for every passage of every turn (the
# same passages, turn after turn): cached, as `_parse` is.
@functools.lru_cache(maxsize=16384)
def unit_days(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """The weekdays (ranges expanded) and the dates and holidays a text is about."""
    facts = extract_facts(text, names=False)
    days = {f.value for f in facts if f.kind == "weekday"} | expand_weekdays(text)
    if re.search(r"\b(daily|every\s*day|7\s+days|seven\s+days)\b", text, re.I):
        days |= set(WEEKDAYS)
    if re.search(r"\bweekends?\b", text, re.I):
        days |= {"saturday", "sunday"}
    if re.search(r"\bweekdays?\b", text, re.I):
        days |= set(WEEKDAYS[:5])
    dates = {f.value for f in facts if f.kind == "date"} | expand_dates(text) | holiday_dates(text)
    return frozenset(days), frozenset(dates)


def polarity(text: str) -> int:
    """-1 when the text says something is not so ("we do not accept cheques", "closed")."""
    text = re.sub(r"^\s*(yes|no|nope|yep|sorry)\b[,.!]?", "", text, flags=re.I)
    # an aside in parentheses ("both are accepted (approval is up to them, not us)") does not
    # say the sentence's no
    text = re.sub(r"\([^()]*\)", " ", text)
    tokens = re.findall(r"[a-z]+(?:'[a-z]+)?", text.lower().replace("’", "'"))
    negations = sum(1 for t in tokens if t in NEGATORS or t.endswith("n't"))
    return -1 if negations % 2 else 1


# Columns whose plain numbers are amounts of money ("price_usd: 9.00").
_MONEY_HEADER = re.compile(r"price|cost|fee|rate|amount|charge|usd|eur|gbp|cad|aud|[$£€]|"
                           r"tuition|deposit|total|dollars|pounds|euros", re.I)


@dataclass(frozen=True)
class Cell:
    header: str   # the column or label ("Full day", "Phone"); "" when the table had none
    value: str    # as written ("$28", "9am – 4pm")

    def kinds(self) -> set[str]:
        """The kinds of value the cell states; a plain number under a price column is money."""
        kinds = {f.kind for f in extract_facts(self.value, names=False)}
        if "number" in kinds and _MONEY_HEADER.search(self.header):
            kinds.add("money")
        return kinds


@dataclass(frozen=True)
class Unit:
    """One line of content with what it is about."""

    text: str
    kind: str                   # record | label | product | qa | prose
    subject: str                # the row's name cells, the label, the question; "" for prose
    cells: tuple[Cell, ...]
    subject_words: frozenset[str]  # stems naming the subject, weekdays and holidays included
    words: frozenset[str]          # every content word of the line
    days: frozenset[str]
    dates: frozenset[str]
    polarity: int
    heading: str = ""

    @property
    def structured(self) -> bool:
        return self.kind in ("record", "label", "product")

    def values(self, kinds: Iterable[str] = ("money", "number", "time")) -> set[str]:
        """Normalised values of these kinds anywhere in the unit's cells (or text)."""
        wanted = set(kinds)
        out: set[str] = set()
        for c in self.cells or (Cell("", self.text),):
            money_column = "money" in wanted and "money" in c.kinds()
            for f in extract_facts(c.value, names=False):
                if f.kind in wanted or (money_column and f.kind == "number"):
                    out.add(f.value)
        return out

    def cells_with(self, kind: str) -> list[Cell]:
        """The cells that state a value of `kind` (money, time, number, phone, ...)."""
        return [c for c in self.cells if kind in c.kinds()]


# Words that say when or how much, not what: "Christmas Day" is about Christmas, and a
# question's "full day" names a column, not the row's subject.
_GENERIC = frozenset(stem(w) for w in """day days week weeks month months hour hours minute
minutes time times today tomorrow tonight morning afternoon evening night am pm per each
open opens opening close closes closing closed""".split())
_DAY_STEMS = frozenset(stem(d) for d in WEEKDAYS) | frozenset(d for d in WEEKDAYS) | frozenset(
    d[:3] for d in WEEKDAYS) | {"tues", "thur", "thurs", "tue", "thu"}
_COMPOUND = re.compile(r"\b[a-z]+(?:-[a-z]+)+\b", re.I)


@functools.lru_cache(maxsize=16384)
def _words(text: str) -> frozenset[str]:
    words = {w for w in content_words(text) if w not in _DAY_STEMS}
    words |= {stem(m.group(0).replace("-", "")) for m in _COMPOUND.finditer(text)}
    # "non veg" is the "Non-Veg" thali, not the veg one
    words |= {stem("non" + m.group(1).lower()) for m in _NON.finditer(text)}
    # a size said another way: the "Desk mini" is the small desk calendar
    words |= {_SIZE_WORDS[w] for w in words if w in _SIZE_WORDS}
    # the ways of saying where a meal is eaten, and "both" for a pair
    words |= {key for key, pattern in _SAID_AS.items() if pattern.search(text)}
    return frozenset(words)


_SAID_AS = {
    "eatin": re.compile(r"\b(eat(ing)?|din(e|ing)|sit(ting)?)[\s-]+in\b|\bin the restaurant\b",
                        re.I),
    stem("takeaway"): re.compile(r"\btake[\s-]?(away|out)\b|\bto go\b", re.I),
    "pair": re.compile(r"\bboth\b", re.I),
}


_SIZE_WORDS = {stem(w): stem(to) for to, ws in {"small": "mini little tiny petite",
                                                 "large": "big"}.items() for w in ws.split()}


_NON = re.compile(r"\bnon\s+([a-z]{3,})\b", re.I)


@functools.lru_cache(maxsize=16384)
def question_words(text: str) -> frozenset[str]:
    """`claim_words` of a question, a size or a place said another way replaced by the word
    the content's units also carry ("big" is "large", "in the restaurant" is "eatin"): each
    thing asked counts once, as the content's expansion of its own words meets it."""
    words = set(claim_words(text))
    for key, pattern in _SAID_AS.items():
        for m in pattern.finditer(text):
            words -= _words(m.group(0)) - {key}
    return frozenset(_SIZE_WORDS.get(w, w) for w in words) - {
        w for w in _SIZE_WORDS if w not in _SIZE_WORDS.values()}


@functools.lru_cache(maxsize=16384)
def claim_words(text: str) -> frozenset[str]:
    """What a question or a claim is about, comparable with `Unit.subject_words`: its content
    words (compounds joined: "e-bike" is "ebike"), the weekdays it names (ranges expanded) and
    its dates and holidays."""
    days, dates = unit_days(text)
    return _words(text) | days | dates


def _subject_words(subject: str, days: frozenset[str], dates: frozenset[str]) -> frozenset[str]:
    return (_words(subject) - _GENERIC) | days | dates


def _numeric(value: str) -> bool:
    return any(f.kind in ("money", "number", "time", "phone")
               for f in extract_facts(value, names=False))


def _subject_rank(header: str) -> int | None:
    """Where a column stands among the naming columns (None: it names nothing)."""
    h = header.lower().strip()
    for key in (h, h.split(" ")[0]):
        if key in _SUBJECT_HEADERS:
            return _SUBJECT_HEADERS.index(key)
    return None


_DATE_HEADER = re.compile(r"^\s*(date|dates|day|when)\s*$", re.I)
_NUMERIC_DATE = re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?(?![\d/])")


def _numeric_dates(values: Iterable[str]) -> frozenset[str]:
    """A row's numeric dates, where a row's name or Date column holds them ("Sat 12/27" is
    12-27, "Fri 28/11" is 11-28); month first unless the first number cannot be a month.
    Only there: in running text "1/2" is a half."""
    found = set()
    for value in values:
        for m in _NUMERIC_DATE.finditer(value):
            a, b = int(m.group(1)), int(m.group(2))
            month, day = (b, a) if a > 12 else (a, b)
            if 1 <= month <= 12 and 1 <= day <= 31:
                found.add(f"{month:02d}-{day:02d}")
    return frozenset(found)


def _record(text: str, parts: list[tuple[str, str]], heading: str) -> Unit:
    cells = tuple(Cell(h.strip(), v.strip()) for h, v in parts)
    subject_cells = sorted(
        (c for c in cells if _subject_rank(c.header) is not None),
        key=lambda c: _subject_rank(c.header) or 0)
    if not subject_cells:
        first = next((c for c in cells if not _numeric(c.value)), None)
        subject_cells = [first] if first else []
    elif (cells[0] not in subject_cells and not _numeric(cells[0].value)
          and not _CODE.search(cells[0].header) and re.search(r"[a-z]\s*\S", cells[0].value)
          and (_subject_rank(subject_cells[0].header) or 0) >= _WEAK_SUBJECT):
        # A first column under a header of its own ("Coffee", "Roast") names the row before
        # a size or a category does: tables put the name first.
        subject_cells = [cells[0], *subject_cells]
    subject = subject_cells[0].value if subject_cells else ""
    # Every naming cell tells rows apart ("Latte" + "16 oz"); the first one names the row.
    naming = " ".join(c.value for c in subject_cells[:3])
    days, dates = unit_days(naming)
    dates |= _numeric_dates(c.value for c in cells
                            if c.value == subject or _DATE_HEADER.match(c.header))
    return Unit(text, "record", subject, cells, _subject_words(naming, days, dates),
                _words(text), days, dates, polarity(text), heading)


def _product(m: re.Match[str], text: str, heading: str) -> Unit:
    name, rest = m.group("name").strip(), m.group("rest")
    cells: list[Cell] = []
    for part in sentences(rest):
        label, _, values = part.partition(": ")
        if not values and any(f.kind == "money" for f in extract_facts(part, names=False)):
            label, values = "", part  # a variant list continued from the record's first part
        if values and any(f.kind == "money" for f in extract_facts(values, names=False)):
            for v in _VARIANT.finditer(values):
                cells.append(Cell(v.group(1).strip(" ,/") or label, v.group(2).strip()))
        elif values:
            cells.append(Cell(label.strip(), values.strip()))
    days, dates = unit_days(name)
    return Unit(text, "product", name, tuple(cells),
                _subject_words(name + " " + m.group("category"), days, dates), _words(text),
                days, dates, polarity(text), heading)


# Labels that name an attribute, not a thing: "- Price: $55 per person" under the heading
# "Pour Your Own — Friday Night" is the price of that class.
_ATTRIBUTE_LABEL = re.compile(r"^(price|prices|cost|costs|fee|fees|rate|rates|tuition|pricing|"
                              r"investment|when|where|time|times|duration|length|ages?|"
                              r"cancellations?|refunds?)$", re.I)


# A price alone on its line ("$26", "now $149", "from £12 per person")
_PRICE_ONLY = re.compile(r"^\s*(?:(?:was|now|from|only|just|price:?)\s+)?[$€£]\s?\d[\d,.]*(?:\s*(?:"
                         r"/|per|each|a)\s*[a-z ]{1,15})?\s*$", re.I)


# A name, a dash and a price alone: a menu's or a card's heading ("Weekday Lunch Thali –
# £11.95", "Gift box — from $45 each")
_DASH_PRICE = re.compile(r"^([^.!?:;]{3,80}?)\s+[–—-]\s+((?:from\s+)?[$€£]\s?\d[\d,.]*(?:\s*(?:"
                         r"per|/|each|a|pp)\b[^.!?;]{0,20})?)\s*$", re.I)


def _label(label: str, value: str, text: str, heading: str) -> Unit:
    days, dates = unit_days(label)
    if not days and not dates:  # "Hours: Tue–Fri 7am–5pm": the days are in the value
        days, dates = unit_days(value)
    elif not dates:  # "Wed: 25 Dec (Christmas Day) — CLOSED": the date is in the value
        dates = unit_days(value)[1]
    subject, subject_words = label, _subject_words(label, days, dates)
    topic = heading.rsplit(" > ", 1)[-1].strip()
    if topic and _ATTRIBUTE_LABEL.match(label.strip()):
        subject = topic
        subject_words |= _subject_words(heading, *unit_days(topic))
    return Unit(text, "label", subject, (Cell(label, value),), subject_words,
                _words(text), days, dates, polarity(value), heading)


_INLINE_QA = re.compile(r"^(?:\*\*)?Q[:.]\s*(.+?\?)(?:\*\*)?\s+(?:A[:.]\s*)?(\S.+)$", re.I)
_PRODUCT_HEAD = re.compile(r"^(?P<name>[^.—\n]{2,80}?) — (?P<category>[^.:\n]{1,40})\.$")
_CONTINUED = re.compile(r"^(.{2,80}?) \(continued\): (.+)$", re.S)
_DOT_SEPARATED = re.compile(r"\s+[·•|]\s+")


def _qa(question: str, answer: str, heading: str) -> Unit:
    days, dates = unit_days(question)
    return Unit(answer, "qa", question, (Cell(question, answer),),
                _subject_words(question, days, dates), _words(question + " " + answer),
                days, dates, polarity(answer), heading)


def _line_units(line: str, heading: str, product: str = "") -> list[Unit]:
    qa = _INLINE_QA.match(line)
    if qa:
        return [_qa(qa.group(1).strip(), qa.group(2).strip(), heading)]
    continued = _CONTINUED.match(line)
    if continued and re.search(r"[$€£]", line):  # a long product record's later part
        m = _PRODUCT.match(f"{continued.group(1)} — item. {continued.group(2)}")
        if m is None:
            m = _PRODUCT.match(f"{continued.group(1)} — item. Prices: {continued.group(2)}")
        if m is not None:
            return [_product(m, line, heading)]
    if product:  # "Sizes: 8 oz $24.00, ..." under a product's first line
        m = _PRODUCT.match(f"{product}. {line}")
        if m and re.search(r"[$€£]", line):
            return [_product(m, f"{product}. {line}", heading)]
    pieces = _DOT_SEPARATED.split(line)
    if len(pieces) >= 2 and all(_LABEL_LINE.match(p) for p in pieces):
        return [u for p in pieces for u in _line_units(p, heading)]  # "Reel: $1,100 · Story: $450"
    parts = [p for p in re.split(r";\s+", line) if p.strip()]
    matched = [_RECORD_PART.match(p) for p in parts]
    if len(parts) >= 2 and all(matched):
        return [_record(line, [(m.group(1), m.group(2)) for m in matched if m], heading)]
    if " | " in line and line.count(" | ") >= 1:
        cells = [c.strip() for c in line.split(" | ") if c.strip()]
        return [_record(line, [("", c) for c in cells], heading)]
    m = _PRODUCT.match(line)
    if m and re.search(r"[$€£]", line):
        return [_product(m, line, heading)]
    d = _DAY_LEAD.match(line)
    if d and (_numeric(line[d.end():]) or re.match(r"\s*closed", line[d.end():], re.I)
              or (re.search(r"\bclosed\b", line[d.end():], re.I)
                  and unit_days(line[d.end():])[1])):  # "Wed 25 Dec (Christmas Day) — CLOSED"
        rest = line[d.end():].strip()
        dated = re.match(r"(.{3,60}?)\s+[—–-]\s+(\S.*)$", rest)
        if dated and unit_days(dated.group(1))[1]:
            # "Wed 25 Dec (Christmas Day) — CLOSED": the day is the date, the value the rest
            return [_label(f"{d.group(1).strip(' ,')} {dated.group(1)}", dated.group(2), line,
                           heading)]
        return [_label(d.group(1).strip(" ,"), rest, line, heading)]
    topic = heading.rsplit(" > ", 1)[-1].strip()
    if _PRICE_ONLY.match(line) and topic and not _PRICE_ONLY.match(topic):
        # A product card: the name is the heading, the price a line of its own ("$26")
        return [_label(topic, line.strip(), f"{topic}: {line.strip()}", heading)]
    dash = _DASH_PRICE.match(line)
    if dash and len(dash.group(1).split()) <= 8:  # "Saffron Veg Thali – £16.95"
        return [_label(dash.group(1).strip(" -*•"), dash.group(2), line, heading)]
    m2 = _LABEL_LINE.match(line)
    if m2 and len(m2.group(1).split()) <= 6 and not m2.group(1).lower().startswith("http"):
        return [_label(m2.group(1).strip(" -*•"), m2.group(2), line, heading)]
    out = []
    for sentence in sentences(line):
        days, dates = unit_days(sentence)
        out.append(Unit(sentence, "prose", "", (), frozenset(), _words(sentence), days, dates,
                        polarity(sentence), heading))
    return out


@functools.lru_cache(maxsize=16384)
def _parse(text: str, heading: str) -> tuple[Unit, ...]:
    qa = _QA.match(text.strip())
    if qa:
        return (_qa(qa.group(1).strip(), qa.group(2).strip(), heading),)
    out: list[Unit] = []
    product = ""
    last = heading.rsplit(" > ", 1)[-1]
    if last.endswith(" (continued)"):  # a long product record's later part (its heading)
        product = last[: -len(" (continued)")]
        first, _, rest = text.strip().partition("\n")
        units = _line_units(f"{product} (continued): {first}", heading)
        out.extend(units)
        text, product = rest, ""
    for line in text.split("\n"):
        line = line.strip()
        if not line:
            continue
        head = _PRODUCT_HEAD.match(line)
        if head:  # a catalogue product's first line: its name heads the lines that follow
            product = head.group(0).rstrip(".")
            continue
        out.extend(_line_units(line, heading, product))
        product = ""  # the name heads the one line of prices that follows it
    if len(out) > 1 and out[0].text == last.strip():
        # A heading that states a value ("Zone 2 – £12 travel supplement per visit") speaks
        # for the lines under it: it is the answer for a town its table lists.
        below = frozenset().union(*(u.words for u in out[1:]))
        out[0] = dataclasses.replace(out[0], words=out[0].words | below)
    return tuple(out)


def parse_units(text: str, heading: str = "") -> tuple[Unit, ...]:
    """The units of one passage (its lines; a FAQ entry is one unit). Cached: passages recur."""
    return _parse(text, heading)


class WordWeights:
    """Inverse document frequency of subject words over a set of units: a word every row has
    ("bike" in a bike-rental table) tells rows apart less than one row's own ("e-bike")."""

    def __init__(self, units: Sequence[Unit]) -> None:
        self.n = max(1, len(units))
        df: dict[str, int] = {}
        for u in units:
            for w in u.subject_words | u.words:
                df[w] = df.get(w, 0) + 1
        self.df = df

    def __call__(self, word: str) -> float:
        return math.log(1 + self.n / (1 + self.df.get(word, 0)))


def subject_score(unit: Unit, words: set[str] | frozenset[str], weights: WordWeights) -> float:
    """How strongly `words` (a claim's or a question's) name this unit's subject.

    Weekdays count as one "day" match, shared by the days the unit covers: "Tuesday" names the
    Tuesday row more than the "Tue–Sat" row, and a dated exception ("closed from Monday,
    August 4 through Sunday, August 10") is not the weekly rule for a question without a
    date."""
    hits = unit.subject_words & words
    days = [w for w in hits if w in WEEKDAYS]
    score = sum(weights(w) for w in hits if w not in WEEKDAYS)
    if days:
        share = len(days) / max(1, len(unit.days))
        day = sum(weights(w) for w in days) / len(days) * share
        if unit.dates and not unit.dates & words:
            day *= 0.25
        score += day
    # Between rows that name the question's words equally, the one that names nothing else:
    # a "large latte" is the Latte row's, not the Gingerbread latte's.
    if score > 0:
        score -= 0.01 * len(_words(unit.subject) - words)
    return score
