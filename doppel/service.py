"""`Doppel`: the services of one data directory, wired from Settings.

The CLI, the (coming) HTTP server and the tests all build one of these. Models load lazily: a
command that lists agents never loads the chat model or the embedder.
"""

from __future__ import annotations

from functools import cached_property

from doppel.agents.conversations import ConversationRepo
from doppel.agents.insights import Insights
from doppel.agents.repo import AgentRepo
from doppel.agents.runtime import AgentRuntime
from doppel.agents.spec import AgentSpec
from doppel.config import Settings
from doppel.knowledge.imports import ImportJobs
from doppel.knowledge.index import ApprovedAnswers, KnowledgeIndex
from doppel.knowledge.ingest import Ingestor
from doppel.models import load_backend, load_embedder
from doppel.models.base import ChatBackend, Embedder
from doppel.models.queue import FairQueue, QueuedBackend
from doppel.owners import OwnerRepo
from doppel.safety import Shields
from doppel.safety.injection import scan_texts
from doppel.store.db import Database


class Doppel:
    def __init__(self, settings: Settings | None = None, *, backend: ChatBackend | None = None,
                 embedder: Embedder | None = None) -> None:
        self.settings = settings or Settings()
        self.settings.ensure_home()
        self.db = Database(self.settings.db_path)
        self.agents = AgentRepo(self.db)
        self.conversations = ConversationRepo(self.db)
        self.owners = OwnerRepo(self.db)
        # Set by the server: every generation then goes through a fair, bounded queue.
        self.queues: dict[str, FairQueue] | None = None
        self._backend = backend
        self._embedder = embedder
        self._backends: dict[str, ChatBackend] = {}

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = load_embedder(self.settings)
        return self._embedder

    @cached_property
    def index(self) -> KnowledgeIndex:
        return KnowledgeIndex(self.db, self.embedder)

    @cached_property
    def shields(self) -> Shields:
        return Shields(self.settings, lambda: self.embedder)

    @cached_property
    def ingestor(self) -> Ingestor:
        def scan(texts: list[str]) -> list[list[list[float]]]:
            jailguard = self.shields.shield("jailguard")
            return scan_texts(texts, self.embedder, self.shields.services.safety_models(),
                              confirm=getattr(jailguard, "score", None))

        return Ingestor(self.db, self.index, self.settings, scan=scan)

    @cached_property
    def runtime(self) -> AgentRuntime:
        return AgentRuntime(self.settings, self.index, self.conversations, self.backend_for,
                            self.shields if self.settings.shields else None)

    def backend_for(self, spec: AgentSpec) -> ChatBackend:
        """The agent's chat backend: an injected one, the agent's choice, or the default."""
        if self._backend is not None:
            return self._backend
        name = spec.model or self.settings.chat_backend
        if name not in self._backends:
            backend = load_backend(self.settings, name)
            if self.queues is not None:
                concurrency = 1 if name == "embedded" else self.settings.remote_concurrency
                queue = self.queues.setdefault(name, FairQueue(
                    concurrency, self.settings.queue_max_waiting))
                backend = QueuedBackend(backend, queue)
            self._backends[name] = backend
        return self._backends[name]

    def drafting_backend(self, spec: AgentSpec) -> ChatBackend | None:
        """A model to draft text for the owner to review (the voice profile's sample replies),
        or None to build them from the owner's own sentences. The embedded 135M model is not
        used: 11 % of its drafts survived the fact and relevance filter in our measurements."""
        if self._backend is not None:
            return self._backend
        name = spec.model or self.settings.chat_backend
        return None if name == "embedded" else self.backend_for(spec)

    def enable_queues(self) -> dict[str, FairQueue]:
        """Route generations through fair bounded queues (the server does this)."""
        self.queues = {}
        if self._backend is not None:
            queue = self.queues.setdefault("default", FairQueue(
                self.settings.remote_concurrency, self.settings.queue_max_waiting))
            self._backend = QueuedBackend(self._backend, queue)
        self._backends.clear()
        return self.queues

    @cached_property
    def insights(self) -> Insights:
        return Insights(self)

    @cached_property
    def imports(self) -> ImportJobs:
        return ImportJobs(self.db, self.ingestor, self.settings)

    @cached_property
    def answers(self) -> ApprovedAnswers:
        return ApprovedAnswers(self.index)

    def close(self) -> None:
        if "imports" in self.__dict__:
            self.imports.close()
        self.db.close()
