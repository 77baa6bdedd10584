"""Telegram through the Bot API: anyone can try a channel with a bot from @BotFather.

- The webhook is registered by doppel (`setWebhook`) with a `secret_token` it generates; every
  delivery must carry it in `X-Telegram-Bot-Api-Secret-Token` (compared in constant time).
- `update_id` is the delivery's id (per bot, so it is stored with the agent's id): the same
  update twice is one turn.
- Private chats only: the user key is the chat id. Group chats, edits and service messages are
  ignored; a photo or a voice note gets "I can only read text".
- `sendMessage` takes at most 4096 characters; a 429 carries `parameters.retry_after`, which
  is honoured; 403 (the user blocked the bot) is final.

The bot token sits in the Bot API's URL path: it is never logged (doppel.channels.hub filters
httpx's log lines) and never shown again after it is saved.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from doppel.channels.base import (
    Channel,
    ChannelContext,
    ChannelError,
    Event,
    Incoming,
    Link,
    Pacing,
    SendError,
    Unauthorized,
)

__all__ = ["Telegram"]

TOKEN = "bot_token"
WEBHOOK_SECRET = "webhook_secret"


class Telegram(Channel):
    name = "telegram"
    title = "Telegram"
    max_chars = 4096
    # Telegram: about one message a second to one chat (short bursts are fine), 30 a second
    # per bot overall.
    pacing = Pacing(account_per_s=25.0, user_burst=3, user_interval_s=1.0)
    account_label = "Bot user name (filled in when the token is checked)"
    secrets: ClassVar[Mapping[str, str]] = {
        TOKEN: "The bot's token from @BotFather (123456789:AA…)"}
    setup = (
        "In Telegram, talk to @BotFather, send /newbot and follow its questions.",
        "Copy the token it gives you and paste it below.",
        "doppel checks the token and registers {webhook} with Telegram for you.",
        "Message your bot in Telegram: the agent answers.",
    )

    def _url(self, ctx: ChannelContext, token: str, method: str) -> str:
        return f"{ctx.settings.telegram_api_url.rstrip('/')}/bot{token}/{method}"

    async def _call(self, ctx: ChannelContext, method: str, payload: dict[str, Any]
                    ) -> dict[str, Any]:
        token = await ctx.secret(TOKEN)
        if not token:
            raise SendError("no bot token saved", permanent=True)
        try:
            response = await ctx.client.post(self._url(ctx, token, method), json=payload)
        except httpx.HTTPError as exc:
            raise SendError(f"Telegram could not be reached ({type(exc).__name__})",
                            retry_after=30) from None
        try:
            body: dict[str, Any] = response.json()
        except ValueError:
            body = {}
        if response.status_code == 200 and body.get("ok"):
            return body
        description = str(body.get("description") or f"HTTP {response.status_code}")[:200]
        if response.status_code == 429:
            after = (body.get("parameters") or {}).get("retry_after", 5)
            raise SendError(f"Telegram: {description}", code=429, retry_after=float(after))
        if response.status_code >= 500:
            raise SendError(f"Telegram: {description}", code=response.status_code,
                            retry_after=30)
        raise SendError(f"Telegram: {description}", code=response.status_code, permanent=True)

    async def authenticate(self, ctx: ChannelContext, headers: Mapping[str, str],
                           raw: bytes) -> None:
        expected = await ctx.secret(WEBHOOK_SECRET)
        given = headers.get("x-telegram-bot-api-secret-token", "")
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            raise Unauthorized("the Telegram secret token does not match")

    def parse(self, link: Link, body: Mapping[str, object]) -> list[Event]:
        update_id = body.get("update_id")
        message = body.get("message")
        if not isinstance(update_id, int) or not isinstance(message, dict):
            return []  # edits, channel posts, callbacks: nothing to answer
        chat = message.get("chat") or {}
        sender = message.get("from") or {}
        if chat.get("type") != "private" or sender.get("is_bot"):
            return []
        external = f"{link.agent_id}:{update_id}"
        user = str(chat.get("id"))
        text = message.get("text")
        if not isinstance(text, str):
            return [Incoming(external, user, "", "unsupported")]
        if text.strip().lower() in ("/start", "/help"):
            text = "Hello"  # the first thing a Telegram user sends: greet them
        return [Incoming(external, user, text)]

    async def send(self, ctx: ChannelContext, link: Link, user_key: str, text: str) -> str:
        body = await self._call(ctx, "sendMessage", {"chat_id": user_key, "text": text})
        return str((body.get("result") or {}).get("message_id", ""))

    async def check(self, ctx: ChannelContext, link: Link) -> str:
        try:
            body = await self._call(ctx, "getMe", {})
        except SendError as exc:
            if exc.code is None and exc.retry_after is not None:  # not an answer from Telegram
                raise ChannelError(f"{exc.reason}: try again in a moment") from None
            why = exc.reason.removeprefix("Telegram: ")
            raise ChannelError(f"Telegram rejected the token: {why}") from None
        username = str((body.get("result") or {}).get("username") or "")
        return f"@{username}" if username else "the bot"

    async def connect(self, ctx: ChannelContext, link: Link, webhook_url: str) -> None:
        secret = await ctx.secret(WEBHOOK_SECRET)
        try:
            await self._call(ctx, "setWebhook", {
                "url": webhook_url, "secret_token": secret,
                "allowed_updates": ["message"], "drop_pending_updates": False})
        except SendError as exc:
            why = exc.reason.removeprefix("Telegram: ")
            raise ChannelError(f"Telegram did not accept the webhook: {why}") from None

    async def disconnect(self, ctx: ChannelContext, link: Link) -> None:
        try:
            await self._call(ctx, "deleteWebhook", {})
        except SendError:
            pass  # the token may be revoked already: the link goes either way
