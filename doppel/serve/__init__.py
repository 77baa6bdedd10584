"""doppel as a server: the OpenAI-compatible API, the owner API and the public chat pages."""

from doppel.serve.app import create_app

__all__ = ["create_app"]
