"""The `booking` tool: reading a day and a time from messages, free slots from the opening
hours minus a real iCalendar feed served on 127.0.0.1 and the stored requests, and requests
written once to a real SQLite file."""

from __future__ import annotations

import asyncio
import datetime as dt
import http.server
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from doppel.config import Settings
from doppel.knowledge.index import Passage
from doppel.store.sqlite import SQLiteDatabase as Database
from doppel.testing import FakeCalcom
from doppel.tools.base import ToolContext, ToolError, ToolResult
from doppel.tools.booking import Booking, BookingArguments, BookingSettings, parse_when

LA = ZoneInfo("America/Los_Angeles")
NOW = dt.datetime(2027, 3, 9, 10, 0, tzinfo=LA)  # a Tuesday, 10 am
TUE, WED, THU, FRI, SAT, SUN = (dt.date(2027, 3, d) for d in range(9, 15))

HOURS = "\n".join(f"Day: {d}; Hours: 9:00 am – 5:00 pm"
                  for d in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"))
HOURS += "\nDay: Saturday; Hours: 10:00 am – 2:00 pm\nDay: Sunday; Hours: Closed"

ICS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//doppel tests//EN
BEGIN:VTIMEZONE
TZID:America/Los_Angeles
BEGIN:STANDARD
DTSTART:19701101T020000
RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU
TZOFFSETFROM:-0700
TZOFFSETTO:-0800
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:19700308T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU
TZOFFSETFROM:-0800
TZOFFSETTO:-0700
END:DAYLIGHT
END:VTIMEZONE
BEGIN:VEVENT
UID:one-off
SUMMARY:Dentist
DTSTART;TZID=America/Los_Angeles:20270311T100000
DTEND;TZID=America/Los_Angeles:20270311T110000
END:VEVENT
BEGIN:VEVENT
UID:weekly
SUMMARY:Team lunch (20:00 UTC: noon in winter, 1 pm after DST starts on 14 March)
DTSTART:20270304T200000Z
DURATION:PT1H
RRULE:FREQ=WEEKLY
END:VEVENT
BEGIN:VEVENT
UID:floating
SUMMARY:Call (floating time: the business's wall clock)
DTSTART:20270311T130000
DTEND:20270311T133000
END:VEVENT
BEGIN:VEVENT
UID:cancelled
STATUS:CANCELLED
DTSTART;TZID=America/Los_Angeles:20270311T140000
DTEND;TZID=America/Los_Angeles:20270311T150000
END:VEVENT
BEGIN:VEVENT
UID:transparent
TRANSP:TRANSPARENT
DTSTART;TZID=America/Los_Angeles:20270311T150000
DTEND;TZID=America/Los_Angeles:20270311T160000
END:VEVENT
BEGIN:VEVENT
UID:all-day
SUMMARY:Trade fair
DTSTART;VALUE=DATE:20270312
DTEND;VALUE=DATE:20270313
END:VEVENT
END:VCALENDAR
""".replace("\n", "\r\n")


class _Calendar(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
        body, kind = {"/cal.ics": (ICS, "text/calendar; charset=utf-8"),
                      "/junk.ics": ("this is not a calendar", "text/calendar")
                      }.get(self.path.split("?")[0], ("", ""))
        self.send_response(200 if kind else 404)
        self.send_header("Content-Type", kind or "text/plain")
        self.send_header("Content-Length", str(len(body.encode())))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def feed() -> Iterator[str]:
    """The base URL of a real HTTP server on 127.0.0.1 serving the calendar."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Calendar)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


class _World:
    """One agent with a conversation or two, in a real SQLite file."""

    def __init__(self, tmp_path: Path, hours: str = HOURS) -> None:
        self.settings = Settings(home=tmp_path / "home", fetch_allow="127.0.0.1",
                                 crawl_timeout_s=5.0)
        self.db = Database(tmp_path / "doppel.db")
        with self.db.transaction() as tx:
            self.agent_id = int(tx.execute("INSERT INTO agents(slug, spec_json) VALUES "
                                           "('studio', '{}')").lastrowid or 0)
            self.conversations = [int(tx.execute(
                "INSERT INTO conversations(agent_id, thread) VALUES (?, ?)",
                (self.agent_id, f"t{i}")).lastrowid or 0) for i in range(2)]
        self.hours = hours
        self.notices: list[tuple[str, str]] = []
        self.secrets: dict[str, str] = {}  # the agent's secrets, as the owner set them

    def search(self, query: str, k: int) -> Sequence[Passage]:
        if not self.hours:
            return [Passage(2, "about.md", "About", "We cut hair.", 0, 12, 1.0, 1.0)]
        return [Passage(1, "hours.csv", "Opening hours", self.hours, 0, len(self.hours),
                        1.0, 1.0)]

    async def _notify(self, subject: str, body: str) -> None:
        self.notices.append((subject, body))

    def ctx(self, conversation: int = 0, now: dt.datetime = NOW) -> ToolContext:
        return ToolContext(agent_id=self.agent_id, agent_slug="studio",
                           agent_name="Studio Nine", contact="", now=now,
                           settings=self.settings, db=self.db,
                           conversation_id=self.conversations[conversation], thread="t",
                           search=self.search, notify=self._notify,
                           secret=self.secrets.get)

    def requests(self) -> list[tuple[str, str, str, str, str]]:
        return [tuple(r) for r in self.db.connect().execute(
            "SELECT starts_at, ends_at, name, contact, status FROM booking_requests")]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[_World]:
    w = _World(tmp_path)
    yield w
    w.db.close()


def book(world: _World, url: str = "", conversation: int = 0, calendar_url: str = "",
         calendar_user: str = "", **args: Any) -> ToolResult:
    settings = BookingSettings(calendar_url=url or calendar_url, calendar_user=calendar_user)
    return asyncio.run(Booking().run(world.ctx(conversation), BookingArguments(**args),
                                     settings))


# --- reading messages ---------------------------------------------------------------------------

@pytest.mark.parametrize("message, day, time", [
    ("can I come today at 3pm?", TUE, dt.time(15)),
    ("tomorrow 3:30 pm", WED, dt.time(15, 30)),
    ("Thursday at 3", THU, dt.time(15)),
    ("thu 15:00 please", THU, dt.time(15)),
    ("Thurs at 9", THU, dt.time(9)),
    ("Tuesday at 11am", TUE, dt.time(11)),          # today's weekday, still ahead: today
    ("Tuesday at 9", TUE + dt.timedelta(days=7), dt.time(9)),  # already past: next week
    ("next Tuesday", TUE + dt.timedelta(days=7), None),
    ("Sat at 10", SAT, dt.time(10)),
    ("March 10 at noon", WED, dt.time(12)),
    ("10 March", WED, None),
    ("Mar 10th, 2 p.m.", WED, dt.time(14)),
    ("the 10th of March at 12", WED, dt.time(12)),
    ("on the 12th", FRI, None),
    ("the 5th", dt.date(2027, 4, 5), None),         # passed this month: next month's
    ("March 3", dt.date(2028, 3, 3), None),         # passed this year: next year's
    ("2027-03-10 at 10:00", WED, dt.time(10)),
    ("2027-03-10T14:30", WED, dt.time(14, 30)),
    ("3 in the afternoon on Friday", FRI, dt.time(15)),
    ("at 9 in the morning on Fri", FRI, dt.time(9)),
    ("tmrw @ 4", WED, dt.time(16)),
    ("4 o'clock friday", FRI, dt.time(16)),
    ("Dec 25th 2027 at 2pm", dt.date(2027, 12, 25), dt.time(14)),
    ("a bath for saturday 13th at 1pm?", SAT, dt.time(13)),
    ("Sat the 20th at 2", SAT + dt.timedelta(days=7), dt.time(14)),
    ("sunday the 21st at 10", SUN + dt.timedelta(days=7), dt.time(10)),
    ("friday 12 at 3pm", FRI, dt.time(15)),
    ("saturday 10 am please", SAT, dt.time(10)),    # 10 is the hour, not the date
    ("can i bring it in at 11 this morning?", TUE, dt.time(11)),
    ("got a slot this arvo at 4?", TUE, dt.time(16)),
])
def test_parse_when_reads_days_and_times(message: str, day: dt.date | None,
                                         time: dt.time | None) -> None:
    assert parse_when(message, NOW) == (day, time)


@pytest.mark.parametrize("message", [
    "call me on 555-123-4567", "my number is 555 123 4567", "order #1530 hasn't arrived",
    "my order 15300 is late", "reach me at 07 9460 958", "we are 3 people", "I sat down",
    "May I ask something?", "it costs $12.50",
])
def test_parse_when_takes_no_phone_or_order_number_for_a_time(message: str) -> None:
    assert parse_when(message, NOW) == (None, None)


def test_fill_reads_names_and_contacts_and_keeps_what_was_known() -> None:
    tool = Booking()

    def fill(message: str) -> dict[str, Any]:
        return tool.fill(message, NOW, {"service": "cut"})

    assert fill("I'm Sam") == {"service": "cut", "name": "Sam"}
    assert fill("my name is sam lee and my email is sam@example.com") == {
        "service": "cut", "name": "Sam Lee", "contact": "sam@example.com"}
    assert fill("this is Sam")["name"] == "Sam"
    assert fill("name: Sam")["name"] == "Sam"
    assert fill("Sam Lee, 555-123-4567") == {"service": "cut", "name": "Sam Lee",
                                             "contact": "555-123-4567"}
    assert fill("Hi Sam Lee sam@x.com")["name"] == "Sam Lee"
    got = fill("book Thursday at 3 for Sam Lee, 555 123 4567")
    assert got == {"service": "cut", "day": THU, "time": dt.time(15), "name": "Sam Lee",
                   "contact": "555 123 4567"}
    assert "name" not in fill("I'm looking for a slot on Friday")
    assert "name" not in fill("Friday, 555-123-4567")
    assert fill("order #55512345 is late") == {"service": "cut"}


def test_wants_booking_requests_but_not_policy_questions() -> None:
    tool = Booking()
    for message in ("Can I book an appointment for Thursday?", "I'd like to book a haircut",
                    "any slots tomorrow?", "do you have any availability next week?",
                    "what times do you have on Friday?", "schedule me for Monday at 10",
                    "I need an appointment", "could you fit me in on Saturday?",
                    "I'm Sam, can I book Friday at 2?", "could we come in tomorrow at 3?"):
        assert tool.wants(message), message
    for message in ("what's your cancellation policy for bookings?", "do I need to book?",
                    "how do I book?", "what time do you open?", "are walk-ins ok or should I "
                    "book?", "do you sell gift cards?"):
        assert not tool.wants(message), message


def test_ask_names_what_is_missing() -> None:
    tool, settings = Booking(), BookingSettings(services=["Cut", "Colour"])
    assert tool.ask(["day"], settings) == "What day and time would suit you?"
    assert tool.ask(["name", "contact"], settings) == (
        "What name and phone number or e-mail should I put the request under?")
    assert tool.ask(["service"], settings) == "Which would you like: Cut and Colour?"


def test_arguments_are_validated() -> None:
    def errors(**values: Any) -> list[tuple[str, tuple[Any, ...]]]:
        with pytest.raises(ValidationError) as info:
            BookingArguments(**values)
        return [(e["type"], e["loc"]) for e in info.value.errors()]

    assert errors() == [("missing", ("day",))]
    assert errors(time="15:00") == [("missing", ("day",))]     # a time without a day
    assert errors(day=THU, contact="abc") == [("value_error", ("contact",))]
    assert errors(day=THU, contact="555-12") == [("value_error", ("contact",))]
    assert ("string_too_long", ("name",)) in errors(day=THU, name="x" * 81)
    assert errors(day=THU, extra=1) == [("extra_forbidden", ("extra",))]
    ok = BookingArguments(day=THU, time="15:00", contact=" +1 (555) 123-4567 ")
    assert ok.contact == "+1 (555) 123-4567" and ok.time == dt.time(15)
    assert BookingArguments(day=THU, contact="sam@example.com").contact == "sam@example.com"
    with pytest.raises(ValidationError):
        BookingSettings(slot_minutes=10)


# --- free slots ---------------------------------------------------------------------------------

def test_free_slots_are_hours_minus_the_calendar(world: _World, feed: str) -> None:
    with world.db.transaction() as tx:  # a declined request leaves its slot free
        tx.execute("INSERT INTO booking_requests(agent_id, starts_at, ends_at, name, contact, "
                   "status) VALUES (?, '2027-03-11T09:00:00-08:00', '2027-03-11T10:00:00-08:00',"
                   " 'Old', 'old@example.com', 'declined')", (world.agent_id,))
    got = book(world, f"{feed}/cal.ics", day=THU)
    # 10 am: a one-off event; noon: a weekly event in UTC; 1 pm: a floating time; 2 pm and
    # 3 pm stay free (a cancelled and a transparent event).
    assert got.status == "ok"
    assert got.text == "On Thursday 11 March I have 9 am, 11 am, 2 pm, 3 pm and 4 pm free. [1]"
    assert got.facts == ("Day: Thursday; Hours: 9:00 am – 5:00 pm", "Day: Thursday 11 March",
                         "Free: Thursday 11 March 9 am", "Free: Thursday 11 March 11 am",
                         "Free: Thursday 11 March 2 pm", "Free: Thursday 11 March 3 pm",
                         "Free: Thursday 11 March 4 pm")
    assert got.data["free"][0] == "2027-03-11T09:00:00-08:00"
    assert [p.heading for p in got.passages] == ["Opening hours"]
    # After DST starts the weekly 20:00 UTC event is at 1 pm, and noon is free.
    later = book(world, f"{feed}/cal.ics", day=THU + dt.timedelta(days=7))
    assert later.text.startswith("On Thursday 18 March I have 9 am, 10 am, 11 am, noon, 2 pm,")


def test_a_day_with_nothing_free_gives_the_next_one(world: _World, feed: str) -> None:
    got = book(world, f"{feed}/cal.ics", day=FRI)  # an all-day event
    assert got.text == ("I have nothing free on Friday 12 March. The next day with free times "
                        "is Saturday 13 March: 10 am, 11 am, noon and 1 pm. [1]")
    assert "Day: Saturday; Hours: 10:00 am – 2:00 pm" in got.facts
    assert "Free: Saturday 13 March noon" in got.facts
    closed = book(world, day=SUN)
    assert closed.text.startswith("We're closed on Sunday 14 March. The next day with free "
                                  "times is Monday 15 March: 9 am, 10 am,")


def test_today_starts_after_the_notice_and_far_or_past_days_are_asked_again(
        world: _World) -> None:
    assert book(world, day=TUE).text.startswith("On Tuesday 9 March I have 11 am, noon, 1 pm")
    past = book(world, day=TUE - dt.timedelta(days=1))
    assert past.status == "needs_input" and "Monday 8 March has passed" in past.text
    far = book(world, day=TUE + dt.timedelta(days=30))
    assert far.status == "needs_input" and "up to Tuesday 23 March" in far.text


# --- asking for a time --------------------------------------------------------------------------

@pytest.mark.parametrize("day, time, why, says", [
    (THU, dt.time(10), "busy", "isn't available"), (TUE, dt.time(9), "past", "already passed"),
    (TUE, dt.time(10, 30), "notice", "isn't available"),
    (THU, dt.time(18), "after hours", "outside our hours that day (9 am – 5 pm)"),
    (THU, dt.time(15, 15), "not on the grid", "isn't available"),
])
def test_a_slot_that_is_not_free_is_refused_and_never_booked(
        world: _World, feed: str, day: dt.date, time: dt.time, why: str, says: str) -> None:
    got = book(world, f"{feed}/cal.ics", day=day, time=time, name="Sam",
               contact="sam@example.com")
    assert got.status == "refused", why
    assert says in got.text and " free that day." in got.text
    assert world.requests() == [] and world.notices == []
    said, on = got.facts[-1].removeprefix("Not available: ").split(" on ")
    assert f"Free: {on} {said}" not in got.facts


def test_refusal_offers_the_nearest_times_or_the_next_day(world: _World, feed: str) -> None:
    got = book(world, f"{feed}/cal.ics", day=THU, time=dt.time(10))
    assert got.text == ("Sorry, 10 am on Thursday 11 March isn't available. I have 9 am, "
                        "11 am, 2 pm and 3 pm free that day. [1]")
    assert "Not available: 10 am on Thursday 11 March" in got.facts
    sunday = book(world, day=SUN, time=dt.time(10))
    assert sunday.status == "refused"
    assert sunday.text == ("Sorry, we're closed on Sunday 14 March. The next free "
                           "times are on Monday 15 March: 9 am, 10 am, 11 am and noon. [1]")


def test_a_free_slot_without_name_or_contact_asks_for_them(world: _World, feed: str) -> None:
    got = book(world, f"{feed}/cal.ics", day=THU, time=dt.time(15))
    assert got.status == "needs_input"
    assert got.text == ("3 pm on Thursday 11 March is free. What name and phone number or "
                        "e-mail should I put the request under?")
    assert got.data["start"] == "2027-03-11T15:00:00-08:00"
    assert got.data["missing"] == ["name", "contact"]
    assert "Free: Thursday 11 March 3 pm" in got.facts
    only_contact = book(world, day=THU, time=dt.time(15), name="Sam")
    assert only_contact.data["missing"] == ["contact"] and world.requests() == []


def test_a_complete_request_is_stored_once_and_the_slot_is_then_taken(
        world: _World, feed: str) -> None:
    got = book(world, f"{feed}/cal.ics", day=THU, time=dt.time(15), name="Sam",
               contact="sam@example.com", service="cut")
    assert got.status == "ok"
    assert got.text == ("I've sent a booking request for Thursday 11 March at 3 pm (cut) "
                        "under Sam. Studio Nine will confirm it with you at sam@example.com.")
    assert "Free: Thursday 11 March 3 pm" in got.facts
    assert got.data["start"] == "2027-03-11T15:00:00-08:00"
    assert got.data["end"] == "2027-03-11T16:00:00-08:00"
    assert world.requests() == [("2027-03-11T15:00:00-08:00", "2027-03-11T16:00:00-08:00",
                                 "Sam", "sam@example.com", "requested")]
    row = world.db.connect().execute("SELECT conversation_id, service FROM booking_requests"
                                     ).fetchone()
    assert tuple(row) == (world.conversations[0], "cut")
    assert world.notices and "Thursday 11 March 3 pm" in world.notices[0][0]
    assert "sam@example.com" in world.notices[0][1]

    second = book(world, f"{feed}/cal.ics", conversation=1, day=THU, time=dt.time(15),
                  name="Alex", contact="555-123-4567")
    assert second.status == "refused"
    assert len(world.requests()) == 1
    assert "3 pm" not in book(world, f"{feed}/cal.ics", day=THU).text


def test_a_failed_notice_does_not_undo_the_request(world: _World) -> None:
    async def broken(subject: str, body: str) -> None:
        raise RuntimeError("mail server down")

    world._notify = broken  # type: ignore[method-assign]
    got = book(world, day=THU, time=dt.time(9), name="Sam", contact="5551234567")
    assert got.status == "ok" and len(world.requests()) == 1


def test_the_slot_is_checked_again_inside_the_insert_transaction(world: _World) -> None:
    """Another conversation takes the slot between the free-slot read and the insert."""
    real = world.db.transaction

    @contextmanager
    def racing(serialize: str | None = None) -> Iterator[Any]:
        with real(serialize) as tx:
            tx.execute("INSERT INTO booking_requests(agent_id, conversation_id, starts_at, "
                       "ends_at, name, contact) VALUES (?, ?, '2027-03-11T15:30:00-08:00', "
                       "'2027-03-11T16:30:00-08:00', 'Alex', '555-123-4567')",
                       (world.agent_id, world.conversations[1]))
            yield tx

    world.db.transaction = racing  # type: ignore[method-assign]
    got = book(world, day=THU, time=dt.time(15), name="Sam", contact="sam@example.com")
    assert got.status == "refused" and "3 pm" not in got.text.split("available.")[1]
    assert [r[2] for r in world.requests()] == ["Alex"] and world.notices == []


def test_24_hour_content_is_answered_in_24_hour_time(tmp_path: Path) -> None:
    w = _World(tmp_path, "\n".join(f"Day: {d}; Hours: 09:00–12:00" for d in (
        "Monday", "Tuesday", "Wednesday", "Thursday", "Friday")))
    got = book(w, day=THU)
    assert got.text == "On Thursday 11 March I have 09:00, 10:00 and 11:00 free. [1]"
    half = asyncio.run(Booking().run(w.ctx(), BookingArguments(day=THU), BookingSettings(
        slot_minutes=45)))  # 45-minute slots still start on the hour or half-hour
    assert half.text == "On Thursday 11 March I have 09:00, 10:00 and 11:00 free. [1]"
    many = asyncio.run(Booking().run(w.ctx(), BookingArguments(day=THU), BookingSettings(
        slot_minutes=15)))
    assert many.data["free"][:3] == ["2027-03-11T09:00:00-08:00", "2027-03-11T09:30:00-08:00",
                                     "2027-03-11T10:00:00-08:00"]
    assert "Free: Thursday 11 March 10:00" in got.facts


# --- failures -----------------------------------------------------------------------------------

def test_a_refused_calendar_address_is_a_tool_error(tmp_path: Path) -> None:
    w = _World(tmp_path)
    w.settings = Settings(home=tmp_path / "home")  # nothing allow-listed
    with pytest.raises(ToolError, match="calendar feed could not be fetched"):
        book(w, "http://10.0.0.1/calendar.ics", day=THU)


def test_feed_failures_are_tool_errors_that_name_no_url(world: _World, feed: str) -> None:
    with pytest.raises(ToolError) as info:
        book(world, f"{feed}/private-s3cr3t/basic.ics?token=abc", day=THU)
    assert "s3cr3t" not in str(info.value) and "abc" not in str(info.value)
    with pytest.raises(ToolError, match="not valid iCalendar"):
        book(world, f"{feed}/junk.ics", day=THU)


def test_no_opening_hours_is_a_tool_error(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match="no weekly opening hours"):
        book(_World(tmp_path, ""), day=THU)


# --- a CalDAV calendar: a real Radicale server on 127.0.0.1 ------------------------------------
@pytest.fixture
def radicale(tmp_path: Path) -> Iterator[str]:
    """Radicale (a CalDAV server) on a free loopback port, one user, one calendar holding a
    busy hour on Thursday 11 March; the calendar collection's URL."""
    import socket
    import subprocess
    import sys
    import time as _time

    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (tmp_path / "users").write_text("owner:caldav-password-123\n")
    (tmp_path / "config").write_text(
        f"[server]\nhosts = 127.0.0.1:{port}\n[auth]\ntype = htpasswd\n"
        f"htpasswd_filename = {tmp_path / 'users'}\nhtpasswd_encryption = plain\n"
        f"[storage]\nfilesystem_folder = {tmp_path / 'collections'}\n[logging]\nlevel = error\n")
    process = subprocess.Popen([sys.executable, "-m", "radicale", "--config",
                                str(tmp_path / "config")], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/owner/shop/"
    try:
        deadline = _time.monotonic() + 20
        while True:
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.HTTPError:
                if _time.monotonic() > deadline:
                    raise
                _time.sleep(0.1)
        calendar = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n"
                    "UID:caldav-busy@test\r\nDTSTAMP:20270301T000000Z\r\n"
                    "DTSTART;TZID=America/Los_Angeles:20270311T110000\r\n"
                    "DTEND;TZID=America/Los_Angeles:20270311T120000\r\nSUMMARY:Dentist\r\n"
                    "END:VEVENT\r\nEND:VCALENDAR\r\n")
        created = httpx.put(url, content=calendar, auth=("owner", "caldav-password-123"),
                            headers={"Content-Type": "text/calendar"})
        assert created.status_code == 201, created.text
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_caldav_calendar_behind_the_owners_password(world: _World, radicale: str) -> None:
    settings = {"calendar_url": radicale, "calendar_user": "owner"}
    with pytest.raises(ToolError, match="booking.calendar_password"):
        book(world, **settings, day=THU)  # type: ignore[arg-type]
    world.secrets["booking.calendar_password"] = "caldav-password-123"
    got = book(world, **settings, day=THU)  # type: ignore[arg-type]
    assert got.status == "ok" and "11 am" not in got.text and "10 am" in got.text
    world.secrets["booking.calendar_password"] = "wrong-password-000"
    with pytest.raises(ToolError, match="HTTP 401"):
        book(world, **settings, day=THU)  # type: ignore[arg-type]


def _events(radicale: str) -> dict[str, Any]:
    """The calendar's events by UID, as the owner's calendar app would read them."""
    import httpx
    import icalendar

    data = httpx.get(radicale, auth=("owner", "caldav-password-123")).content
    return {str(e["uid"]): e for e in icalendar.Calendar.from_ical(data).walk("VEVENT")}


def test_a_request_is_held_in_the_caldav_calendar_as_a_tentative_event(
        world: _World, radicale: str) -> None:
    settings = {"calendar_url": radicale, "calendar_user": "owner"}
    world.secrets["booking.calendar_password"] = "caldav-password-123"
    got = book(world, **settings, day=THU, time=dt.time(14), name="Dana Lee",  # type: ignore[arg-type]
               contact="dana@example.com", service="Cut")
    assert got.status == "ok" and got.data["calendar"] == "held"
    event = _events(radicale)[f"doppel-booking-{world.agent_id}-{got.data['request_id']}@doppel"]
    assert str(event["status"]) == "TENTATIVE" and str(event["transp"]) == "OPAQUE"
    assert str(event["summary"]) == "Booking request: Dana Lee (Cut)"
    assert "dana@example.com" in str(event["description"])
    assert event.decoded("dtstart") == dt.datetime(2027, 3, 11, 14, tzinfo=LA)
    assert event.decoded("dtend") == dt.datetime(2027, 3, 11, 15, tzinfo=LA)
    # the event is busy time for the next customer, whatever doppel's own table says
    world.db.connect().execute("DELETE FROM booking_requests")
    again = book(world, **settings, day=THU, time=dt.time(14), name="Sam Roe",  # type: ignore[arg-type]
                 contact="sam@example.com", conversation=1)
    assert again.status != "ok" or "free" not in again.text.split(".")[0]
    assert world.requests() == []

    # turned off by the owner: nothing written
    world.secrets["booking.calendar_password"] = "caldav-password-123"
    off = asyncio.run(Booking().run(world.ctx(1), BookingArguments(
        day=FRI, time=dt.time(11), name="Lee Roy", contact="lee@example.com"), BookingSettings(
        calendar_url=radicale, calendar_user="owner", hold_in_calendar=False)))
    assert off.status == "ok" and "calendar" not in off.data
    assert len(_events(radicale)) == 2  # the owner's own event and Dana's
    # (a calendar that refuses the write: see the decision's test below; the request stands)


def test_the_owners_decision_confirms_or_removes_the_event(tmp_path: Path, radicale: str
                                                           ) -> None:
    """Through the owner API: confirmed → the event is CONFIRMED; declined → deleted; a
    calendar that refuses → the decision stands and the answer says so."""
    import httpx

    from doppel.agents.spec import AgentSpec
    from doppel.serve import create_app
    from doppel.service import Doppel
    from doppel.testing import FakeChatBackend, FakeEmbedder, ServerThread
    from doppel.tools.caldav import CalDAVCalendar, booking_uid

    settings = Settings(home=tmp_path / "home", fetch_allow="127.0.0.1", shields=False)
    app = Doppel(settings, backend=FakeChatBackend(), embedder=FakeEmbedder())
    owner = app.owners.create("studio-owner")
    _, key = app.owners.create_key(owner.id, ["admin"])
    agent = app.agents.create(AgentSpec(slug="studio", name="Studio Nine", timezone=str(LA),
                                        tools={"booking": {"calendar_url": radicale,
                                                           "calendar_user": "owner"}}),
                              owner.id)
    app.runtime.secrets.set(agent.id, "booking.calendar_password", "caldav-password-123")
    calendar = CalDAVCalendar(settings, radicale, "owner", "caldav-password-123")
    ids = []
    for hour, name in ((10, "Dana Lee"), (12, "Sam Roe"), (15, "Kim Poe")):
        start = dt.datetime(2027, 3, 11, hour, tzinfo=LA)
        with app.db.transaction() as tx:
            ids.append(int(tx.execute(
                "INSERT INTO booking_requests(agent_id, starts_at, ends_at, name, contact, "
                "service, status) VALUES (?, ?, ?, ?, ?, '', 'requested') RETURNING id",
                (agent.id, start.isoformat(), (start + dt.timedelta(hours=1)).isoformat(),
                 name, f"{name.split()[0].lower()}@example.com")).fetchone()[0]))
        calendar.hold(booking_uid(agent.id, ids[-1]), start, start + dt.timedelta(hours=1),
                      f"Booking request: {name}", name)
    try:
        with ServerThread(create_app(doppel=app, preload=False)) as base:
            def decide(booking: int, status: str) -> httpx.Response:
                return httpx.post(f"{base}/api/agents/studio/bookings/{booking}", json={
                    "status": status}, headers={"Authorization": f"Bearer {key}"})

            r = decide(ids[0], "confirmed")
            assert r.status_code == 200 and r.json()["calendar"] == "calendar updated"
            r = decide(ids[1], "declined")
            assert r.status_code == 200 and r.json()["calendar"] == "calendar updated"
            events = _events(radicale)
            uid = f"{booking_uid(agent.id, ids[0])}@doppel"
            assert str(events[uid]["status"]) == "CONFIRMED"
            assert str(events[uid]["summary"]) == "Booking: Dana Lee"
            assert f"{booking_uid(agent.id, ids[1])}@doppel" not in events
            assert f"{booking_uid(agent.id, ids[2])}@doppel" in events
            app.runtime.secrets.set(agent.id, "booking.calendar_password",
                                    "wrong-password-000")
            r = decide(ids[2], "confirmed")
            assert r.status_code == 200
            assert r.json() == {"id": ids[2], "status": "confirmed",
                                "calendar": "the calendar could not be updated"}
            assert app.records.bookings(agent.id)[2]["status"] == "confirmed"
            assert decide(999, "confirmed").status_code == 404
    finally:
        app.close()


# --- Cal.com ------------------------------------------------------------------------------------

CAL_KEY = "cal_live_0123456789abcdef0123"


@pytest.fixture
def calcom(world: _World) -> Iterator[FakeCalcom]:
    # Thursday 9:00, 10:00 and 14:00 free in Cal.com (its own view, whatever the hours say);
    # Tuesday 9:30, before now plus the notice
    free = [dt.datetime.combine(THU, dt.time(h), tzinfo=LA) for h in (9, 10, 14)] + [
        dt.datetime.combine(TUE, dt.time(9, 30), tzinfo=LA)]
    with FakeCalcom(CAL_KEY, 4242, free, minutes=45) as fake:  # its length, not slot_minutes
        world.settings = world.settings.model_copy(update={"calcom_api_url": fake.base_url})
        world.secrets["booking.calcom_api_key"] = CAL_KEY
        yield fake


def cal_book(world: _World, **args: Any) -> ToolResult:
    settings = BookingSettings(calcom_event_type_id=4242)
    return asyncio.run(Booking().run(world.ctx(), BookingArguments(**args), settings))


def test_calcom_slots_are_the_times_offered_and_a_booking_is_made_there(
        world: _World, calcom: FakeCalcom) -> None:
    listing = cal_book(world, day=THU)
    assert listing.status == "ok" and "9 am, 10 am and 2 pm free" in listing.text
    method, path, headers = calcom.requests[0]
    assert (method, path, headers["cal-api-version"]) == ("GET", "/v2/slots", "2024-09-04")
    assert headers["Authorization"] == f"Bearer {CAL_KEY}"
    # a time Cal.com does not offer is refused with the nearest ones, even inside the hours
    refused = cal_book(world, day=THU, time=dt.time(11))
    assert refused.status == "refused" and "isn't available" in refused.text
    assert "10 am" in refused.text and not calcom.bookings
    # Cal.com e-mails the confirmation: a phone number is not enough
    phone = cal_book(world, day=THU, time=dt.time(10), name="Sam", contact="(541) 555-0100")
    assert phone.status == "needs_input" and "e-mail" in phone.text and not calcom.bookings
    done = cal_book(world, day=THU, time=dt.time(10), name="Sam", contact="sam@example.com")
    assert done.status == "ok" and done.text.startswith("You're booked for Thursday 11 March "
                                                        "at 10 am, Sam.")
    (booking,) = calcom.bookings
    assert booking["start"] == "2027-03-11T18:00:00+00:00"  # 10 am in Los Angeles
    assert booking["attendees"] == [{"name": "Sam", "email": "sam@example.com",
                                     "timeZone": "America/Los_Angeles"}]
    assert world.requests()[0][2:] == ("Sam", "sam@example.com", "confirmed")
    assert world.requests()[0][:2] == ("2027-03-11T10:00:00-08:00", "2027-03-11T10:45:00-08:00")
    # the time is gone: asked again, it is refused, not booked twice
    again = cal_book(world, day=THU, time=dt.time(10), name="Jo", contact="jo@example.com")
    assert again.status == "refused" and len(calcom.bookings) == 1


def test_calcom_taken_meanwhile_pending_confirmation_and_a_wrong_key(
        world: _World, calcom: FakeCalcom) -> None:
    calcom.requires_confirmation = True
    pending = cal_book(world, day=THU, time=dt.time(9), name="Ana", contact="ana@example.com")
    assert pending.status == "ok" and "will confirm it with you at ana@example.com" in pending.text
    assert world.requests()[0][-1] == "requested"
    # free when the tool looked, taken by someone else before its booking reached Cal.com:
    # refused with the times still free
    calcom.book_elsewhere(dt.datetime.combine(THU, dt.time(14), tzinfo=LA))
    late = cal_book(world, day=THU, time=dt.time(14), name="Bo", contact="bo@example.com")
    assert late.status == "refused" and "2 pm" not in late.text.split("free")[-1]
    assert "10 am" in late.text and len(calcom.bookings) == 1
    assert [m for m, *_ in calcom.requests[-3:]] == ["GET", "POST", "GET"]
    world.secrets["booking.calcom_api_key"] = "cal_live_wrong_key_000000000"
    with pytest.raises(ToolError, match="Cal.com rejected the API key"):
        cal_book(world, day=THU)
    del world.secrets["booking.calcom_api_key"]
    with pytest.raises(ToolError, match="booking.calcom_api_key"):
        cal_book(world, day=THU)
