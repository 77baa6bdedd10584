"""Meta's messaging platforms — WhatsApp Cloud API, Messenger, Instagram Messaging — as one thin
adapter on httpx over the Graph API.

What the three share:
- the webhook's GET verification (`hub.mode=subscribe`, `hub.verify_token`, `hub.challenge`);
- `X-Hub-Signature-256`: HMAC-SHA256 of the raw body under the app secret, compared in
  constant time before anything is parsed;
- the Graph API at the operator's `graph_api_url` (never an owner's URL), the owner's access
  token in an `Authorization: Bearer` header (never in a URL, so never in a log line);
- a 24-hour customer-service window from the customer's last message;
- Graph errors read by code: rate limits are retried later (4, 17, 32, 613, 80007, 130429,
  131056), the closed window holds the reply for the owner (131047), a bad token or recipient
  is final.

User keys: WhatsApp's business-scoped user id (BSUID, `user_id`) when the payload carries one,
else `wa_id`; Messenger's page-scoped id (PSID); Instagram's scoped id (IGSID).

A message the owner sends from the Page inbox or the WhatsApp Business app arrives as an echo
(`is_echo`, `smb_message_echoes`): a person has taken over. doppel's own messages carry
metadata "doppel" in their echoes, and are skipped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from doppel.channels.base import (
    Channel,
    ChannelContext,
    ChannelError,
    Control,
    Delivery,
    Event,
    Incoming,
    Link,
    Pacing,
    SendError,
    Unauthorized,
)

__all__ = ["PAGE_INBOX_APP_ID", "Instagram", "Messenger", "WhatsApp"]

ACCESS_TOKEN = "access_token"
APP_SECRET = "app_secret"
VERIFY_TOKEN = "verify_token"
OURS = "doppel"  # the metadata doppel's own Messenger messages carry, seen again in echoes
# The Page Inbox's app id in Meta's handover protocol: passing the thread to it puts the
# conversation in the owner's inbox.
PAGE_INBOX_APP_ID = 263902037430900

_RATE_LIMITED = {4, 17, 32, 613, 80007, 130429, 131056}
_OUTSIDE_WINDOW = {131047, 10}  # 10 with subcode 2018278: Messenger's "outside the window"
_TEMPORARY = {1, 2, 131000, 131016}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _items(value: object) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


class _Meta(Channel):
    window = dt.timedelta(hours=24)
    secrets: ClassVar[Mapping[str, str]] = {
        ACCESS_TOKEN: "A long-lived access token (a system user's, or the Page's)",
        APP_SECRET: "Your Meta app's App Secret (App settings › Basic)",
        VERIFY_TOKEN: "A verify token you choose (left empty, doppel makes one)",
    }
    optional_secrets = frozenset({VERIFY_TOKEN})

    def handshake(self, params: Mapping[str, str], verify_token: str | None) -> str | None:
        if params.get("hub.mode") != "subscribe" or not verify_token:
            return None
        if not hmac.compare_digest(params.get("hub.verify_token", "").encode(),
                                   verify_token.encode()):
            return None
        return params.get("hub.challenge", "")

    async def authenticate(self, ctx: ChannelContext, headers: Mapping[str, str],
                           raw: bytes) -> None:
        secret = await ctx.secret(APP_SECRET)
        given = headers.get("x-hub-signature-256", "")
        if not secret or not given.startswith("sha256="):
            raise Unauthorized("missing X-Hub-Signature-256")
        expected = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(given.removeprefix("sha256=").encode(), expected.encode()):
            raise Unauthorized("X-Hub-Signature-256 does not verify")

    async def _graph(self, ctx: ChannelContext, method: str, path: str,
                     payload: dict[str, Any] | None = None,
                     params: dict[str, str] | None = None) -> dict[str, Any]:
        token = await ctx.secret(ACCESS_TOKEN)
        if not token:
            raise SendError("no access token saved", permanent=True)
        url = f"{ctx.settings.graph_api_url.rstrip('/')}/{path.lstrip('/')}"
        try:
            response = await ctx.client.request(
                method, url, json=payload, params=params,
                headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError as exc:
            raise SendError(f"Meta could not be reached ({type(exc).__name__})",
                            retry_after=30) from None
        try:
            body: dict[str, Any] = response.json()
        except ValueError:
            body = {}
        if response.status_code < 400 and "error" not in body:
            return body
        found = body.get("error")
        error: dict[str, Any] = found if isinstance(found, dict) else {}
        code = error.get("code") if isinstance(error.get("code"), int) else None
        subcode = error.get("error_subcode")
        reason = f"Meta: {str(error.get('message') or f'HTTP {response.status_code}')[:200]}"
        if code in _OUTSIDE_WINDOW and (code != 10 or subcode == 2018278):
            raise SendError(reason, code=code, outside_window=True)
        if code in _RATE_LIMITED or response.status_code == 429:
            raise SendError(reason, code=code, retry_after=60)
        if code in _TEMPORARY or response.status_code >= 500:
            raise SendError(reason, code=code, retry_after=30)
        raise SendError(reason, code=code, permanent=True)

    async def check(self, ctx: ChannelContext, link: Link) -> str:
        try:
            body = await self._graph(ctx, "GET", link.account, params={"fields": self._fields})
        except SendError as exc:
            if exc.code is None and exc.retry_after is not None:  # not an answer from Meta
                raise ChannelError(f"{exc.reason}: try again in a moment") from None
            why = exc.reason.removeprefix("Meta: ")
            raise ChannelError(f"Meta rejected the token: {why}") from None
        name = next((str(body[f]) for f in self._fields.split(",") if body.get(f)), "")
        return name or link.account

    _fields: ClassVar[str] = "name"


class WhatsApp(_Meta):
    name = "whatsapp"
    title = "WhatsApp"
    max_chars = 4096
    # 80 messages a second per business number; to one customer, about one every 6 seconds
    # over time (error 131056 beyond it), a short burst being fine.
    pacing = Pacing(account_per_s=80.0, user_burst=5, user_interval_s=6.0)
    account_label = "Phone number ID (WhatsApp › API Setup)"
    _fields = "verified_name,display_phone_number"
    setup = (
        "In Meta for Developers, open your app and add the WhatsApp product.",
        "Under WhatsApp › API Setup, copy the Phone number ID and paste it below, with a "
        "permanent access token (a system user's) and the app's App Secret.",
        "Under WhatsApp › Configuration › Webhook, paste {webhook} as the callback URL and "
        "the verify token doppel shows you, then subscribe to the messages field (and "
        "smb_message_echoes if you also answer from the WhatsApp Business app).",
        "Send a WhatsApp message to the business number: the agent answers.",
    )

    def parse(self, link: Link, body: Mapping[str, object]) -> list[Event]:
        events: list[Event] = []
        for entry in _items(body.get("entry")):
            for change in _items(entry.get("changes")):
                value = change.get("value") if isinstance(change.get("value"), dict) else {}
                assert isinstance(value, dict)
                metadata = value.get("metadata") or {}
                if str(metadata.get("phone_number_id", "")) != link.account:
                    continue  # another number of the same business account
                field = change.get("field")
                if field == "messages":
                    events += self._messages(value)
                elif field == "smb_message_echoes":
                    for echo in _items(value.get("message_echoes")):
                        user = str(echo.get("to_user_id") or echo.get("to") or "")
                        text = _text((echo.get("text") or {}).get("body")) or ""
                        if user and echo.get("id"):
                            events.append(Incoming(str(echo["id"]), user, text, "owner"))
        return events

    def _messages(self, value: dict[str, Any]) -> list[Event]:
        events: list[Event] = []
        # The contact card links a phone number (wa_id) to its BSUID (user_id).
        bsuid = {str(c.get("wa_id")): str(c["user_id"]) for c in _items(value.get("contacts"))
                 if c.get("user_id") and c.get("wa_id")}
        only = [str(c["user_id"]) for c in _items(value.get("contacts")) if c.get("user_id")]
        for m in _items(value.get("messages")):
            phone = str(m.get("from") or "")
            user = str(m.get("from_user_id") or bsuid.get(phone) or (
                only[0] if len(only) == 1 and not phone else "") or phone)
            if not user or not m.get("id"):
                continue
            kind = m.get("type")
            if kind == "text":
                text = _text((m.get("text") or {}).get("body")) or ""
            elif kind == "button":
                text = _text((m.get("button") or {}).get("text")) or ""
            elif kind == "interactive":
                reply = (m.get("interactive") or {})
                chosen = reply.get("button_reply") or reply.get("list_reply") or {}
                text = _text(chosen.get("title")) or ""
            else:
                events.append(Incoming(str(m["id"]), user, "", "unsupported"))
                continue
            events.append(Incoming(str(m["id"]), user, text))
        for s in _items(value.get("statuses")):
            errors = _items(s.get("errors"))
            code = errors[0].get("code") if errors else None
            events.append(Delivery(str(s.get("id", "")), str(s.get("status", "")),
                                   code if isinstance(code, int) else None,
                                   str(s.get("recipient_user_id") or s.get("recipient_id")
                                       or "")))
        return events

    async def send(self, ctx: ChannelContext, link: Link, user_key: str, text: str) -> str:
        # A BSUID ("US.13491208655302741918") is sent to as `recipient`, a phone as `to`.
        to = {"recipient": user_key} if "." in user_key else {"to": user_key}
        body = await self._graph(ctx, "POST", f"{link.account}/messages", {
            "messaging_product": "whatsapp", "recipient_type": "individual", **to,
            "type": "text", "text": {"body": text, "preview_url": False}})
        sent = _items(body.get("messages"))
        return str(sent[0].get("id", "")) if sent else ""


class Messenger(_Meta):
    name = "messenger"
    title = "Messenger"
    max_chars = 2000
    pacing = Pacing(account_per_s=40.0, user_burst=5, user_interval_s=1.0)
    account_label = "Facebook Page ID"
    _fields = "name"
    _object: ClassVar[str] = "page"
    setup = (
        "In Meta for Developers, open your app and add the Messenger product; connect your "
        "Facebook Page and generate a Page access token.",
        "Paste the Page ID, the Page access token and the app's App Secret below.",
        "Under Messenger › Webhooks, paste {webhook} as the callback URL and the verify "
        "token doppel shows you; subscribe the Page to messages, message_echoes, "
        "messaging_handovers, message_deliveries and message_reads.",
        "In the Page's settings, make this app the primary receiver and the Page Inbox the "
        "secondary one: when a customer asks for a person the conversation moves to your "
        "inbox, and comes back when you mark it done.",
    )

    def parse(self, link: Link, body: Mapping[str, object]) -> list[Event]:
        if body.get("object") != self._object:
            return []
        events: list[Event] = []
        for entry in _items(body.get("entry")):
            if str(entry.get("id", "")) != link.account:
                continue
            # `standby`: messages while another app (the Page Inbox) holds the thread; they
            # are recorded for the person, never answered (the conversation is held).
            for ev in _items(entry.get("messaging")) + _items(entry.get("standby")):
                events += self._event(ev, link)
        return events

    def _event(self, ev: dict[str, Any], link: Link) -> list[Event]:
        sender = str((ev.get("sender") or {}).get("id", ""))
        recipient = str((ev.get("recipient") or {}).get("id", ""))
        message = ev.get("message")
        if isinstance(message, dict):
            mid = str(message.get("mid", ""))
            if not mid:
                return []
            if message.get("is_echo"):
                if message.get("metadata") == OURS:
                    return []
                return [Incoming(mid, recipient, _text(message.get("text")) or "", "owner")]
            text = _text(message.get("text"))
            if text is None:
                return [Incoming(mid, sender, "", "unsupported")]
            return [Incoming(mid, sender, text)]
        postback = ev.get("postback")
        if isinstance(postback, dict) and postback.get("mid"):
            return [Incoming(str(postback["mid"]), sender,
                             _text(postback.get("title")) or _text(postback.get("payload"))
                             or "")]
        delivery = ev.get("delivery")
        if isinstance(delivery, dict):
            return [Delivery(str(mid), "delivered", None, sender)
                    for mid in delivery.get("mids") or []]
        if isinstance(ev.get("read"), dict):
            return [Delivery("", "read", None, sender)]
        if isinstance(ev.get("pass_thread_control"), dict):
            return [Control(sender, "agent")]  # the inbox gave the conversation back
        if isinstance(ev.get("take_thread_control"), dict):
            return [Control(sender, "human")]  # a person took it in the inbox
        return []

    async def send(self, ctx: ChannelContext, link: Link, user_key: str, text: str) -> str:
        body = await self._graph(ctx, "POST", f"{link.account}/messages", {
            "recipient": {"id": user_key}, "messaging_type": "RESPONSE",
            "message": {"text": text, "metadata": OURS}})
        return str(body.get("message_id", ""))

    async def hand_over(self, ctx: ChannelContext, link: Link, user_key: str,
                        to_person: bool) -> None:
        if to_person:
            await self._graph(ctx, "POST", f"{link.account}/pass_thread_control", {
                "recipient": {"id": user_key}, "target_app_id": PAGE_INBOX_APP_ID,
                "metadata": "a customer asked for a person"})
        else:
            await self._graph(ctx, "POST", f"{link.account}/take_thread_control", {
                "recipient": {"id": user_key}, "metadata": "handed back to the agent"})


class Instagram(Messenger):
    name = "instagram"
    title = "Instagram"
    max_chars = 1000
    account_label = "Instagram professional account ID"
    _fields = "username,name"
    _object = "instagram"
    setup = (
        "Connect your Instagram professional account to a Facebook Page, and in Meta for "
        "Developers add Instagram messaging to your app.",
        "Paste the Instagram account ID, the Page access token and the app's App Secret "
        "below.",
        "Under Webhooks › Instagram, paste {webhook} as the callback URL and the verify token "
        "doppel shows you; subscribe to messages, messaging_handover and "
        "message_reactions.",
        "In the Instagram app, turn on Settings › Messages › Connected tools, then DM the "
        "account: the agent answers.",
    )

    async def send(self, ctx: ChannelContext, link: Link, user_key: str, text: str) -> str:
        body = await self._graph(ctx, "POST", f"{link.account}/messages", {
            "recipient": {"id": user_key}, "message": {"text": text}})
        return str(body.get("message_id", ""))
