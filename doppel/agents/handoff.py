"""A person takes the conversation, replies, and hands it back.

A conversation is held by the agent, by nobody yet (`waiting_for_human`: a person was asked
for) or by a person (`human`: the owner replied from the console). It goes to a person when
the customer asks for one (in any wording; the chat page's button sends such a message), when
the message is about a subject the owner keeps for people (`handoff.topics`: "refunds"), after
`handoff_after_dont_knows` don't-knows in a row, and when a booking or an order look-up
fails. The customer is told what to expect (the owner's `handoff.reply_time`, the contact's
hours), and the owner is notified: the console's inbox counts it, an e-mail goes out when
SMTP is configured, and the transcript, the reason and a summary wait in the console.

While a person has the conversation the agent says nothing: each message is recorded (path
`handoff`, empty answer) for the person to read. The owner hands back explicitly, or the agent
takes the conversation back after `handoff_timeout_min` without a reply from a person; either
way the customer is told that the automated assistant is back.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import re
import smtplib
import time
from email.message import EmailMessage

from doppel.agents.repo import Agent
from doppel.agents.secrets import SecretStore
from doppel.agents.turn import PASS_ON, Answer, Outcome, Turn
from doppel.config import Settings
from doppel.language.words import stem
from doppel.net import FetchError, SafeFetcher, sign_body

__all__ = ["BACK_NOTICE", "WEBHOOK_SECRET", "Held", "Notifier", "Person", "asks_for_person",
           "handoff_notice"]

WEBHOOK_SECRET = "handoff.webhook_secret"


log = logging.getLogger(__name__)

BACK_NOTICE = "You're chatting with the automated assistant again."

_PERSON = (r"(real |actual |live |a )?(person|human|human being|somebody|someone|people|owner|"
           r"manager|staff|team member|agent|representative|rep|operator|customer service)")
_ASKS = re.compile(
    rf"\b((talk|speak|chat|connect|transfer|put me through)\s+(me\s+)?(to|with)\s+(a |an |the |"
    rf"your |some )?{_PERSON})\b|"
    rf"\b(can|could|may)\s+i\s+(have|get)\s+(a |an |the )?{_PERSON}\b|"
    rf"\b(get|give)\s+me\s+(a |an |the )?{_PERSON}\b|"
    rf"\b(is there|are you)\s+(a\s+)?(real\s+)?(person|human)\b|"
    rf"\b(human|real person|live agent|representative),?\s*(please|pls|now)\b|"
    rf"\b(actual|real|live)\s+(human|person|people)\b|"
    rf"\bnot\s+(a|an|the|this|some)\s+(chat\s*bot|bot|robot|machine|ai|computer)\b|"
    # "can I speak to Priya?", "get me Deb", "I want to speak to Dr Raman directly"
    rf"\b(speak|talk|put me through|transfer me|connect me)\s+(to|with)\s+"
    rf"(dr\.?\s+|mr\.?\s+|mrs\.?\s+|ms\.?\s+)?"
    rf"(?!(you|u|ya|it|them|this|that|a|an|the|some|your|anyone|about|my|our)\b)[^\W\d_]+"
    rf"(\s+(please|pls|directly|now|today))?(\s*[?.!]*$|\s+about\b)|"
    rf"\b(don'?t|do not)\s+want\s+(to\s+(chat|talk|speak)\s+(to|with)\s+)?(a |an |the |this "
    rf")?(chat\s*bot|bot|robot|machine|ai)\b|"
    rf"\bget\s+me\s+(dr\.?\s+)?(?-i:[A-Z][a-z]+)\b"
    rf"(?=\s*([?.!,]|$|please\b|pls\b|now\b|at\b|from\b|on\b))|"
    rf"^\W*(human|agent|operator|representative|real person)\W*$", re.I)


def asks_for_person(message: str) -> bool:
    """The customer asks for a person: "can I talk to a real person?", "human please"."""
    return bool(_ASKS.search(message))


def _about_topic(message: str, topics: list[str]) -> str | None:
    words = {stem(w) for w in re.findall(r"[a-z]+", message.lower())}
    for topic in topics:
        wanted = {stem(w) for w in re.findall(r"[a-z]+", topic.lower())}
        if wanted and wanted <= words:
            return topic
    return None


def handoff_notice(agent: Agent) -> str:
    """What the customer is told when a person is asked for."""
    spec = agent.spec
    who = spec.contact.name or f"the {spec.name} team"
    when = spec.handoff.reply_time.strip().rstrip(".")
    hours = f" (we're around {spec.contact.hours})" if spec.contact.hours else ""
    expect = f" {when[:1].upper() + when[1:]}{hours}." if when else (
        f" They'll reply here as soon as they can{hours}.")
    return (f"I've asked a person from {who} to take over.{expect} You can keep writing "
            f"here; they'll see the whole conversation.")


class Held:
    """While a person has the conversation (or one was asked for) the agent stays silent; a
    person who has not replied within the timeout gives it back to the agent."""

    name = "held"

    async def run(self, turn: Turn) -> Outcome:
        conversations = turn.runtime.conversations
        holder = await asyncio.to_thread(conversations.holder, turn.conversation_id)
        if holder.state == "agent":
            return PASS_ON
        limit = dt.timedelta(minutes=turn.runtime.settings.handoff_timeout_min)
        since = _parse(holder.since)
        if since is not None and turn.runtime.now() - since > limit:
            await asyncio.to_thread(conversations.set_holder, turn.conversation_id, "agent",
                                    "timeout")
            await asyncio.to_thread(conversations.add_message, turn.conversation_id,
                                    turn.agent.id, "notice", BACK_NOTICE)
            turn.reports["handoff"] = {"returned": "timeout"}
            return PASS_ON
        return Answer("", "handoff", {"handoff": {"held_by": holder.state}})


class Person:
    """The customer asks for a person, or writes about a subject a person always handles."""

    name = "person"

    async def run(self, turn: Turn) -> Outcome:
        policy = turn.agent.spec.handoff
        if not policy.enabled:
            return PASS_ON
        reason = ("the customer asked for a person" if asks_for_person(turn.message) else
                  (f"about {topic}" if (topic := _about_topic(turn.message, policy.topics))
                   else ""))
        if not reason:
            return PASS_ON
        # Awaited before anything is said. A person asked for is given even when a shield
        # blocked the message ("a real person about a no-show charge on my card"): the person
        # reads it, the agent writes nothing from it, and a distressed customer is not refused.
        if await turn.screened() is not None and not asks_for_person(turn.message):
            return PASS_ON  # a subject of the owner's in a blocked message: `screen` refuses
        return turn.hand_off(reason, handoff_notice(turn.agent))


def _parse(stamp: str | None) -> dt.datetime | None:
    if not stamp:
        return None
    try:
        return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None


class Notifier:
    """Tells an owner that something waits for them: by e-mail when SMTP is configured, and to
    the owner's webhook (signed JSON, through the SSRF-safe fetcher); the console's People tab
    shows it either way. Never raises: a notification that fails is logged."""

    # Per agent and hour: notifications carry customers' text to an address the owner chose;
    # a flood of messages must not make the operator's mail server a relay.
    PER_HOUR = 60

    def __init__(self, settings: Settings, secrets: SecretStore | None = None) -> None:
        self.settings = settings
        self.secrets = secrets
        self.sent = 0
        self._recent: dict[int, list[float]] = {}

    def _allowed(self, agent: Agent) -> bool:
        now = time.monotonic()
        recent = [t for t in self._recent.get(agent.id, []) if now - t < 3600]
        self._recent[agent.id] = recent
        if len(recent) >= self.PER_HOUR:
            log.warning("notifications for agent %s held back: %d in the last hour",
                        agent.slug, len(recent))
            return False
        recent.append(now)
        return True

    async def notify(self, agent: Agent, subject: str, body: str) -> None:
        if not self._allowed(agent):
            return
        to = agent.spec.handoff.notify_email
        if self.settings.smtp_host and to:
            try:
                await asyncio.to_thread(self._send, to, f"[{agent.spec.name}] {subject}", body)
                self.sent += 1
            except (OSError, smtplib.SMTPException) as exc:
                log.warning("notification e-mail for agent %s not sent: %s", agent.slug,
                            type(exc).__name__)
        if agent.spec.handoff.webhook_url:
            await asyncio.to_thread(self._post, agent, subject, body)

    def _post(self, agent: Agent, subject: str, body: str) -> None:
        secret = self.secrets.get(agent.id, WEBHOOK_SECRET) if self.secrets else None
        if not secret:
            log.warning("webhook for agent %s not called: no %s set", agent.slug,
                        WEBHOOK_SECRET)
            return
        payload = json.dumps({"agent": agent.slug, "subject": subject, "text": body,
                              "at": dt.datetime.now(dt.UTC).isoformat()}).encode()
        stamp = str(int(time.time()))
        try:
            with SafeFetcher(self.settings) as fetcher:
                fetcher.check_private_channel(agent.spec.handoff.webhook_url)
                fetcher.post(agent.spec.handoff.webhook_url, payload, headers={
                    "Content-Type": "application/json", "X-Doppel-Timestamp": stamp,
                    "X-Doppel-Signature": sign_body(secret, stamp, payload)}, accept=None)
            self.sent += 1
        except FetchError as exc:
            log.warning("webhook for agent %s failed: %s", agent.slug, exc)

    def _send(self, to: str, subject: str, body: str) -> None:
        s = self.settings
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = s.smtp_from, to, subject
        message.set_content(body)
        with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=10) as smtp:
            if s.smtp_starttls:
                smtp.starttls()
            if s.smtp_user:
                smtp.login(s.smtp_user, s.smtp_password)
            smtp.send_message(message)
