"""Composed answers: a reply a person would write, built from the facts bound to their subject.

The embedded model is a phraser, not a source of facts (MODELS.md), and a quote of a passage is
not a reply. For the questions every customer asks — a price, the hours on a day, a holiday,
how to reach the owner, whether a policy allows something — the answer is one row, label or
sentence of the owner's content, and saying it needs no model at all:

- **price**: the row whose subject the question names (doppel.language.bound), in the column
  it names ("a full day"), with what the row says it includes or takes;
- **hours**: the rule for the day asked about; a date or holiday's exception before the weekly
  rule; "closed" as a plain no; the week's hours when no day is named;
- **contact**: the phone, e-mail, address or parking line from the content (or the agent's
  contact card);
- **yes/no and prose**: the one sentence of the content that carries the question's words,
  lightly framed ("No — …" when it says no), never the whole passage.

`compose` returns None when nothing in the passages answers with confidence; the turn then
asks the model, and falls back to `compose(..., sentence_ok=True)` when the draft fails the
gate. Every composed answer names where it comes from with numbered markers ("[1]"), which
the turn's citations label with the document's title, never a file path.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from doppel.agents.spec import AgentSpec
from doppel.knowledge.facts import THIRD_PARTY
from doppel.knowledge.index import Passage
from doppel.language.bound import (
    Cell,
    Unit,
    WordWeights,
    claim_words,
    parse_units,
    subject_score,
    unit_days,
)
from doppel.language.facts import WEEKDAYS, extract_facts
from doppel.language.words import stem

__all__ = ["Ask", "Composed", "Similarity", "analyse", "compose"]

# How close in meaning each of some texts is to the question (cosine, -1..1): the turn passes
# the embedder's, so a sentence that says the same in other words is found ("can my dog come
# along?" against "Dogs are welcome on the patio").
Similarity = Callable[[str, Sequence[str]], Sequence[float]]

_PRICE = re.compile(r"\b(how much|cost|costs|costing|price|prices|pricing|priced|fee|fees|"
                    r"charge|charges|rate|rates|expensive|cheap|cheapest|quote)\b|\$|€|£|"
                    # "pay by cheque", "pay with Amex", "pay cash": how, not how much
                    r"\bpay\b(?!\s+(by|with|in|using|via|through|cash|card|online|over|at)\b)",
                    re.I)
_HOURS = re.compile(r"\b(open|opens|opening|close|closes|closing|closed|what time|"
                    r"until when|till when|how late|how early)\b|\bhours\b(?!['’]| notice| before| "
                    r"ahead| in advance| prior| of| per| a )", re.I)
# "can I bring my dog in on a Sunday?", "could we stop by Saturday": whether it is open then
_VISIT = re.compile(r"\b(come|coming|bring|visit|stop by|stop in|drop (in|by|off)|pop (in|by)|"
                    r"walk in|swing by|get in)\b", re.I)
_PHONE = re.compile(r"\b(phone|call you|call us|ring|telephone|text you|whatsapp|(contact|phone|"
                    r"your|emergency|hours|office) number)\b", re.I)
_EMAIL = re.compile(r"\b(e-?mail|mail you|write to)\b", re.I)
_ADDRESS = re.compile(r"\b(address|where are you|where is your|located|location|find you|"
                      r"directions|get to you|situated)\b|\bwhere\b[^?]{0,25}\b(studio|shop|store|"
                      r"office|clinic|salon|caf[eé]|showroom|premises|you guys|based)\b", re.I)
_PARKING = re.compile(r"\b(park|parking|car park|parking lot)\b", re.I)
# Where a line of content talks about parking ("Lowfold Trade Park" is an address).
_PARKING_LINE = re.compile(r"\bparking\b|\bcar park\b|\bpark (on|in|at|for|behind|outside|"
                           r"nearby|free)\b|\bparking lot\b", re.I)
_BIGGEST = re.compile(r"\b(biggest|largest|big|large|bigger|larger|max|maximum|full[- ]size)\b",
                      re.I)
_SMALLEST = re.compile(r"\b(smallest|small|smaller|little|mini|tiny|travel)\b", re.I)
_DURATION = re.compile(r"\b(how long|duration|take)\b", re.I)
_YES_NO = re.compile(r"^\W*(do|does|did|can|could|is|are|was|will|would|may|might|have|has|"
                     r"should|shall|am|any)\b", re.I)
_TIME_QUESTION = re.compile(r"\b(when|date|dates|released?|out yet|come out|comes out|coming|"
                            r"next|upcoming|tour|show|launch|drop|drops|how long ago|year)\b",
                            re.I)
# A sentence that announces rather than answers: it ends with a colon or dash, or is a short
# exclamation or a bare list item ("- Candles that have been burned/lit — even once.").
_LEAD_IN = re.compile(r"[:—–-]\s*\.?$|^.{0,60}!$|^[^.!?]{0,55}\.$")
# A quoted review's signature: "… the best!!” — Tammy R., Google ★★★★★"
_REVIEW = re.compile(r"[”\"]\s*[—–-]\s*[A-Z][\w.]*(\s[A-Z][\w.]*)?,?|★|☆")
_PRONOUN_START = re.compile(r"^(She|He|They|Her|His|Their)\b")
_POST_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2}):\s*")
_FUTURE = re.compile(r"\b(will|coming|comes out|drops?|is out on|out on|launch(es|ing)?|"
                     r"pre-?order|next (week|month|year)|soon|upcoming|on sale)\b", re.I)
_STREET = re.compile(r"\b\d{1,5}\s+[A-Z][\w.' -]{1,40}\b(street|st\.?|avenue|ave\.?|road|rd\.?|"
                     r"lane|ln\.?|boulevard|blvd\.?|way|drive|dr\.?|place|pl\.?|square|sq\.?|"
                     r"court|ct\.?|highway|hwy\.?|parkway|pkwy\.?|terrace|row)\b", re.I)
# A UK postcode or a US state and ZIP: the end of a postal address.
_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s+\d[A-Z]{2}\b|\b[A-Z]{2}\s+\d{5}(?:-\d{4})?\b")
_PERSONAL = re.compile(r"\b(home|personal|private)\b|\b(?!(?:What|It|That|Where|Who|Here|There|"
                       r"Let|How|When|He|She)'s)[A-Z][a-zà-ÿ]+'s\b")
_HOURS_CONTEXT = re.compile(r"\b(hours?|open|opening|closed?|closing|schedule|holidays?)\b", re.I)
_INCLUDES = re.compile(r"\b(notes?|includes?|included|inclusions?|what'?s included|details|"
                       r"description)\b", re.I)
_DURATION_HEADER = re.compile(r"\b(duration|length|time|minutes|mins?|hours?)\b", re.I)
_GENERIC_HEADERS = re.compile(r"^(price|prices|cost|rate|fee|amount|variant price|price[_ ]?"
                              r"(usd|eur|gbp)?|usd|eur|gbp|\$)$", re.I)
_PRICE_COLUMN = re.compile(r"\b(price|cost|fee|rate|charge|amount)\b", re.I)
_CLOSED = re.compile(r"^\W*closed\b", re.I)
# Question words that say what kind of answer is wanted, not what it is about.
_ASK_WORDS = frozenset(stem(w) for w in """price cost fee charge rate pay much expensive cheap
hour hours time open close closing opening today tomorrow phone call number email mail address
located location find park parking long take quote offer offers available anything need want
kind type sort get go come thing things way really able possible allowed okay fine happen
happens usually roughly exactly question wonder know tell guys someone anyone still heard hear
told saw seen read think thought wondering curious hoping planning""".split())


@dataclass
class Ask:
    """What a question asks for and about."""

    text: str
    intent: str                   # price | hours | phone | email | address | parking | other
    yes_no: bool
    words: frozenset[str]         # claim words (doppel.language.bound)
    days: frozenset[str]
    dates: frozenset[str]
    duration: bool = False
    about_time: bool = False
    currency: str = ""            # the symbol the content writes prices with, if one


@dataclass
class Composed:
    text: str
    kind: str                     # price | hours | contact | sentence
    passages: list[Passage] = field(default_factory=list)


def analyse(message: str, previous: str | None = None, today: dt.date | None = None) -> Ask:
    """The ask of `message`; a short follow-up ("and on Sunday?", "how long does it take?")
    keeps the previous question's intent and subject, with its own days and words on top."""
    today = today or dt.date.today()
    text = message
    days, dates = unit_days(message)
    if re.search(r"\btoday\b|\bright now\b|\bnow\b|\btonight\b", message, re.I):
        days = days | {WEEKDAYS[today.weekday()]}
    if re.search(r"\btomorrow\b", message, re.I):
        days = days | {WEEKDAYS[(today.weekday() + 1) % 7]}
    intent = _intent(message)
    words = claim_words(message)
    if previous:
        prev = analyse(previous, None, today)
        if intent == "other" or (_DURATION.search(message) and prev.intent == "price"):
            intent = prev.intent if not _DURATION.search(message) else "price"
        if not days and not dates:
            days, dates = prev.days, prev.dates
        own = words - _ASK_WORDS - days - dates
        # "and the sourdough?" names its own subject; "and on Sunday?", "how long does it
        # take?" keep the previous question's
        words = words if own else words | (prev.words - prev.days - prev.dates)
        text = f"{previous} {message}"
    return Ask(text, intent, bool(_YES_NO.match(message)), frozenset(words - _ASK_WORDS),
               frozenset(days), frozenset(dates), bool(_DURATION.search(message)),
               bool(_TIME_QUESTION.search(message)))


