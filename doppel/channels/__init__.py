"""Where customers already are: the `Channel` extension point (doppel.channels.base), the
built-in channels — WhatsApp, Messenger and Instagram through Meta's Graph API, Telegram through
its Bot API — registered in `CHANNELS` as a third-party package's would be, and the hub that
receives, answers and sends for all of them (doppel.channels.hub)."""

from __future__ import annotations

from doppel.channels.base import (
    CHANNELS,
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
    split_text,
)
from doppel.channels.meta import Instagram, Messenger, WhatsApp
from doppel.channels.telegram import Telegram

__all__ = ["CHANNELS", "Channel", "ChannelContext", "ChannelError", "Control", "Delivery",
           "Event", "Incoming", "Link", "Pacing", "SendError", "Unauthorized", "split_text"]

for _channel in (WhatsApp(), Messenger(), Instagram(), Telegram()):
    if _channel.name not in CHANNELS:
        CHANNELS.register(_channel)
