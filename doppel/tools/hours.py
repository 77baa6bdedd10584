"""`open_now`: whether the business is open at this moment, from the opening hours in its own
content and its time zone, holidays and dated exceptions first.

The hours are read from the agent's content each call (a search for its hours lines, bound by
doppel.language.bound: "Monday: 7:30 am – 4:30 pm", "Wed 25 Dec (Christmas Day) — CLOSED"), so
an owner's edit is true at the next message. A line for a date or a holiday wins over the
weekly rule of its weekday; of weekly rules the narrowest wins ("Saturday" over "Mon–Sat").
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import importlib.resources
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from doppel.knowledge.index import Passage
from doppel.language.bound import Unit, holiday_dates, months_named, parse_units, unit_days
from doppel.language.facts import WEEKDAYS
from doppel.tools.base import NoArguments, NoSettings, Tool, ToolContext, ToolResult

__all__ = ["OpenNow", "Schedule", "answer_open_now", "describe", "holiday_keys", "parse_ranges",
           "read_schedule",
           "say_time"]

_CLOSED = re.compile(r"\b(closed|shut|no (?:service|hours)|day off)\b", re.I)
_HOURS_WORDS = re.compile(r"\b(hours?|open|opening|closed?|closing|schedule|holidays?|"
                          r"office|store|shop|studio)\b", re.I)
_TIME = (r"(?:(?P<{n}h>\d{{1,2}})(?:[:.](?P<{n}m>\d\d))?\s*(?P<{n}p>a\.?m\.?|p\.?m\.?)?"
         r"|(?P<{n}w>noon|midday|midnight))")
_RANGE = re.compile(_TIME.format(n="a") + r"\s*(?:[–—-]|to|till|til|until)\s*"
                    + _TIME.format(n="b"), re.I)

Interval = tuple[dt.time, dt.time]


def _part(m: re.Match[str], n: str) -> tuple[int, int, str | None]:
    word = (m.group(f"{n}w") or "").lower()
    if word:
        return (0, 0, "am") if word == "midnight" else (12, 0, "pm")
    mer = (m.group(f"{n}p") or "").lower().replace(".", "") or None
    return int(m.group(f"{n}h")), int(m.group(f"{n}m") or 0), mer


def _clock(h: int, mi: int, mer: str | None) -> tuple[int, int]:
    if mer == "pm" and h < 12:
        h += 12
    elif mer == "am" and h == 12:
        h = 0
    return h, mi


def parse_ranges(text: str) -> list[Interval]:
    """The opening time ranges a value states ("7:30 am – 4:30 pm", "9-5", "10:00–14:00;
    15–18"), as wall-clock intervals, breaks taken out ("closed for lunch 12:30-1:30"). A
    range without am/pm reads as a working day: "7:30–5" is 7:30 to 17:00. A range that ends
    at midnight ends at 23:59."""
    opened: list[Interval] = []
    breaks: list[Interval] = []
    for m, interval in _ranges(text):
        before = text[max(0, m.start() - 30):m.start()]
        (breaks if _CLOSED.search(before) or _BREAK.search(before) else opened).append(interval)
    for b_start, b_end in breaks:
        cut: list[Interval] = []
        for start, end in opened:
            if b_end <= start or b_start >= end:
                cut.append((start, end))
                continue
            if start < b_start:
                cut.append((start, b_start))
            if b_end < end:
                cut.append((b_end, end))
        opened = cut
    return opened


_BREAK = re.compile(r"(lunch|break|siesta)", re.I)


def _ranges(text: str) -> list[tuple[re.Match[str], Interval]]:
    out: list[tuple[re.Match[str], Interval]] = []
    for m in _RANGE.finditer(text):
        ah, am, ap = _part(m, "a")
        bh, bm, bp = _part(m, "b")
        if ah > 24 or bh > 24 or am > 59 or bm > 59:
            continue
        if ap is None and bp is not None:
            # "9–5pm": the first takes the second's half of the day unless that puts it after
            ap = bp if _clock(ah, am, bp) <= _clock(bh, bm, bp) else "am"
        if ap is None and bp is None and ah <= 12 and bh <= 12 and (bh, bm) <= (ah, am):
            bp = "pm"  # "7:30–5"
        a, b = _clock(ah, am, ap), _clock(bh, bm, bp)
        if b == (0, 0) or b[0] >= 24:
            b = (23, 59)
        if b <= a:
            continue
        out.append((m, (dt.time(*a), dt.time(*b))))
    return out


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """The n-th (1-based; -1 = last) weekday (0 = Monday) of a month."""
    if n > 0:
        first = dt.date(year, month, 1)
        return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1))
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def _easter(year: int) -> dt.date:
    """Gregorian Easter Sunday (the anonymous algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month = (h + ell - 7 * m + 114) // 31
    day = (h + ell - 7 * m + 114) % 31 + 1
    return dt.date(year, month, day)


def holiday_keys(day: dt.date) -> set[str]:
    """The keys doppel.language.bound gives a line about this date: "MM-DD" and the movable
    holidays that fall on it ("h:thanksgiving"), with "h:holidays" for any of them."""
    y = day.year
    thanksgiving = _nth_weekday(y, 11, 3, 4)
    easter = _easter(y)
    movable = {
        "h:thanksgiving": thanksgiving, "h:black-friday": thanksgiving + dt.timedelta(days=1),
        "h:easter": easter, "h:good-friday": easter - dt.timedelta(days=2),
        "h:memorial-day": _nth_weekday(y, 5, 0, -1), "h:labor-day": _nth_weekday(y, 9, 0, 1),
        "h:mlk-day": _nth_weekday(y, 1, 0, 3), "h:presidents-day": _nth_weekday(y, 2, 0, 3),
    }
    keys = {day.strftime("%m-%d")} | {k for k, v in movable.items() if v == day}
    if day == easter + dt.timedelta(days=1):  # Easter Monday: a bank holiday in much of Europe
        keys.add("h:easter")
    fixed = {"12-25", "12-26", "01-01", "07-04", "11-11", "07-01", "06-19"}
    if keys - {day.strftime("%m-%d")} or day.strftime("%m-%d") in fixed:
        keys.add("h:holidays")
    return keys


@dataclass(frozen=True)
class Rule:
    """The hours a line of content gives to some days or dates."""

    intervals: tuple[Interval, ...]   # empty: closed
    days: frozenset[str]
    dates: frozenset[str]
    line: str                         # the content's own line: the fact the answer states
    label: str                        # "Christmas Day", "Monday"
    twelve_hour: bool                 # the content writes "4:30 pm", not "16:30"
    passage: Passage
    # "1st & 3rd Saturday of the month only": the weeks of the month the rule holds (1-5, -1
    # for the last); empty: every week.
    weeks: frozenset[int] = frozenset()
    months: frozenset[int] = frozenset()  # a seasonal column's months; empty: all year
    # A season bounded by dates ("Summer hours (until Sunday 4 April)", "Winter hours (from
    # Monday 5 April)"): its first and last day as "MM-DD", wrapping the year when the first
    # is later; None: the months say when it holds.
    span: tuple[str, str] | None = None
    summary: bool = False                 # from a one-line week ("Mon 9–5 · Sat 10–2")
    # A date's line that moves one end of the day: "closes at 1pm", "opens at noon".
    closes_at: dt.time | None = None
    opens_at: dt.time | None = None
    # A line about the day that could not be read: the tool says nothing about that day.
    unknown: bool = False

    def in_season(self, day: dt.date) -> bool:
        if self.span is not None:
            key, (first, last) = f"{day.month:02d}-{day.day:02d}", self.span
            return first <= key <= last if first <= last else key >= first or key <= last
        return not self.months or day.month in self.months

    def holds(self, day: dt.date) -> bool:
        if not self.weeks:
            return True
        nth = (day.day - 1) // 7 + 1
        last = (day + dt.timedelta(days=7)).month != day.month
        return nth in self.weeks or (last and -1 in self.weeks)


_ORDINALS = {"1st": 1, "first": 1, "2nd": 2, "second": 2, "3rd": 3, "third": 3, "4th": 4,
             "fourth": 4, "5th": 5, "fifth": 5, "last": -1}
_NTH = re.compile(r"\b((?:(?:1st|2nd|3rd|4th|5th|first|second|third|fourth|fifth|last)"
                  r"(?:\s*(?:&|and|,|\+)\s*)?)+)\s*(?:monday|tuesday|wednesday|thursday|"
                  r"friday|saturday|sunday)s?\b(?:\s+(?:of\s+(?:the|each|every)\s+month|"
                  r"(?:of\s+)?each\s+month|monthly))?", re.I)


_EARLY = re.compile(
    r"\bclos(?:es|ing)?\s+(?:early\s+)?at\s+(\d{1,2}(?::\d\d)?\s*(?:a\.?m\.?|p\.?m\.?)?|noon)"
    r"\s+(?:on\s+)?(?:the\s+|every\s+|each\s+)?(?:(?:1st|2nd|3rd|4th|first|second|third|"
    r"fourth|last)(?:\s*(?:&|and|,)\s*)?)+\s*(?:monday|tuesday|wednesday|thursday|friday|"
    r"saturday|sunday)s?\s+of\s+(?:the|each|every)\s+month", re.I)


def _weeks(text: str) -> frozenset[int]:
    m = _NTH.search(text)
    if m is None:
        return frozenset()
    return frozenset(_ORDINALS[w.lower()] for w in re.findall(
        r"1st|2nd|3rd|4th|5th|first|second|third|fourth|fifth|last", m.group(1), re.I))


_LEAD_DATE = re.compile(r"^\s*(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"
                        r"(?:\d{1,2}(?:st|nd|rd|th)?\s+[a-z]{3,9}\.?|[a-z]{3,9}\.?\s+\d{1,2}"
                        r"(?:st|nd|rd|th)?)(?:,?\s+\d{4})?\s*", re.I)


def _label(text: str) -> str:
    """What a dated line is called for the customer: "Wed 25 Dec (Christmas Day)" is
    Christmas Day (the weekday is another year's); a bare date stays itself."""
    rest = _LEAD_DATE.sub("", text, count=1).strip(" :-–—")
    inner = re.fullmatch(r"\((.+)\)", rest)
    return (inner.group(1) if inner else rest) or text.strip()


@dataclass
class Schedule:
    weekly: list[Rule]
    dated: list[Rule]

    def rule(self, day: dt.date) -> Rule | None:
        """The rule for a date: its own line (a date or holiday), else its weekday's."""
        keys = holiday_keys(day)
        weekday = WEEKDAYS[day.weekday()]
        # "Thu, Dec 25" is 2025's Christmas: in a year when the 25th is not a Thursday the
        # line is about another year, and the weekly rule holds.
        # A holiday by name recurs ("Christmas Day: closed" holds every year).
        # A span ("Monday 22 March to Sunday 28 March") names its ends' weekdays, not its own.
        dated = [r for r in self.dated if not r.days or weekday in r.days or holiday_dates(
            r.line) & r.dates - {"h:holidays"} or len(
                r.dates - {d for d in r.dates if d.startswith("h:")}) > 2]
        specific = [r for r in dated if r.dates & keys - {"h:holidays"}]
        generic = [r for r in dated if "h:holidays" in r.dates and "h:holidays" in keys]
        if specific or generic:
            found = (specific or generic)[0]
            if found.closes_at is None and found.opens_at is None:
                return found
            # "Closes at 1pm" on that date: the weekday's opening with the date's end
            weekly = self._weekly(day, weekday)
            if weekly is None or weekly.unknown or not weekly.intervals:
                return dataclasses.replace(found, unknown=True)
            start = found.opens_at or weekly.intervals[0][0]
            end = found.closes_at or weekly.intervals[-1][1]
            if end <= start:
                return dataclasses.replace(found, intervals=())
            return dataclasses.replace(found, intervals=((start, end),),
                                       twelve_hour=weekly.twelve_hour)
        return self._weekly(day, weekday)

    def _weekly(self, day: dt.date, weekday: str) -> Rule | None:
        # The narrowest rule: "Saturday" over "Mon–Sat", a day's own row over a summary line
        # that gives several days their ranges.
        # A day's own row before a one-line summary of the week; the season's column only.
        rules = sorted((r for r in self.weekly if weekday in r.days and r.in_season(day)),
                       key=lambda r: (not r.weeks, r.summary, len(r.days), len(r.intervals)))
        holding = [r for r in rules if r.holds(day)]
        if holding:  # a rule for this week of the month first ("the last Friday")
            first = holding[0]
            rank = (not first.weeks, first.summary, len(first.days))
            # Two rules as specific as each other that disagree (two seasons' tables, an old
            # and a new timetable): no way to know which holds today, so nothing is said.
            if any((not r.weeks, r.summary, len(r.days)) == rank
                   and r.intervals != first.intervals for r in holding[1:]):
                return dataclasses.replace(first, unknown=True)
            return first
        if rules:
            # "1st & 3rd Saturday only": on the other Saturdays it is closed.
            which = m.group(0) if (m := _NTH.search(rules[0].line)) else ""
            return dataclasses.replace(rules[0], intervals=(), label=f"{weekday.capitalize()} "
                                       f"hours are only on the {which}" if which else "")
        seasons = [r for r in self.weekly if weekday in r.days]
        if seasons:
            # The page gives this weekday's hours for other seasons only: which hours hold
            # today is not known, and "closed" would be a guess.
            return dataclasses.replace(seasons[0], unknown=True)
        return None

    def __bool__(self) -> bool:
        return bool(self.weekly)


_TIMETABLE = re.compile(r"\b(class|classes|session|teacher|instructor|course|program(me)?|"
                        r"event|level|style|coach|trainer|room)\b", re.I)


def _hours_line(u: Unit, heading: str) -> bool:
    if not (u.days or u.dates):
        return False
    if any(_TIMETABLE.search(c.header) for c in u.cells):
        return False  # a class timetable's row: when a class runs, not when the doors open
    if not u.structured:  # "We are open every day from 8am to 6pm."
        return bool(re.search(r"\b(open|hours)\b", u.text, re.I) and parse_ranges(u.text))
    if not any(parse_ranges(v) or _CLOSED.search(v) for v, _ in _value(u)):
        return False
    plain_day = not (u.subject_words - u.days - u.dates) or u.kind == "label" and len(
        u.subject.split()) <= 3
    if plain_day or _HOURS_WORDS.search(u.subject):
        return True
    # Under an hours heading, a table row whose subject is its day; not a label such as
    # "Surgery drop-off: 7:30–8:15 (Mon, Tue or Fri)", which gives a service's times.
    # A dated line under an hours heading is that date's exception ("Tue 24 Dec (Christmas
    # Eve): 7:30am to 3pm").
    return (u.kind == "record" or bool(u.dates)) and bool(
        _HOURS_WORDS.search(u.heading + " " + heading))


_OPEN_HEADER = re.compile(r"^\s*(open|opens|opening|from|start|starts)\s*$", re.I)
_CLOSE_HEADER = re.compile(r"^\s*(close|closes|closing|until|till|to|end|ends)\s*$", re.I)
_DATE_HEADER = re.compile(r"^\s*(date|day|when)\s*$", re.I)
# "Mon, Tue 7:30–6 Wed 7:30–7:30 Thu 9–6": a weekday group, then its hours
_SEGMENT = re.compile(
    r"((?:(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)[a-z]*\.?(?:\s*(?:,|&|and|-|–|—|to|"
    r"through|thru)\s*)?)+)\s*:?\s*(" + _RANGE.pattern + r"|closed)", re.I)
def _months(text: str, southern: bool = False) -> frozenset[int]:
    """The months a column or a section names: "Summer", "Heating season (October – March)"."""
    return frozenset(months_named(text, southern=southern))


# "until Sunday 4 April", "from Monday 5 April": a word that bounds a season, then its date
_BOUND = re.compile(r"\b(until|till|til|to|through|thru|ending|ends|from|starting|starts|"
                    r"beginning|begins|since)\s+(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?",
                    re.I)
_STARTS = frozenset({"from", "starting", "starts", "beginning", "begins", "since"})


def _bounds(heading: str) -> list[tuple[str, str, int, int]]:
    """Each bound a heading sets: (its word, its "MM-DD", where it starts and ends)."""
    out = []
    for m in _BOUND.finditer(heading):
        rest = heading[m.end():]
        # the module's own date readers, defined below (a match is read at call time)
        d = _DAY_MONTH.match(rest) or _MONTH_DAY.match(rest)
        if d is None:
            continue
        day_first = d.re is _DAY_MONTH
        month = _MONTHS.index(d.group(2 if day_first else 1)[:3].lower()) + 1
        key = _mmdd(month, int(d.group(1 if day_first else 2)))
        if key is not None:
            out.append((m.group(1).lower(), key, m.start(), m.end() + d.end()))
    return out


def _without_bounds(heading: str) -> str:
    """The heading without its bounds: "until 4 April" ends a season, April is not in it."""
    for _, _, a, b in reversed(_bounds(heading)):
        heading = heading[:a] + " " + heading[b:]
    return heading


def _season_span(heading: str, months: frozenset[int]) -> tuple[str, str] | None:
    """The days a season's heading bounds it by: "(until Sunday 4 April 2027)" ends it on
    04-04, "(from Monday 5 April)" starts it on 04-05; the other end is where the season's
    months begin or end (the year's, when it names none)."""
    found = _bounds(heading)
    first = next((key for word, key, _, _ in found if word in _STARTS), None)
    last = next((key for word, key, _, _ in found if word not in _STARTS), None)
    if first is None and last is None:
        return None
    ordered = sorted(months)
    # the season's first month: the one whose previous month is not in the season
    start = next((mo for mo in ordered if (mo - 2) % 12 + 1 not in months), 1)
    end = next((mo for mo in ordered if mo % 12 + 1 not in months), 12)
    end_day = (dt.date(2024, end % 12 + 1, 1) - dt.timedelta(days=1)).day if end != 12 else 31
    return (first or f"{start:02d}-01", last or f"{end:02d}-{end_day:02d}")


def southern_at(moment: dt.datetime) -> bool:
    """Whether `moment`'s time zone (a ZoneInfo, as the tools' `now` is) is south of the
    equator."""
    return southern_zone(str(getattr(moment.tzinfo, "key", "") or ""))


def southern_zone(zone: str) -> bool:
    """Whether an IANA time zone lies south of the equator (its summer is December), from the
    tz database's own zone1970.tab (the `tzdata` package, else the system's)."""
    return zone in _southern_zones()


@functools.cache
def _southern_zones() -> frozenset[str]:
    candidates = []
    try:
        candidates.append(importlib.resources.files("tzdata").joinpath("zoneinfo",
                                                                       "zone1970.tab"))
    except ModuleNotFoundError:
        pass
    candidates.append(Path("/usr/share/zoneinfo/zone1970.tab"))
    for path in candidates:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            continue
        out = set()
        for line in text.splitlines():
            parts = line.split("\t")
            if len(parts) >= 3 and not line.startswith("#") and parts[1].startswith("-"):
                out.add(parts[2])  # "-3652+17451": latitude 36°52' south
        return frozenset(out)
    return frozenset()


def _value(u: Unit, southern: bool = False) -> list[tuple[str, frozenset[int]]]:
    """The hours a unit states, as (text, months) pairs: one per seasonal column, the
    Open/Close columns as one range."""
    cells = [c for c in u.cells if c.value != u.subject and not _DATE_HEADER.match(c.header)]
    opens = next((c for c in cells if _OPEN_HEADER.match(c.header)), None)
    closes = next((c for c in cells if _CLOSE_HEADER.match(c.header)), None)
    if opens is not None and closes is not None and not _CLOSED.search(opens.value):
        rest = " ".join(c.value for c in cells if c is not opens and c is not closes)
        return [(f"{opens.value} – {closes.value} {rest}", frozenset())]
    # "closed" in a season's column is that season's rule for the day, like its hours
    seasonal = [c for c in cells if _months(c.header, southern) and (
        parse_ranges(c.value) or _CLOSED.search(c.value))]
    if len(seasonal) > 1:
        return [(c.value, _months(c.header, southern)) for c in seasonal]
    return [(" ".join(c.value for c in cells) or u.text, frozenset())]


_NORMAL = re.compile(r"\b(normal|regular|usual|standard)\s+(opening\s+)?hours\b", re.I)
# A heading that gives the hours of part of the year: "Summer hours (June – August)".
_SEASON_HEADING = re.compile(r"\b(summer|winter|spring|autumn|fall|season|seasonal|jan|feb|"
                             r"mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b", re.I)
_ONE_TIME = re.compile(r"(\d{1,2})(?:[:.](\d\d))?\s*(a\.?m\.?|p\.?m\.?)?|\b(noon|midday)\b",
                       re.I)


def _partial(u: Unit, dates: frozenset[str], value: str, holiday: str, p: Passage) -> Rule:
    """A date's line without a range: "closes at 1pm", "opening at noon", both ("opening
    late, at 12 noon (stocktake). Closing at 5.30pm as normal."), or unreadable."""
    closes = re.search(r"\b(clos\w*|until|till|til)\b\s*(?:early\W*)?(?:at\s+)?", value, re.I)
    opens = re.search(r"\b(open\w*|from|starting)\b\s*(?:late\W*)?(?:at\s+)?", value, re.I)
    label = _label(holiday or u.subject.strip(" :"))
    found: dict[str, dt.time] = {}
    for m, which in ((closes, "closes_at"), (opens, "opens_at")):
        if m is None:
            continue
        t = _ONE_TIME.match(value[m.end():])
        if t is None or not t.group(0).strip():
            continue
        if t.group(4):
            at = dt.time(12)
        else:
            h, mi = int(t.group(1)), int(t.group(2) or 0)
            mer = (t.group(3) or "").lower().replace(".", "")
            if h > 23 or mi > 59 or (mer and not 1 <= h <= 12):
                continue
            if mer == "pm" and h < 12:
                h += 12
            elif mer == "am" and h == 12:
                h = 0
            elif not mer and 1 <= h <= 7:  # "closes at 3": the afternoon
                h += 12
            at = dt.time(h, mi)
        found[which] = at
    if found:
        return Rule((), u.days, dates, u.text.strip(), label, _twelve(value), p,
                    closes_at=found.get("closes_at"), opens_at=found.get("opens_at"))
    return Rule((), u.days, dates, u.text.strip(), label, _twelve(value), p, unknown=True)


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MON = (r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
        r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?(?:\s+of)?\s+{_MON}\b", re.I)
_MONTH_DAY = re.compile(rf"\b{_MON}\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?!:\d)", re.I)
_DAYS_THEN_MONTH = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s*(?:-|–|—|to|until|till|through|thru)\s*"
    rf"(\d{{1,2}})(?:st|nd|rd|th)?\s+{_MON}\b", re.I)
_CONNECTOR = re.compile(r"^\W*(?:-|–|—|to|until|till|through|thru|and including)\W*"
                        r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s*)?$", re.I)


def _mmdd(month: int, day: int) -> str | None:
    try:
        dt.date(2024, month, day)  # a leap year: 29 February is a date
    except ValueError:
        return None
    return f"{month:02d}-{day:02d}"


def _between(a: tuple[int, int], b: tuple[int, int]) -> set[str]:
    """Every MM-DD from a to b inclusive, across the new year when b comes before a."""
    year = 2023 if b >= a else 2022  # a plain year; the span is at most a year long
    start = dt.date(year, *a)
    try:
        end = dt.date(2023, *b)
    except ValueError:
        return set()
    if (end - start).days > 62:  # "from March to September" is a season, not a closure
        return set()
    return {(start + dt.timedelta(days=i)).strftime("%m-%d")
            for i in range((end - start).days + 1)}


def _spans(text: str) -> frozenset[str]:
    """The dates a line's ranges cover: "20–27 March", "22 March to 28 March", "23 Dec – 3 Jan",
    "March 20 – April 2", "the week of 15 March". Endpoints alone would leave the days in
    between to the weekly rule, and "open" in the middle of a closed week is a wrong fact."""
    out: set[str] = set()
    for m in _DAYS_THEN_MONTH.finditer(text):
        month = _MONTHS.index(m.group(3)[:3].lower()) + 1
        a, b = int(m.group(1)), int(m.group(2))
        if 1 <= a <= b <= 31:
            out |= _between((month, a), (month, b))
    found: list[tuple[int, int, int, int]] = []  # (start, end, month, day)
    for m in _DAY_MONTH.finditer(text):
        found.append((m.start(), m.end(), _MONTHS.index(m.group(2)[:3].lower()) + 1,
                      int(m.group(1))))
    for m in _MONTH_DAY.finditer(text):
        found.append((m.start(), m.end(), _MONTHS.index(m.group(1)[:3].lower()) + 1,
                      int(m.group(2))))
    found.sort()
    for (_, e1, m1, d1), (s2, _, m2, d2) in zip(found, found[1:], strict=False):
        if _CONNECTOR.match(text[e1:s2]) and _mmdd(m1, d1) and _mmdd(m2, d2):
            out |= _between((m1, d1), (m2, d2))
    for m in re.finditer(r"\bweek (?:of|starting|beginning|commencing)\s+", text, re.I):
        rest = text[m.end():]
        first = _DAY_MONTH.match(rest) or _MONTH_DAY.match(rest)
        if first is not None:
            day_month = first.re is _DAY_MONTH
            month = _MONTHS.index(first.group(2 if day_month else 1)[:3].lower()) + 1
            day = int(first.group(1 if day_month else 2))
            if _mmdd(month, day):
                start = dt.date(2023 if (month, day) != (2, 29) else 2024, month, day)
                out |= {(start + dt.timedelta(days=i)).strftime("%m-%d") for i in range(7)}
    return frozenset(out)


def _twelve(text: str) -> bool:
    """The content writes 12-hour times ("4:30 pm", "7:30–6"), not 24-hour ones ("16:30")."""
    return bool(re.search(r"\d\s*(a\.?m|p\.?m)\b|noon", text, re.I)) or not re.search(
        r"\b(1[3-9]|2[0-3]|0\d)[:.h]\d\d\b", text)


def read_schedule(passages: Sequence[Passage], *, southern: bool = False) -> Schedule:
    """The week's rules and the dated exceptions the passages state. `southern`: the business
    is south of the equator (`southern_zone`), where "summer hours" are December's."""
    weekly: list[Rule] = []
    dated: list[Rule] = []
    seen: set[tuple[str, str]] = set()
    for p in passages:
        for u in parse_units(p.text, p.heading):
            # (the same row under two seasons' headings is two rules: "Sunday 12 noon – 5pm"
            # in winter and in summer)
            key = (u.text, u.heading or p.heading)
            if key in seen:
                continue
            seen.add(key)
            segments = list(_SEGMENT.finditer(u.text))
            if len(segments) > 1 and not u.dates and not u.values(("money",)):
                # one line for the week: a rule per weekday group
                for m in segments:
                    days, _ = unit_days(m.group(1))
                    ranges = tuple(parse_ranges(m.group(2)))
                    twelve = _twelve(u.text)
                    if days:
                        weekly.append(Rule(ranges, frozenset(days), frozenset(), u.text.strip(),
                                           "", twelve, p, weeks=frozenset(), summary=True))
                continue
            values = _value(u, southern)
            # Seasonal columns ("spring Apr 1 – May 22") name the months their hours hold,
            # not a day's exception: only the row's own cells can date it.
            seasons = [c for c in u.cells if _months(c.header, southern)]
            dates = (u.dates | _spans(u.text)) if len(seasons) < 2 else _spans(" ".join(
                c.value for c in u.cells if c not in seasons))
            if dates and _NORMAL.search(u.text) and not _CLOSED.search(u.text):
                continue  # "Fri 27 – Mon 30 Dec — normal hours": the weekly rule holds
            if dates and not any(parse_ranges(v) or _CLOSED.search(v) for v, _ in values) \
                    and re.search(r"\b(clos\w*|open\w*|hours)\b", u.text, re.I) \
                    and not any(_TIMETABLE.search(c.header) for c in u.cells):
                # a date's line that moves one end of the day, or one not understood
                holiday = next((c.value for c in u.cells if re.search(
                    r"holiday|occasion|event", c.header, re.I)), "")
                dated.append(_partial(u, dates, " ".join(v for v, _ in values), holiday, p))
                continue
            if dates and not any(parse_ranges(v) for v, _ in values) \
                    and _CLOSED.search(u.text) and not _hours_line(u, p.heading) \
                    and not any(_TIMETABLE.search(c.header) for c in u.cells):
                # "Closed 20–27 March for our annual break", "Week of 15 March: closed"
                holiday = next((c.value for c in u.cells if re.search(
                    r"holiday|occasion|event", c.header, re.I)), "")
                dated.append(Rule((), u.days, dates, u.text.strip(),
                                  _label(holiday or u.subject.strip(" :")), True, p))
                continue
            if not u.structured and not dates and u.days and _CLOSED.search(u.text) \
                    and not parse_ranges(u.text) and _HOURS_WORDS.search(p.heading + " " +
                                                                          p.title):
                # "Closed on Sundays", "closed the first Monday of each month": a weekly rule
                # (for those weeks only), under an hours heading
                weekly.append(Rule((), u.days, frozenset(), u.text.strip(), "", True, p,
                                   _weeks(u.text)))
                continue
            if not _hours_line(u, p.heading):
                continue
            holiday = next((c.value for c in u.cells if re.search(r"holiday|occasion|event",
                                                                     c.header, re.I)), "")
            where = u.heading or p.heading
            # (the month of a bound, "until 4 April", is where the season ends, not in it)
            season = (_months(_without_bounds(where), southern) or _months(where, southern)
                      ) if _SEASON_HEADING.search(where) else frozenset()
            span = _season_span(where, season) if season else None
            early = _EARLY.search(u.text)
            for value, months in values:
                months = months or season
                ranges = tuple(parse_ranges(value))
                if not ranges and not _CLOSED.search(value):
                    continue
                twelve = _twelve(value)
                rule = Rule(ranges, u.days, dates, u.text.strip(),
                            _label(holiday or u.subject.strip(" :")), twelve, p,
                            frozenset() if early else _weeks(u.text), months,
                            span=span if months is season else None)
                (dated if dates else weekly).append(rule)
                if early and ranges and not dates:
                    # "Closes at 3:00 PM on the last Friday of the month": that week's rule
                    closes = parse_ranges(f"{say_time(ranges[0][0], True)} – {early.group(1)}")
                    if closes:
                        weekly.append(dataclasses.replace(
                            rule, intervals=(closes[0],), weeks=_weeks(early.group(0)),
                            label=early.group(0).strip()))
    # A week of opening hours names most days, open or closed. Times on two or three days
    # are a class timetable, phone hours or an event, not when the doors are open: saying
    # "we're closed, we open again Friday" from them would state a wrong fact.
    covered = set().union(*(r.days for r in weekly)) if weekly else set()
    if len(covered) < 5:
        weekly = []
    # One clock for the whole page: "8:00 – 17:30" on weekdays makes Saturday's "9:00 – 12:30"
    # a 24-hour time too.
    if any(not r.twelve_hour for r in weekly if r.intervals):
        weekly = [dataclasses.replace(r, twelve_hour=False) for r in weekly]
        dated = [dataclasses.replace(r, twelve_hour=False) for r in dated]
    return Schedule(weekly, dated)


def describe(schedule: Schedule) -> list[str]:
    """The week and its exceptions as doppel read them, one line each, for the owner to check
    before turning `open_now` on."""
    out = []
    for weekday in WEEKDAYS:
        rules = sorted((r for r in schedule.weekly if weekday in r.days),
                       key=lambda r: (r.weeks != frozenset(), r.summary, len(r.days)))
        if not rules:
            out.append(f"{weekday.capitalize()}: not stated (read as closed)")
            continue
        parts = []
        for r in rules:
            when = ", ".join(f"{say_time(a, r.twelve_hour)} – {say_time(b, r.twelve_hour)}"
                             for a, b in r.intervals) or "closed"
            extra = (f" ({r.span[0]} to {r.span[1]})" if r.span else
                     f" (months {','.join(map(str, sorted(r.months)))})" if r.months else
                     " (some weeks only)" if r.weeks else "")
            parts.append(when + extra)
        out.append(f"{weekday.capitalize()}: " + "; or ".join(dict.fromkeys(parts)))
    for r in schedule.dated:
        when = ("not readable: nothing is said that day" if r.unknown else
                ", ".join(f"{say_time(a, r.twelve_hour)} – {say_time(b, r.twelve_hour)}"
                          for a, b in r.intervals) or
                (f"closes at {say_time(r.closes_at, r.twelve_hour)}" if r.closes_at else
                 f"opens at {say_time(r.opens_at, r.twelve_hour)}" if r.opens_at else
                 "closed"))
        out.append(f"{r.label or r.line[:40]}: {when}")
    return out


def say_time(t: dt.time, twelve: bool) -> str:
    if not twelve:
        return t.strftime("%H:%M")
    if t == dt.time(12, 0):
        return "noon"
    h = t.hour % 12 or 12
    return f"{h}{t.strftime(':%M') if t.minute else ''} {'am' if t.hour < 12 else 'pm'}"


class OpenNow(Tool):
    name = "open_now"
    description = ("Whether the business is open right now, and until when or when it opens "
                   "next, from its opening hours and holidays in its time zone.")
    Arguments = NoArguments
    Settings = NoSettings
    # Off until the owner turns it on, having seen how doppel reads their hours (the console
    # shows the week as read): on unseen hours pages it still misread 1 to 3 days in 21.
    default = False
    examples = ("are you open right now?", "are you still open?", "are you open today?",
                "what time do you close today?", "is the shop open now", "you guys open rn?",
                "when do you open today?", "open today?")
    _NOW = re.compile(r"\b(right now|rn|now|currently|at the moment|still|yet|today|tonight|"
                      r"this (morning|afternoon|evening))\b", re.I)
    # "are you open?" without a day is a question about now.
    _ARE_YOU_OPEN = re.compile(
        r"\b(are|r)\s*(you|u|ya|y'all)\s*(guys\s*)?(still\s+)?(open|closed)\b|"
        r"\b(is|are)\s+(the\s+)?(shop|store|studio|office|clinic|cafe|café|salon|gym|"
        r"practice|surgery|showroom|bakery)\s+(still\s+)?(open|closed)\b", re.I)
    _OPEN = re.compile(r"\b(open|opens|opening|close|closes|closing|closed)\b", re.I)
    _OTHER_DAY = re.compile(r"\b(tomorrow|monday|tuesday|wednesday|thursday|friday|saturday|"
                            r"sunday|weekend|christmas|holiday|next|\d{1,2}(st|nd|rd|th)?\s+"
                            r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec))", re.I)

    def wants(self, message: str) -> bool:
        """"Are you open now?", "what time do you close today": the moment is now."""
        return bool((self._NOW.search(message) and self._OPEN.search(message)
                     or self._ARE_YOU_OPEN.search(message) and not self._WHEN.search(message))
                    and not self._another_day(message))

    # "When are you open?" asks for the hours, not whether it is open now.
    _WHEN = re.compile(r"\b(when|what (days?|hours|times?)|which days?|how (late|early|long))\b"
                       r"[^.?!]*\b(are|r|is)\b", re.I)

    def _another_day(self, message: str) -> bool:
        """The message names a day, a date or a holiday ("on Thanksgiving", "new year's
        eve"): the content's answer for that day, not now's."""
        days, dates = unit_days(message)
        return bool(self._OTHER_DAY.search(message) or days or dates)

    def declines(self, message: str) -> bool:
        """"Open on Sunday?" is about Sunday's hours, and "what are your hours?" about the
        week's: the content answers those."""
        return bool(self._another_day(message) or not (
            self._NOW.search(message) or self._BARE.match(message)))

    # Words that name a day other than today whatever today is.
    _NOT_TODAY = re.compile(r"\b(tomorrow|next|weekend|weekends|holidays?|christmas|easter|"
                            r"mondays|tuesdays|wednesdays|thursdays|fridays|saturdays|sundays)\b",
                            re.I)

    def declines_at(self, message: str, now: dt.datetime) -> bool:
        """As `declines`, but a day or date the customer names that is today's ("open today?
        saw something about March 12 being closed", on 12 March) is about now."""
        days, dates = unit_days(message)
        today = (days or dates) and days <= {WEEKDAYS[now.weekday()]} and dates <= {
            f"{now.month:02d}-{now.day:02d}"} and not self._NOT_TODAY.search(message)
        if not today:
            return self.declines(message)
        return not (self._NOW.search(message) or self._BARE.match(message)
                    or self._ARE_YOU_OPEN.search(message))

    # "u open?", "are you guys open??": a bare question about being open is about now.
    _BARE = re.compile(r"^\W*(hi|hey|hello)?\W*(are|r)?\s*(you|u|ya|y'all)\s*(guys\s*)?"
                       r"(open|closed)\W*$", re.I)

    async def run(self, ctx: ToolContext, args: NoArguments, settings: NoSettings
                  ) -> ToolResult | None:
        passages = list(ctx.search("opening hours open closed holidays", 12))
        schedule = read_schedule(passages, southern=southern_at(ctx.now))
        if not schedule:
            return None  # no weekly hours bound to days: the content's own answer, if any
        return answer_open_now(schedule, ctx.now)


def answer_open_now(schedule: Schedule, now: dt.datetime) -> ToolResult | None:
    """The sentence for `now`: open until when, or closed and when it opens next; None when a
    line about today could not be read or two rules disagree (right or silent)."""
    today = now.date()
    rule = schedule.rule(today)
    if rule is not None and rule.unknown:
        return None
    used: list[Rule] = []
    clock = now.time().replace(second=0, microsecond=0)
    day_name = WEEKDAYS[today.weekday()].capitalize()
    # today's hours as read ("09:00-12:30;13:30-17:00", "closed", "none": no line for the day),
    # for a second reading to be compared with (doppel.agents.acting)
    read = "none" if rule is None else (";".join(
        f"{a:%H:%M}-{b:%H:%M}" for a, b in rule.intervals) or "closed")
    reading = {"today": read, "today_from": "none" if rule is None else
           "date" if rule.dates else "season" if rule.months or rule.weeks else "week"}
    if rule is not None:
        used.append(rule)
        for start, end in rule.intervals:
            if start <= clock < end:
                text = (f"Yes, we're open right now, until {say_time(end, rule.twelve_hour)} "
                        f"today.")
                return _result(text, used, now, open_=True, until=end, **reading)
        later = [s for s, _ in rule.intervals if s > clock]
        if later:
            text = (f"We're closed right now; we open today at "
                    f"{say_time(later[0], rule.twelve_hour)}.")
            return _result(text, used, now, open_=False, next_open=later[0], **reading)
    if rule is None:
        why = " right now"
    elif rule.intervals:  # after today's hours (or between them)
        note = rule.label[:1].lower() + rule.label[1:] if rule.weeks and rule.label else ""
        why = f" right now ({note})" if note else " right now"
    else:
        why = f" today ({rule.label})" if (rule.dates or rule.weeks) and rule.label else " today"
    if rule is None:
        why = " right now"
    for ahead in range(1, 8):
        day = today + dt.timedelta(days=ahead)
        nxt = schedule.rule(day)
        if nxt is not None and nxt.unknown:
            break  # when it opens next is not known for sure: not said
        if nxt is not None and nxt.intervals:
            used.append(nxt)
            when = "tomorrow" if ahead == 1 else WEEKDAYS[day.weekday()].capitalize()
            if nxt.dates and nxt.label:
                when += f" ({nxt.label})"
            text = (f"We're closed{why}. We open again {when} at "
                    f"{say_time(nxt.intervals[0][0], nxt.twelve_hour)}.")
            if rule is None:
                text = (f"We're closed right now — it's {day_name}. We open again {when} at "
                        f"{say_time(nxt.intervals[0][0], nxt.twelve_hour)}.")
            return _result(text, used, now, open_=False, next_day=day.isoformat(),
                           **reading)
    return _result(f"We're closed{why}.", used, now, open_=False, **reading)


def _result(text: str, used: list[Rule], now: dt.datetime, *, open_: bool,
            **data: object) -> ToolResult:
    # The facts: the content's own lines, and what the tool concluded from them and the clock
    # (the sentence itself: every time in it is one of those lines').
    facts = (*(r.line for r in used), text)
    passages: list[Passage] = []
    for r in used:
        if r.passage not in passages:
            passages.append(r.passage)
    marks = "".join(f"[{i + 1}]" for i in range(len(passages)))
    return ToolResult("ok", f"{text} {marks}".strip(), facts,
                      {"open": open_, "now": now.isoformat(timespec="minutes"),
                       **{k: str(v) for k, v in data.items()}},
                      passages=tuple(passages))
