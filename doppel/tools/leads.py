"""`lead_capture`: a customer who wants a quote, a call back or a wholesale price leaves their
name, a way to reach them and what they need; the owner gets it in the console's leads list
and a notification."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from doppel.tools.base import NoSettings, Tool, ToolContext, ToolResult
from doppel.tools.fields import contact_in, name_in, valid_contact

__all__ = ["LeadCapture", "LeadArguments"]


class LeadArguments(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=80, description="The customer's name.")
    contact: str = Field(min_length=5, max_length=120,
                         description="An e-mail address or phone number to reach them.")
    need: str = Field(min_length=3, max_length=1000, description="What they need, in their "
                      "words.")

    @field_validator("contact")
    @classmethod
    def _contact(cls, value: str) -> str:
        if not valid_contact(value):
            raise ValueError("give an e-mail address or a phone number")
        return value.strip()

    @field_validator("name", "need")
    @classmethod
    def _text(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("must not be empty")
        return value


_WANTS = re.compile(
    r"\b(quote|estimate|call me( back)?|ring me|get back to me|contact me|reach me|email me|"
    r"e-mail me|text me|callback|call back|sales rep|someone (to )?"
    r"(call|contact|email|reach)|have (someone|somebody) (call|contact|email)|get in touch|"
    r"waitlist|wait list|waiting list|interest list|mailing list|"
    r"interested in (a|an|your|setting up)\b[^?.!]{0,40}"
    r"\b(account|partnership|stocking|carrying|working)|trade account|wholesale account)\b",
    re.I)
# "What's the minimum for a wholesale order?" asks for information the content may hold; a
# lead is someone who wants to be contacted or quoted.
_INFO = re.compile(r"(?:^|[.!?]\s*)\W*(what|what's|whats|how|when|where|which|who|is|are|"
                   r"does|do you (have|offer|sell|do))\b", re.I)
_CONTACT_ME = re.compile(r"\b(quote|estimate|call me|ring me|contact me|reach me|email me|"
                         r"e-mail me|text me|get back to me|call back|callback|get in touch)\b",
                         re.I)
# Only what the customer says about their need counts as the need: not "hi", not the contact.
_FILLER = re.compile(r"^\s*(hi|hello|hey|yes|sure|ok|okay|thanks)\b[\s,!.]*", re.I)


class LeadCapture(Tool):
    name = "lead_capture"
    description = ("Take a customer's name, contact and need (a quote, a call back, a "
                   "wholesale enquiry) and pass it to the owner.")
    Arguments = LeadArguments
    Settings = NoSettings
    default = True
    examples = ("can I get a quote for a bathroom refit?", "can someone call me back?",
                "I'd like an estimate", "do you do wholesale? I run a shop",
                "please have the owner contact me", "I want a price for a large order")

    def wants(self, message: str) -> bool:
        """Asks to be contacted or quoted, or leaves a name and a contact with a request."""
        if self.declines(message):
            return False
        return bool(_WANTS.search(message)) or bool(
            contact_in(message) and name_in(message) and len(message.split()) >= 8)

    def declines(self, message: str) -> bool:
        return bool(_INFO.search(message)) and not _CONTACT_ME.search(message)

    def fill(self, message: str, now: dt.datetime, known: Mapping[str, Any]
             ) -> dict[str, Any]:
        out = dict(known)
        if (contact := contact_in(message)) is not None:
            out["contact"] = contact
        if (name := name_in(message)) is not None:
            out["name"] = name
        if "need" not in out:
            need = _FILLER.sub("", message).strip()
            if len(need) >= 3 and not (contact and need.replace(contact, "").strip(" ,.") in (
                    "", name or "")):
                out["need"] = need
        return out

    def ask(self, missing: Sequence[str], settings: BaseModel) -> str:
        if "need" in missing:
            return "Happy to pass this on — what do you need, in a sentence or two?"
        return ("I can pass this to the team. What's your name, and the best e-mail or phone "
                "number to reach you?")

    async def run(self, ctx: ToolContext, args: LeadArguments, settings: NoSettings
                  ) -> ToolResult:
        with ctx.db.transaction() as tx:
            cur = tx.execute("INSERT INTO leads(agent_id, conversation_id, name, contact, need) "
                             "VALUES (?, ?, ?, ?, ?) RETURNING id",
                             (ctx.agent_id, ctx.conversation_id, args.name, args.contact,
                              args.need))
            lead_id = int(cur.fetchone()[0])
        if ctx.notify is not None:
            await ctx.notify(f"New lead: {args.name}",
                             f"{args.name} ({args.contact}) asked: {args.need}")
        text = (f"Thanks, {args.name} — I've passed your request to {ctx.agent_name}. "
                f"They'll get back to you at {args.contact}.")
        return ToolResult("ok", text, (f"{args.name} {args.contact}",),
                          {"lead_id": lead_id})
