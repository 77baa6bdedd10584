"""The channel extension point: where customers already are (WhatsApp, Messenger, Instagram,
Telegram, or a third party's), behind one small interface.

A `Channel` turns a webhook delivery into events — a customer's message with a stable user key,
a message the owner sent from the platform's own inbox, a delivery status, a handover — and
sends text back. Everything else (recording each delivery once, the turn, the outbox, pacing,
retries, the customer-service window) is the hub's (doppel/channels/hub.py), the same for all
channels. Built-ins register in `CHANNELS` exactly as a package does through the
`doppel.channels` entry-point group::

    [project.entry-points."doppel.channels"]
    line = "doppel_line:LineChannel"

A channel never reads a secret other than its own (`ChannelContext.secret` is scoped to
`channel_<name>.`), and calls only the base URL the operator configured for it.
"""

from __future__ import annotations

import abc
import datetime as dt
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import ClassVar, Literal

import httpx

from doppel.config import Settings
from doppel.errors import DoppelError
from doppel.registry import Registry

__all__ = ["CHANNELS", "Channel", "ChannelContext", "ChannelError", "Control", "Delivery",
           "Event", "Incoming", "Link", "Pacing", "SendError", "Unauthorized", "secret_name",
           "split_text"]


@dataclass(frozen=True)
class Incoming:
    """A message from the customer (`message`), one the owner sent to the customer from the
    platform's own app (`owner`: a person has taken over), or one doppel cannot read yet
    (`unsupported`: a photo, a voice note)."""

    external_id: str
    user_key: str
    text: str
    kind: Literal["message", "owner", "unsupported"] = "message"


@dataclass(frozen=True)
class Delivery:
    """What became of a message doppel sent: sent, delivered, read or failed (with the
    platform's error code)."""

    external_id: str
    status: str
    error_code: int | None = None
    user_key: str = ""


@dataclass(frozen=True)
class Control:
    """The platform moved the conversation: to a person in its inbox, or back to the agent."""

    user_key: str
    holder: Literal["agent", "human"]


Event = Incoming | Delivery | Control


@dataclass(frozen=True)
class Link:
    """An agent's connection to a channel (a row of channel_links)."""

    id: int
    agent_id: int
    channel: str
    account: str
    enabled: bool
    status: str
    status_detail: str


@dataclass(frozen=True)
class Pacing:
    """How fast a channel may be written to: per business account (messages per second) and
    per customer (a bucket of `user_burst` messages refilled one per `user_interval_s`)."""

    account_per_s: float
    user_burst: int
    user_interval_s: float


class ChannelError(DoppelError):
    """A channel's platform refused a request while connecting or checking: the message is
    for the owner ("Meta rejected the token: …"), never for the customer."""


class Unauthorized(ChannelError):
    """A webhook delivery whose signature or secret does not verify: nothing is processed."""


class SendError(Exception):
    """A message could not be sent. `retry_after`: a temporary failure (rate limit, the
    platform down), try again then; `permanent`: never retry (blocked by the user, a bad
    recipient); `outside_window`: the customer-service window has closed, the reply waits for
    the owner."""

    def __init__(self, reason: str, *, code: int | None = None,
                 retry_after: float | None = None, permanent: bool = False,
                 outside_window: bool = False) -> None:
        super().__init__(reason)
        self.reason, self.code = reason, code
        self.retry_after, self.permanent = retry_after, permanent
        self.outside_window = outside_window


def secret_name(channel: str, name: str) -> str:
    """Where a channel's secret is stored among the agent's secrets."""
    return f"channel_{channel}.{name}"


@dataclass
class ChannelContext:
    """What a channel may use: the operator's settings, one HTTP client, and the agent's
    secrets for this channel only."""

    settings: Settings
    client: httpx.AsyncClient
    channel: str
    _secret: Callable[[str], Awaitable[str | None]]

    async def secret(self, name: str) -> str | None:
        return await self._secret(secret_name(self.channel, name))


class Channel(abc.ABC):
    """One messaging platform. Subclasses set the class attributes and implement
    `authenticate`, `parse` and `send`; the rest have defaults."""

    name: ClassVar[str]
    title: ClassVar[str]
    max_chars: ClassVar[int]
    # The customer-service window: free-form replies only this long after the customer's last
    # message (None: no window).
    window: ClassVar[dt.timedelta | None] = None
    pacing: ClassVar[Pacing] = Pacing(30.0, 20, 1.0)
    account_label: ClassVar[str] = "Account id"
    # The secrets an owner gives: name -> what it is (for the console and the CLI). Secrets
    # doppel generates itself (a Telegram webhook secret) are not listed.
    secrets: ClassVar[Mapping[str, str]] = {}
    optional_secrets: ClassVar[frozenset[str]] = frozenset()
    # Step-by-step setup for the console; {webhook} is the URL to paste.
    setup: ClassVar[tuple[str, ...]] = ()

    def handshake(self, params: Mapping[str, str], verify_token: str | None) -> str | None:
        """A GET on the webhook (Meta's verification): the text to answer, or None (403)."""
        return None

    @abc.abstractmethod
    async def authenticate(self, ctx: ChannelContext, headers: Mapping[str, str],
                           raw: bytes) -> None:
        """Raise Unauthorized unless the delivery is the platform's (signature, secret)."""

    @abc.abstractmethod
    def parse(self, link: Link, body: Mapping[str, object]) -> list[Event]:
        """Every event of a delivery, in order; those for another account are left out."""

    @abc.abstractmethod
    async def send(self, ctx: ChannelContext, link: Link, user_key: str, text: str) -> str:
        """Send one message (at most max_chars); the platform's id for it. Raises SendError."""

    async def hand_over(self, ctx: ChannelContext, link: Link, user_key: str,
                        to_person: bool) -> None:
        """Move the conversation to the platform's inbox (a person) or back to the agent,
        where the platform has a protocol for it. Raises SendError."""
        return None  # most platforms have none: the console's People tab is the inbox

    async def check(self, ctx: ChannelContext, link: Link) -> str:
        """Verify the owner's credentials with the platform: a line naming the account.
        Raises ChannelError with the platform's reason."""
        return link.account

    async def connect(self, ctx: ChannelContext, link: Link, webhook_url: str) -> None:
        """Register the webhook with the platform where doppel can (Telegram)."""
        return None  # Meta's webhooks are set up by the owner in the app dashboard

    async def disconnect(self, ctx: ChannelContext, link: Link) -> None:
        """Undo `connect`."""
        return None


def _is_channel(obj: object) -> bool:
    return isinstance(obj, Channel)


CHANNELS: Registry[Channel] = Registry("channel", "doppel.channels", _is_channel)


_BREAKS = (re.compile(r"\n\s*\n"), re.compile(r"\n"), re.compile(r"(?<=[.!?])\s+"),
           re.compile(r"\s+"))


def split_text(text: str, limit: int) -> list[str]:
    """Text in parts of at most `limit` characters, split at paragraphs, then lines, then
    sentences, then words; a word longer than the limit is cut."""
    text = text.strip()
    parts: list[str] = []
    while len(text) > limit:
        cut = -1
        for pattern in _BREAKS:
            ends = [m.start() for m in pattern.finditer(text, 0, limit + 1) if m.start() > 0]
            if ends:
                cut = ends[-1]
                break
        if cut <= 0:
            cut = limit
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        parts.append(text)
    return parts
