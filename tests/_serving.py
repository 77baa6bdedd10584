"""Serving helpers for the abuse and HTTP-security tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from doppel.service import Doppel
from doppel.testing import ServerThread


@contextmanager
def serve(app: Doppel) -> Iterator[str]:
    """A real uvicorn on 127.0.0.1 run as `doppel serve` runs it: uvicorn's own X-Forwarded-For
    handling off, so the app alone decides whose forwarded address to believe."""
    from doppel.serve import create_app

    thread = ServerThread(create_app(doppel=app, preload=False))
    thread.server.config.proxy_headers = False  # read when the server starts
    with thread as base_url:
        yield base_url
