"""One typed Settings object, built at start-up and passed down.

Every setting has a default and help text (the ``description``); each can be set through the
environment as ``DOPPEL_<NAME>`` (e.g. ``DOPPEL_N_THREADS=4``). The data directory comes from
``DOPPEL_HOME`` and defaults to ``~/.doppel``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from doppel.redisconn import check_redis_url


def _default_home() -> Path:
    return Path(os.environ.get("DOPPEL_HOME") or Path.home() / ".doppel")


class GuardEndpoint(BaseModel):
    """An operator's Llama Guard 3 server (vLLM, Ollama, a provider) that owners may pick by name.

    Only the operator sets these (DOPPEL_LLAMAGUARD_ENDPOINTS): the server calls them with its
    own credentials and they may sit on its private network, so an owner's agent names one and
    never supplies a URL or the name of a secret.
    """

    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(description="e.g. http://127.0.0.1:8000/v1")
    model: str = "meta-llama/Llama-Guard-3-8B"
    api: Literal["completions", "chat"] = Field(
        "completions", description="completions: doppel writes the model card's prompt; "
        "chat: the server's chat template does.")
    api_key_env: str = Field("", description="Environment variable holding the API key.")
    timeout_s: float = Field(5.0, gt=0, le=60)


class MCPServer(BaseModel):
    """An MCP server the operator lets agents use (DOPPEL_MCP_SERVERS), by name: owners pick a
    name and never give a URL, a command or a token."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field("", description="Streamable HTTP endpoint, e.g. http://10.0.0.7:9000/mcp")
    command: str = Field("", description="Or a command that speaks MCP over stdio.")
    args: list[str] = Field(default_factory=list)
    token_env: str = Field("", description="Environment variable holding a bearer token.")
    timeout_s: float = Field(8.0, gt=0, le=60)
    agents: list[str] = Field(default_factory=list, description="The agents (slugs) that may "
                              "use it; empty: every agent. A server holding one owner's data "
                              "lists that owner's agents.")

    @model_validator(mode="after")
    def _one_transport(self) -> MCPServer:
        if bool(self.url) == bool(self.command):
            raise ValueError("give either url or command")
        return self