def _intent(message: str) -> str:
    if _PARKING.search(message):
        return "parking"
    if _EMAIL.search(message):
        return "email"
    if _PHONE.search(message) and not _PRICE.search(message):
        return "phone"
    if _ADDRESS.search(message):
        return "address"
    if _PRICE.search(message):
        return "price"
    if _HOURS.search(message) or (_VISIT.search(message) and unit_days(message)[0]):
        return "hours"
    return "other"


# --- the composer ---------------------------------------------------------------------------

@dataclass
class _Found:
    unit: Unit
    passage: Passage
    rank: int


def compose(message: str, passages: list[Passage], spec: AgentSpec, *,
            previous: str | None = None, today: dt.date | None = None,
            sentence_ok: bool = False, similarity: Similarity | None = None) -> Composed | None:
    """A reply from the bound facts of `passages`, or None when they do not answer it.

    Price, hours and contact answers come from a table row, a label or the contact card.
    With `sentence_ok`, prose questions get the one sentence that answers them (the fallback
    after a draft that failed the gate); without it only clear yes/no answers do."""
    ask = analyse(message, previous, today)
    found = [_Found(u, p, i) for i, p in enumerate(passages)
             for u in parse_units(p.text, p.heading)]
    symbols = re.findall(r"[$€£]", " ".join(p.text for p in passages))
    if symbols:
        ask.currency = max(set(symbols), key=symbols.count)
    weights = WordWeights([f.unit for f in found])
    composed: Composed | None = None
    if ask.intent == "price":
        composed = _price(ask, found, weights)
    elif ask.intent == "hours":
        composed = _hours(ask, found, spec)
    elif ask.intent in ("phone", "email", "address", "parking"):
        composed = _contact(ask, found, spec, weights)
    if composed is None and (sentence_ok or (ask.yes_no and ask.intent != "hours")):
        composed = _sentence(ask, found, weights, spec, today or dt.date.today(),
                             yes_no_only=not sentence_ok, similarity=similarity)
    return composed


