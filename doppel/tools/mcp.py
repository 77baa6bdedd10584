"""`mcp`: the owner's own systems as tools, through the Model Context Protocol (the official
`mcp` SDK, streamable HTTP or stdio).

The operator declares the MCP servers the installation may reach (`DOPPEL_MCP_SERVERS`, by
name: a URL, or a command for stdio, and the environment variable holding a token); an owner
never gives a URL or a command. An agent lists the server tools it uses, each with the
customer phrasings that call it (the embedded model routes by them) and, for that model, the
one text argument the customer's words fill; a remote model that calls tools natively fills
every argument from the tool's own JSON Schema. What the server returns is quoted as the
owner's system's answer: it is the evidence of the turn (a value it did not return is never
stated), and text that reads as instructions to an AI is dropped.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

from doppel import config
from doppel.config import MCPServer
from doppel.tools.base import Tool, ToolContext, ToolError, ToolResult

__all__ = ["MCP", "MCPArguments", "MCPSettings", "MCPToolRef", "list_server_tools"]

log = logging.getLogger(__name__)


class MCPToolRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    server: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,40}$",
                        description="A server the operator offers (DOPPEL_MCP_SERVERS).")
    tool: str = Field(min_length=1, max_length=64, description="The server's tool.")
    examples: list[str] = Field(default_factory=list, max_length=20,
                                description="What customers say when they need it.")
    argument: str = Field("", max_length=64, description="The text argument the customer's "
                          "message fills (for the embedded model); empty: none.")


class MCPSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tools: list[MCPToolRef] = Field(default_factory=list, max_length=20)


class MCPArguments(BaseModel):
    """Which server tool, and its arguments (validated by the server against its schema)."""

    model_config = ConfigDict(extra="forbid")

    server: str = Field(min_length=1, max_length=41)
    tool: str = Field(min_length=1, max_length=64)
    arguments: dict[str, Any] = Field(default_factory=dict)


@asynccontextmanager
async def _session(server: MCPServer) -> AsyncIterator[Any]:
    """An initialised client session with one server, over its transport."""
    from mcp import ClientSession

    if server.url:
        from mcp.client.streamable_http import streamable_http_client

        headers = {}
        if server.token_env and os.environ.get(server.token_env):
            headers["Authorization"] = f"Bearer {os.environ[server.token_env]}"
        async with httpx.AsyncClient(headers=headers, timeout=server.timeout_s,
                                     follow_redirects=False) as http, \
                streamable_http_client(server.url, http_client=http) as streams, \
                ClientSession(streams[0], streams[1]) as session:
            await session.initialize()
            yield session
        return
    from mcp.client.stdio import StdioServerParameters, stdio_client

    async with stdio_client(StdioServerParameters(command=server.command,
                                                  args=server.args)) as streams, \
            ClientSession(streams[0], streams[1]) as session:
        await session.initialize()
        yield session


async def _call(server: MCPServer, tool: str, arguments: dict[str, Any]) -> Any:
    async with _session(server) as session:
        return await session.call_tool(tool, arguments, dt.timedelta(seconds=server.timeout_s))


async def list_server_tools(server: MCPServer) -> list[dict[str, Any]]:
    """The server's tools with their JSON Schemas (for the console and for native tool calls)."""
    async with _session(server) as session:
        listed = await session.list_tools()
    return [{"name": t.name, "description": t.description or "",
             "parameters": t.inputSchema} for t in listed.tools]


# A server's tool list, kept a few minutes: a model that calls tools natively sees each server
# tool with its own schema, without a round trip to every server on every turn.
_LISTED: dict[str, tuple[float, list[dict[str, Any]]]] = {}
_LISTED_TTL_S = 300.0


async def _listed(name: str, server: MCPServer) -> list[dict[str, Any]]:
    now = time.monotonic()
    cached = _LISTED.get(name)
    if cached is None or now - cached[0] > _LISTED_TTL_S:
        cached = (now, await list_server_tools(server))
        _LISTED[name] = cached
    return cached[1]


def _function_name(ref: MCPToolRef) -> str:
    """OpenAI function names are ^[a-zA-Z0-9_-]{1,64}$."""
    return re.sub(r"[^a-zA-Z0-9_-]", "_", f"mcp_{ref.server}_{ref.tool}")[:64]


