"""`Doppel`: the services of one data directory, wired from Settings, and the use cases the
CLI, the owner API and the console share.

The CLI, the HTTP server and the tests all build one of these. Models load lazily: a command
that lists agents never loads the chat model or the embedder. What an owner does to an agent
(ingest files, list documents, derive or save a voice, update a spec) is one method here, so the
three front ends apply the same rules: none of them runs SQL or re-implements a check.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Iterable
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from doppel.agents.conversations import ConversationRepo
from doppel.agents.grounding import Evidence, check
from doppel.agents.handoff import BACK_NOTICE
from doppel.agents.insights import Insights
from doppel.agents.memory import MemoryRepo
from doppel.agents.profile import VoiceProfile
from doppel.agents.repo import Agent, AgentRepo
from doppel.agents.runtime import AgentRuntime
from doppel.agents.spec import AgentSpec, Contact
from doppel.agents.students import StudentRepo
from doppel.agents.voice import clean, derive_voice_async
from doppel.channels import CHANNELS, split_text
from doppel.channels.hub import ChannelHub
from doppel.channels.store import ChannelStore
from doppel.config import Settings
from doppel.errors import DoppelError, NotFoundError, ValidationError
from doppel.knowledge.facts import found_contact
from doppel.knowledge.imports import ImportJobs
from doppel.knowledge.index import ApprovedAnswers, KnowledgeIndex, open_index
from doppel.knowledge.ingest import FileReport, Ingestor, IngestReport
from doppel.models import load_backend, load_embedder
from doppel.models.base import ChatBackend, Embedder
from doppel.models.queue import FairQueue, QueuedBackend
from doppel.models.shared_slots import SharedSlots
from doppel.models.vllm import AdapterDirectory
from doppel.net import FetchError
from doppel.owners import OwnerRepo
from doppel.plugins import load_plugins
from doppel.safety import Shields
from doppel.safety.injection import scan_texts
from doppel.safety.policy import GUARD_HELP
from doppel.store import Database, open_database
from doppel.tools.booking import CALENDAR_PASSWORD, BookingSettings, booking_event_text
from doppel.tools.caldav import CalDAVCalendar, booking_uid
from doppel.tools.records import ToolRecords

log = logging.getLogger(__name__)

# Loaders whose chunks are a creator's own posts: the voice is measured on these when any exist.
SOCIAL_LOADERS = ("instagram", "facebook", "x", "captions", "posts")
_FAQ_ANSWER = re.compile(r"^Q:.*?\nA:\s*(.*)$", re.S)


class Doppel:
    def __init__(self, settings: Settings | None = None, *, backend: ChatBackend | None = None,
                 embedder: Embedder | None = None) -> None:
        self.settings = settings or Settings()
        self.settings.ensure_home()
        # Installed packages' loaders, shields and backends, read once per process.
        load_plugins()
        self.db: Database = open_database(self.settings.database_url, self.settings.db_path,
                                          pool_size=self.settings.database_pool_size)
        self.agents = AgentRepo(self.db, validate=self._check_spec)
        self.conversations = ConversationRepo(self.db)
        self.owners = OwnerRepo(self.db)
        # Set by the server: every generation then goes through a fair, bounded queue.
        self.queues: dict[str, FairQueue] | None = None
        self._backend = backend
        self._embedder = embedder
        self._backends: dict[str, ChatBackend] = {}
        # Student adapters offered to the backend: slug -> ((file, mtime), accepted).
        self._adapters: dict[str, tuple[tuple[str, int], bool]] = {}

    def _check_spec(self, spec: AgentSpec) -> None:
        """What a spec may name must exist on this server: its Llama Guard endpoint is one the
        operator offers (the owner never gives a URL or a secret's name)."""
        name = spec.shields.guard_endpoint()
        offered = self.settings.llamaguard_endpoints
        if name is not None and name not in offered:
            names = ", ".join(sorted(offered)) or "none configured"
            raise ValidationError(f"shields.llamaguard: no Llama Guard server named {name!r} "
                                  f"on this server (offered: {names}). {GUARD_HELP}")

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = load_embedder(self.settings)
        return self._embedder

    @cached_property
    def index(self) -> KnowledgeIndex:
        return open_index(self.db, self.embedder)

    @cached_property
    def shields(self) -> Shields:
        return Shields(self.settings, lambda: self.embedder)

    def scan(self, texts: list[str]) -> list[list[list[float]]]:
        """The document injection scan: for each text, the spans that read as instructions
        to an AI (documents at ingestion, web results a tool brings in)."""
        jailguard = self.shields.shield("jailguard")
        return scan_texts(texts, self.embedder, self.shields.services.safety_models(),
                          confirm=getattr(jailguard, "score", None))

    @cached_property
    def ingestor(self) -> Ingestor:
        return Ingestor(self.db, self.index, self.settings, scan=self.scan)

    @cached_property
    def runtime(self) -> AgentRuntime:
        return AgentRuntime(self.settings, self.index, self.conversations, self.backend_for,
                            self.shields if self.settings.shields else None,
                            student_for=self.student_adapter, scan=self.scan)

    @cached_property
    def students(self) -> StudentRepo:
        return StudentRepo(self.db, self.settings.home)

    def student_adapter(self, agent: Agent) -> str | None:
        """The adapter name that serves `agent`'s active student on its backend, or None (no
        active student, a backend without adapters, or an adapter that was refused: the agent
        then answers with the base model and its usual prompt)."""
        student = self.students.active(agent.id)
        if student is None:
            return None
        backend = self.backend_for(agent.spec)
        inner = getattr(backend, "inner", backend)  # under the server's queue
        if getattr(inner, "use_adapters", False):
            # vLLM serves it under the slug: --lora-modules SLUG=DIR, or from the folder its
            # resolver reads, where it is published (once per adapter version)
            return agent.slug if self._published(agent, student.dir / "adapter") else None
        register = getattr(inner, "register_adapter", None)
        if register is None:
            return None
        path = student.adapter_gguf
        try:
            signature = (str(path), path.stat().st_mtime_ns)
        except OSError:
            log.warning("student of %s: adapter file missing (%s)", agent.slug, path)
            return None
        known = self._adapters.get(agent.slug)
        if known is None or known[0] != signature:  # new, or the file changed: (re)register
            try:
                register(agent.slug, path)
                known = (signature, True)
            except DoppelError as exc:  # refused: logged once per file, the base answers
                log.warning("student of %s not used: %s", agent.slug, exc)
                known = (signature, False)
            self._adapters[agent.slug] = known
        return agent.slug if known[1] else None

    @cached_property
    def vllm_adapters(self) -> AdapterDirectory | None:
        folder = self.settings.vllm_lora_dir
        if folder is None:
            return None
        return AdapterDirectory(folder, self.settings.openai_model,
                                self.settings.vllm_max_lora_rank)

    def _published(self, agent: Agent, peft_dir: Path) -> bool:
        """The student's adapter is in vLLM's folder (published now if it is new or changed);
        True when there is no folder to publish to (the server was given --lora-modules)."""
        directory = self.vllm_adapters
        if directory is None:
            return True
        try:
            signature = (str(peft_dir), (peft_dir / "adapter_config.json").stat().st_mtime_ns)
        except OSError:
            log.warning("student of %s: no peft adapter in %s", agent.slug, peft_dir)
            return False
        known = self._adapters.get(agent.slug)
        if known is None or known[0] != signature:
            try:
                directory.publish(agent.slug, peft_dir)
                known = (signature, True)
            except DoppelError as exc:  # refused: logged once per version, the base answers
                log.warning("student of %s not published for vLLM: %s", agent.slug, exc)
                known = (signature, False)
            self._adapters[agent.slug] = known
        return known[1]

    def withdraw_student(self, agent: Agent) -> None:
        """A student switched off: its adapter leaves vLLM's folder (requests name the base)."""
        self._adapters.pop(agent.slug, None)
        if self.vllm_adapters is not None:
            self.vllm_adapters.withdraw(agent.slug)

    def backend_for(self, spec: AgentSpec) -> ChatBackend:
        """The agent's chat backend: an injected one, the agent's choice, or the default."""
        if self._backend is not None:
            return self._backend
        name = spec.model or self.settings.chat_backend
        if name not in self._backends:
            backend = load_backend(self.settings, name)
            shared = None if name == "embedded" else self._shared_slots(backend)
            if self.queues is not None:
                concurrency = 1 if name == "embedded" else self.settings.remote_concurrency
                queue = self.queues.setdefault(name, FairQueue(
                    concurrency, self.settings.queue_max_waiting))
                backend = QueuedBackend(backend, queue, shared)
            elif shared is not None:
                # No server queue here (`doppel channels work`, the CLI): the installation's
                # slots still bound what this process sends, behind its own concurrency.
                backend = QueuedBackend(backend, FairQueue(
                    self.settings.remote_concurrency, max_waiting=1_000_000), shared)
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

    def _shared_slots(self, backend: ChatBackend) -> SharedSlots | None:
        """The slots on a remote model server that every process shares
        (DOPPEL_REMOTE_CONCURRENCY_TOTAL), named by the server's address so that every
        backend name sending to it counts once; each process's own model is its own."""
        total = self.settings.remote_concurrency_total
        if not total:
            return None
        server = str(getattr(backend, "base_url", "") or backend.name)
        return SharedSlots(self.settings.redis_url, server, total)

    def enable_queues(self) -> dict[str, FairQueue]:
        """Route generations through fair bounded queues (the server does this)."""
        self.queues = {}
        if self._backend is not None:
            queue = self.queues.setdefault("default", FairQueue(
                self.settings.remote_concurrency, self.settings.queue_max_waiting))
            self._backend = QueuedBackend(self._backend, queue,
                                          self._shared_slots(self._backend))
        self._backends.clear()
        return self.queues

    @cached_property
    def insights(self) -> Insights:
        return Insights(self)

    @cached_property
    def imports(self) -> ImportJobs:
        return ImportJobs(self.db, self.ingestor, self.settings, owner_of=self.agents.by_id)

    @cached_property
    def answers(self) -> ApprovedAnswers:
        return ApprovedAnswers(self.index)

    # --- use cases: the same rules for the CLI, the owner API and the console ----------------

    def ingest(self, agent: Agent, paths: Iterable[Path],
               progress: Callable[[FileReport], None] | None = None) -> IngestReport:
        """Files, folders (a saved site among them) and .zip exports into the agent's
        knowledge; the paths given are remembered as the agent's sources, for `ingest` without
        paths to re-read them."""
        paths = list(paths)
        report = self.ingestor.ingest(agent, paths, progress=progress)
        new = [str(p.resolve()) for p in paths if str(p.resolve()) not in agent.spec.sources]
        current = self.agents.get(agent.slug)  # re-read: the spec may have changed since
        update: dict[str, Any] = {}
        if new:
            update["sources"] = current.spec.sources + new
        contact = self.fill_contact(current)
        if contact is not None:
            update["contact"] = contact
            report.contact = {k: v for k, v in contact.model_dump().items()
                              if v and k in ("phone", "email", "address")}
        if update:
            self.agents.update(current.spec.model_copy(update=update))
        return report

    def fill_contact(self, agent: Agent) -> Contact | None:
        """The agent's contact card filled from its content (phone, e-mail, street address)
        when the owner gave none of them; None when there is nothing to fill. An agent that
        does not know an answer offers these, so they must be the business's own: reviews
        and flagged passages never count (doppel.knowledge.facts.found_contact)."""
        c = agent.spec.contact
        if c.phone or c.email or c.address:
            return None
        found = found_contact(self.db, agent.id)
        if not found:
            return None
        return c.model_copy(update={k: v for k, v in found.items()
                                    if k in ("phone", "email", "address")})

    def ready_to_ingest(self) -> None:
        """Load the embedder now (ConfigError when `doppel init` has not prepared it): a new
        agent's content cannot be read without it, and the agent is not created without its
        content (no empty agent left behind that a second try would call a duplicate)."""
        self.embedder  # noqa: B018 - the property loads it

    def create_agent(self, spec: AgentSpec, paths: Iterable[Path] = (),
                     owner_id: int | None = None,
                     progress: Callable[[FileReport], None] | None = None
                     ) -> tuple[Agent, IngestReport | None]:
        """A new agent from the owner's files: created, its content ingested, its contact
        card filled from the content when the owner gave none."""
        paths = list(paths)
        if paths:
            self.ready_to_ingest()
        agent = self.agents.create(spec, owner_id)
        if not paths:
            return agent, None
        report = self.ingest(agent, paths, progress=progress)
        return self.agents.get(agent.slug), report

    def documents(self, agent: Agent) -> list[dict[str, Any]]:
        return self.ingestor.documents(agent.id)

    def passage(self, agent: Agent, chunk_id: int) -> dict[str, Any] | None:
        return self.index.passage(agent.id, chunk_id)

    def voice_texts(self, agent_id: int, kind: str) -> list[str]:
        """The texts an agent's voice is measured on: a creator's social posts (one chunk each)
        when any were ingested, else everything; a business's pages and FAQ answers. CSV
        records (price lists, catalogues) say nothing about tone and are left out."""
        rows = [(t, loader) for t, loader in self.index.texts(agent_id) if loader != "csv"]
        if kind == "creator" and any(loader in SOCIAL_LOADERS for _, loader in rows):
            rows = [(t, loader) for t, loader in rows if loader in SOCIAL_LOADERS]
        out = []
        for text, _ in rows:
            faq = _FAQ_ANSWER.match(text.strip())
            text = clean(faq.group(1) if faq else text)
            if text:
                out.append(text)
        return list(dict.fromkeys(out))

    async def derive_voice(self, agent: Agent) -> VoiceProfile:
        """Measure the agent's voice from its content and save it into its spec (ValueError
        or ValidationError when there is too little text)."""
        voice = await derive_voice_async(
            self.voice_texts(agent.id, agent.spec.kind), agent.spec.kind,
            backend=self.drafting_backend(agent.spec), embedder=self.embedder)
        # re-read: a settings save may have landed while the voice was measured
        self.agents.update(self.agents.get(agent.slug).spec.model_copy(update={"voice": voice}))
        return voice

    def check_examples(self, agent_id: int, spec: AgentSpec) -> None:
        """Refuse sample replies that state a fact the agent's content does not
        (ValidationError). Saved sample replies count as the owner's own words when answers
        are fact-checked, so an edited reply must not bring in, say, last year's price."""
        if spec.voice is None or not spec.voice.examples:
            return
        evidence = Evidence([t for t, _ in self.index.texts(agent_id)]
                            + self.voice_texts(agent_id, spec.kind)
                            + spec.model_copy(update={"voice": None}).evidence_texts())
        for example in spec.voice.examples:
            verdict = check(example.reply, evidence)
            if not verdict.grounded:
                what = ", ".join(verdict.unsupported + verdict.contradictions)
                raise ValidationError(f"the sample reply “{example.reply[:80]}” states {what}, "
                                      "which your content does not: change the reply or the "
                                      "file")

    def update_spec(self, current: Agent, spec: AgentSpec) -> Agent:
        """Save an edited spec; edited sample replies are fact-checked first."""
        if spec.voice != current.spec.voice:
            self.check_examples(current.id, spec)
        return self.agents.update(spec)

    # --- a person in the conversation (issue 14) ---------------------------------------------
    @cached_property
    def memory(self) -> MemoryRepo:
        """What agents with memory on remember of their customers; erasures."""
        return MemoryRepo(self.db)

    @cached_property
    def records(self) -> ToolRecords:
        """Leads and booking requests the agents' tools collected."""
        return ToolRecords(self.db)

    def decide_booking(self, agent: Agent, booking_id: int,
                       status: Literal["confirmed", "declined"]) -> tuple[bool, str | None]:
        """The owner confirms or declines a booking request: (found, the calendar's news).
        With the booking tool on a CalDAV calendar, the request's tentative event becomes
        confirmed, or is removed: "calendar updated", or "the calendar could not be updated"
        (the decision stands either way; the calendar is the owner's to fix)."""
        if not self.records.decide(agent.id, booking_id, status):
            return False, None
        tool = (agent.spec.tools or {}).get("booking")
        if tool is None:
            return True, None
        settings = BookingSettings.model_validate(tool)
        password = self.runtime.secrets.get(agent.id, CALENDAR_PASSWORD)
        if not (settings.calendar_user and settings.hold_in_calendar and password):
            return True, None
        row = self.records.booking(agent.id, booking_id)
        if row is None:
            return True, None
        calendar = CalDAVCalendar(self.settings, settings.calendar_url, settings.calendar_user,
                                  password)
        uid = booking_uid(agent.id, booking_id)
        try:
            if status == "declined":
                calendar.remove(uid)
            else:
                summary, description = booking_event_text(row["name"], row["contact"],
                                                          row["service"] or "", status)
                calendar.hold(uid, dt.datetime.fromisoformat(row["starts_at"]),
                              dt.datetime.fromisoformat(row["ends_at"]), summary, description,
                              "CONFIRMED")
        except FetchError as exc:
            log.warning("booking %s: the calendar could not be updated (%s)", booking_id,
                        exc.kind)
            return True, "the calendar could not be updated"
        return True, "calendar updated"

    @cached_property
    def channels(self) -> ChannelHub:
        """WhatsApp, Messenger, Instagram and Telegram: webhooks in, turns, the outbox out
        (the server starts it; doppel.channels.hub)."""
        return ChannelHub(self.settings, self.agents, self.runtime)

    @cached_property
    def channel_store(self) -> ChannelStore:
        return ChannelStore(self.db)

    def _to_channel(self, agent: Agent, conversation_id: int, kind: str,
                    texts: list[str]) -> None:
        """A person's reply or a notice in a conversation that lives on a channel goes out
        through its outbox (sent by the server's hub, within the channel's rules)."""
        where = self.channel_store.conversation_of(agent.id, conversation_id)
        if where is not None:
            if kind != "control" and where[0] in CHANNELS:
                limit = CHANNELS.get(where[0]).max_chars
                texts = [part for text in texts for part in split_text(text, limit)]
            self.channel_store.enqueue(agent.id, where[0], where[1], conversation_id, kind,
                                       texts)
            if "channels" in self.__dict__:
                self.channels.wake()

    def reply_as_person(self, agent: Agent, conversation_id: int, text: str,
                        author: str = "") -> int:
        """A person's reply in one of the agent's conversations: shown to the customer (on
        the channel the conversation lives on, if any), and the person now holds the
        conversation (the agent stays silent)."""
        text = text.strip()
        if not text:
            raise ValidationError("write a reply first")
        if len(text) > 4000:
            raise ValidationError("a reply is at most 4000 characters")
        if not self.conversations.owns(agent.id, conversation_id):
            raise NotFoundError(f"no conversation #{conversation_id}")
        message_id = self.conversations.add_message(conversation_id, agent.id, "human", text,
                                                    author)
        self.conversations.set_holder(conversation_id, "human", "a person replied")
        self._to_channel(agent, conversation_id, "person", [text])
        return message_id

    def hand_back(self, agent: Agent, conversation_id: int) -> None:
        """The agent takes the conversation back, and the customer is told."""
        if not self.conversations.owns(agent.id, conversation_id):
            raise NotFoundError(f"no conversation #{conversation_id}")
        if self.conversations.holder(conversation_id).state != "agent":
            self.conversations.set_holder(conversation_id, "agent", "handed back")
            self.conversations.add_message(conversation_id, agent.id, "notice", BACK_NOTICE)
            # the platform's inbox gives the thread back (Messenger, Instagram), then the notice
            self._to_channel(agent, conversation_id, "control", ["take"])
            self._to_channel(agent, conversation_id, "notice", [BACK_NOTICE])

    def close(self) -> None:
        if "imports" in self.__dict__:
            self.imports.close()
        self.db.close()
