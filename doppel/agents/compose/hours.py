"""Hours answers: the rule for the day asked about, a date's or holiday's exception first,
the week's hours when no day is named."""

from __future__ import annotations

import datetime as dt
import re

from doppel.agents.compose.base import (
    CLOSED,
    Ask,
    Composed,
    Found,
    asked_words,
    capital,
    finish,
)
from doppel.agents.compose.price import WHEN_WORDS
from doppel.agents.spec import AgentSpec
from doppel.knowledge.index import Passage
from doppel.language.bound import (
    Cell,
    Unit,
    claim_words,
    holiday_dates,
    months_named,
)
from doppel.language.facts import WEEKDAYS, extract_facts
from doppel.language.words import stem

_HOURS_CONTEXT = re.compile(r"\b(hours?|open|opening|closed?|closing|schedule|holidays?)\b", re.I)


def _hours_units(found: list[Found]) -> list[Found]:
    out = []
    for f in found:
        u = f.unit
        if not u.structured or not (u.days or u.dates):
            continue
        value = " ".join(c.value for c in u.cells if c.value != u.subject)
        has_time = any(x.kind == "time" for x in extract_facts(value, names=False))
        closed = bool(CLOSED.search(value)) or (u.polarity < 0 and not has_time)
        if not (has_time or closed):
            continue
        # A class timetable has times on days too: only lines that are about opening hours.
        plain_day = u.kind == "label" and not (u.subject_words - u.days - u.dates - {
            stem("hours"), "hour", stem("open"), stem("regular")})
        if plain_day or _HOURS_CONTEXT.search(u.heading) or _HOURS_CONTEXT.search(u.subject) \
                or _HOURS_CONTEXT.search(f.passage.heading):
            out.append(f)
    return out


def _months(text: str) -> set[int]:
    return months_named(text)


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
    if opens is not None and closes is not None and not CLOSED.search(opens.value):
        # "Open: 8:00 AM; Close: 12:00 PM" is one range
        cells = [Cell("", f"{opens.value} – {closes.value}")] + [
            c for c in cells if c is not opens and c is not closes]
    # Hours of several parts of the business ("Tattoo studio", "Piercing counter"): the part
    # the question names, else each with its name — never one part's hours as the other's
    parts = [c for c in cells if c.header.strip() and not _OPEN_HEADER.match(c.header)
             and not _CLOSE_HEADER.match(c.header) and not c.header.lower().startswith("column")]
    if len(parts) > 1 and len(parts) == len(cells) and len({c.header for c in parts}) > 1:
        named = [c for c in parts if ask is not None and claim_words(c.header) & ask.words]
        cells = [Cell(c.header, f"{c.value.strip().rstrip('.')} ({c.header.strip().lower()})")
                 for c in (named or parts)]
    value = "; ".join(c.value for c in cells).strip().rstrip(".")
    value = re.sub(r"^(open|opens|opening hours|hours)\b[:\s]*", "", value, flags=re.I)
    closed = bool(CLOSED.search(value)) or (u.polarity < 0 and not any(
        x.kind == "time" for x in extract_facts(value, names=False)))
    return value, closed


def _another_year(u: Unit, today: dt.date) -> bool:
    """A dated line whose weekday is not that date's this year or next: "Wed Mar 12 —
    CLOSED (education day)" is 2025's line, and 12 March 2027 is a Friday."""
    named = [d for d in u.dates if not d.startswith("h:")]
    if len(u.days) != 1 or len(named) != 1 or holiday_dates(u.text):
        return False  # a span names its ends' weekdays, a bare date none; a holiday by name
        # recurs ("Wed 25 Dec (Christmas Day) — CLOSED")
    month, day = (int(x) for x in named[0].split("-"))
    weekdays = set()
    for year in (today.year, today.year + 1):
        try:
            weekdays.add(WEEKDAYS[dt.date(year, month, day).weekday()])
        except ValueError:
            return False
    return not u.days & weekdays


def hours_answer(ask: Ask, found: list[Found], spec: AgentSpec,
                 today: dt.date | None = None) -> Composed | None:
    units = _hours_units(found)
    # "when does the Thursday evening class start" is about a class, not the opening hours:
    # words beyond the day and "hours" must be the hours line's own.
    # Only words that name a schedule of the content count ("I work all week" names none;
    # "the evening class" names the class timetable's).
    hours_units = {id(f) for f in units}
    # (a prose line's own words too: "Millbrook Farmers Market, Saturdays, 8 am to 12:30 pm"
    # names the market's hours, which the shop's Saturday row is not)
    named = frozenset().union(*(f.unit.subject_words | claim_words(f.unit.heading)
                                | (f.unit.words if f.unit.kind == "prose" else frozenset())
                                for f in found if (f.unit.days or f.unit.dates)
                                and id(f) not in hours_units))
    # "on Saturday morning" still asks the day's hours ("the ovens are on from 4 am every
    # morning" names no schedule of its own)
    extra = (asked_words(ask) - _HOURS_ONLY - WHEN_WORDS - ask.days - ask.dates) & named
    units = [f for f in units if extra <= (f.unit.words | f.unit.subject_words
                                           | claim_words(f.unit.heading))]
    if not units:
        return None
    if ask.dates:
        hits = [f for f in units if f.unit.dates & ask.dates
                and not (today is not None and _another_year(f.unit, today))]
        if not hits and any(d.startswith("h:") or d in _FIXED_HOLIDAYS for d in ask.dates):
            hits = [f for f in units if "h:holidays" in f.unit.dates]
        if not hits:
            return None  # a date the content does not mention: no weekly rule applies surely
        # The line that gives the day's hours ("Wed 25 Dec (Christmas Day) — CLOSED") before
        # one that only names the day ("orders placed by noon go out before Christmas").
        hits.sort(key=lambda f: (not _hours_value(f.unit)[1] and not _RANGE.search(
            f.unit.text), f.rank))
        return finish("hours", [_day_sentence(f.unit, ask, f.unit.subject, f.passage)
                                for f in hits[:1]])
    weekly = [f for f in units if not f.unit.dates]
    if ask.days:
        day = sorted(ask.days, key=WEEKDAYS.index)[0]
        hits = [f for f in weekly if day in f.unit.days]
        if not hits:
            return None
        # The narrowest rule for the day: "Saturday" over "Mon–Sat".
        hits.sort(key=lambda f: (len(f.unit.days), f.rank))
        return finish("hours", [_day_sentence(hits[0].unit, ask, day.capitalize(),
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
studio office business week weekly schedule shut shuts finish finishes""".split())


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
            f"{'Yes — ' if ask.yes_no else ''}{capital(when)} we're open {detail}."
    return text, passage
