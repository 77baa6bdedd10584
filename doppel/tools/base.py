"""What an agent can do besides answering from its content: the `Tool` extension point.

A tool is a Python object with a name, a description, a pydantic model of its arguments (its
JSON Schema is what a model that calls tools natively is shown), a pydantic model of the
settings an owner gives it in `agent.yaml`, and an async `run` that returns a `ToolResult`:
the sentence the customer is told and the facts that sentence states. Built-ins register in
`TOOLS` exactly as a third-party package's tool does, through the `doppel.tools` entry-point
group::

    # pyproject.toml of a package `doppel-weather`
    [project.entry-points."doppel.tools"]
    weather = "doppel_weather:Weather"      # a Tool instance, or a class built with no arguments

How a turn uses tools (doppel.agents.acting): the embedded 135M model cannot choose tools
reliably, so a tool is chosen by its rule (`wants`) and by meaning (its `examples`, compared
with the message on the embedder); its arguments are read from the message by `fill`
(rules; a remote model fills them from the schema), validated by `Arguments`, and a missing one
is asked for (`ask`) and filled from the customer's next message. Bad arguments never reach
`run`. What `run` returns is evidence: its `facts` join the turn's grounding evidence, and
every call (arguments, result, latency, error) is stored with the turn.
"""

from __future__ import annotations

import abc
import copy
import datetime as dt
import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from doppel import config
from doppel.config import Settings
from doppel.knowledge.index import Passage
from doppel.registry import Registry
from doppel.store import Database

__all__ = ["TOOLS", "NoArguments", "NoSettings", "Tool", "ToolContext", "ToolError",
           "ToolResult", "ToolStatus"]

ToolStatus = Literal["ok", "needs_input", "refused", "failed"]


class NoArguments(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")


def arguments_schema(arguments: type[BaseModel]) -> dict[str, Any]:
    """A tool's JSON Schema for its arguments: pydantic builds it anew on every call (~0.7 ms),
    and a turn that offers tools to a model asks for every tool's; built once per class."""
    return copy.deepcopy(_schema(arguments))


@functools.cache
def _schema(arguments: type[BaseModel]) -> dict[str, Any]:
    return arguments.model_json_schema()


class ToolError(Exception):
    """A tool could not do its work (its service is down, answered badly, timed out). The
    message is for the owner's log, never for the customer."""


@dataclass(frozen=True)
class ToolResult:
    """What a tool did.

    status: ok (done), needs_input (an argument is missing or must be corrected: `text` asks
    for it), refused (not allowed: unverified, a busy slot; `text` says so), failed (the
    service failed: `text` is an honest sentence, and `handoff` may give the conversation to a
    person).
    text: what the customer is told, in the agent's voice.
    facts: the lines the text's prices, times and names come from (grounding evidence).
    data: the structured result, stored with the call (never shown to the customer as such).
    """

    status: ToolStatus
    text: str
    facts: tuple[str, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)
    handoff: str = ""                  # a reason: a person should take the conversation
    passages: tuple[Passage, ...] = ()  # the owner's content the answer cites


@dataclass
class ToolContext:
    """What a tool may see of the turn: the agent (id, name, contact), the local time in the
    business's time zone, its content (through `search`), the store, and the settings."""

    agent_id: int
    agent_slug: str
    agent_name: str
    contact: str                      # how to reach a person, as a sentence's end ("" if none)
    now: dt.datetime                  # aware, in the business's time zone
    settings: Settings
    db: Database
    conversation_id: int
    thread: str
    search: Callable[[str, int], Sequence[Passage]]
    # The agent's secrets for this tool (an HMAC key): set by the owner, never shown again.
    secret: Callable[[str], str | None] = lambda _name: None
    notify: Callable[[str, str], Awaitable[None]] | None = None  # (subject, body) to the owner
    # The document injection scan: for each text, the spans that read as instructions to an AI
    # (text a tool brings in from outside, a web page, passes it as documents do).
    scan: Callable[[list[str]], list[list[list[float]]]] | None = None


class Tool(abc.ABC):
    """One thing an agent can do. Subclasses set the class attributes and `run`; `wants`,
    `fill` and `ask` have useful defaults."""

    name: ClassVar[str]
    description: ClassVar[str]          # for the owner, and for a model that calls tools
    Arguments: ClassVar[type[BaseModel]] = NoArguments
    Settings: ClassVar[type[BaseModel]] = NoSettings
    # What customers say when they need this tool: the router compares a message with these by
    # meaning. Phrasings, not keywords.
    examples: ClassVar[tuple[str, ...]] = ()
    default: ClassVar[bool] = False     # on for an agent whose agent.yaml does not list tools
    timeout_s: ClassVar[float] = 5.0

    def wants(self, message: str) -> bool:
        """A sure sign in the message that this tool is needed (a rule); the router also
        compares the message with `examples` by meaning."""
        return False

    def declines(self, message: str) -> bool:
        """The message is surely not for this tool, however near its meaning is to the
        examples: the router never chooses it by meaning then."""
        return False

    def declines_at(self, message: str, now: dt.datetime) -> bool:
        """`declines`, knowing the moment: a tool whose decision depends on the day (is the
        day named today's?) overrides this."""
        return self.declines(message)

    def fill(self, message: str, now: dt.datetime, known: Mapping[str, Any]
             ) -> dict[str, Any]:
        """The arguments the message gives, read by rules, merged over `known` (what earlier
        messages of the conversation gave). Values are validated by `Arguments` afterwards."""
        return dict(known)

    def examples_for(self, settings: BaseModel) -> tuple[str, ...]:
        """The phrasings the router compares a message with, for an agent's settings (a tool
        whose uses the owner configures, such as `mcp`, lists the owner's)."""
        return self.examples

    def arguments(self, message: str, now: dt.datetime, known: Mapping[str, Any],
                  settings: BaseModel) -> dict[str, Any]:
        """The arguments for this agent's settings: `fill`'s, unless the tool needs the
        settings to read them."""
        return self.fill(message, now, known)

    def ask(self, missing: Sequence[str], settings: BaseModel) -> str:
        """The question that asks the customer for the missing arguments."""
        return f"Could you tell me your {' and '.join(m.replace('_', ' ') for m in missing)}?"

    @abc.abstractmethod
    async def run(self, ctx: ToolContext, args: Any, settings: Any) -> ToolResult | None:
        """Do it. `args` is a validated `Arguments`, `settings` a validated `Settings`.
        None: the tool has nothing to say after all (no catalog item matches), and the turn
        goes on to the content's answers. Raise ToolError when the service behind the tool
        fails; the turn goes on honestly."""

    def schema(self) -> dict[str, Any]:
        """The OpenAI tool definition (type function) of this tool."""
        return {"type": "function", "function": {
            "name": self.name, "description": self.description,
            "parameters": arguments_schema(self.Arguments)}}

    async def functions(self, settings: BaseModel, operator: config.Settings, agent_slug: str
                        ) -> list[dict[str, Any]]:
        """The functions a model that calls tools natively sees for this tool: its `schema`,
        or several when the agent's settings name several uses (`mcp`: one per server tool,
        with the server's own JSON Schema)."""
        return [self.schema()]

    def from_function(self, name: str, arguments: Mapping[str, Any], settings: BaseModel
                      ) -> dict[str, Any] | None:
        """This tool's arguments for a call of one of its `functions` (None: not one)."""
        return dict(arguments) if name == self.name else None


TOOLS: Registry[Tool] = Registry("tool", "doppel.tools", accepts=lambda o: isinstance(o, Tool))