class MCP(Tool):
    name = "mcp"
    description = "The owner's own systems, as tools of their MCP servers."
    Arguments = MCPArguments
    Settings = MCPSettings
    default = False
    timeout_s = 10.0

    def examples_for(self, settings: BaseModel) -> tuple[str, ...]:
        assert isinstance(settings, MCPSettings)
        return tuple(e for ref in settings.tools for e in ref.examples)

    def arguments(self, message: str, now: dt.datetime, known: Mapping[str, Any],
                  settings: BaseModel) -> dict[str, Any]:
        """The server tool whose examples are nearest by words, with the message as its text
        argument (the router has already found the message near one of the examples)."""
        assert isinstance(settings, MCPSettings)
        if "tool" in known or not settings.tools:
            return dict(known)
        words = set(re.findall(r"[a-z]+", message.lower()))
        ref = max(settings.tools, key=lambda r: max(
            (len(words & set(re.findall(r"[a-z]+", e.lower()))) for e in r.examples),
            default=0))
        arguments = {ref.argument: message} if ref.argument else {}
        return {"server": ref.server, "tool": ref.tool, "arguments": arguments}

    async def functions(self, settings: BaseModel, operator: config.Settings, agent_slug: str
                        ) -> list[dict[str, Any]]:
        """One function per server tool the agent uses, with the server's description and
        JSON Schema; a server that cannot be listed now offers its tools with the one text
        argument the owner named (or none)."""
        assert isinstance(settings, MCPSettings)
        out = []
        for ref in settings.tools:
            server = operator.mcp_servers.get(ref.server)
            if server is None or (server.agents and agent_slug not in server.agents):
                continue
            try:
                listed = {t["name"]: t for t in await _listed(ref.server, server)}
            except Exception as exc:  # the SDK and its transports raise many kinds
                log.warning("MCP server %r could not be listed: %s", ref.server,
                            type(exc).__name__)
                listed = {}
            found = listed.get(ref.tool)
            if found is None and listed:
                continue  # the server no longer has it
            parameters = found["parameters"] if found else {
                "type": "object", "properties": {ref.argument: {"type": "string"}} if
                ref.argument else {}, "required": [ref.argument] if ref.argument else []}
            description = (found or {}).get("description") or (
                f"{ref.tool} in the owner's {ref.server} system")
            out.append({"type": "function", "function": {
                "name": _function_name(ref), "description": description[:1000],
                "parameters": parameters}})
        return out

    def from_function(self, name: str, arguments: Mapping[str, Any], settings: BaseModel
                      ) -> dict[str, Any] | None:
        assert isinstance(settings, MCPSettings)
        for ref in settings.tools:
            if _function_name(ref) == name:
                return {"server": ref.server, "tool": ref.tool, "arguments": dict(arguments)}
        return None

    async def run(self, ctx: ToolContext, args: MCPArguments, settings: MCPSettings
                  ) -> ToolResult:
        if not any(r.server == args.server and r.tool == args.tool for r in settings.tools):
            raise ToolError(f"{args.server}/{args.tool} is not one of this agent's MCP tools")
        server = ctx.settings.mcp_servers.get(args.server)
        if server is None or (server.agents and ctx.agent_slug not in server.agents):
            raise ToolError(f"the operator offers no MCP server named {args.server!r} to "
                            f"this agent")
        try:
            result = await _call(server, args.tool, args.arguments)
        except ToolError:
            raise
        except Exception as exc:  # the SDK and its transports raise many kinds
            raise ToolError(f"MCP server {args.server!r}: {type(exc).__name__}") from None
        texts = [str(getattr(c, "text", "")) for c in result.content
                 if getattr(c, "type", "") == "text"]
        text = re.sub(r"\s+", " ", " ".join(t for t in texts if t)).strip()[:1000]
        if result.isError:
            raise ToolError(f"MCP tool {args.server}/{args.tool} failed: {text[:200]}")
        if text and ctx.scan is not None and (await _scanned(ctx, text)):
            raise ToolError(f"MCP tool {args.server}/{args.tool} answered with instructions "
                            "to an AI; not shown")
        if not text:
            return ToolResult("ok", "I checked, but the system had nothing to tell me.", (),
                              {"server": args.server, "tool": args.tool})
        return ToolResult("ok", text, (text,), {"server": args.server, "tool": args.tool})


async def _scanned(ctx: ToolContext, text: str) -> bool:
    import asyncio

    assert ctx.scan is not None
    flags = await asyncio.to_thread(ctx.scan, [text])
    return bool(flags and flags[0])
