"""Third-party loaders, shields, chat backends, tools and channels, found through entry points.

`load_plugins` reads the `doppel.loaders`, `doppel.shields`, `doppel.backends`,
`doppel.tools` and `doppel.channels` groups once per
process; `Doppel` calls it when its services start, so the CLI, the server and the tests see the
same set. See doppel/registry.py for how a package declares one.
"""

from __future__ import annotations

from doppel.channels import CHANNELS
from doppel.knowledge.loaders import LOADERS
from doppel.models.base import BACKENDS
from doppel.registry import Registry
from doppel.safety.base import SHIELDS
from doppel.tools import TOOLS

__all__ = ["REGISTRIES", "load_plugins"]

REGISTRIES: tuple[Registry[object], ...] = (  # type: ignore[assignment]
    LOADERS, SHIELDS, BACKENDS, TOOLS, CHANNELS)


def load_plugins() -> dict[str, list[str]]:
    """Register every installed plug-in; the names each registry gained, by registry kind."""
    return {registry.kind: registry.discover() for registry in REGISTRIES}