class Settings(BaseSettings):
    """All of doppel's configuration."""

    model_config = SettingsConfigDict(env_prefix="DOPPEL_", extra="ignore")

    home: Path = Field(default_factory=_default_home, description="Data directory (DOPPEL_HOME).")

    models_home: Path | None = Field(
        None, description="Where prepared models live; default: <home>/models.")

    # --- storage ----------------------------------------------------------------------------
    database_url: str = Field(
        "", repr=False, description="postgresql://user:password@host/db to keep everything in "
        "PostgreSQL (with pgvector; pip install 'doppel[postgres]'); empty: the SQLite file "
        "<home>/doppel.db. Never printed: it may hold a password.")
    redis_url: str = Field(
        "", repr=False, description="redis://host:6379/0 (or redis+unix:///path/redis.sock): "
        "rate limits and sign-in throttles shared by every worker and host (pip install "
        "'doppel[redis]'); empty: each process counts its own.")
    database_pool_size: int = Field(
        10, ge=1, le=1000, description="PostgreSQL connections per process at most (a bounded "
        "pool: reads borrow one per statement, a transaction holds one).")

    # --- chat model -------------------------------------------------------------------------
    chat_backend: str = Field(
        "embedded",
        description="Chat backend name: 'embedded' (llama.cpp, offline) or 'openai' (any "
        "OpenAI-compatible server: vLLM, llama.cpp server, Ollama, a provider).",
    )
    model_path: Path | None = Field(
        None, description="GGUF file for the embedded backend; default: the prepared SmolLM2."
    )
    n_threads: int = Field(2, ge=1, description="CPU threads for the embedded model.")
    n_ctx: int = Field(2048, ge=512, description="Context window of the embedded model (tokens).")
    openai_base_url: str = Field(
        "http://127.0.0.1:8000/v1", description="Base URL of the OpenAI-compatible server."
    )
    openai_api_key: str = Field("", description="API key for the OpenAI-compatible server.")
    openai_model: str = Field("", description="Model name on the OpenAI-compatible server.")
    openai_timeout_s: float = Field(60.0, gt=0, description="Timeout per remote request (s).")

    # --- distilled students -----------------------------------------------------------------
    max_loaded_adapters: int = Field(
        8, ge=1, description="Students' LoRA adapters held loaded on the embedded model at once "
        "(an LRU; each ~2 MB; any number may be registered).")
    openai_lora_adapters: bool = Field(
        False, description="The OpenAI-compatible server serves each agent's student as a LoRA "
        "named after the agent's slug (vLLM: --enable-lora --lora-modules SLUG=DIR): requests "
        "for an agent with an active student name that LoRA as the model.")
    vllm_lora_dir: Path | None = Field(
        None, description="A folder vLLM also sees (its VLLM_LORA_RESOLVER_CACHE_DIR): each "
        "active student's adapter is published there under the agent's slug, for vLLM to load "
        "on demand (with DOPPEL_OPENAI_LORA_ADAPTERS).")
    vllm_runtime_load: bool = Field(
        False, description="When vLLM does not know an agent's adapter (404), load it through "
        "/v1/load_lora_adapter from DOPPEL_VLLM_LORA_DIR and ask again (vLLM: "
        "VLLM_ALLOW_RUNTIME_LORA_UPDATING=True).")
    vllm_max_lora_rank: int | None = Field(
        None, ge=1, description="The vLLM server's --max-lora-rank: a student of higher rank is "
        "not published (vLLM would refuse it) and its agent answers on the base model.")

    # --- generation ---------------------------------------------------------------------------
    temperature: float = Field(0.2, ge=0, le=2, description="Sampling temperature.")
    top_p: float = Field(0.9, gt=0, le=1, description="Nucleus sampling mass.")
    repeat_penalty: float = Field(1.1, ge=1, description="Repetition penalty (embedded only).")
    seed: int | None = Field(None, description="Sampling seed, for reproducible answers.")
    max_answer_tokens: int = Field(160, ge=8, description="Longest generated answer (tokens).")
    max_answer_sentences: int = Field(
        3, ge=1, description="Generation stops after this many sentences (small models ramble).")

    # --- retrieval ----------------------------------------------------------------------------
    retrieval_k: int = Field(3, ge=1, le=20, description="Passages given to the model per turn.")
    compose_passages: int = Field(
        8, ge=1, le=30, description="Passages the composer reads for a bound fact (more than "
        "the model's prompt holds: reading a row costs microseconds, a prompt token ~2.5 ms).")
    prompt_passage_tokens: int = Field(
        200, ge=64, description="Token budget for retrieved passages in the prompt (each "
        "token costs prompt time: ~2.5 ms on 2 CPU cores with the embedded model)."
    )
    history_turns: int = Field(
        0, ge=0, description="Past turns replayed to the model. 0 by default: the embedded "
        "135M model copies its history instead of answering; raise it for a capable model. "
        "Follow-up questions always use the previous question for retrieval.")
    require_verified_facts: bool = Field(
        True, description="A generated answer must state at least one fact verified against "
        "the agent's content; otherwise the turn answers with the sentence that does.")
    compose_answers: bool = Field(
        True, description="Answer prices, the day's hours, contacts and clear yes/no questions "
        "from the fact bound to what was asked, without the model (the first sentence shows at "
        "once). Off: the model drafts every answer, and a composed one stands only when the "
        "draft fails the grounding check.")
    draft_unsure: Literal["auto", "on", "off"] = Field(
        "auto", description="Whether the model drafts an answer when no fact or sentence of "
        "the content answers (the grounding check still reads the draft). auto: not with the "
        "embedded 135M model without a student adapter — on the evaluation suite its drafts "
        "there were right 2 times in 383 dev questions and promised a table booking the café "
        "does not take, and every don't-know waited ~400 ms for them —, yes with a remote "
        "model or a student. Only with compose_answers on.")
    min_relevance: float = Field(
        0.30,
        description="Cosine similarity of the best passage above which the agent tries to "
        "answer; below it the turn says it does not know unless the passages carry the "
        "question's own words (a heading, a name) or a composed answer was found. On the dev "
        "half of the evaluation suite (MiniLM), 0.40 turned away 26 of 197 answerable "
        "questions and 0.30 nine, while 18 of 44 unanswerable ones score below 0.30: the rest "
        "are caught later, when no fact or sentence answers them.",
    )
    approved_threshold: float = Field(
        0.86,
        description="Cosine similarity above which a question is answered from an approved "
        "answer or FAQ entry without generating.",
    )
    chunk_chars: int = Field(600, ge=100, description="Target chunk size (characters).")

    # --- shields ------------------------------------------------------------------------------
    shields: bool = Field(
        True, description="Run each agent's shield policy (input and output shields). Turning "
        "it off for every agent is for measuring the shields' cost, not for production.")

    llamaguard_endpoints: dict[str, GuardEndpoint] = Field(
        default_factory=dict, description="Llama Guard 3 servers the operator offers, by name, "
        "as JSON: {\"default\": {\"base_url\": \"http://10.0.0.5:8000/v1\", \"api_key_env\": "
        "\"GUARD_KEY\"}}. Agents pick one by name (shields.llamaguard.endpoint); owners never "
        "set a URL or a secret's name.")

    # --- tools and handoff ----------------------------------------------------------------------
    timezone: str = Field(
        "UTC", description="IANA time zone of businesses whose agent.yaml sets none (open_now, "
        "bookings).")
    tool_route_similarity: float = Field(
        0.72, ge=0, le=1, description="Cosine similarity of a message to one of a tool's "
        "example phrasings above which that tool is chosen without a rule (MiniLM); a rule "
        "match always chooses it.")
    tool_router: bool = Field(
        True, description="Choose the built-in tools with the learned router "
        "(doppel/tools/router.json, trained on the tuning half of the tool evaluation) when no "
        "rule does; off, they are chosen by their example phrasings like any other tool.")
    tool_grammar_fill: bool = Field(
        False, description="With the embedded model, a tool's free-text arguments the rules "
        "could not read (a name, a need) are read from the message by the model under a "
        "JSON-schema grammar; a value counts only when the message holds it word for word. "
        "Off by default: on 2 cores a fill takes seconds and the 135M model often returns a "
        "name with the phone number after it (rejected), so the customer is usually asked "
        "anyway (README, Tools).")
    tool_timeout_s: float = Field(
        8.0, gt=0, description="Longest a tool call may take before the turn goes on without "
        "it (a tool's own limit, when lower, wins).")
    mcp_servers: dict[str, MCPServer] = Field(
        default_factory=dict, description="MCP servers the operator offers, by name, as JSON: "
        "{\"inventory\": {\"url\": \"http://10.0.0.7:9000/mcp\", \"token_env\": \"INV_TOKEN\"}}. "
        "Agents use their tools by name (tools.mcp); owners never set a URL or a command.")
    web_search_provider: Literal["searxng", "brave", "tavily"] = Field(
        "searxng", description="The service the web_search tool queries: a SearXNG instance "
        "(DOPPEL_WEB_SEARCH_URL), or the Brave Search or Tavily API (DOPPEL_WEB_SEARCH_KEY).")
    web_search_url: str = Field(
        "", description="SearXNG: the instance's base URL (its JSON API); Brave or Tavily: "
        "another base URL for their API (a proxy), empty for theirs. Set by the operator, never "
        "by an owner. SearXNG without it: web_search is unavailable.")
    web_search_key: str = Field(
        "", repr=False, description="The Brave Search or Tavily API key (sent only to that "
        "API, in its header; never printed). Empty: web_search is unavailable with them.")
    calcom_api_url: str = Field(
        "https://api.cal.com/v2", description="Cal.com's API v2 that the booking tool calls "
        "for an agent with a Cal.com event type (a self-hosted Cal.com's, or "
        "doppel.testing.FakeCalcom in tests); set by the operator, never by an owner.")
    handoff_after_dont_knows: int = Field(
        3, ge=0, description="Don't-knows in a row after which the conversation goes to a "
        "person (0: never for that reason).")
    handoff_timeout_min: float = Field(
        240.0, gt=0, description="Minutes a person may hold a conversation without replying "
        "before the assistant takes it back (the customer is told).")
    smtp_host: str = Field("", description="SMTP server for owner notifications (handoffs, "
                           "leads, booking requests). Empty: console inbox only.")
    smtp_port: int = Field(587, ge=1, le=65535, description="SMTP port.")
    smtp_starttls: bool = Field(True, description="Upgrade the SMTP connection with STARTTLS.")
    smtp_user: str = Field("", description="SMTP user name (empty: no login).")
    smtp_password: str = Field("", description="SMTP password.")
    smtp_from: str = Field("doppel@localhost", description="Sender of notification e-mails.")

    # --- channels -------------------------------------------------------------------------------
    graph_api_url: str = Field(
        "https://graph.facebook.com/v24.0", description="Meta's Graph API, versioned, that the "
        "WhatsApp, Messenger and Instagram channels call (set by the operator; tests point it "
        "at doppel.testing.FakeGraphAPI).")
    telegram_api_url: str = Field(
        "https://api.telegram.org", description="Telegram's Bot API that the telegram channel "
        "calls (a local Bot API server, or doppel.testing.FakeTelegramAPI in tests).")
    channel_poll_s: float = Field(
        1.0, gt=0, le=60, description="How often the outbox is looked at for replies due "
        "(retries, paced parts); new replies are sent at once.")
    channel_concurrency: int = Field(
        4, ge=1, le=64, description="Channel messages answered at once per process (the rest "
        "wait in channel_inbound, in order per customer); keep it under "
        "DOPPEL_QUEUE_MAX_WAITING.")
    channel_answers: bool = Field(
        True, description="Whether this process answers channel messages and sends replies "
        "when no other process of the installation does (the default). false: it only "
        "acknowledges and records deliveries, for a deployment that runs `doppel channels "
        "work` beside its servers, so acknowledgements never wait behind answers.")
    channel_max_attempts: int = Field(
        12, ge=1, description="Tries before a reply the channel keeps refusing is marked "
        "failed (backing off from 2 s to an hour; the platform's retry_after wins).")

    # --- ingestion ----------------------------------------------------------------------------
    max_file_bytes: int = Field(
        20 * 1024 * 1024, ge=1, description="Files larger than this are skipped at ingestion."
    )

    max_archive_files: int = Field(
        5000, ge=1, description="Most entries a .zip upload or export may hold.")
    max_archive_bytes: int = Field(
        500 * 1024 * 1024, ge=1024, description="Most bytes a .zip may expand to in total "
        "(a zip bomb stops here, before anything is imported).")
    max_archive_ratio: int = Field(
        200, ge=2, description="Highest compression ratio accepted for one .zip entry.")

    # --- fetching websites --------------------------------------------------------------------
    fetch_allow: str = Field(
        "", description="Comma-separated hosts, CIDR networks or host:port pairs the crawler may "
        "fetch although they are private or loopback (e.g. '127.0.0.1:8080,10.0.0.0/8,"
        "intranet.example'). Empty: only public addresses.")
    crawl_max_pages: int = Field(50, ge=1, description="Most pages one website import fetches.")
    crawl_max_depth: int = Field(3, ge=0, description="Most links followed from the start URL.")
    crawl_max_page_bytes: int = Field(
        2 * 1024 * 1024, ge=1024, description="Larger pages are cut off and skipped.")
    crawl_timeout_s: float = Field(10.0, gt=0, description="Timeout per fetched page (s).")
    crawl_delay_s: float = Field(
        0.5, ge=0, description="Pause between requests to one site (robots.txt's Crawl-delay "
        "wins when larger).")

    public_url: str = Field(
        "", description="The server's address as browsers and messaging platforms see it "
        "(e.g. https://chat.bakery.example): console forms are accepted from that origin "
        "behind a reverse proxy that rewrites Host, and channels' webhook URLs are built on "
        "it (Telegram needs https). Empty: the request's own Host.")

    # --- console ------------------------------------------------------------------------------
    console_session_hours: float = Field(
        12.0, gt=0, description="How long an owner stays signed in to the console.")
    console_signups: bool = Field(
        False, description="Anyone who reaches the console may create an owner account (name "
        "and password) at /console/signup. Off: only the first account of a fresh install, "
        "and the people the operator invites with `doppel owners invite`.")
    console_invite_days: float = Field(
        7.0, gt=0, description="How long a `doppel owners invite` link stays valid (days); "
        "each link creates one account.")

    # --- server -------------------------------------------------------------------------------
    host: str = Field("127.0.0.1", description="Address `doppel serve` binds to (loopback "
                      "unless told otherwise).")
    port: int = Field(8080, ge=1, le=65535, description="Port of `doppel serve`.")
    max_request_bytes: int = Field(
        256 * 1024, ge=1024, description="Largest JSON request body (chat, owner API).")
    max_upload_bytes: int = Field(
        50 * 1024 * 1024, ge=1024, description="Largest multipart upload (all files together).")
    rate_per_key_per_minute: int = Field(
        600, ge=1, description="Chat requests per minute per API key.")
    rate_per_user_per_minute: int = Field(
        30, ge=1, description="Chat requests per minute per end user (or client IP).")
    trusted_proxies: str = Field(
        "", description="Comma-separated addresses or CIDR networks of reverse proxies whose "
        "X-Forwarded-For is believed for the client's address (rate limits, sign-in throttling). "
        "Empty: the connection's own address, whatever headers say.")
    auth_failures_per_minute: int = Field(
        10, ge=1, description="Failed console sign-ins or bad API keys per client address per "
        "minute before further attempts get 429 (each failure is logged).")
    allowed_hosts: str = Field(
        "", description="Comma-separated Host names the server answers (DNS-rebinding guard). "
        "Empty: the host of DOPPEL_PUBLIC_URL, plus localhost and the bound address when the "
        "server listens on loopback; any host when it listens on all interfaces.")
    queue_max_waiting: int = Field(
        32, ge=1, description="Requests that may wait for the model; more get 503.")
    remote_concurrency: int = Field(
        16, ge=1, description="Concurrent generations sent to a remote model server.")
    remote_concurrency_total: int = Field(
        0, ge=0, description="Concurrent generations sent to a remote model server by every "
        "worker and host together, counted in Redis (needs DOPPEL_REDIS_URL); 0: each process "
        "sends up to DOPPEL_REMOTE_CONCURRENCY.")

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: str) -> str:
        if value and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("must start with postgresql:// (empty: the SQLite file in the "
                             "data directory)")
        return value

    @model_validator(mode="after")
    def _shared_slots_need_redis(self) -> Settings:
        if self.remote_concurrency_total and not self.redis_url:
            raise ValueError("DOPPEL_REMOTE_CONCURRENCY_TOTAL is counted in Redis: set "
                             "DOPPEL_REDIS_URL too")
        return self

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        if value:
            try:
                check_redis_url(value)
            except ValueError as exc:
                raise ValueError(f"{exc} (empty: each process counts its own limits)") from None
        return value

    @property
    def db_path(self) -> Path:
        return self.home / "doppel.db"

    @property
    def models_dir(self) -> Path:
        return self.models_home or self.home / "models"

    def ensure_home(self) -> Path:
        self.home.mkdir(parents=True, exist_ok=True)
        self.models_dir.mkdir(parents=True, exist_ok=True)
        return self.home


def describe_settings() -> list[tuple[str, str, str]]:
    """(env var, default, help) for every setting; feeds `doppel config` and the README test."""
    rows = []
    for name, field in Settings.model_fields.items():
        env = "DOPPEL_HOME" if name == "home" else f"DOPPEL_{name.upper()}"
        default = "~/.doppel" if name == "home" else repr(field.default)
        rows.append((env, default, field.description or ""))
    return rows
