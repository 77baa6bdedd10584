"""What knowledge needs to know of an agent: its id (every row is the agent's) and its rules
(lines about a subject the owner forbids are private).

A structural type, so knowledge never imports agents: `doppel.agents.repo.Agent` satisfies it,
and so does anything else with these two attributes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

__all__ = ["KnowledgeOwner"]


class _Rules(Protocol):
    @property
    def rules(self) -> Sequence[str]: ...


class KnowledgeOwner(Protocol):
    """The agent whose documents, chunks and import jobs these are."""

    @property
    def id(self) -> int: ...

    @property
    def spec(self) -> _Rules: ...