def _marked(text: str, used: list[Passage], all_used: list[Passage]) -> str:
    marks = "".join(f"[{all_used.index(p) + 1}]" for p in used if p in all_used)
    return f"{text} {marks}" if marks else text


def _finish(kind: str, parts: list[tuple[str, Passage | None]]) -> Composed:
    cited: list[Passage] = []
    for _, p in parts:
        if p is not None and p not in cited:
            cited.append(p)
    text = " ".join(_marked(t, [p] if p else [], cited) for t, p in parts)
    return Composed(text, kind, cited)


# price ---------------------------------------------------------------------------------------

def _price(ask: Ask, found: list[_Found], weights: WordWeights) -> Composed | None:
    priced = [f for f in found if f.unit.structured and f.unit.cells_with("money")]
    if not priced or not ask.words:
        return _prose_with(ask, found, weights, "money")
    scored = [(subject_score(f.unit, ask.words, weights), f) for f in priced]
    best = max(s for s, _ in scored)
    if best <= 0:
        return _prose_with(ask, found, weights, "money")
    top = [f for s, f in scored if s >= best - 1e-9]
    # The row must be about most of what was asked: "the candle making class" is not the
    # "Candle Care Kit" because both say "candle". Otherwise a sentence with a price may be.
    cover = max(_coverage(ask.words, f.unit.words | f.unit.subject_words, weights) for f in top)
    if cover < PRICE_COVERAGE:
        return _prose_with(ask, found, weights, "money")
    # The same row found twice (a CSV record and a table) is one answer.
    unique: list[_Found] = []
    for f in top:
        if all(f.unit.text != g.unit.text for g in unique):
            unique.append(f)
    # One product split over two chunks is one row: its variants together.
    merged: dict[str, _Found] = {}
    for f in unique:
        if f.unit.kind == "product" and f.unit.subject in merged:
            g = merged[f.unit.subject]
            merged[f.unit.subject] = _Found(dataclasses.replace(
                g.unit, cells=g.unit.cells + f.unit.cells), g.passage, min(g.rank, f.rank))
        else:
            merged.setdefault(f.unit.subject if f.unit.kind == "product" else f.unit.text, f)
    unique = list(merged.values())
    # Rows of one subject that differ in another column ("Adult Essentials · Dog", "… · Cat"):
    # the one whose other cells carry the question's words ("for a cat").
    if len(unique) > 1:
        covers = [_coverage(ask.words, f.unit.words | f.unit.subject_words, weights)
                  for f in unique]
        unique = [f for f, c in zip(unique, covers, strict=True) if c >= max(covers) - 1e-9]
    # Rows the question names equally well: the best-ranked passage's (retrieval saw the
    # whole question); rows of one table that tie are listed, at most three, each with what
    # tells it from the others.
    first = min(f.rank for f in unique)
    unique = [f for f in unique if f.rank == first]
    if len(unique) > 3:
        return None  # the question names no row well enough to pick one
    apart = _distinguish([f.unit for f in unique])
    return _finish("price", [(_price_sentence(f.unit, ask, q), f.passage)
                             for f, q in zip(unique, apart, strict=True)])


def _distinguish(units: list[Unit]) -> list[str]:
    """For rows listed together, the values of their other columns that differ ("Dog",
    "Cat"), so the customer can tell which price is which; "" for a single row."""
    if len(units) < 2:
        return [""] * len(units)
    out = []
    for u in units:
        values = [c.value for c in u.cells
                  if c.value != u.subject and "money" not in c.kinds()
                  and any(c.value not in {d.value for d in v.cells} for v in units if v is not u)]
        out.append(", ".join(values[:2]))
    return out


