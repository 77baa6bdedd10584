"""The one extension mechanism: a typed registry of Python objects, filled by built-ins and by
installed packages' entry points alike.

Built-in loaders, shields and chat backends register here exactly as a third-party package's
would. A package adds its own through an entry point in the registry's group, and doppel reads
the groups once, when its services start (`doppel.plugins.load_plugins`)::

    # pyproject.toml of a package `doppel-ics`
    [project.entry-points."doppel.loaders"]
    ics = "doppel_ics:ICSLoader"      # a Loader instance, or a class built with no arguments

The groups: `doppel.loaders` (a `Loader`), `doppel.shields` (a `ShieldFactory`),
`doppel.backends` (a `BackendFactory`). An entry point that fails to load, loads the wrong kind
of object or takes a name already registered is skipped with a warning in the log: a broken
plug-in never stops the server, and never silently replaces a built-in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from importlib.metadata import EntryPoint, entry_points
from typing import Generic, TypeVar

__all__ = ["Registry"]

T = TypeVar("T")

log = logging.getLogger(__name__)


class Registry(Generic[T]):
    """Named objects of one kind, in registration order.

    `group` is the entry-point group third-party packages register in; `accepts` says whether
    an object loaded from one is of this registry's kind.
    """

    def __init__(self, kind: str, group: str | None = None,
                 accepts: Callable[[object], bool] | None = None) -> None:
        self.kind = kind
        self.group = group
        self._accepts = accepts
        self._items: dict[str, T] = {}
        self._discovered: list[str] | None = None

    def register(self, item: T, name: str | None = None, *, replace: bool = False) -> T:
        key = name or getattr(item, "name")  # noqa: B009  # T is any object with a name
        if key in self._items and not replace:
            raise ValueError(f"{self.kind} {key!r} is already registered")
        self._items[key] = item
        return item

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(self._items) or "none"
            raise KeyError(f"unknown {self.kind} {name!r} (known: {known})") from None

    def names(self) -> list[str]:
        return list(self._items)

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._items.values()))

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def discover(self) -> list[str]:
        """Register the objects of every installed entry point in this registry's group, once
        per process; the names registered. Later calls return the first call's names."""
        if self._discovered is not None:
            return list(self._discovered)
        found: list[str] = []
        if self.group:
            for ep in sorted(entry_points(group=self.group), key=lambda e: e.name):
                name = self._load(ep)
                if name:
                    found.append(name)
        self._discovered = found
        return list(found)

    def _load(self, ep: EntryPoint) -> str | None:
        where = f"{self.group} entry point {ep.name!r} ({ep.value})"
        try:
            obj: object = ep.load()
            if isinstance(obj, type):
                obj = obj()
        except Exception as exc:  # a plug-in's import error must not stop the server
            log.warning("%s not loaded: %s: %s", where, type(exc).__name__, exc)
            return None
        if self._accepts is not None and not self._accepts(obj):
            log.warning("%s not loaded: %r is not a %s", where, obj, self.kind)
            return None
        name = getattr(obj, "name", None) or ep.name
        if name in self._items:
            log.warning("%s not loaded: a %s named %r is already registered", where, self.kind,
                        name)
            return None
        self._items[name] = obj  # type: ignore[assignment]  # checked by `accepts`
        log.info("%s %r registered from %s", self.kind, name, where)
        return str(name)
