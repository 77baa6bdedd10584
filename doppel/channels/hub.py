"""The hub: deliveries in, turns, replies out — the same for every channel.

In: a webhook delivery is authenticated by its channel, parsed into events, and each customer
message is written to `channel_inbound` (unique per channel and message id) *before* any work;
the request is answered at once and the turn runs in the background. The same delivery twice,
or two at once, inserts one row: one turn, one reply.

The turn is the web chat's (shields, grounding, tools, handoff) on the thread
`channel:<channel>:<user>`; one customer's messages are answered in order. The reply's parts
(split at the channel's limit) and the message's new state are written in one transaction.

Out: the outbox sender sends what is due, in order per customer, paced per business account
and per customer, outside the customer-service window never (the reply is held for the owner),
and retries temporary failures with backoff (the platform's retry_after wins). A restart
answers messages received but not answered and sends replies not sent: nothing is lost.

A person: when a turn hands off, the channel's handover protocol moves the thread to the
platform's inbox (Messenger, Instagram); a message the owner sends from the platform's own app
means a person has the conversation; a reply from the console's People tab goes out through
the outbox; handing back tells the customer.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime as dt
import json
import logging
import os
import re
import secrets as token_source
import socket
import time
from collections.abc import Coroutine, Mapping
from typing import Any

import httpx

from doppel.agents.conversations import ConversationRepo
from doppel.agents.handoff import BACK_NOTICE
from doppel.agents.repo import Agent, AgentRepo
from doppel.agents.runtime import AgentRuntime
from doppel.channels.base import (
    CHANNELS,
    Channel,
    ChannelContext,
    ChannelError,
    Control,
    Delivery,
    Incoming,
    Link,
    SendError,
    secret_name,
    split_text,
)
from doppel.channels.store import ChannelStore, OutboxRow, thread_of
from doppel.config import Settings
from doppel.errors import NotFoundError, ValidationError
from doppel.store import Lease

__all__ = ["UNSUPPORTED", "ChannelHub"]

log = logging.getLogger(__name__)

UNSUPPORTED = "Sorry, I can only read text messages here. Could you type your question?"
TROUBLE = ("Sorry, I couldn't answer that just now. I've passed your message to a person, who "
           "will reply here.")
_ACCOUNT = re.compile(r"^[0-9]{1,32}$")


class _RedactTokens(logging.Filter):
    """httpx logs each request's URL at INFO; a Telegram URL holds the bot's token."""

    _BOT = re.compile(r"/bot[0-9]+:[A-Za-z0-9_-]+/")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = record.getMessage()
            record.args = ()
        record.msg = self._BOT.sub("/bot<redacted>/", str(record.msg))
        return True


_FILTER = _RedactTokens()


class ChannelHub:
    """One per server process: receives, answers and sends for every agent's channels."""

    def __init__(self, settings: Settings, agents: AgentRepo, runtime: AgentRuntime,
                 client: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self.agents = agents
        self.runtime = runtime
        self.conversations: ConversationRepo = runtime.conversations
        self.store = ChannelStore(runtime.index.db)
        self._client = client
        self._own_client = client is None
        self._locks: dict[tuple[int, str, str], asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake: asyncio.Event | None = None
        self._sender: asyncio.Task[None] | None = None
        self._buckets: dict[tuple[Any, ...], tuple[float, float]] = {}
        # Turns at once: a burst of deliveries waits here (recorded, acknowledged), not in the
        # model's queue, which would refuse it.
        self._slots: asyncio.Semaphore | None = None
        # The acknowledgement path never waits behind turns: deliveries are written by their
        # own thread, many in one transaction when they arrive together (group commit), and
        # an agent's link and secrets are read once a few seconds, not per delivery.
        self._intake = concurrent.futures.ThreadPoolExecutor(1, "doppel-intake")
        self._batch: list[tuple[int, str, list[Incoming], asyncio.Future[list[int]]]] = []
        self._auth: dict[tuple[int, str], tuple[float, Channel, Link, dict[str, str]]] = {}
        # One process of an installation answers and sends (`doppel serve --workers N`: every
        # worker acknowledges and records, the one holding the store's "channels" lease does
        # the rest, and another takes over when it dies): no message is answered twice, no
        # reply sent twice. On SQLite the lease is channels.lock beside the database; on
        # PostgreSQL an advisory lock, which holds across hosts.
        self._lease: Lease | None = None
        self._active: set[int] = set()
        # The leader's doorbell: a Unix datagram socket that the other processes ring when
        # they record a message or queue a reply, so the leader looks at once instead of
        # within channel_poll_s. A ring carries nothing; the tables are the truth.
        self._bell: socket.socket | None = None
        self._ringer: socket.socket | None = None
        self.tried = asyncio.Event()  # set after the first try to lead
        self._loop: asyncio.AbstractEventLoop | None = None
        logging.getLogger("httpx").addFilter(_FILTER)

    # --- life ---------------------------------------------------------------------------
    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0),
                                             follow_redirects=False)
        return self._client

    async def start(self, answer: bool | None = None) -> None:
        """Lead when no other process does: answer what a previous run left unanswered, then
        answer and send as messages come. answer=False (default: the channel_answers
        setting): only acknowledge and record, a `doppel channels work` process answers."""
        self._wake = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._slots = asyncio.Semaphore(self.settings.channel_concurrency)
        if self.settings.channel_answers if answer is None else answer:
            self._sender = asyncio.ensure_future(self._run())

    @property
    def leading(self) -> bool:
        return self._lease is not None

    def _try_lead(self) -> bool:
        if self._lease is None:
            self._lease = self.store.db.try_lead("channels")
        return self._lease is not None

    async def _run(self) -> None:
        while True:
            while not await asyncio.to_thread(self._try_lead):
                self.tried.set()
                await asyncio.sleep(self.LEAD_RETRY_S)  # another process answers and sends
            self._listen()
            self.tried.set()
            if not self._active:  # (leading again after a lost lease: its own work goes on)
                for inbound_id in await asyncio.to_thread(self.store.unfinished):
                    self._spawn(self._process(inbound_id))
            await self._send_loop()  # returns when the lease is lost
            log.warning("channels: this process lost its lease (the database connection that "
                        "held it ended); it stops sending until it leads again")
            self._lease = None

    LEAD_RETRY_S = 5.0

    async def stop(self) -> None:
        if self._sender is not None:
            self._sender.cancel()
            await asyncio.gather(self._sender, return_exceptions=True)
            self._sender = None
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=10)
        if self._own_client and self._client is not None:
            await self._client.aclose()
            self._client = None
        self._auth.clear()
        if self._bell is not None:
            asyncio.get_running_loop().remove_reader(self._bell.fileno())
            self._bell.close()
            self._bell = None
            with contextlib.suppress(OSError):
                os.unlink(self._doorbell() or "")
        if self._ringer is not None:
            self._ringer.close()
            self._ringer = None
        if self._lease is not None:
            self._lease.release()
            self._lease = None

    async def settle(self, timeout: float = 30.0) -> None:
        """Wait until received messages are answered and due replies sent (tests, the CLI)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._tasks:
                await asyncio.wait(list(self._tasks), timeout=deadline - time.monotonic())
                continue
            await self.flush()
            if not self._tasks and not await asyncio.to_thread(
                    self.store.due, dt.datetime.now(dt.UTC), 1):
                return
            await asyncio.sleep(0.05)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def wake(self) -> None:
        """Something to do (a message recorded, a reply queued): the leader looks now; in
        another process, the leader's doorbell rings. Callable from any thread (a person's
        reply is queued from a worker thread)."""
        if not self.leading:
            self._ring()
            return
        if self._wake is None or self._loop is None:
            return
        try:
            here = asyncio.get_running_loop()
        except RuntimeError:
            here = None
        if here is self._loop:
            self._wake.set()
        else:
            self._loop.call_soon_threadsafe(self._wake.set)

    def _doorbell(self) -> str | None:
        """The doorbell's path; None where it cannot be bound (AF_UNIX paths are limited to
        about a hundred bytes): the leader then finds work within channel_poll_s."""
        path = str(self.settings.home / "channels.sock")
        return path if hasattr(socket, "AF_UNIX") and len(os.fsencode(path)) < 100 else None

    def _listen(self) -> None:
        """The leader's end: bound by the process holding channels.lock only, so replacing a
        dead leader's socket file races with no one."""
        path = self._doorbell()
        if path is None or self._bell is not None:
            return
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        bell = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            bell.bind(path)
            os.chmod(path, 0o600)
        except OSError as exc:
            bell.close()
            log.warning("channels: no doorbell (%s); polling every %s s", exc.strerror,
                        self.settings.channel_poll_s)
            return
        bell.setblocking(False)
        asyncio.get_running_loop().add_reader(bell.fileno(), self._rung)
        self._bell = bell

    def _rung(self) -> None:
        assert self._bell is not None
        with contextlib.suppress(OSError):  # BlockingIOError: drained
            while self._bell.recv(16):
                pass
        if self._wake is not None:
            self._wake.set()

    def _ring(self) -> None:
        path = self._doorbell()
        if path is None:
            return
        if self._ringer is None:
            self._ringer = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self._ringer.setblocking(False)
        with contextlib.suppress(OSError):  # no leader listening, or its queue is full: it
            self._ringer.sendto(b"!", path)  # polls, or is awake already

    def channel(self, name: str) -> Channel:
        if name not in CHANNELS:
            raise NotFoundError(f"no channel {name!r} (known: {', '.join(CHANNELS.names())})")
        return CHANNELS.get(name)

    def context(self, agent_id: int, channel: str,
                pending: Mapping[str, str] | None = None) -> ChannelContext:
        secrets = self.runtime.secrets

        async def secret(name: str) -> str | None:
            if pending and name in pending:
                return pending[name]
            return await asyncio.to_thread(secrets.get, agent_id, name)

        return ChannelContext(self.settings, self.client, channel, secret)

    # --- in -----------------------------------------------------------------------------
    def _link(self, agent: Agent, name: str) -> tuple[Channel, Link]:
        channel = self.channel(name)
        link = self.store.link(agent.id, name)
        if link is None or not link.enabled:
            raise NotFoundError(f"{channel.title} is not connected to this agent")
        return channel, link

    async def handshake(self, agent: Agent, name: str, params: Mapping[str, str]) -> str | None:
        channel, link = await asyncio.to_thread(self._link, agent, name)
        token = await self.context(agent.id, name).secret("verify_token")
        return channel.handshake(params, token)

    AUTH_TTL_S = 5.0

    def forget(self, agent_id: int, name: str) -> None:
        """The link or its secrets changed (in this process; others see it within
        AUTH_TTL_S)."""
        self._auth.pop((agent_id, name), None)

    def _authority(self, agent: Agent, name: str) -> tuple[Channel, Link, dict[str, str]]:
        channel, link = self._link(agent, name)
        prefix = f"channel_{name}."
        secrets = {n: v for n in (prefix + k for k in (*channel.secrets, "webhook_secret"))
                   if (v := self.runtime.secrets.get(agent.id, n)) is not None}
        return channel, link, secrets

    async def receive(self, agent: Agent, name: str, headers: Mapping[str, str],
                      raw: bytes) -> int:
        """One webhook delivery: authenticated (raises Unauthorized), recorded, answered in
        the background. The number of new customer messages."""
        key, now = (agent.id, name), time.monotonic()
        cached = self._auth.get(key)
        if cached is None or now - cached[0] > self.AUTH_TTL_S:
            loop = asyncio.get_running_loop()
            found = await loop.run_in_executor(self._intake, self._authority, agent, name)
            cached = (now, *found)
            self._auth[key] = cached
        _, channel, link, secrets = cached
        await channel.authenticate(self.context(agent.id, name, secrets), headers, raw)
        try:
            body = json.loads(raw)
        except ValueError:
            raise ValidationError("the body is not JSON") from None
        if not isinstance(body, dict):
            raise ValidationError("the body is not a JSON object")
        events = channel.parse(link, body)
        incoming = [e for e in events if isinstance(e, Incoming)]
        new = await self._record(agent.id, name, incoming) if incoming else []
        for event in events:
            if isinstance(event, Delivery):
                await asyncio.to_thread(self._delivered, agent, name, event)
            elif isinstance(event, Control):
                await asyncio.to_thread(self._control, agent, link, event)
        if self.leading:
            for inbound_id in new:
                self._spawn(self._process(inbound_id))
        elif new:
            self._ring()  # the leading process answers them
        return len(new)

    async def _record(self, agent_id: int, name: str, events: list[Incoming]) -> list[int]:
        """Written before the delivery is acknowledged, with whatever else arrived meanwhile
        in one transaction."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[list[int]] = loop.create_future()
        self._batch.append((agent_id, name, events, done))
        if len(self._batch) == 1:
            loop.call_soon(self._write_batch, loop)
        return await done

    def _write_batch(self, loop: asyncio.AbstractEventLoop) -> None:
        batch, self._batch = self._batch, []

        def write() -> list[list[int]]:
            return self.store.record_many([(a, n, e) for a, n, e, _ in batch])

        def settle(result: concurrent.futures.Future[list[list[int]]]) -> None:
            error = result.exception()
            for i, (*_, future) in enumerate(batch):
                if future.done():
                    continue
                if error is not None:
                    future.set_exception(error)
                else:
                    future.set_result(result.result()[i])

        running = self._intake.submit(write)
        running.add_done_callback(lambda f: loop.call_soon_threadsafe(settle, f))

    def _delivered(self, agent: Agent, name: str, event: Delivery) -> None:
        if event.status == "read" and not event.external_id:
            self.store.read_all(agent.id, name, event.user_key)
            return
        outbox_id = self.store.delivered(name, event.external_id, event.status)
        if outbox_id is not None and event.status == "failed":
            window = event.error_code == 131047
            self.store.give_up(outbox_id, "held" if window else "failed",
                               f"the platform did not deliver it (error {event.error_code})")
            if window:
                self._wait_for_person(agent, name, event.user_key,
                                      "the reply could not be delivered: the customer-service "
                                      "window had closed")

    def _control(self, agent: Agent, link: Link, event: Control) -> None:
        conversation_id = self.conversations.get_or_create(
            agent.id, thread_of(link.channel, event.user_key))
        if event.holder == "human":
            self.conversations.move_to(conversation_id, "human",
                                       "a person took the conversation in the inbox")
        elif self.conversations.move_to(conversation_id, "agent", "handed back in the inbox"):
            self.conversations.add_message(conversation_id, agent.id, "notice", BACK_NOTICE)
            self.store.enqueue(agent.id, link.channel, event.user_key, conversation_id,
                               "notice", [BACK_NOTICE])
            self.wake()

    async def _process(self, inbound_id: int) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.settings.channel_concurrency)
        self._active.add(inbound_id)
        try:
            async with self._slots:
                await self._process_one(inbound_id)
        finally:
            self._active.discard(inbound_id)

    async def _process_one(self, inbound_id: int) -> None:
        row = await asyncio.to_thread(self.store.claim, inbound_id)
        if row is None:
            return  # another request or worker has it
        agent = await asyncio.to_thread(self.agents.by_id, row.agent_id)
        link = await asyncio.to_thread(self.store.link, row.agent_id, row.channel)
        if agent is None or link is None or row.channel not in CHANNELS:
            await asyncio.to_thread(self.store.finish, inbound_id, "ignored", None, None, [])
            return
        channel = CHANNELS.get(row.channel)
        lock = self._locks.setdefault((row.agent_id, row.channel, row.user_key), asyncio.Lock())
        async with lock:  # one customer's messages in order
            await self._answer(agent, link, channel, row.id, row.user_key, row.kind, row.text,
                               row.external_id)
        self.wake()

    async def _answer(self, agent: Agent, link: Link, channel: Channel, inbound_id: int,
                      user: str, kind: str, text: str, external_id: str) -> None:
        thread = thread_of(link.channel, user)
        conversation_id = await asyncio.to_thread(self.conversations.get_or_create, agent.id,
                                                  thread)
        store = self.store
        if kind == "owner":
            # The owner wrote to the customer from the platform's own app: a person has it.
            if not await asyncio.to_thread(store.is_ours, link.channel, external_id):
                await asyncio.to_thread(self.conversations.add_message, conversation_id,
                                        agent.id, "human", text, f"the owner, on {channel.title}")
                await asyncio.to_thread(self.conversations.set_holder, conversation_id, "human",
                                        f"the owner replied on {channel.title}")
            await asyncio.to_thread(store.finish, inbound_id, "ignored", conversation_id, None,
                                    [])
            return
        # The customer wrote: the service window is open again for a person's held replies.
        await asyncio.to_thread(store.release_held, agent.id, link.channel, user)
        if kind == "unsupported":
            await asyncio.to_thread(store.finish, inbound_id, "answered", conversation_id, None,
                                    [("reply", UNSUPPORTED)], link, user)
            return
        try:
            result = await self.runtime.turn(agent, text, thread)
        except ValidationError as exc:  # too long, invalid Unicode: say so, in the channel
            await asyncio.to_thread(store.finish, inbound_id, "answered", conversation_id, None,
                                    [("reply", f"Sorry, I couldn't read that message: {exc}.")],
                                    link, user)
            return
        except Exception as exc:  # the model or the store failed: a person is told, not lost
            log.error("channel message %s of agent %s not answered: %s", inbound_id, agent.slug,
                      type(exc).__name__)
            await asyncio.to_thread(store.finish, inbound_id, "held", conversation_id, None,
                                    [("reply", TROUBLE)], link, user)
            await asyncio.to_thread(self._wait_for_person, agent, link.channel, user,
                                    "the agent could not answer a message")
            return
        if result.id == 0:  # "forget me": the conversation is gone, the confirmation is sent
            await asyncio.to_thread(store.finish, inbound_id, "answered", None, None,
                                    [("reply", p) for p in split_text(plain(result.answer),
                                                                      channel.max_chars)],
                                    link, user)
            return
        if result.path == "handoff" and not result.answer.strip():
            # a person has the conversation: recorded for them, nothing said
            await asyncio.to_thread(store.finish, inbound_id, "held", conversation_id,
                                    result.id, [])
            return
        replies = [("reply", p) for p in split_text(plain(result.answer), channel.max_chars)]
        if result.path == "handoff":
            replies.append(("control", "pass"))  # the platform's inbox gets the thread
        await asyncio.to_thread(store.finish, inbound_id, "answered", conversation_id,
                                result.id, replies, link, user)

    def _wait_for_person(self, agent: Agent, channel: str, user: str, reason: str) -> None:
        conversation_id = self.conversations.get_or_create(agent.id, thread_of(channel, user))
        if self.conversations.holder(conversation_id).state == "agent":
            self.conversations.set_holder(conversation_id, "waiting_for_human", reason)

    # --- out ----------------------------------------------------------------------------
    async def _send_loop(self) -> None:
        """Answer and send until this process no longer holds the lease (checked once per
        poll interval, busy or idle: a PostgreSQL lease ends with its connection)."""
        assert self._wake is not None
        checked = time.monotonic()
        while True:
            if self._lease is not None and \
                    time.monotonic() - checked >= self.settings.channel_poll_s:
                checked = time.monotonic()
                if not await asyncio.to_thread(self._lease.held):
                    return
            try:
                # messages another process recorded (or one this process could not start)
                for inbound_id in await asyncio.to_thread(self.store.received):
                    if inbound_id not in self._active:
                        self._spawn(self._process(inbound_id))
                await self.flush()
            except Exception as exc:  # never let one bad row stop the sender
                log.error("channel outbox pass failed: %s", type(exc).__name__)
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.settings.channel_poll_s)
            except TimeoutError:
                pass

    async def flush(self) -> int:
        """Send what is due now; the number sent."""
        now = dt.datetime.now(dt.UTC)
        rows = await asyncio.to_thread(self.store.due, now)
        sent = 0
        waiting: set[tuple[int, str, str]] = set()
        for row in rows:
            key = (row.agent_id, row.channel, row.user_key)
            if key in waiting:
                continue  # an earlier message to this customer has not gone yet
            if await asyncio.to_thread(self.store.earlier_pending, row):
                waiting.add(key)
                continue
            if await self._send_one(row):
                sent += 1
            else:
                waiting.add(key)
        return sent

    async def _send_one(self, row: OutboxRow) -> bool:
        store = self.store
        link = await asyncio.to_thread(store.link, row.agent_id, row.channel)
        if link is None or not link.enabled or row.channel not in CHANNELS:
            await asyncio.to_thread(store.give_up, row.id, "failed", "the channel is not "
                                    "connected any more")
            return False
        channel = CHANNELS.get(row.channel)
        ctx = self.context(row.agent_id, row.channel)
        now = dt.datetime.now(dt.UTC)
        if row.kind != "control" and channel.window is not None and row.kind != "test":
            last = await asyncio.to_thread(store.last_inbound, row.agent_id, row.channel,
                                           row.user_key)
            if last is None or now - _when(last) > channel.window:
                await self._hold(row, f"outside {channel.title}'s customer-service window")
                return False
        wait = self._pace(channel, link, row.user_key)
        if wait > 0:
            await asyncio.to_thread(store.retry_later, row.id,
                                    now + dt.timedelta(seconds=wait))
            return False
        try:
            if row.kind == "control":
                await channel.hand_over(ctx, link, row.user_key, row.text == "pass")
                external = ""
            else:
                external = await channel.send(ctx, link, row.user_key, row.text)
        except SendError as exc:
            if exc.outside_window:
                await self._hold(row, exc.reason)
            elif exc.permanent or row.attempts + 1 >= self.settings.channel_max_attempts:
                await asyncio.to_thread(store.give_up, row.id, "failed", exc.reason)
                if row.kind != "control":
                    await self._tell_owner(row, f"A message could not be sent on "
                                           f"{channel.title}: {exc.reason}")
            else:
                backoff = min(3600.0, 2.0 ** (row.attempts + 1))
                await asyncio.to_thread(store.retry, row.id, exc.reason, now + dt.timedelta(
                    seconds=max(backoff, exc.retry_after or 0.0)))
            return False
        await asyncio.to_thread(store.sent, row.id, external, now)
        return True

    async def _hold(self, row: OutboxRow, reason: str) -> None:
        if row.kind == "notice":
            # "You're chatting with the assistant again" to a customer who has not written
            # for a day: worth nothing later, and no reason to call a person back to a
            # conversation they just handed back. Dropped, with the reason, on the console.
            await asyncio.to_thread(self.store.give_up, row.id, "failed",
                                    f"a notice, not sent: {reason}")
            return
        await asyncio.to_thread(self.store.give_up, row.id, "held", reason)
        agent = await asyncio.to_thread(self.agents.by_id, row.agent_id)
        if agent is not None and row.kind != "person":
            await asyncio.to_thread(self._wait_for_person, agent, row.channel, row.user_key,
                                    "a reply waits: " + reason)
        await self._tell_owner(row, f"A reply is waiting for you: {reason}. It goes out when "
                               f"the customer writes again, or answer them yourself.")

    async def _tell_owner(self, row: OutboxRow, text: str) -> None:
        agent = await asyncio.to_thread(self.agents.by_id, row.agent_id)
        if agent is not None:
            await self.runtime.notify(agent, "A channel message needs you", text)

    def _pace(self, channel: Channel, link: Link, user: str) -> float:
        """Seconds until one more message may go to this account and customer (0: now, and
        the message is counted)."""
        pacing, now = channel.pacing, time.monotonic()
        buckets = (((link.id,), max(1.0, pacing.account_per_s), pacing.account_per_s),
                   ((link.id, user), float(pacing.user_burst), 1.0 / pacing.user_interval_s))
        levels = []
        for key, capacity, rate in buckets:
            tokens, at = self._buckets.get(key, (capacity, now))
            levels.append((key, min(capacity, tokens + (now - at) * rate), rate))
        wait = max((1.0 - tokens) / rate for _, tokens, rate in levels)
        if wait > 0:
            return wait
        for key, tokens, _ in levels:
            self._buckets[key] = (tokens - 1.0, now)
        return 0.0

    # --- the owner ----------------------------------------------------------------------
    def webhook_url(self, agent: Agent, name: str, base: str = "") -> str:
        """The URL the platform posts to: on DOPPEL_PUBLIC_URL, else on `base` (the address
        the owner reached the console at)."""
        root = (self.settings.public_url or base).rstrip("/")
        return f"{root}/channels/{name}/{agent.slug}"

    async def connect(self, agent: Agent, name: str, account: str,
                      given: Mapping[str, str], base: str = "") -> dict[str, Any]:
        """Check the owner's credentials with the platform, register the webhook where doppel
        can, then save: a rejected token changes nothing. What to show the owner once."""
        channel = self.channel(name)
        stored = {n for n, _ in await asyncio.to_thread(self.runtime.secrets.names, agent.id)}
        pending: dict[str, str] = {}
        for key, label in channel.secrets.items():
            value = (given.get(key) or "").strip()
            if value:
                if not 16 <= len(value) <= 512:
                    raise ValidationError(f"{label}: 16 to 512 characters")
                pending[secret_name(name, key)] = value
            elif secret_name(name, key) not in stored and key not in channel.optional_secrets:
                raise ValidationError(f"give {label[:1].lower() + label[1:]} ({key})")
        shown: dict[str, str] = {}
        if "verify_token" in channel.secrets and secret_name(name, "verify_token") not in (
                pending.keys() | stored):
            shown["verify_token"] = pending[secret_name(name, "verify_token")] = (
                token_source.token_urlsafe(24))
        if name == "telegram":  # a fresh secret for the webhook each time it is registered
            pending[secret_name(name, "webhook_secret")] = token_source.token_urlsafe(32)
        account = account.strip()
        if channel.name != "telegram" and not _ACCOUNT.match(account):
            raise ValidationError(f"{channel.account_label}: the number Meta shows, digits only")
        webhook = self.webhook_url(agent, name, base)
        probe = Link(0, agent.id, name, account, True, "new", "")
        ctx = self.context(agent.id, name, pending)
        described = await channel.check(ctx, probe)  # ChannelError: shown to the owner
        if channel.name == "telegram":
            # (a local Bot API server, as in tests, may post to plain http)
            if not webhook.startswith("https://") and not (
                    self.settings.telegram_api_url.startswith("http://127.0.0.1")):
                raise ChannelError("Telegram delivers only to an https:// address: the operator "
                                   "sets the server's public address (DOPPEL_PUBLIC_URL)")
            account = described
        await channel.connect(ctx, probe, webhook)
        for key, value in pending.items():
            await asyncio.to_thread(self.runtime.secrets.set, agent.id, key, value)
        link = await asyncio.to_thread(self.store.save_link, agent.id, name, account, "ok",
                                       f"connected to {described}")
        self.forget(agent.id, name)
        return {"channel": name, "account": link.account, "status": link.status,
                "detail": link.status_detail, "webhook_url": webhook} | shown

    async def disconnect(self, agent: Agent, name: str) -> bool:
        channel = self.channel(name)
        link = await asyncio.to_thread(self.store.link, agent.id, name)
        if link is None:
            return False
        await channel.disconnect(self.context(agent.id, name), link)
        self.forget(agent.id, name)
        return await asyncio.to_thread(self.store.delete_link, agent.id, name)

    async def send_test(self, agent: Agent, name: str, to: str = "") -> dict[str, Any]:
        """A test message to a customer (the latest one when `to` is empty), sent now."""
        channel, link = await asyncio.to_thread(self._link, agent, name)
        if not to:
            recent = await asyncio.to_thread(self.store.recent_users, agent.id, name, 1)
            if not recent:
                raise ValidationError(f"nobody has written to the agent on {channel.title} yet: "
                                      f"send it a message first")
            to = recent[0]
        text = f"This is a test message from {agent.spec.name}'s assistant."
        try:
            external = await channel.send(self.context(agent.id, name), link, to, text)
        except SendError as exc:
            await asyncio.to_thread(self.store.set_status, link.id, "error", exc.reason)
            raise ChannelError(exc.reason) from None
        await asyncio.to_thread(self.store.set_status, link.id, "ok", f"test message sent to {to}")
        return {"to": to, "id": external}


_MARKS = re.compile(r"(?:\s+|(?<=[.!?,;:]))(?:\[\d{1,2}\])+(?=\s|$|[.,;:!?])")


def plain(text: str) -> str:
    """A reply as a messaging app shows it: the web chat's citation marks ("[1]") point at
    sources a chat bubble cannot show."""
    return _MARKS.sub("", text).strip()


def _when(stamp: str) -> dt.datetime:
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
