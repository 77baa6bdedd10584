"""A fake of Cal.com's API v2 on 127.0.0.1, as doppel.tools.calcom calls it."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from doppel.testing import _JSONHandler, _LocalHTTPServer, _QuietServer

__all__ = ["FakeCalcom"]


class FakeCalcom(_LocalHTTPServer):
    """Cal.com for one event type: `GET /v2/slots?eventTypeId=&start=&end=&timeZone=` answers
    the free starts of `slots` on those dates ({"data": {"YYYY-MM-DD": [{"start": ...}]}}, in
    the time zone asked), `POST /v2/bookings` books a free start for an attendee with a name
    and an e-mail address, after which it is no longer free (a taken or unknown start: 400,
    as Cal.com answers). A missing or wrong API key: 401; another event type: 404; each
    endpoint checks its `cal-api-version` header. `requires_confirmation` makes bookings
    "pending" (the owner confirms them in Cal.com) instead of "accepted"; `book_elsewhere(t)`
    has someone else take `t` just before the next booking of it (the race a listing cannot
    see). `requests` records (method, path, headers) of every call; `bookings` the bookings
    made."""

    def __init__(self, api_key: str, event_type_id: int, slots: Iterable[dt.datetime],
                 minutes: int = 60, requires_confirmation: bool = False) -> None:
        self.api_key, self.event_type_id = api_key, event_type_id
        self.free = sorted(slots)
        self.minutes, self.requires_confirmation = minutes, requires_confirmation
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.bookings: list[dict[str, Any]] = []
        self.elsewhere: set[dt.datetime] = set()
        ids = itertools.count(1)
        fake = self

        class Handler(_JSONHandler):
            def _allowed(self, version: str) -> bool:
                url = urlsplit(self.path)
                fake.requests.append((self.command, url.path, dict(self.headers.items())))
                if self.headers.get("Authorization") != f"Bearer {fake.api_key}":
                    self._json(401, {"status": "error", "error": {
                        "code": "UnauthorizedException", "message": "Invalid API key"}})
                    return False
                if self.headers.get("cal-api-version") != version:
                    self._json(400, {"status": "error", "error": {
                        "message": f"cal-api-version must be {version}"}})
                    return False
                return True

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                if urlsplit(self.path).path != "/v2/slots":
                    self._json(404, {"status": "error"})
                    return
                if not self._allowed("2024-09-04"):
                    return
                q = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                if q.get("eventTypeId") != str(fake.event_type_id):
                    self._json(404, {"status": "error", "error": {
                        "code": "NotFoundException", "message": "Event type not found"}})
                    return
                try:
                    zone = ZoneInfo(q.get("timeZone", "UTC"))
                    first = dt.date.fromisoformat(q["start"][:10])
                    last = dt.date.fromisoformat(q["end"][:10])
                except (KeyError, ValueError, ZoneInfoNotFoundError):
                    self._json(400, {"status": "error", "error": {"message": "bad query"}})
                    return
                data: dict[str, list[dict[str, str]]] = {}
                for start in fake.free:
                    local = start.astimezone(zone)
                    if first <= local.date() <= last:
                        data.setdefault(local.date().isoformat(), []).append(
                            {"start": local.isoformat(timespec="milliseconds")})
                self._json(200, {"status": "success", "data": data})

            def do_POST(self) -> None:  # noqa: N802
                if urlsplit(self.path).path != "/v2/bookings":
                    self._json(404, {"status": "error"})
                    return
                if not self._allowed("2024-08-13"):
                    return
                body = self._body()
                attendee = body.get("attendee") or {}
                try:
                    start = dt.datetime.fromisoformat(str(body.get("start")).replace("Z",
                                                                                      "+00:00"))
                except ValueError:
                    start = None
                if start in fake.elsewhere:
                    fake.elsewhere.discard(start)
                    fake.free.remove(start)
                if (body.get("eventTypeId") != fake.event_type_id or start is None
                        or start not in fake.free or not attendee.get("name")
                        or "@" not in str(attendee.get("email", ""))):
                    self._json(400, {"status": "error", "error": {
                        "code": "BadRequestException", "message": "User either already has "
                        "booking at this time or is not available"}})
                    return
                fake.free.remove(start)
                booking = {"id": next(ids), "uid": f"bk{len(fake.bookings) + 1:04d}",
                           "status": "pending" if fake.requires_confirmation else "accepted",
                           "start": start.astimezone(dt.UTC).isoformat(),
                           "end": (start + dt.timedelta(minutes=fake.minutes)).astimezone(
                               dt.UTC).isoformat(),
                           "eventTypeId": fake.event_type_id, "attendees": [attendee],
                           "bookingFieldsResponses": body.get("bookingFieldsResponses", {})}
                fake.bookings.append(booking)
                self._json(201, {"status": "success", "data": booking})

        self._httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def book_elsewhere(self, start: dt.datetime) -> None:
        self.elsewhere.add(start)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v2"
