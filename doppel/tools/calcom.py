"""Cal.com (API v2) as the booking tool's calendar: the owner's event type's free slots are the
times offered, and a request becomes a Cal.com booking.

The API's address is the operator's (`DOPPEL_CALCOM_API_URL`, Cal.com's cloud by default, a
self-hosted Cal.com otherwise), never an owner's: an owner names an event type and gives an
API key (the agent's secret `booking.calcom_api_key`), which travels in the Authorization
header to that address only. Cal.com's own answers (its errors' wording, the booking's ids)
are stored with the tool call, never shown to the customer.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from doppel.tools.base import ToolError

__all__ = ["CALCOM_KEY", "Calcom", "Taken"]

CALCOM_KEY = "booking.calcom_api_key"
# Cal.com versions its v2 endpoints by header, per endpoint.
_SLOTS_VERSION = "2024-09-04"
_BOOKINGS_VERSION = "2024-08-13"


class Taken(Exception):
    """Cal.com refused the booking: the time is no longer free."""


class Calcom:
    def __init__(self, base_url: str, api_key: str, event_type_id: int, zone: str,
                 timeout_s: float) -> None:
        self.base = base_url.rstrip("/")
        self.event_type_id, self.zone = event_type_id, zone
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self._timeout = httpx.Timeout(timeout_s, connect=min(3.0, timeout_s))

    async def _call(self, method: str, path: str, version: str, **kwargs: Any
                    ) -> tuple[int, dict[str, Any]]:
        try:
            async with httpx.AsyncClient(timeout=self._timeout, follow_redirects=False) as http:
                r = await http.request(method, self.base + path, headers=self._headers | {
                    "cal-api-version": version}, **kwargs)
        except httpx.HTTPError as exc:
            raise ToolError(f"Cal.com could not be reached ({type(exc).__name__})") from None
        if r.status_code in (401, 403):
            raise ToolError("Cal.com rejected the API key (booking.calcom_api_key)")
        try:
            body = r.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        return r.status_code, body

    async def slots(self, first: dt.date, last: dt.date, tz: dt.tzinfo
                    ) -> dict[dt.date, list[dt.datetime]]:
        """The event type's free starts from `first` to `last`, by day, in `tz`."""
        status, body = await self._call("GET", "/slots", _SLOTS_VERSION, params={
            "eventTypeId": self.event_type_id, "start": first.isoformat(),
            "end": last.isoformat(), "timeZone": self.zone})
        if status == 404:
            raise ToolError(f"Cal.com has no event type {self.event_type_id} for this key")
        data = body.get("data")
        if status != 200 or not isinstance(data, dict):
            raise ToolError(f"Cal.com answered the slots request with {status}")
        out: dict[dt.date, list[dt.datetime]] = {}
        for day_slots in data.values():
            for slot in day_slots if isinstance(day_slots, list) else []:
                start = slot.get("start") if isinstance(slot, dict) else None
                try:
                    at = dt.datetime.fromisoformat(str(start).replace("Z", "+00:00"))
                except ValueError:
                    continue
                if at.tzinfo is None:
                    continue
                at = at.astimezone(tz)
                out.setdefault(at.date(), []).append(at)
        return {d: sorted(v) for d, v in out.items()}

    async def book(self, at: dt.datetime, name: str, email: str, notes: str
                   ) -> dict[str, Any]:
        """A booking for `at`: Cal.com's record of it ({"uid", "status": "accepted" or
        "pending"...}). Raises Taken when the time is no longer free."""
        payload: dict[str, Any] = {
            "start": at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "eventTypeId": self.event_type_id,
            "attendee": {"name": name, "email": email, "timeZone": self.zone}}
        if notes:
            payload["bookingFieldsResponses"] = {"notes": notes}
        status, body = await self._call("POST", "/bookings", _BOOKINGS_VERSION, json=payload)
        data = body.get("data")
        if status in (200, 201) and isinstance(data, dict):
            return data
        if status in (400, 409):
            raise Taken()
        raise ToolError(f"Cal.com answered the booking with {status}")
