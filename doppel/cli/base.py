"""What every `doppel` command shares: one-line errors and the `Doppel` of the invocation."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import click

from doppel.config import Settings
from doppel.errors import DoppelError
from doppel.service import Doppel

__all__ = ["fail", "handle_errors", "load_settings", "service_of"]

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def handle_errors(fn: F) -> F:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except DoppelError as exc:
            fail(str(exc))
        except KeyboardInterrupt:
            click.echo("", err=True)
            sys.exit(130)
    return wrapper  # type: ignore[return-value]


def load_settings() -> Settings:
    """Settings from the environment; a bad value is one line naming its variable."""
    from pydantic import ValidationError as SettingsError

    try:
        return Settings()
    except SettingsError as exc:
        problem = exc.errors()[0]
        message = str(problem["msg"]).removeprefix("Value error, ")
        if not problem["loc"]:  # a rule across settings names its variables itself
            fail(message)
        name = "DOPPEL_" + "_".join(str(p) for p in problem["loc"]).upper()
        fail(f"{name}: {message}")


def service_of(ctx: click.Context) -> Doppel:
    obj = ctx.ensure_object(dict)
    if "app" not in obj:
        obj["app"] = Doppel(obj.get("settings") or load_settings())
    app: Doppel = obj["app"]
    return app
