"""Booking requests in the owner's CalDAV calendar (Radicale, Nextcloud, iCloud, Fastmail...).

A request a customer makes is written into the calendar as a TENTATIVE event at once, so the
owner sees it where they keep their day and the slot is busy for every other booking channel
too; when the owner confirms it (console, owner API) the event becomes CONFIRMED, and when they
decline it the event is deleted. One event per request, at `<collection>/<uid>.ics` (a CalDAV
object resource, RFC 4791 §5.3.2), its UID derived from the agent and the request so that a
retry overwrites rather than duplicates.

Every request goes through doppel's SSRF-safe fetcher with the owner's credentials, over HTTPS
unless the operator allow-lists the address (as the calendar's reading does), never redirected.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Literal

import icalendar

from doppel.config import Settings
from doppel.net import FetchError, SafeFetcher

__all__ = ["CalDAVCalendar", "booking_uid", "event_text"]

EventStatus = Literal["TENTATIVE", "CONFIRMED"]


def booking_uid(agent_id: int, request_id: int) -> str:
    return f"doppel-booking-{agent_id}-{request_id}"


def event_text(uid: str, start: dt.datetime, end: dt.datetime, summary: str, description: str,
               status: EventStatus) -> bytes:
    """One VEVENT in a VCALENDAR, times in UTC (no VTIMEZONE needed), opaque (busy)."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//doppel//booking requests//EN")
    calendar.add("version", "2.0")
    event = icalendar.Event()
    event.add("uid", f"{uid}@doppel")
    event.add("dtstamp", dt.datetime.now(dt.UTC))
    event.add("dtstart", start.astimezone(dt.UTC))
    event.add("dtend", end.astimezone(dt.UTC))
    event.add("summary", summary)
    event.add("description", description)
    event.add("status", status)
    event.add("transp", "OPAQUE")
    calendar.add_component(event)
    return bytes(calendar.to_ical())


class CalDAVCalendar:
    """The owner's calendar collection, written with their credentials."""

    def __init__(self, settings: Settings, url: str, user: str, password: str) -> None:
        self.settings = settings
        self.url = url if url.endswith("/") else url + "/"
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self._auth = {"Authorization": f"Basic {token}"}

    def _send(self, method: Literal["PUT", "DELETE"], uid: str, body: bytes = b"",
              extra: dict[str, str] | None = None) -> None:
        with SafeFetcher(self.settings) as fetcher:
            fetcher.check_private_channel(self.url)  # the owner's password: HTTPS only
            fetcher.send(method, f"{self.url}{uid}.ics", body,
                         headers=self._auth | (extra or {}), max_bytes=65536)

    def hold(self, uid: str, start: dt.datetime, end: dt.datetime, summary: str,
             description: str, status: EventStatus = "TENTATIVE") -> None:
        """Write (or overwrite) the request's event. Raises FetchError."""
        self._send("PUT", uid, event_text(uid, start, end, summary, description, status),
                   {"Content-Type": "text/calendar; charset=utf-8"})

    def remove(self, uid: str) -> None:
        """Delete the request's event; one already gone is fine. Raises FetchError."""
        try:
            self._send("DELETE", uid)
        except FetchError as exc:
            if exc.status != 404:
                raise
