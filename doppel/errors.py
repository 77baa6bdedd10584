"""doppel's exceptions. Every error a user can cause derives from DoppelError and carries a
one-line message fit for a CLI line or an API error body.

    DoppelError
    ├── ConfigError            bad or missing settings, models not prepared
    ├── NotFoundError          unknown agent, document, conversation
    ├── ValidationError        an agent spec or request that does not validate
    ├── IngestError            a file that cannot be read (reported per file, never fatal)
    ├── BackendError           a chat or embedding backend failed
    │   └── ContextOverflowError   the prompt cannot fit the model's context
    ├── StoreError             database problems (migrations, integrity)
    │   └── StoreUnavailable   the database server cannot be reached
    └── ChannelError           a messaging platform refused the owner's credentials
        └── Unauthorized       a webhook delivery whose signature does not verify
                               (both in doppel.channels.base)
"""

from __future__ import annotations


class DoppelError(Exception):
    """Base of every error doppel raises on purpose."""


class ConfigError(DoppelError):
    """Settings are wrong or a required model has not been prepared."""


class NotFoundError(DoppelError):
    """An agent, document or conversation does not exist (for this owner)."""


class ValidationError(DoppelError):
    """Input does not validate."""


class IngestError(DoppelError):
    """A source cannot be ingested; the message says why."""


class BackendError(DoppelError):
    """A model backend failed."""


class ContextOverflowError(BackendError):
    """The prompt does not fit the model's context window."""


class StoreError(DoppelError):
    """The database is unusable or a migration failed."""


class StoreUnavailable(StoreError):
    """The database server cannot be reached (PostgreSQL down, the pool exhausted): a client
    hears 503 and tries again; the detail, which names the host, goes to the log only."""
