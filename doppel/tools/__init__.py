"""What an agent can do besides answering: the `Tool` extension point (doppel.tools.base) and
the built-in tools, registered in `TOOLS` exactly as a third-party package's would be."""

from __future__ import annotations

from doppel.tools.base import (
    TOOLS,
    NoArguments,
    NoSettings,
    Tool,
    ToolContext,
    ToolError,
    ToolResult,
    ToolStatus,
)
from doppel.tools.booking import Booking
from doppel.tools.catalog import CatalogLookup
from doppel.tools.hours import OpenNow
from doppel.tools.leads import LeadCapture
from doppel.tools.mcp import MCP
from doppel.tools.orders import OrderStatus
from doppel.tools.search import WebSearch

__all__ = ["TOOLS", "NoArguments", "NoSettings", "Tool", "ToolContext", "ToolError",
           "ToolResult", "ToolStatus", "default_tools"]

# The order is the rules' precedence: an order number with an e-mail is an order look-up
# before it is a lead, a day and time a booking before a catalog question.
for _tool in (OpenNow(), OrderStatus(), Booking(), CatalogLookup(), LeadCapture(),
              WebSearch(), MCP()):
    if _tool.name not in TOOLS:
        TOOLS.register(_tool)


def default_tools() -> list[str]:
    """The tools an agent has when its agent.yaml names none."""
    return [t.name for t in TOOLS if t.default]