def _article(subject: str) -> str:
    subject = subject.strip()
    if not subject or subject[0].isdigit() or subject.isupper():
        return subject
    if subject.lower().startswith(("the ", "a ", "an ", "our ")):
        return subject[0].lower() + subject[1:]
    return "the " + subject


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _price_sentence(unit: Unit, ask: Ask, qualifier: str = "") -> str:
    money = unit.cells_with("money")
    asked = _periods(ask.words)
    overlap = [len(_periods(claim_words(c.header)) & asked) for c in money]
    best = max(overlap, default=0)
    chosen = [c for c, o in zip(money, overlap) if o == best] if best else money
    if len(chosen) > 1 and (_BIGGEST.search(ask.text) or _SMALLEST.search(ask.text)):
        sized = [(c, n) for c in chosen if (n := _size(c.header)) is not None]
        if sized:
            pick = max if _BIGGEST.search(ask.text) else min
            chosen = [pick(sized, key=lambda x: x[1])[0]]
    subject = unit.subject or (unit.cells[0].value if unit.cells else "it")
    what = _article(subject) + (f" ({qualifier})" if qualifier else "")
    # The plain "price" column first; other price columns after it ("member price")
    chosen.sort(key=lambda c: 0 if _GENERIC_HEADERS.match(c.header.strip()) else 1)
    priced = [(c.header, _money_only(c.value, c.header, ask.currency)) for c in chosen]
    named = [(h, v) for h, v in priced
             if h and not _GENERIC_HEADERS.match(h.strip()) and h != subject
             and unit.kind != "label"
             and not (len(priced) == 1 and _PRICE_COLUMN.search(h))]
    if len(priced) == 1 or not named:
        header, value = priced[0]
        extra = f" for {_lower(header)}" if (header, value) in named else ""
        sentence = f"{_cap(what)} is {value}{extra}"
    elif len(named) < len(priced):  # "$189.00 ($151.20 for Smile Club members)"
        sentence = (f"{_cap(what)} is {priced[0][1]} ("
                    + _and([f"{v} for {_lower(h)}" for h, v in named]) + ")")
    else:
        sentence = f"{_cap(what)} is " + _and([f"{v} for {_lower(h)}" for h, v in named])
    notes = _notes(unit, ask)
    return sentence + (f" ({notes})" if notes else "") + "."


# A price column's period in the words a customer uses: "pay for the whole year" is the
# "Annual (paid in full)" column, "per month" the "Monthly" one.
_PERIOD_WORDS = {stem(w): period for period, words in {
    "year": "year years yearly annual annually yr", "month": "month months monthly mo mth",
    "week": "week weeks weekly wk", "day": "day days daily", "hour": "hour hours hourly hr"}.items()
    for w in words.split()}


def _periods(words: frozenset[str]) -> frozenset[str]:
    return frozenset(_PERIOD_WORDS.get(w, w) for w in words)


def _size(header: str) -> float | None:
    """The size a price column or variant names ("14 oz Amber Jar" -> 14)."""
    m = re.search(r"(\d+(?:\.\d+)?)\s*(oz|ml|l|g|kg|lb|in|inch|cm|pack|pc|pcs|ct|x)?\b", header,
                  re.I)
    return float(m.group(1)) if m else None


def _money_only(value: str, header: str, currency: str) -> str:
    """The cell's amount as a customer reads it: "9.00" under "price_usd" is "$9.00"."""
    value = value.strip().rstrip(".")
    if re.fullmatch(r"\d[\d,]*(\.\d{1,2})?", value):
        symbol = ("$" if re.search(r"usd|\$|dollar", header, re.I) else
                  "€" if re.search(r"eur|€", header, re.I) else
                  "£" if re.search(r"gbp|£|pound", header, re.I) else currency)
        return symbol + value
    return value


def _lower(header: str) -> str:
    return header if header.isupper() and len(header) <= 4 else header[:1].lower() + header[1:]


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _notes(unit: Unit, ask: Ask) -> str:
    """What a row says the price includes or how long it takes, briefly."""
    out: list[str] = []
    if unit.kind != "record":
        return ""  # a product's description is prose, not notes on its price
    for c in unit.cells:
        if c.value == unit.subject or "money" in c.kinds():
            continue
        if _DURATION_HEADER.search(c.header) and re.fullmatch(r"[\d.–-]+", c.value.strip()):
            unit_word = re.search(r"\((\w+)\)", c.header)
            out.append(f"{c.value.strip()} {unit_word.group(1) if unit_word else 'min'}")
        elif _DURATION_HEADER.search(c.header) and len(c.value) <= 30:
            out.append(c.value.strip())
        elif _INCLUDES.search(c.header) and len(c.value) <= 100:
            out.append(c.value.strip().rstrip("."))
    return "; ".join(out[:2])


def _prose_with(ask: Ask, found: list[_Found], weights: WordWeights,
                kind: str) -> Composed | None:
    """A sentence that states a value of `kind` about the question's subject."""
    best: tuple[float, _Found] | None = None
    for f in found:
        if f.unit.kind not in ("prose", "qa") or not any(
                x.kind == kind for x in extract_facts(f.unit.text, names=False)):
            continue
        cover = _coverage(ask.words, f.unit.words | f.unit.subject_words, weights)
        if cover >= 0.6 and (best is None or cover > best[0]):
            best = (cover, f)
    if best is None:
        return None
    f = best[1]
    return _finish("price", [(_clean_sentence(_focus(f.unit.text, ask, weights)), f.passage)])


# hours ---------------------------------------------------------------------------------------

def _hours_units(found: list[_Found]) -> list[_Found]:
    out = []
    for f in found:
        u = f.unit
        if not u.structured or not (u.days or u.dates):
            continue
        value = " ".join(c.value for c in u.cells if c.value != u.subject)
        has_time = any(x.kind == "time" for x in extract_facts(value, names=False))
        closed = bool(_CLOSED.search(value)) or (u.polarity < 0 and not has_time)
        if not (has_time or closed):
            continue
        # A class timetable has times on days too: only lines that are about opening hours.
        plain_day = u.kind == "label" and not (u.subject_words - u.days - u.dates - {
            stem("hours"), "hour", stem("open"), stem("regular")})
        if plain_day or _HOURS_CONTEXT.search(u.heading) or _HOURS_CONTEXT.search(u.subject) \
                or _HOURS_CONTEXT.search(f.passage.heading):
            out.append(f)
    return out


_SEASONS = {"winter": {12, 1, 2}, "spring": {3, 4, 5}, "summer": {6, 7, 8},
            "autumn": {9, 10, 11}, "fall": {9, 10, 11}}
