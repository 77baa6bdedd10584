"""Persistence: SQLite by default (WAL, numbered migrations) and the repositories over it."""

from doppel.store.db import Database

__all__ = ["Database"]
