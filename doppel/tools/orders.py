"""`order_status`: an order's status from the owner's own system, only for a customer who
proved it is theirs (the order number and the e-mail it was placed with).

doppel calls the owner's HTTPS endpoint (set by the owner, fetched through the SSRF-safe
fetcher: a private or loopback address is refused unless the operator allow-lists it) with a
JSON body, signed with HMAC-SHA256 under a secret the owner sets (never shown again)::

    POST <endpoint>
    X-Doppel-Timestamp: 1773072000
    X-Doppel-Signature: sha256=<hex of HMAC(secret, timestamp + "." + body)>
    {"order": "1042", "email": "sam@example.com"}

    200 {"found": true, "order": "1042", "email": "sam@example.com", "status": "shipped",
         (the order and e-mail echoed: an answer without them is treated as not found)
         "carrier": "UPS", "tracking": "1Z...", "eta": "2027-03-12", "items": ["..."]}
    200 {"found": false}   (or 404)

The endpoint must check that the e-mail is the order's; doppel checks it again on the answer
and says nothing of an order whose e-mail is not the one the customer gave. Unknown order and
wrong e-mail get the same sentence, so order numbers cannot be probed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from doppel.net import FetchError, SafeFetcher, sign_body
from doppel.tools.base import Tool, ToolContext, ToolError, ToolResult
from doppel.tools.fields import EMAIL, valid_email

__all__ = ["OrderArguments", "OrderSettings", "OrderStatus"]

SECRET = "order_status.secret"  # the name of the agent's secret that signs requests
MAX_FAILED_LOOKUPS = 5  # per conversation: then a person takes over


class OrderSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    endpoint: str = Field("", max_length=2000, pattern=r"^(https?://\S+)?$",
                          description="The owner's HTTPS endpoint that answers order look-ups "
                          "(see doppel.tools.orders).")


class OrderArguments(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{1,39}$",
                       description="The order number.")
    email: str = Field(max_length=254, description="The e-mail address the order was "
                       "placed with.")

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not valid_email(value):
            raise ValueError("give the e-mail address the order was placed with")
        return value.strip().lower()


_WANTS = re.compile(r"\b(where('?s| is) my (order|package|parcel|delivery)|order status|"
                    r"(did|has|have|is) my (order|package|parcel|delivery) (ship|shipped|"
                    r"arrive|arrived|come|gone out|go out|been sent|left|on its way)|"
                    r"(i|we) (ordered|placed an order)\b.*\b(hasn'?t|has not|not yet|still|"
                    r"never|didn'?t) (come|arrived?|turned up|shown up|got here|been delivered)|"
                    r"(i|we) (ordered|placed an order)\b.*\b(havent|haven'?t|have not|still "
                    r"not|didn'?t|never) (gotten|got|received|had)\b|"
                    r"status of my order|track(ing)? (my )?(order|package|parcel)|has my "
                    r"(order|package|parcel) (shipped|been sent|arrived)|my order\b.*\b(arrive|"
                    r"ship|sent|come|late)|\border\s*(number|no\.?|#)?\s*(is\s*)?#?\s*[A-Za-z]{0,4}-?\d{3,})",
                    re.I)
_ORDER = re.compile(r"(?:order|#|no\.?|number|num)\s*(?:number|no\.?|#)?\s*"
                    r"(?:'s|’s|is|was|=|:)?\s*#?\s*([A-Za-z]{0,4}-?\d{3,12})\b", re.I)
_BARE_NUMBER = re.compile(r"^\s*#?([A-Za-z]{0,4}-?\d{3,12})\b")
# An order code anywhere in the message: capitals then digits ("has BL-2763 been delivered?",
# "MR-2304"); a phone number or a postcode has no such shape.
_CODE = re.compile(r"\b([A-Z]{1,4}-?\d{3,12})\b")
_STATUS_WORDS = {"received": "has been received and is being prepared",
                 "packed": "is packed and waiting for the carrier",
                 "shipped": "has shipped", "delivered": "has been delivered",
                 "cancelled": "was cancelled"}


class OrderStatus(Tool):
    name = "order_status"
    description = ("Check an order's status in the owner's order system, after the customer "
                   "gives the order number and the e-mail it was placed with.")
    Arguments = OrderArguments
    Settings = OrderSettings
    default = False
    timeout_s = 8.0
    examples = ("where is my order?", "has my order shipped yet", "can you check my order "
                "status", "my package hasn't arrived", "tracking number for order 1042?")

    def wants(self, message: str) -> bool:
        return bool(_WANTS.search(message))

    def fill(self, message: str, now: dt.datetime, known: Mapping[str, Any]
             ) -> dict[str, Any]:
        out = dict(known)
        if (m := EMAIL.search(message)) is not None:
            out["email"] = m.group(0)
        text = EMAIL.sub(" ", message)
        m = _ORDER.search(text) or _BARE_NUMBER.match(text) or _CODE.search(text)
        if m is not None:
            out["order"] = m.group(1).lstrip("#")
        return out

    def ask(self, missing: Sequence[str], settings: BaseModel) -> str:
        if set(missing) >= {"order", "email"}:
            return ("I can check that. What's your order number, and the e-mail address you "
                    "ordered with?")
        if "order" in missing:
            return "What's the order number? It's in your confirmation e-mail."
        return ("Thanks. To keep your order private, what's the e-mail address you placed it "
                "with?")

    async def run(self, ctx: ToolContext, args: OrderArguments, settings: OrderSettings
                  ) -> ToolResult:
        secret = ctx.secret(SECRET)
        if not settings.endpoint or not secret:
            raise ToolError("order_status has no endpoint or no signing secret")
        failures = ctx.db.connect().execute(
            "SELECT COUNT(*) FROM tool_calls c JOIN turns t ON t.id = c.turn_id WHERE "
            "t.conversation_id = ? AND c.tool = 'order_status' AND c.status = 'refused'",
            (ctx.conversation_id,)).fetchone()[0]
        if failures >= MAX_FAILED_LOOKUPS:
            # Order numbers are not to be walked through: a person takes it from here.
            return ToolResult("refused", "I can't look up more orders in this conversation. "
                              "I've asked a person from the team to help you.", (),
                              {"found": False, "limit": MAX_FAILED_LOOKUPS},
                              handoff="order look-ups that did not match, repeatedly")
        body = json.dumps({"order": args.order, "email": args.email}).encode()
        stamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", "X-Doppel-Timestamp": stamp,
                   "X-Doppel-Signature": sign_body(secret, stamp, body)}

        def call() -> tuple[int, bytes]:
            with SafeFetcher(ctx.settings) as fetcher:
                try:
                    fetcher.check_private_channel(settings.endpoint)
                    result = fetcher.post(settings.endpoint, body, headers=headers)
                except FetchError as exc:
                    if exc.status == 404:
                        return 404, b""
                    raise ToolError(f"order endpoint: {exc}") from None
                return result.status, result.data

        status, data = await asyncio.to_thread(call)
        record: dict[str, Any] = {}
        if status != 404:
            try:
                loaded = json.loads(data)
            except ValueError:
                raise ToolError("order endpoint answered with invalid JSON") from None
            if not isinstance(loaded, dict):
                raise ToolError("order endpoint answered with something other than an object")
            record = loaded
        # The answer must name the order and the e-mail asked about: an endpoint that answers
        # for another order (or none) says nothing of it here.
        same = (record.get("found") is True
                and str(record.get("order", "")).lstrip("#").lower() == args.order.lower()
                and str(record.get("email", "")).strip().lower() == args.email)
        if not same:
            return ToolResult("refused", (
                f"I couldn't find an order {args.order} with that e-mail address. Could you "
                f"check both against your confirmation e-mail?"), (f"Order {args.order}",),
                {"found": False})
        return _answer(args, record)


def _day(value: str) -> str:
    """An ISO date as a customer reads it ("Thursday 18 March 2027"); anything else as given.
    A bare 2027-03-18 also reads to the output shields like a phone number."""
    try:
        day = dt.date.fromisoformat(value[:10])
    except ValueError:
        return value
    return f"{day:%A} {day.day} {day:%B %Y}" + value[10:]


def _answer(args: OrderArguments, record: Mapping[str, Any]) -> ToolResult:
    status = str(record.get("status", "")).strip().lower()
    said = _STATUS_WORDS.get(status, f"is {status}" if status else "is in our system")
    parts = [f"Your order {args.order} {said}."]
    facts = [f"Order {args.order}: {status}"]
    carrier, tracking, eta = (str(record.get(k, "") or "").strip()
                              for k in ("carrier", "tracking", "eta"))
    if status in ("shipped", "packed") and (carrier or tracking):
        via = f" with {carrier}" if carrier else ""
        number = f", tracking number {tracking}" if tracking else ""
        parts.append(f"It's travelling{via}{number}.")
        facts.append(f"Carrier: {carrier}; tracking: {tracking}")
    if eta and status not in ("delivered", "cancelled"):
        eta = _day(eta)
        parts.append(f"Expected delivery: {eta}.")
        facts.append(f"Expected delivery: {eta}")
    keep = {k: record[k] for k in ("status", "carrier", "tracking", "eta") if k in record}
    return ToolResult("ok", " ".join(parts), tuple(facts), {"found": True, **keep})
