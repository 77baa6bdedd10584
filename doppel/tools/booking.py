"""`booking`: free appointment slots, and booking requests the owner confirms.

A day's slots are its opening hours (read from the agent's content, like `open_now`) cut
into `slot_minutes` slots that start on the hour or half-hour, minus what is busy: events of
the owner's iCalendar feed (recurrences, all-day events, time zones; transparent and
cancelled events are free), the agent's open booking requests, anything inside the notice
period, and any day past `days_ahead`. A request is a `booking_requests` row with status
'requested'; the slot is checked again in the transaction that inserts it, so two customers
never both get one slot. Nothing is confirmed to the customer: the owner does that.

With a CalDAV calendar (`calendar_user` and the secret booking.calendar_password) each request
is also written into it as a tentative event, confirmed or removed when the owner decides
(doppel.tools.caldav; `hold_in_calendar: false` turns that off).

With a Cal.com event type (`calcom_event_type_id`, doppel.tools.calcom) Cal.com's free slots
are the times offered and a request is a Cal.com booking, confirmed at once or left for the
owner to confirm in Cal.com as the event type says; it is recorded as a booking request too.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from doppel.knowledge.index import Passage
from doppel.language.facts import MONTHS, WEEKDAYS
from doppel.net import FetchError, SafeFetcher
from doppel.tools.base import Tool, ToolContext, ToolError, ToolResult, ToolStatus
from doppel.tools.calcom import CALCOM_KEY, Calcom, Taken
from doppel.tools.caldav import CalDAVCalendar, booking_uid
from doppel.tools.fields import EMAIL, PHONE, contacts_in, valid_contact
from doppel.tools.hours import Rule, Schedule, read_schedule, say_time, southern_at

__all__ = ["CALENDAR_PASSWORD", "Booking", "BookingArguments", "BookingSettings",
           "booking_event_text", "parse_when"]

log = logging.getLogger(__name__)
Span = tuple[dt.datetime, dt.datetime]  # [start, end), aware


class BookingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    calendar_url: str = Field("", max_length=2000, pattern=r"^(https?://\S+)?$",
                              description="An iCalendar (ICS) feed of the owner's calendar, "
                              "or a CalDAV calendar's address: its events are busy times. "
                              "Empty: none.")
    slot_minutes: int = Field(60, ge=15, le=480, description="Length of one appointment.")
    days_ahead: int = Field(14, ge=1, le=90, description="How many days ahead to offer.")
    notice_minutes: int = Field(60, ge=0, le=10080,
                                description="Minimum notice before a slot starts.")
    services: list[str] = Field(default_factory=list, description="Services one can book.")
    calendar_user: str = Field("", max_length=200, description="A CalDAV calendar's user "
                               "name; its password is the agent's secret "
                               "booking.calendar_password.")
    hold_in_calendar: bool = Field(
        True, description="With a CalDAV calendar (calendar_user set): each booking request is "
        "written into it as a tentative event, made confirmed or removed when you decide.")
    calcom_event_type_id: int | None = Field(
        None, ge=1, description="A Cal.com event type: its free slots are the times offered "
        "and a request becomes a Cal.com booking (the API key is the agent's secret "
        "booking.calcom_api_key; the opening hours and calendar_url are then not used).")


CALENDAR_PASSWORD = "booking.calendar_password"


class BookingArguments(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # Required (no default) so a missing day is pydantic's "missing" and the caller asks.
    day: dt.date = Field(description="The day of the appointment.")
    time: dt.time | None = Field(None, description="The start time; none: list free times.")
    name: str | None = Field(None, min_length=1, max_length=80,
                             description="The customer's name.")
    contact: str | None = Field(None, description="The customer's e-mail or phone number.")
    service: str | None = Field(None, max_length=80, description="The service wanted.")

    @field_validator("contact")
    @classmethod
    def _contact(cls, v: str | None) -> str | None:
        if v is None or valid_contact(v):
            return v
        raise ValueError("an e-mail address or a phone number with at least 7 digits")


# --- reading a day and a time from a message -------------------------------------------------

_WEEKDAY_NAMES = {d: i for i, d in enumerate(WEEKDAYS)} | {
    "mon": 0, "tue": 1, "tues": 1, "wed": 2, "weds": 2, "thu": 3, "thur": 3, "thurs": 3,
    "fri": 4, "sat": 5, "sun": 6}
_MONTH_NUMBERS = {m: i + 1 for i, m in enumerate(MONTHS)} | {
    m[:3]: i + 1 for i, m in enumerate(MONTHS)} | {"sept": 9}
_MON = r"(?P<mon>" + "|".join(sorted(_MONTH_NUMBERS, key=len, reverse=True)) + r")\.?"
_DATES = (
    re.compile(r"\b(?P<y>20\d\d)-(?P<m>\d\d)-(?P<d>\d\d)(?!\d)"),
    re.compile(_MON + r"\s+(?:the\s+)?(?P<d>\d{1,2})(?:st|nd|rd|th)?\b(?![:.]\d)"
               r"(?:,?\s+(?P<y>20\d\d)\b)?", re.I),
    re.compile(r"\b(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + r"\b" + _MON
               + r"(?![a-z])(?:,?\s+(?P<y>20\d\d)\b)?", re.I),
    re.compile(r"\b(?:the|on)\s+(?P<d>\d{1,2})(?:st|nd|rd|th)\b", re.I),
    # "saturday 13th", "Sat the 13th": the 13th that is a Saturday (not "saturday 10 am")
    re.compile(r"\b(?P<wd>monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tues?|"
               r"wed|weds|thu(?:rs?)?|fri|sat|sun)\s+(?:the\s+)?(?P<d>\d{1,2})(?:st|nd|rd|th)?"
               r"\b(?!\s*(?:[ap]\.?m\b|o'?clock|[:.]\d))", re.I),
)
# "sat"/"sun"/"mon"/"wed" are words too: as abbreviations only when capitalised.
_WEEKDAY = re.compile(r"\b(?:(?i:next|this)\s+)?((?i:monday|tuesday|wednesday|thursday|friday|"
                      r"saturday|sunday|tues?|thu(?:rs?)?|fri)|Mon|Wed|Weds|Sat|Sun)\b")
_RELATIVE = re.compile(r"\b(day after tomorrow|today|tonight|tomorrow|tmrw|tmr|"
                       r"this (?:morning|afternoon|evening|arvo))\b", re.I)
_NOT_AFTER = r"(?![\w:.-]*\d)"  # a time is never glued to more digits (a phone, an order)
_TIMES = (
    re.compile(r"(?<![\d:./#$-])(?P<h>\d{1,2})(?:[:.](?P<m>[0-5]\d))?\s*"
               r"(?P<p>[ap])\.?m\b\.?", re.I),
    re.compile(r"(?<![\d:./#$-])(?P<h>[01]?\d|2[0-3]):(?P<m>[0-5]\d)" + _NOT_AFTER),
    re.compile(r"(?:\b(?:at|around|about)|@)\s+(?:about\s+|around\s+)?(?P<h>\d{1,2})"
               r"(?!\s*[\d/-])(?:\s*o'?clock)?\b" + _NOT_AFTER, re.I),
    re.compile(r"(?<![\d:./#$-])\b(?P<h>\d{1,2})(?::(?P<m>[0-5]\d))?(?=\s*o'?clock|\s+in the "
               r"(?:morning|afternoon|evening))", re.I),
    re.compile(r"\b(?P<noon>noon|midday|lunchtime)\b", re.I),
    # "10ish", "about 10-ish"
    re.compile(r"(?<![\d:./#$-])\b(?P<h>\d{1,2})(?::(?P<m>[0-5]\d))?\s*-?ish\b", re.I),
)
_DAYPART = re.compile(r"^\s*(?:in the\s+)?(morning|afternoon|evening|tonight)", re.I)


def _date(message: str, today: dt.date) -> tuple[dt.date | None, str]:
    """The day a message names, and how ('weekday': the rule for today's weekday applies)."""
    for pattern in _DATES:
        for m in pattern.finditer(message):
            g = m.groupdict()
            month = int(g["m"]) if g.get("m") else _MONTH_NUMBERS.get((g["mon"] or "").lower()
                                                                       ) if "mon" in g else None
            # Months counted from year 0: a year given is that date; a month without a year
            # is its next one; "the 10th" is this month's, or the next month's that has one.
            ym = today.year * 12 + today.month - 1
            tries = ([int(g["y"]) * 12 + month - 1] if g.get("y") and month else
                     [ym - today.month + month + k * 12 for k in (0, 1)] if month else
                     [ym + k for k in range(3)])
            wd = _WEEKDAY_NAMES.get((g.get("wd") or "").lower())
            if wd is not None:
                # the first month ahead where that day is the named weekday
                tries = [ym + k for k in range(12)]
            for n in tries:
                try:
                    day = dt.date(n // 12, n % 12 + 1, int(g["d"]))
                except ValueError:
                    continue
                if (day >= today or g.get("y")) and (wd is None or day.weekday() == wd):
                    return day, "date"
    if m2 := _RELATIVE.search(message):
        word = m2.group(1).lower()
        ahead = 2 if word.startswith("day after") else 0 if word in ("today", "tonight") or (
            word.startswith("this ")) else 1
        return today + dt.timedelta(days=ahead), "relative"
    if m3 := _WEEKDAY.search(message):
        weekday = _WEEKDAY_NAMES[m3.group(1).lower()]
        return (today + dt.timedelta(days=(weekday - today.weekday()) % 7),
                "next" if m3.group(0).lower().startswith("next") else "weekday")
    return None, ""


def _time(message: str) -> dt.time | None:
    for pattern in _TIMES:
        for m in pattern.finditer(message):
            if m.groupdict().get("noon"):
                return dt.time(12, 0)
            h, mi = int(m.group("h")), int(m.groupdict().get("m") or 0)
            if h > 23 or mi > 59:
                continue  # "at 45", "99 o'clock": no time of day
            mer = (m.groupdict().get("p") or "").lower()
            part = _DAYPART.match(message[m.end():])
            if not mer and part and h <= 12:
                mer = "a" if part.group(1).lower() == "morning" else "p"
            if mer:
                if not 1 <= h <= 12:
                    continue
                h = h % 12 + (12 if mer == "p" else 0)
            elif 1 <= h <= 7:  # no am/pm: shop hours read 1–7 as afternoon, 8–12 as day
                h += 12
            return dt.time(h, mi)
    return None


def parse_when(message: str, now: dt.datetime) -> tuple[dt.date | None, dt.time | None]:
    """The day and the time a customer's message names ("tomorrow at 3", "Mar 10th 15:00"),
    relative to `now` (aware, the business's time zone). Phone and order numbers are no time."""
    # Take contacts and dates out first, so their digits cannot read as times.
    text = EMAIL.sub(" ", message)
    day, how = _date(text, now.date())
    for pattern in _DATES:
        text = pattern.sub(" ", text)
    when = _time(PHONE.sub(" ", text))
    if how == "next" and day == now.date() or (
            how == "weekday" and day == now.date() and when is not None and when <= now.time()):
        day += dt.timedelta(days=7)  # "Tuesday at 9" said on Tuesday at 10: next week's
    return day, when


# --- names and contacts -------------------------------------------------------------------------

_WORD = r"[A-Z][A-Za-z'’-]+"
_NOT_NAMES = {w.lower() for w in (
    "Free Available Looking Interested Hoping Just Not Good Fine Sure Trying Wondering Here "
    "Booking Calling Wanting The A An Able Happy Ok Okay So Still Also Back New Coming Going "
    "Hi Hello Hey Thanks Thank Please Yes No Today Tomorrow Tonight Next This Can Could I Is "
    "Are Do Book Around About At On For And Or My Me Phone Email E-mail Number Mobile Cell "
    "From You").split()} | set(WEEKDAYS) | set(MONTHS)
_INTRO = re.compile(r"\b(?i:i'?m|i am|this is|it'?s)\s+(" + _WORD + r"(?:\s+" + _WORD
                    + r"){0,2})")
_NAMED = re.compile(r"\b(?:my name is|my name'?s|name\s*(?:is|:))\s+([A-Za-z][A-Za-z'’-]*"
                    r"(?:\s+[A-Za-z][A-Za-z'’-]*){0,2})", re.I)
# "Sam Lee, 555-123-4567", "book Friday at 3 for Sam Lee sam@example.com"
_LEAD = re.compile(r"(?:^|[,;:.!?]\s*|\b(?i:hi|hello|hey|for|under)\s+)(" + _WORD + r"(?:\s+"
                   + _WORD + r"){0,2})\s*[,;:–-]?\s*$")


def _name_of(words: str) -> str | None:
    kept: list[str] = []
    for w in words.split():
        if w.lower() in _NOT_NAMES:
            if kept:
                break
            continue  # "Hi Sam": the greeting goes
        kept.append(w if any(c.isupper() for c in w) else w.capitalize())
    return " ".join(kept) or None


def _contact(message: str) -> tuple[str, int] | None:
    found = contacts_in(message)
    return (found[0][1], found[0][0]) if found else None


# --- free slots ---------------------------------------------------------------------------------

def _words(day: dt.date) -> str:
    return f"{WEEKDAYS[day.weekday()].capitalize()} {day.day} {MONTHS[day.month - 1].capitalize()}"


def _join(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


_MAX_OCCURRENCES = 5000  # in the booking window (days_ahead): far more than a real calendar


def _busy_events(data: bytes, start: dt.datetime, end: dt.datetime) -> list[Span]:
    """The busy spans of an ICS feed between two aware moments (runs in a worker thread)."""
    import icalendar
    import recurring_ical_events

    tz = start.tzinfo
    cal = icalendar.Calendar.from_ical(data)
    # Occurrences are expanded from each event's first one: a rule repeating every second or
    # minute since 2020 would take hours and hold a worker thread the tool's timeout cannot
    # stop. No appointment calendar repeats more often than hourly; those events are left out.
    for event in list(cal.walk("VEVENT")):
        rule = event.get("RRULE")
        freqs = [str(f).upper() for f in (rule.get("FREQ", []) if rule else [])]
        if any(f in ("SECONDLY", "MINUTELY", "HOURLY") for f in freqs):
            cal.subcomponents.remove(event)
    spans: list[Span] = []
    occurrences = recurring_ical_events.of(cal).between(start, end)
    if len(occurrences) > _MAX_OCCURRENCES:
        raise ValueError(f"more than {_MAX_OCCURRENCES} events in the booking window")
    for event in occurrences:
        if (str(event.get("STATUS", "")).upper() == "CANCELLED"
                or str(event.get("TRANSP", "")).upper() == "TRANSPARENT"):
            continue
        begin, finish = event.start, event.end
        if not isinstance(begin, dt.datetime):  # an all-day event: busy from midnight
            begin = dt.datetime.combine(begin, dt.time(0), tzinfo=tz)
            finish = dt.datetime.combine(finish if not isinstance(finish, dt.datetime)
                                         else finish.date(), dt.time(0), tzinfo=tz)
        # A floating time ("DTSTART:20270311T130000") is the business's wall clock.
        begin = begin if begin.tzinfo else begin.replace(tzinfo=tz)
        finish = finish if finish.tzinfo else finish.replace(tzinfo=tz)
        spans.append((begin, finish))
    return spans


def _overlaps(start: dt.datetime, end: dt.datetime, busy: Sequence[Span]) -> bool:
    # Aware datetimes of one tzinfo compare as wall clocks: compare in UTC.
    s, e = start.astimezone(dt.UTC), end.astimezone(dt.UTC)
    return any(b.astimezone(dt.UTC) < e and s < f.astimezone(dt.UTC) for b, f in busy)


def _booked(conn: Any, agent_id: int, since: dt.date) -> list[Span]:
    rows = conn.execute(
        "SELECT starts_at, ends_at FROM booking_requests WHERE agent_id = ? AND status IN "
        "('requested', 'confirmed') AND starts_at >= ?", (agent_id, since.isoformat()))
    return [(dt.datetime.fromisoformat(r[0]), dt.datetime.fromisoformat(r[1])) for r in rows]


class _Slots:
    """Which slots are free, from the hours, the busy spans and the settings."""

    def __init__(self, schedule: Schedule, busy: list[Span], now: dt.datetime,
                 settings: BookingSettings) -> None:
        self.schedule, self.busy, self.tz = schedule, busy, now.tzinfo
        self.minutes = dt.timedelta(minutes=settings.slot_minutes)
        self.now = now.astimezone(dt.UTC)
        self.earliest = (now + dt.timedelta(minutes=settings.notice_minutes)).astimezone(dt.UTC)
        self.today, self.last = now.date(), now.date() + dt.timedelta(days=settings.days_ahead)
        # A closed day's line has no am/pm: the open days say how the content writes times.
        self.twelve = any(r.twelve_hour for r in schedule.weekly if r.intervals)

    def none_free(self, day: dt.date) -> str:
        """Why `day` has no free time."""
        rule = self.schedule.rule(day)
        return (f"I can't tell our hours on {_words(day)} for sure." if rule and rule.unknown
                else f"We're closed on {_words(day)}." if rule is None or not rule.intervals
                else f"I have nothing free on {_words(day)}.")

    def not_free(self, at: dt.datetime, asked: str) -> str:
        """Why the time asked for cannot be had."""
        rule = self.schedule.rule(at.date())
        inside = rule is not None and any(
            a <= at.time() and (at + self.minutes).time() <= b for a, b in rule.intervals)
        if at.astimezone(dt.UTC) <= self.now:
            return f"Sorry, {asked} has already passed."
        if rule is not None and rule.unknown:  # a line about that day not understood
            return f"Sorry, I can't tell our hours on {_words(at.date())} for sure."
        if rule is None or not rule.intervals:
            return f"Sorry, we're closed on {_words(at.date())}."
        if not inside:  # say the day's hours: the reason, in the content's own times
            hours = ", ".join(f"{self.say_time(a, rule)} – {self.say_time(b, rule)}"
                              for a, b in rule.intervals)
            return f"Sorry, {asked} is outside our hours that day ({hours})."
        return f"Sorry, {asked} isn't available."

    def free(self, day: dt.date) -> list[dt.datetime]:
        rule = self.schedule.rule(day)
        if rule is None or rule.unknown or not self.today <= day <= self.last:
            return []
        out: list[dt.datetime] = []
        for start, end in rule.intervals:
            t = _half_hour(dt.datetime.combine(day, start, tzinfo=self.tz))
            close = dt.datetime.combine(day, end, tzinfo=self.tz)
            while t + self.minutes <= close:
                if t.astimezone(dt.UTC) >= self.earliest and not _overlaps(
                        t, t + self.minutes, self.busy):
                    out.append(t)
                t = _half_hour(t + self.minutes)
        return out

    def next_free(self, after: dt.date) -> tuple[dt.date, list[dt.datetime]] | None:
        day = max(after + dt.timedelta(days=1), self.today)
        while day <= self.last:
            if found := self.free(day):
                return day, found
            day += dt.timedelta(days=1)
        return None

    def say_time(self, t: dt.time, rule: Rule) -> str:
        return say_time(t, rule.twelve_hour or self.twelve)

    def say(self, moments: Sequence[dt.datetime]) -> str:
        """Times in the content's style: "9 am, 11 am and noon" or "09:00 and 11:00"."""
        rules = [self.schedule.rule(m.date()) for m in moments]
        return _join([say_time(m.time(), r.twelve_hour if r and r.intervals else self.twelve)
                      for m, r in zip(moments, rules)])

    def offer(self, status: ToolStatus, text: str, shown: Sequence[dt.datetime],
              days: Sequence[dt.date], cite: bool = True, **data: Any) -> ToolResult:
        """A result stating `shown` times: the hours lines of `days` and a "Free: ..." fact
        per time, so the grounding check finds every time the sentence states; `cite` marks
        the hours' passages in a sentence that offers times."""
        rules = [r for d in dict.fromkeys(days) if (r := self.schedule.rule(d)) is not None]
        passages: list[Passage] = []
        for p in (r.passage for r in rules):
            passages += [p] if p not in passages else []  # Passage is unhashable
        marks = "".join(f"[{i + 1}]" for i in range(len(passages))) if cite and shown else ""
        facts = [*dict.fromkeys(r.line for r in rules),
                 *(f"Day: {_words(d)}" for d in dict.fromkeys(days)),
                 *(f"Free: {_words(s.date())} {self.say([s])}" for s in shown)]
        return ToolResult(status, f"{text} {marks}".strip(), tuple(facts),
                          {"free": [s.isoformat() for s in shown], **data},
                          passages=tuple(passages))


class _CalcomSlots(_Slots):
    """The free times Cal.com gives (its event type's length, buffers and limits are its
    own), within the notice period and days_ahead."""

    def __init__(self, schedule: Schedule, free: dict[dt.date, list[dt.datetime]],
                 now: dt.datetime, settings: BookingSettings) -> None:
        super().__init__(schedule, [], now, settings)
        self.feed = free
        if not schedule.weekly:  # no hours page says how times are written
            self.twelve = True

    def free(self, day: dt.date) -> list[dt.datetime]:
        if not self.today <= day <= self.last:
            return []
        return [t for t in self.feed.get(day, []) if t.astimezone(dt.UTC) >= self.earliest]

    def none_free(self, day: dt.date) -> str:
        return f"I have nothing free on {_words(day)}."

    def not_free(self, at: dt.datetime, asked: str) -> str:
        if at.astimezone(dt.UTC) <= self.now:
            return f"Sorry, {asked} has already passed."
        return f"Sorry, {asked} isn't available."


def _half_hour(t: dt.datetime) -> dt.datetime:
    """`t` rounded up to the next :00 or :30."""
    return t.replace(second=0, microsecond=0) + dt.timedelta(minutes=-t.minute % 30)


_POLICY = re.compile(r"\b(polic(y|ies)|cancel\w*|refunds?|deposits?|do (i|we|you) (need|have) to|"
                     r"should (i|we)|necessary|required|in advance|walk[- ]?ins?|how (do|can|"
                     r"would) (i|we)|online|website)\b", re.I)
_REQUEST = re.compile(
    r"\b(book|reserve|schedule)\s+(me|us|in|a|an|for|on|at|tomorrow|today|next)\b|"
    r"\b(can|could|may)\s+(i|we|you)\s+(please\s+)?(book|reserve|schedule|come in|get in|"
    r"pop in|squeeze (me|us) in|fit (me|us) in|see (me|us))\b|"
    r"\b(can|could|may)\s+(i|we)\s+bring\s+(my|our|him|her|them|the)\b[^?.!]{0,30}\bin\b|"
    r"\b(can|could|may|would like to|i'?d like to|i want to|want to|wanna|like to|need to|"
    r"let me|please)\s+(book|reserve|schedule|make an? (appointment|booking|reservation))\b|"
    r"\b(make|get|set up|need|want|like|grab|request)\s+(an?\s+)?(appointment|appt|booking|"
    r"reservation)\b|\bany\s+(free\s+|open\s+)?(slots?|availability|openings?|appointments?|"
    r"spots?)\b|\bwhat\s+(times?|slots?|appointments?)\s+(do you have|are (free|available|"
    r"open)|have you got|you got)\b|\bfit me in\b|"
    # "is there anything thursday at 10:30?", "do you have anything friday at 3pm"
    r"\b(anything|any time|any openings?|space|room)\b[^?.!]{0,24}\b(today|tonight|tomorrow|"
    r"mon|monday|tue|tues|tuesday|wed|wednesday|thu|thur|thurs|thursday|fri|friday|sat|"
    r"saturday|sun|sunday|this week|next week)\b", re.I)


# "is thursday 7pm free?", "any chance friday at 10 is available?"
_FREE = re.compile(r"\b(mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun|today|tomorrow)[a-z]*\b"
                   r"[^?.!]{0,20}\d[^?.!]{0,20}\b(free|available|open|taken)\b", re.I)
# A request rather than a question about the content: "can you…", "I'd like…".
_ASKING = re.compile(r"^\W*(?:(?:hi|hiya|hello|hey|morning|evening)\b[\s,!.]*)?(can|could|would|"
                     r"will|may|i'?d like|i would like|i need|i want|i wanna|please|is it "
                     r"possible|any chance)\b", re.I)


class Booking(Tool):
    name = "booking"
    description = ("Free appointment times from the business's opening hours and calendar, "
                   "and booking requests (day, time, name, contact) that the owner confirms.")
    Arguments = BookingArguments
    Settings = BookingSettings
    default = False
    timeout_s = 8.0
    examples = ("can I book an appointment for Thursday?", "do you have any slots tomorrow?",
                "I'd like to come in on Friday at 3pm", "what times do you have next week?",
                "can you fit me in on Saturday morning?", "I want to reserve a time on March 10",
                "is 2pm tomorrow available?", "schedule me for Monday at 10")

    def wants(self, message: str) -> bool:
        """A plain request for a time; questions about the booking policy are not. A request
        that names a day and a time ("could you come and service my boiler Thursday the 4th
        at 10am?") is one too."""
        if _POLICY.search(message):
            return False
        if _REQUEST.search(message) or _FREE.search(message):
            return True
        if not _ASKING.match(message):
            return False
        day, time = parse_when(message, dt.datetime.now(dt.UTC))
        return day is not None and time is not None




    def fill(self, message: str, now: dt.datetime, known: Mapping[str, Any]
             ) -> dict[str, Any]:
        out = dict(known)
        day, when = parse_when(message, now)
        contact = _contact(message)
        named = _NAMED.search(message) or _INTRO.search(message) or (
            _LEAD.search(message[:contact[1]]) if contact else None)
        name = _name_of(named.group(1)) if named else None
        found = {"day": day, "time": when, "contact": contact and contact[0], "name": name}
        return out | {k: v for k, v in found.items() if v}

    def ask(self, missing: Sequence[str], settings: BaseModel) -> str:
        if "day" in missing or "time" in missing:
            return "What day and time would suit you?"
        if "service" in missing and isinstance(settings, BookingSettings) and settings.services:
            return f"Which would you like: {_join(settings.services)}?"
        if "name" in missing and "contact" not in missing:
            return "What name should I put the request under?"
        if "contact" in missing and "name" not in missing:
            return "What phone number or e-mail can we reach you at?"
        return "What name and phone number or e-mail should I put the request under?"

    async def run(self, ctx: ToolContext, args: BookingArguments, settings: BookingSettings
                  ) -> ToolResult:
        schedule = read_schedule(list(ctx.search("opening hours open closed holidays", 12)),
                                 southern=southern_at(ctx.now))
        if not schedule and not settings.calcom_event_type_id:
            raise ToolError("no weekly opening hours found in the agent's content")
        day, today = args.day, ctx.now.date()
        assert day is not None  # BookingArguments requires it
        last = today + dt.timedelta(days=settings.days_ahead)
        if args.time is None and not today <= day <= last:
            why = ("has passed" if day < today else
                   f"is too far ahead: I can take requests up to {_words(last)}")
            return ToolResult("needs_input", f"{_words(day)} {why}. What other day would suit "
                              "you?", (f"Day: {_words(day)}", f"Last day: {_words(last)}"),
                              {"day": day.isoformat(), "missing": ["day"]})
        if settings.calcom_event_type_id:
            return await self._calcom(ctx, args, settings, schedule)
        midnight = dt.datetime.combine(today, dt.time(0), tzinfo=ctx.now.tzinfo)
        busy = await self._calendar(ctx, settings, midnight,
                                    midnight + dt.timedelta(days=settings.days_ahead + 2))
        busy += _booked(ctx.db.connect(), ctx.agent_id, today - dt.timedelta(days=1))
        slots = _Slots(schedule, busy, ctx.now, settings)
        if args.time is None:
            return self._listing(slots, day)
        at = dt.datetime.combine(day, args.time, tzinfo=ctx.now.tzinfo)
        if at not in slots.free(day):
            return self._refusal(slots, at)
        end = at + slots.minutes
        when = f"{slots.say([at])} on {_words(day)}"
        span: dict[str, Any] = {"start": at.isoformat(), "end": end.isoformat()}
        missing = [f for f in ("name", "contact") if not getattr(args, f)]
        if missing:
            return slots.offer("needs_input", f"{when} is free. " + self.ask(missing, settings),
                               [at], [day], False, **span, missing=missing)
        service = _service(args.service, settings.services)
        with ctx.db.transaction(serialize=f"booking:{ctx.agent_id}") as tx:
            # Check again under the write lock: another conversation may have just taken it.
            taken = _overlaps(at, end, _booked(tx, ctx.agent_id, day - dt.timedelta(days=1)))
            if not taken:
                span["request_id"] = tx.execute(
                    "INSERT INTO booking_requests(agent_id, conversation_id, starts_at, ends_at,"
                    " name, contact, service, status) VALUES (?, ?, ?, ?, ?, ?, ?, 'requested') "
                    "RETURNING id", (ctx.agent_id, ctx.conversation_id, at.isoformat(),
                                     end.isoformat(), args.name, args.contact, service)
                ).fetchone()[0]
        if taken:
            slots.busy.append((at, end))
            return self._refusal(slots, at)
        what = f" ({service})" if service else ""
        if settings.calendar_user and settings.hold_in_calendar:
            span["calendar"] = await self._hold(ctx, settings, int(span["request_id"]), at,
                                                end, args.name or "", args.contact or "",
                                                service)
        if ctx.notify is not None:
            try:
                await ctx.notify(f"Booking request: {_words(day)} {slots.say([at])}{what}",
                                 f"{args.name} ({args.contact}) asks for {when}{what}. "
                                 "Confirm or decline it with them.")
            except Exception:  # the request is stored; a failed notice must not undo it
                log.exception("booking: notifying the owner failed")
        done = slots.offer("ok", f"I've sent a booking request for {_words(day)} at "
                           f"{slots.say([at])}{what} under {args.name}. {ctx.agent_name} will "
                           f"confirm it with you at {args.contact}.", [at], [day], False, **span)
        return replace(done, facts=(*done.facts, f"Requested: {when}{what}, {args.name}, "
                                    f"{args.contact}"))

    async def _calcom(self, ctx: ToolContext, args: BookingArguments,
                      settings: BookingSettings, schedule: Schedule) -> ToolResult:
        key = ctx.secret(CALCOM_KEY)
        if not key or settings.calcom_event_type_id is None:
            raise ToolError(f"calcom_event_type_id is set but the secret {CALCOM_KEY} is not")
        zone = getattr(ctx.now.tzinfo, "key", "UTC")
        cal = Calcom(ctx.settings.calcom_api_url, key, settings.calcom_event_type_id, zone,
                     self.timeout_s - 1.0)
        today = ctx.now.date()
        assert ctx.now.tzinfo is not None
        last = today + dt.timedelta(days=settings.days_ahead)
        slots = _CalcomSlots(schedule, await cal.slots(today, last, ctx.now.tzinfo), ctx.now,
                             settings)
        day = args.day
        if args.time is None:
            return self._listing(slots, day)
        at = dt.datetime.combine(day, args.time, tzinfo=ctx.now.tzinfo)
        if at not in slots.free(day):
            return self._refusal(slots, at)
        when = f"{slots.say([at])} on {_words(day)}"
        span: dict[str, Any] = {"start": at.isoformat()}
        # Cal.com sends its confirmation by e-mail: a phone number is not enough.
        missing = [f for f in ("name", "contact") if not getattr(args, f)]
        if not missing and not EMAIL.fullmatch(args.contact or ""):
            return slots.offer("needs_input", f"{when} is free. What e-mail address should "
                               "the confirmation go to?", [at], [day], False, **span,
                               missing=["contact"])
        if missing:
            return slots.offer("needs_input", f"{when} is free. " + self.ask(missing, settings),
                               [at], [day], False, **span, missing=missing)
        service = _service(args.service, settings.services)
        try:
            booked = await cal.book(at, args.name or "", args.contact or "", service)
        except Taken:
            fresh = await cal.slots(today, last, ctx.now.tzinfo)
            if at in fresh.get(day, []):  # refused for another reason than the time
                raise ToolError("Cal.com refused the booking of a free time") from None
            slots = _CalcomSlots(schedule, fresh, ctx.now, settings)
            return self._refusal(slots, at)
        confirmed = str(booked.get("status", "")).lower() == "accepted"
        end = _instant(booked.get("end"), at.tzinfo) or at + slots.minutes  # Cal.com's length
        with ctx.db.transaction() as tx:  # the owner's console lists it with the others
            span["request_id"] = tx.execute(
                "INSERT INTO booking_requests(agent_id, conversation_id, starts_at, ends_at, "
                "name, contact, service, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (ctx.agent_id, ctx.conversation_id, at.isoformat(), end.isoformat(), args.name,
                 args.contact, service, "confirmed" if confirmed else "requested")
            ).fetchone()[0]
        span["calcom"] = {"uid": str(booked.get("uid", "")), "status": str(
            booked.get("status", ""))}
        what = f" ({service})" if service else ""
        text = (f"You're booked for {_words(day)} at {slots.say([at])}{what}, {args.name}. "
                f"The confirmation is on its way to {args.contact}." if confirmed else
                f"I've sent a booking request for {_words(day)} at {slots.say([at])}{what} "
                f"under {args.name}. {ctx.agent_name} will confirm it with you at "
                f"{args.contact}.")
        done = slots.offer("ok", text, [at], [day], False, **span)
        return replace(done, facts=(*done.facts, f"{'Booked' if confirmed else 'Requested'}: "
                                    f"{when}{what}, {args.name}, {args.contact}"))

    async def _hold(self, ctx: ToolContext, settings: BookingSettings, request_id: int,
                    at: dt.datetime, end: dt.datetime, name: str, contact: str,
                    service: str) -> str:
        """The request as a tentative event in the owner's CalDAV calendar: "held", or
        "not written" (the request stands either way; the owner still decides it)."""
        password = ctx.secret(CALENDAR_PASSWORD)
        if not password:
            return "not written"
        calendar = CalDAVCalendar(ctx.settings, settings.calendar_url, settings.calendar_user,
                                  password)
        summary, description = booking_event_text(name, contact, service, "requested")
        try:
            await asyncio.to_thread(calendar.hold, booking_uid(ctx.agent_id, request_id), at,
                                    end, summary, description)
        except FetchError as exc:
            # No URL in the log: a calendar's path may carry a secret.
            log.warning("booking: the request could not be written to the calendar: %s",
                        re.sub(r"\b[a-z][\w+.-]*://\S+", "<calendar URL>", str(exc)))
            return "not written"
        return "held"

    async def _calendar(self, ctx: ToolContext, settings: BookingSettings,
                        start: dt.datetime, end: dt.datetime) -> list[Span]:
        if not settings.calendar_url:
            return []

        # The fetch's own deadline ends inside the tool's, so no thread outlives the call long.
        limit = min(ctx.settings.crawl_timeout_s, self.timeout_s - 1.0)

        headers: dict[str, str] = {}
        if settings.calendar_user:
            # A CalDAV calendar (Radicale, Nextcloud, iCloud...): its collection's GET is the
            # whole calendar as iCalendar, behind the owner's credentials.
            password = ctx.secret(CALENDAR_PASSWORD)
            if not password:
                raise ToolError(f"calendar_user is set but the secret {CALENDAR_PASSWORD} is not")
            token = base64.b64encode(f"{settings.calendar_user}:{password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"

        def load() -> list[Span]:
            with SafeFetcher(ctx.settings.model_copy(update={"crawl_timeout_s": limit})
                             ) as fetcher:
                if headers:  # the owner's password goes over HTTPS only
                    fetcher.check_private_channel(settings.calendar_url)
                data = fetcher.fetch(settings.calendar_url, max_bytes=5_000_000,
                                     accept={"text/calendar", "text/plain"},
                                     headers=headers).data
            return _busy_events(data, start, end)

        try:
            return await asyncio.to_thread(load)
        except FetchError as exc:
            # A private feed's secret is often in its path: name no URL at all.
            raise ToolError("calendar feed could not be fetched: " + re.sub(
                r"\b[a-z][\w+.-]*://\S+", "<calendar URL>", str(exc))) from None
        except Exception as exc:  # icalendar and its recurrences raise many kinds on bad data
            # The exception's kind only: its message quotes the feed's lines, which may be
            # anything the URL served (a secret in a text file).
            raise ToolError(f"calendar feed is not valid iCalendar ({type(exc).__name__})"
                            ) from None

    def _listing(self, slots: _Slots, day: dt.date) -> ToolResult:
        if free := slots.free(day):
            shown = free[:10]  # a long list reads badly; the rest are "later times"
            more = ", and later times too" if len(free) > len(shown) else ""
            return slots.offer("ok", f"On {_words(day)} I have {slots.say(shown)} free{more}.",
                               shown, [day], free=[s.isoformat() for s in free])
        text = slots.none_free(day)
        if (nxt := slots.next_free(day)) is None:
            return slots.offer("ok", f"{text} I have no free times in the days I can book.",
                               [], [day])
        shown = nxt[1][:10]
        return slots.offer("ok", f"{text} The next day with free times is {_words(nxt[0])}: "
                           f"{slots.say(shown)}.", shown, [day, nxt[0]])

    def _refusal(self, slots: _Slots, at: dt.datetime) -> ToolResult:
        asked = f"{slots.say([at])} on {_words(at.date())}"
        text = slots.not_free(at, asked)
        # The four free times nearest the one asked for, else the next day's first four.
        near = sorted(sorted(slots.free(at.date()), key=lambda s: abs(s - at))[:4])
        days = [at.date()]
        if near:
            text += f" I have {slots.say(near)} free that day."
        elif nxt := slots.next_free(at.date()):
            near, days = nxt[1][:4], [*days, nxt[0]]
            text += f" The next free times are on {_words(nxt[0])}: {slots.say(near)}."
        result = slots.offer("refused", text, near, days, asked=at.isoformat())
        return replace(result, facts=(*result.facts, f"Not available: {asked}"))


def booking_event_text(name: str, contact: str, service: str, status: str
                       ) -> tuple[str, str]:
    """A booking request's calendar event: its summary and description."""
    what = f" ({service})" if service else ""
    head = "Booking request" if status == "requested" else "Booking"
    return (f"{head}: {name}{what}",
            f"{name}, {contact}{what}. Made through doppel's chat; "
            + ("confirm or decline it in the doppel console." if status == "requested"
               else "confirmed in the doppel console."))


def _instant(value: object, tz: dt.tzinfo | None) -> dt.datetime | None:
    """An aware ISO 8601 instant from an API's answer, in `tz`; None when it is not one."""
    try:
        t = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return t.astimezone(tz) if t.tzinfo is not None else None


def _service(asked: str | None, services: Sequence[str]) -> str:
    """The owner's name for the service asked for, else the customer's words."""
    low = (asked or "").lower()
    return next((s for s in services if low and (low in s.lower() or s.lower() in low)),
                asked or "")