_MONTH_NAMES = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                "dec"]


def _months(text: str) -> set[int]:
    """The months a question or a column names: "in November", "Summer", "Oct–Mar"."""
    low = text.lower()
    out: set[int] = set()
    for season, months in _SEASONS.items():
        if re.search(rf"\b{season}\b", low):
            out |= months
    found = [(m.start(), _MONTH_NAMES.index(m.group(1)[:3]) + 1) for m in re.finditer(
        r"\b(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
        r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b", low)]
    if len(found) == 2 and re.search(r"[–—-]|\bto\b|through", low[found[0][0]:found[1][0]]):
        a, b = found[0][1], found[1][1]
        month = a
        while True:  # "Oct–Mar" wraps the year
            out.add(month)
            if month == b:
                break
            month = month % 12 + 1
    else:
        out |= {n for _, n in found}
    return out


def _hours_value(u: Unit, ask: Ask | None = None) -> tuple[str, bool]:
    cells = [c for c in u.cells if c.value != u.subject]
    asked = _months(ask.text) if ask is not None else set()
    seasonal = [c for c in cells if _months(c.header)]
    if asked and seasonal:  # "Saturdays in November": the column whose months it is
        cells = [c for c in seasonal if _months(c.header) & asked] or cells
    elif len(seasonal) > 1:  # both seasons, each with its name
        cells = [Cell(c.header, f"{c.value} ({c.header})") for c in seasonal]
    opens = next((c for c in cells if _OPEN_HEADER.match(c.header)), None)
    closes = next((c for c in cells if _CLOSE_HEADER.match(c.header)), None)
    if opens is not None and closes is not None and not _CLOSED.search(opens.value):
        # "Open: 8:00 AM; Close: 12:00 PM" is one range
        cells = [Cell("", f"{opens.value} – {closes.value}")] + [
            c for c in cells if c is not opens and c is not closes]
    value = "; ".join(c.value for c in cells).strip().rstrip(".")
    value = re.sub(r"^(open|opens|opening hours|hours)\b[:\s]*", "", value, flags=re.I)
    closed = bool(_CLOSED.search(value)) or (u.polarity < 0 and not any(
        x.kind == "time" for x in extract_facts(value, names=False)))
    return value, closed


def _hours(ask: Ask, found: list[_Found], spec: AgentSpec) -> Composed | None:
    units = _hours_units(found)
    # "when does the Thursday evening class start" is about a class, not the opening hours:
    # words beyond the day and "hours" must be the hours line's own.
    # Only words that name a schedule of the content count ("I work all week" names none;
    # "the evening class" names the class timetable's).
    hours_units = {id(f) for f in units}
    named = frozenset().union(*(f.unit.subject_words | claim_words(f.unit.heading)
                                for f in found if (f.unit.days or f.unit.dates)
                                and id(f) not in hours_units))
    extra = (ask.words - _HOURS_ONLY - ask.days - ask.dates) & named
    units = [f for f in units if extra <= (f.unit.words | f.unit.subject_words
                                           | claim_words(f.unit.heading))]
    if not units:
        return None
    if ask.dates:
        hits = [f for f in units if f.unit.dates & ask.dates]
        if not hits and any(d.startswith("h:") or d in _FIXED_HOLIDAYS for d in ask.dates):
            hits = [f for f in units if "h:holidays" in f.unit.dates]
        if not hits:
            return None  # a date the content does not mention: no weekly rule applies surely
        # The line that gives the day's hours ("Wed 25 Dec (Christmas Day) — CLOSED") before
        # one that only names the day ("orders placed by noon go out before Christmas").
        hits.sort(key=lambda f: (not _hours_value(f.unit)[1] and not _RANGE.search(
            f.unit.text), f.rank))
        return _finish("hours", [_day_sentence(f.unit, ask, f.unit.subject, f.passage)
                                 for f in hits[:1]])
    weekly = [f for f in units if not f.unit.dates]
    if ask.days:
        day = sorted(ask.days, key=WEEKDAYS.index)[0]
        hits = [f for f in weekly if day in f.unit.days]
        if not hits:
            return None
        # The narrowest rule for the day: "Saturday" over "Mon–Sat".
        hits.sort(key=lambda f: (len(f.unit.days), f.rank))
        return _finish("hours", [_day_sentence(hits[0].unit, ask, day.capitalize(),
                                               hits[0].passage)])
    if not weekly or ask.words - _HOURS_ONLY:
        return None  # "when do you close for the summer?" is not a question about the week
    seen: list[str] = []
    parts = []
    for f in sorted(weekly, key=lambda f: (min(WEEKDAYS.index(d) for d in f.unit.days), f.rank)):
        value, closed = _hours_value(f.unit)
        line = f"{f.unit.subject} {'closed' if closed else value}"
        if line.lower() in seen:
            continue
        seen.append(line.lower())
        parts.append((line, f.passage))
    if len(parts) > 8:
        return None
    cited: list[Passage] = []
    for _, p in parts:
        if p not in cited:
            cited.append(p)
    marks = "".join(f"[{cited.index(p) + 1}]" for p in cited)
    text = "Our opening hours: " + "; ".join(t for t, _ in parts) + f". {marks}"
    return Composed(text.strip(), "hours", cited)


# A time range: "10am – 2pm", "7:30–5", "9 to 5".
_RANGE = re.compile(r"\d(?::\d\d)?\s*(?:am|pm|a\.m\.|p\.m\.)?\s*(?:[–—-]|to|till|until)\s*\d",
                    re.I)
_OPEN_HEADER = re.compile(r"^\s*(open|opens|opening|from|start|starts)\s*$", re.I)
_CLOSE_HEADER = re.compile(r"^\s*(close|closes|closing|until|till|to|end|ends)\s*$", re.I)
# A question about the week's hours has no other words than these.
_HOURS_ONLY = frozenset(stem(w) for w in """usual regular normal general opening store shop
studio office business week weekly schedule""".split())
_FIXED_HOLIDAYS = frozenset({"12-24", "12-25", "12-26", "12-31", "01-01", "07-04", "10-31",
                             "02-14", "07-01", "11-11", "06-19"})


def _day_sentence(u: Unit, ask: Ask, when: str, passage: Passage
                  ) -> tuple[str, Passage | None]:
    value, closed = _hours_value(u, ask)
    when = when.strip().rstrip(":")
    on = "on " if not when.lower().startswith(("on ", "the ", "during", "from")) else ""
    if closed:
        text = f"{'No, w' if ask.yes_no else 'W'}e're closed {on}{when}."
    else:
        detail = value
        text = f"{'Yes, o' if ask.yes_no else 'O'}n {when} we're open {detail}." if on else \
            f"{'Yes — ' if ask.yes_no else ''}{_cap(when)} we're open {detail}."
    return text, passage


# contact -------------------------------------------------------------------------------------

def _contact(ask: Ask, found: list[_Found], spec: AgentSpec,
             weights: WordWeights) -> Composed | None:
    c = spec.contact
    kind = ask.intent
    if _PERSONAL.search(ask.text):
        return None  # a person's own number or home address is not the business's
    if kind == "phone":
        # "the emergency line", "your WhatsApp": the labelled line for it, when there is one
        qualified = _qualified(ask, found, weights, "phone")
        if qualified is not None:
            return qualified
        value = c.phone or _first_fact(found, "phone")
        return Composed(f"You can call us on {value}.", "contact") if value else None
    if kind == "email":
        # "who do I e-mail about wholesale?": the wholesale address, when a line names it
        qualified = _qualified(ask, found, weights, "email")
        if qualified is not None:
            return qualified
        value = c.email or _first_fact(found, "email")
        return Composed(f"You can e-mail us at {value}.", "contact") if value else None
    if kind == "address":
        # "where do I go for an emergency at night?": the emergency clinic's street, not ours
        qualified = _qualified(ask, found, weights, "address")
        if qualified is not None:
            return qualified
        if c.address:
            return Composed(f"You'll find us at {c.address}.", "contact")
        for f in found:
            if f.unit.kind in ("label", "record") and re.search(
                    r"address|find us|location|where", f.unit.subject, re.I):
                value = f.unit.cells[-1].value if f.unit.cells else f.unit.text
                return _finish("contact", [(f"You'll find us at {value.rstrip('.')}.",
                                            f.passage)])
        for f in found:  # "The Old Bobbin Mill, 3 Mill Yard, Kirkby Wendle HG4 7RW"
            if _POSTCODE.search(f.unit.text) and len(f.unit.text) <= 200 and not re.search(
                    r"[$€£]", f.unit.text):
                return _finish("contact", [(
                    f"You'll find us at {f.unit.text.strip().rstrip('.')}.", f.passage)])
        for f in found:
            m = _STREET.search(f.unit.text)
            if m:
                return _finish("contact", [(_clean_sentence(f.unit.text), f.passage)])
        return None
    # parking: the sentence that talks about it (not a link to a page that does)
    best: tuple[float, _Found] | None = None
    for f in found:
        if not _PARKING_LINE.search(f.unit.text) or re.search(r"\(/[\w/-]*\)\s*$",
                                                               f.unit.text):
            continue
        cover = _coverage(ask.words, f.unit.words | f.unit.subject_words, weights)
        cover += 0.1 * min(len(f.unit.words), 10) / 10  # a sentence over a label
        if best is None or cover > best[0]:
            best = (cover, f)
    if best is None:
        return None
    return _finish("contact", [(_clean_sentence(best[1].unit.text), best[1].passage)])


def _qualified(ask: Ask, found: list[_Found], weights: WordWeights,
               kind: str) -> Composed | None:
    """The line with a phone, e-mail or street address that the question's own words name:
    "Emergency line (24/7): 0161 555 0199" for "the out-of-hours emergency number"."""
    words = ask.words - _CONTACT_WORDS
    if not words:
        return None
    best: tuple[float, _Found] | None = None
    channel = _CHANNEL.findall(ask.text)
    for f in found:
        # "your WhatsApp", "the after-hours line", "about wholesale": the line that names it
        if channel and kind != "address" and any(
                re.search(r"\b" + re.escape(c.lower()[:6]).replace(r"\-", "[- ]").replace(
                    r"\ ", "[- ]"), f.unit.text, re.I) for c in channel) and any(
                x.kind == kind for x in extract_facts(f.unit.text, names=False)):
            return _finish("contact", [(_clean_sentence(f.unit.text), f.passage)])
    for f in found:
        if kind == "address":
            if not _STREET.search(f.unit.text):
                continue
        elif not any(x.kind == kind for x in extract_facts(f.unit.text, names=False)):
            continue
        cover = _coverage(words, f.unit.words | f.unit.subject_words, weights)
        if cover >= 0.5 and (best is None or cover > best[0]):
            best = (cover, f)
    if best is None:
        return None
    return _finish("contact", [(_clean_sentence(best[1].unit.text), best[1].passage)])


_CHANNEL = re.compile(r"\b(whatsapp|text|sms|emergenc(?:y|ies)|after[- ]hours|out[- ]of[- ]hours|"
                      r"wholesale|stockists?|press|media|billing|accounts|bookings?|orders?)\b",
                      re.I)
# The words of any contact question: they qualify no line.
_CONTACT_WORDS = frozenset(stem(w) for w in """number phone call ring email mail e-mail
address where located location find directions reach contact us you your""".split())


def _first_fact(found: list[_Found], kind: str) -> str:
    for f in found:
        for x in extract_facts(f.unit.text, names=False):
            if x.kind == kind:
                return x.text
    return ""


# sentences -----------------------------------------------------------------------------------

def _coverage(words: frozenset[str], unit_words: frozenset[str], weights: WordWeights) -> float:
    """The share of the question's word weight the unit carries."""
    total = sum(weights(w) for w in words)
    if not total:
        return 0.0
    return sum(weights(w) for w in words & unit_words) / total


# Where a sentence that lists several prices divides into clauses: "; ", " or ", ", ", ". ",
# " – " — outside parentheses, so "(serves 10, with cups)" stays whole.
_CLAUSE_BREAK = re.compile(r"\s*;\s+|\s+or\s+|,\s+(?:and\s+|or\s+)?|(?<=[.!?])\s+|\s+[–—-]\s+"
                           r"|\s+and\s+(?=\S*[$€£\d])")


def _clauses(text: str) -> list[tuple[str, str]]:
    """(separator before it, clause) for each top-level clause of `text`."""
    depth, cuts = 0, []
    opened = {i for i, ch in enumerate(text) if ch in "(["}
    closed = {i for i, ch in enumerate(text) if ch in ")]"}
    level = []
    for i in range(len(text)):
        depth += (i in opened) - (i in closed)
        level.append(depth)
    for m in _CLAUSE_BREAK.finditer(text):
        if m.start() < len(level) and level[m.start()] == 0:
            cuts.append((m.start(), m.end()))
    out, start, sep = [], 0, ""
    for a, b in cuts:
        if a > start:
            out.append((sep, text[start:a]))
            sep, start = text[a:b], b
    out.append((sep, text[start:]))
    return out


def _focus(text: str, ask: Ask, weights: WordWeights) -> str:
    """A sentence without the prices of what was not asked: "£12.50 a month (combi) or
    £14.50 a month (system)" asked about a combi is "£12.50 a month (combi)". The clause kept
    is the one that carries most of the question's words; clauses without a price stay. When
    no clause stands out, the sentence is left whole (the customer sees every price with
    what it is for)."""
    parts = _clauses(text)
    priced = [i for i, (_, c) in enumerate(parts)
              if any(x.kind == "money" for x in extract_facts(c, names=False))]
    if len(priced) < 2:
        return text
    covers = {i: _coverage(ask.words, claim_words(parts[i][1]), weights) for i in priced}
    best = max(covers.values())
    winners = [i for i in priced if covers[i] >= best - 1e-9]
    if best <= 0 or len(winners) > 1:
        return text
    kept: list[tuple[str, str]] = []
    for i, (sep, c) in enumerate(parts):
        if i not in priced or i == winners[0]:
            kept.append((sep, c))
        elif kept and c.rstrip()[-1:] in ".!?" and kept[-1][1].rstrip()[-1:] not in ".!?":
            kept[-1] = (kept[-1][0], kept[-1][1].rstrip() + ".")  # the dropped clause's full stop
    out = kept[0][1] + "".join(sep + c for sep, c in kept[1:])
    out = out.strip().rstrip(",;–—-").strip()
    return out[:1].upper() + out[1:]


def _clean_sentence(text: str) -> str:
    text = re.sub(r"^\s*[-*•]\s+", "", text.strip())
    text = _POST_DATE.sub("", text)
    return text if text[-1:] in ".!?…)\"”" else text + "."


# The bars a sentence clears to stand as the answer. Chosen on the dev half of the evaluation
# suite only (examples/eval/suite/dev); the held-out half was never looked at to set them.
SENTENCE_COSINE = 0.55   # after a failed draft
PRICE_COVERAGE = 0.5     # share of the question's word weight a price row must carry
STRICT_COSINE = 0.7      # a yes/no answered before any draft
MAX_CANDIDATES = 64


def _answers(found: list[_Found], reviews: bool = False) -> list[_Found]:
    """The units that can answer. A line that asks a question ("What wax do you use?", a FAQ
    page's heading line) is not an answer: it stands for the line after it in the same
    passage, read together with it."""
    out: list[_Found] = []
    for i, f in enumerate(found):
        text = f.unit.text.strip()
        if not text or (not reviews and (THIRD_PARTY.search(f.unit.heading)
                                         or _REVIEW.search(text))):
            continue  # a customer's review is their word, not the business's answer (unless
            # what the reviews say is the question)
        if len(re.sub(r"[#@]\w+|\W", "", text)) < 0.5 * len(re.sub(r"\W", "", text)):
            continue  # a line of hashtags and handles says nothing
        if text.endswith("?") and f.unit.kind == "prose":
            nxt = found[i + 1] if i + 1 < len(found) else None
            if nxt is not None and nxt.passage is f.passage and not nxt.unit.text.strip(
                    ).endswith("?"):
                u = nxt.unit
                out.append(_Found(dataclasses.replace(
                    u, kind="qa", subject=text, cells=(Cell(text, u.text),),
                    subject_words=f.unit.words | u.subject_words), f.passage, f.rank))
            continue
        question = f.passage.heading.rsplit(" > ", 1)[-1].strip()
        if f.unit.kind == "prose" and question.endswith("?"):  # "## Do you ship to Canada?"
            u = f.unit
            out.append(_Found(dataclasses.replace(
                u, kind="qa", subject=question, cells=(Cell(question, u.text),),
                subject_words=claim_words(question)), f.passage, f.rank))
            continue
        out.append(f)
    return out


def _meaning(unit: Unit) -> str:
    """What a unit is compared with the question by: a FAQ's question and answer together."""
    if unit.kind == "qa":
        return f"{unit.subject} {unit.text}"
    return re.sub(r"^\d{4}-\d{2}-\d{2}:\s*", "", unit.text)


def _describe(unit: Unit, ask: Ask) -> str:
    """A table row or product as a sentence: "The Vegan Blueberry Muffin is $3.75 (vegan)."."""
    if unit.cells_with("money"):
        return _price_sentence(unit, ask)
    parts = [f"{_lower(c.header)} {c.value}" if c.header else c.value
             for c in unit.cells if c.value != unit.subject][:3]
    return f"{_cap(_article(unit.subject))}: " + ", ".join(parts) + "."


def _sentence(ask: Ask, found: list[_Found], weights: WordWeights, spec: AgentSpec,
              today: dt.date, *, yes_no_only: bool,
              similarity: Similarity | None = None) -> Composed | None:
    """The one unit that answers: it carries the question's words (coverage) or says the same
    in other words (cosine), and clears the bar for it; None when none does, so the turn says
    it does not know rather than quote something merely nearby."""
    candidates = _answers(found, reviews=bool(THIRD_PARTY.search(ask.text)))[:MAX_CANDIDATES]
    if not ask.words or not candidates:
        return None
    cosines: Sequence[float] = [f.passage.similarity for f in candidates]
    if similarity is not None:
        cosines = similarity(ask.text, [_meaning(f.unit) for f in candidates])
    best: tuple[float, _Found] | None = None
    covers: list[float] = []
    for f, cos in zip(candidates, cosines, strict=True):
        words = f.unit.words | f.unit.subject_words | claim_words(f.unit.heading)
        cover = _coverage(ask.words, words, weights)
        if f.unit.kind in ("record", "product") and ask.intent != "price":
            cover *= 0.7  # a catalogue row rarely answers what is not a price question
        covers.append(cover)
        if yes_no_only:
            ok = cover >= 0.6 or cos >= STRICT_COSINE
        else:
            ok = cover >= 0.6 or cos >= SENTENCE_COSINE or (cover >= 0.35 and cos >= 0.4)
        if not ok:
            continue
        score = 0.6 * cos + 0.4 * cover + 0.02 / (1 + f.rank)
        if best is None or score > best[0]:
            best = (score, f)
    if best is None:
        return None
    f = best[1]
    if f.unit.kind in ("record", "product"):
        return _finish("sentence", [(_describe(f.unit, ask), f.passage)])
    text = f.unit.text if f.unit.kind != "qa" else f.unit.cells[0].value
    post_date = _POST_DATE.match(f.unit.text)
    sentence = _clean_sentence(text)
    # The next sentence of the same passage (a FAQ answer's own line is not "next").
    i = candidates.index(f) + 1
    while i < len(candidates) and candidates[i].unit.text.strip() == text.strip():
        i += 1
    nxt = candidates[i] if i < len(candidates) else None
    if (nxt is not None and f.unit.kind in ("prose", "qa") and _LEAD_IN.search(sentence)
            and nxt.passage is f.passage and nxt.unit.kind == "prose"
            and (covers[i] > 0 or cosines[i] >= 0.4)
            and not (nxt.unit.values() - f.unit.values() and ask.intent in ("price", "hours"))):
        # A lead-in ("Knocked-out adult tooth — this one is time-critical!", "Returns:") is
        # read with the sentence after it, which says what the customer asked.
        sentence = f"{sentence} {_clean_sentence(nxt.unit.text)}"
    topic = f.unit.heading.rsplit(" > ", 1)[-1].strip()
    if (f.unit.kind == "prose" and _PRONOUN_START.match(sentence) and topic
            and len(topic.split()) <= 6 and topic[:1].isupper()):
        # "She grew up with Deaf parents …" on a team page: say who
        sentence = f"{topic}: {sentence}"
    if len(sentence) > 320:
        return None  # not one answer-bearing sentence: let the model or the don't-know speak
    if post_date:
        posted = dt.date(int(post_date.group(1)), int(post_date.group(2)),
                         int(post_date.group(3)))
        if ask.about_time or (_FUTURE.search(sentence) and posted < today):
            # A post's future is not today's: say when it was said.
            sentence = f"On {posted.strftime('%-d %B %Y')} I posted: “{sentence}”"
    if ask.yes_no and f.unit.kind != "qa":
        if f.unit.polarity < 0 and not sentence.lower().startswith(("no", "sorry")):
            sentence = "No — " + (sentence[:1].lower() + sentence[1:]
                                  if not sentence.startswith(("I ", "I'")) else sentence)
    elif yes_no_only:
        return None
    return _finish("sentence", [(_clean_sentence(_focus(sentence, ask, weights)), f.passage)])
