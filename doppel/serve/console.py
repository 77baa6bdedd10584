"""The owner console: server-rendered pages under /console for owners who do not program.

It calls the same domain services as the owner JSON API (`doppel/serve/owner_api.py`): agents,
the ingestor (through import jobs), the runtime, approved answers and the insights queries. Only
the transport differs: a session cookie instead of a Bearer key, HTML forms instead of JSON, and
a CSRF token on every form (see `sessions.py`).

An owner sees only their own agents: another owner's agent is a 404 here, so the console does
not even confirm that it exists.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from doppel.agents.repo import Agent
from doppel.agents.spec import AgentSpec, slugify
from doppel.errors import (BackendError, ContextOverflowError, DoppelError, NotFoundError,
                           ValidationError)
from doppel.knowledge.facts import facts_found
from doppel.net import redact_secrets
from doppel.serve.auth import auth_failed, auth_retry_after
from doppel.serve.charts import PATH_LABELS
from doppel.serve.sessions import (
    CSRF_FIELD,
    CSRF_HEADER,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    Session,
    SessionStore,
    same_secret,
)
from doppel.serve.web import templates
from doppel.service import Doppel

log = logging.getLogger(__name__)

router = APIRouter(prefix="/console", include_in_schema=False)
templates.env.filters["path_label"] = lambda path: PATH_LABELS.get(path, path)

MAX_FILES = 100
MAX_FIELDS = 2000
MAX_NAME = 255  # an uploaded file's name: what a file system takes
# What the drop zone offers; anything else is still reported per file, never silently dropped.
ACCEPT = (".zip,.md,.markdown,.txt,.html,.htm,.pdf,.csv,.tsv,.json,.yaml,.yml,.js,.vtt,.srt")


class SignInRequired(Exception):
    """Raised by a console page when there is no live session: the page redirects to sign-in."""


class ConsoleError(Exception):
    """A console request that cannot be served: rendered as an HTML page with the message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class UnreadableForm(ConsoleError):
    """A form the parser refused (too many files or fields, a broken multipart body)."""


def _app(request: Request) -> Doppel:
    return request.app.state.doppel  # type: ignore[no-any-return]


def _sessions(request: Request) -> SessionStore:
    return request.app.state.sessions  # type: ignore[no-any-return]


def _session(request: Request) -> Session:
    session = _sessions(request).get(request.cookies.get(SESSION_COOKIE))
    if session is None:
        raise SignInRequired()
    return session


def _same_origin(request: Request) -> bool:
    """A browser sends Origin on every cross-site POST; when it is there it must be ours:
    the configured public address (behind a proxy that rewrites Host), else the Host."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin != "null"
    public = _app(request).settings.public_url.rstrip("/")
    if public:
        return origin.rstrip("/").lower() == public.lower()
    return urlsplit(origin).netloc == request.headers.get("host", request.url.netloc)


async def _form(request: Request) -> tuple[Session, FormData]:
    """The signed-in owner and the posted form, after the CSRF and origin checks."""
    session = _session(request)
    try:
        form = await request.form(max_files=MAX_FILES, max_fields=MAX_FIELDS)
    except StarletteHTTPException as exc:
        raise UnreadableForm(exc.status_code, _unreadable(str(exc.detail))) from None
    token = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)
    if not _same_origin(request) or not session.csrf_ok(token if isinstance(token, str)
                                                        else None):
        raise ConsoleError(403, "This form has expired or was sent from another site. "
                           "Go back, reload the page and try again.")
    return session, form


def _agent(request: Request, session: Session, slug: str) -> Agent:
    agent = _app(request).agents.find(slug)
    if agent is None or agent.owner_id != session.owner.id:
        raise ConsoleError(404, f"You have no agent called “{slug}”.")
    return agent


def _unreadable(detail: str) -> str:
    if detail.startswith("Too many files"):
        return (f"Too many files at once: choose at most {MAX_FILES}, or put them in a .zip "
                "and upload that.")
    if detail.startswith("Too many fields"):
        return f"This form has too many fields (at most {MAX_FIELDS})."
    return "This form could not be read. Reload the page and try again."


def _text(form: FormData, name: str, limit: int = 4000) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


# --- form fields --------------------------------------------------------------------------------
# A bad value is a message on the form it came from, with what the owner typed shown again; no
# form answers with a 500. The limits match the forms' maxlength, checked here too because a
# browser is not the only thing that posts forms.

class FormError(ValidationError):
    """One field's bad value, worded for the owner: '<label>: <what is wrong>'."""

    def __init__(self, label: str, problem: str) -> None:
        super().__init__(f"{label}: {problem}")


# What nobody types: control characters but tab and newlines, lone surrogates, and U+FFFD,
# which is what the form parser leaves of bytes that were not UTF-8.
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffd]")
_EMAIL = re.compile(r"[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[^@\s<>()\[\],;:\".]{2,}")
_PHONE = re.compile(r"\+?[\d\s().\-/]+(?:\s*(?:ext\.?|x|#)\s*\d{1,6})?", re.I)
_BARE_SITE = re.compile(r"[\w-]+(\.[\w-]+)+(/\S*)?")  # "bakery.example/contact"


def field(form: FormData, name: str, label: str, limit: int, *,
          required: bool = False) -> str:
    value = form.get(name)
    if value is not None and not isinstance(value, str):
        raise FormError(label, "expected text, not a file")
    value = (value or "").strip()
    if required and not value:
        raise FormError(label, "fill this in")
    if len(value) > limit:
        raise FormError(label, f"at most {limit} characters (this has {len(value)})")
    if _NOT_TEXT.search(value):
        raise FormError(label, "contains characters that are not text (control characters, or "
                        "bytes that are not UTF-8): type it again")
    return value


def field_lines(form: FormData, name: str, label: str, *, each: int = 200,
                most: int = 100) -> list[str]:
    """One item per line."""
    lines = [ln.strip() for ln in field(form, name, label, (each + 1) * most).splitlines()]
    lines = [ln for ln in lines if ln]
    if len(lines) > most:
        raise FormError(label, f"at most {most} lines (this has {len(lines)})")
    for line in lines:
        if len(line) > each:
            raise FormError(label, f"each line at most {each} characters (“{line[:30]}…” has "
                            f"{len(line)})")
    return lines


def email_field(form: FormData, name: str, label: str) -> str:
    value = field(form, name, label, 254)
    if value and not _EMAIL.fullmatch(value):
        raise FormError(label, "give an address such as hello@bakery.example")
    return value


def phone_field(form: FormData, name: str, label: str) -> str:
    value = field(form, name, label, 40)
    if value and (not _PHONE.fullmatch(value) or sum(c.isdigit() for c in value) < 3):
        raise FormError(label, "use digits, spaces and + ( ) - . only, e.g. +1 555-0142")
    return value


def web_field(form: FormData, name: str, label: str, limit: int = 2000) -> str:
    """An http(s) address; 'bakery.example' as owners write it gets https://."""
    value = field(form, name, label, limit)
    if not value:
        return value
    if "://" not in value and _BARE_SITE.fullmatch(value):
        value = "https://" + value
    try:
        url: httpx.URL | None = httpx.URL(value)
    except (httpx.InvalidURL, ValueError):
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host \
            or re.search(r"\s", value):
        raise FormError(label, "give a web address such as https://bakery.example")
    if url.userinfo:
        raise FormError(label, "leave out the user name and password (user:password@): "
                        "doppel never sends or shows them")
    return value


def flag(form: FormData, name: str, label: str, *, missing: bool = False) -> bool:
    """A checkbox or a hidden 1/0: anything else is a message, not a guess."""
    value = form.get(name)
    if value is None:
        return missing
    if not isinstance(value, str):
        raise FormError(label, "expected text, not a file")
    if value.strip() in ("1", "on", "0", ""):
        return value.strip() in ("1", "on")
    raise FormError(label, "tick the box or leave it empty")


def typed(form: FormData) -> dict[str, str]:
    """What the owner typed, to fill the form in again: text only, never the CSRF token, and
    an address without the password it may hold."""
    return {name: redact_secrets(value) if "url" in name else value
            for name, value in form.multi_items()
            if isinstance(value, str) and name != CSRF_FIELD}


# Where AgentSpec's checks point (its own field names), as the forms label them.
_SPEC_LABELS = {"name": "Name", "persona": "Character", "greeting": "Greeting", "rules": "Rules",
                "contact.name": "Contact name", "contact.email": "E-mail", "contact.phone": "Phone",
                "contact.url": "Website", "contact.hours": "When someone answers",
                "shields.competitors": "Competitors",
                "shields.forbidden_topics": "Topics it stays away from",
                "shields.custom.name": "Short name", "agent": "Text"}


def message(exc: ValidationError) -> str:
    """A spec error ('contact.url: Value error, give ...') as the form says it."""
    if isinstance(exc, FormError):
        return str(exc)
    where, sep, what = str(exc).partition(": ")
    label = _SPEC_LABELS.get(re.sub(r"\.\d+", "", where))
    what = what.removeprefix("Value error, ")
    return f"{label}: {what}" if sep and label else str(exc)


def render(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    session = context.get("session")
    context.setdefault("csrf", session.csrf if isinstance(session, Session) else "")
    response = templates.TemplateResponse(request, f"console/{template}", context,
                                          status_code=status)
    # Owner pages hold private data and CSRF tokens: never cached, never framed.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
    return response


def _to(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def install(app: FastAPI) -> None:
    """Add the console to an app: its routes, sessions and its two error pages."""
    service: Doppel = app.state.doppel
    app.state.sessions = SessionStore(service.db, service.owners,
                                      service.settings.console_session_hours)
    app.include_router(router)
    from doppel.serve import console_pages  # noqa: F401  (registers the insight pages)

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        if request.method == "GET":
            return _to(f"/console/login?next={quote(request.url.path)}")
        return render(request, "error.html", 401,
                      message="Your session has ended. Sign in again.")

    @app.exception_handler(ConsoleError)
    async def _error(request: Request, exc: ConsoleError) -> Response:
        return render(request, "error.html", exc.status, message=exc.message)

    api_validation = app.exception_handlers[RequestValidationError]

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        # A mistyped console address (?page=abc) gets a page, not the API's JSON error.
        if request.url.path.startswith("/console"):
            return render(request, "error.html", 422,
                          message="That address is not quite right: go back and try again.")
        response = api_validation(request, exc)
        return await response if inspect.isawaitable(response) else response


# --- signing in ---------------------------------------------------------------------------------

@router.get("")
def home(request: Request) -> Response:
    _session(request)
    return _to("/console/agents")


@router.get("/login")
def login_page(request: Request, next: str = "/console/agents", error: str = "") -> Response:
    import secrets

    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", 401 if error else 200, login_csrf=token,
                      next=_safe_next(next), error=error)
    response.set_cookie(LOGIN_COOKIE, token, max_age=3600, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/console")
    return response


def _safe_next(target: str) -> str:
    """Only a console path: never an open redirect to another site."""
    ok = re.fullmatch(r"/console(/[\w.-]+)*/?", target or "") and ".." not in target
    return target if ok else "/console/agents"


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form(max_files=0, max_fields=10)
    posted, cookie = _text(form, CSRF_FIELD, 200), request.cookies.get(LOGIN_COOKIE, "")
    if not cookie or not same_secret(posted, cookie) or not _same_origin(request):
        raise ConsoleError(403, "This sign-in form has expired or was sent from another site. "
                           "Reload the sign-in page and try again.")
    next_page = _text(form, "next", 300) or "/console/agents"
    # Checked before the key, so a key guesser learns nothing more once throttled, not even
    # when a guess is right.
    if wait := auth_retry_after(request):
        refused = login_page(request, next_page, error=(
            f"Too many failed sign-ins from your address. Try again in {wait} seconds."))
        refused.status_code = 429
        refused.headers["Retry-After"] = str(wait)
        return refused
    opened = _sessions(request).open(_text(form, "key", 300))
    if opened is None:
        auth_failed(request, "failed console sign-in")
        return login_page(request, next_page,
                          error="That key is unknown, revoked, or lacks the admin scope.")
    token, _ = opened
    response = _to(_safe_next(_text(form, "next", 300)))
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", path="/",
                        secure=request.url.scheme == "https",
                        max_age=int(_app(request).settings.console_session_hours * 3600))
    response.delete_cookie(LOGIN_COOKIE, path="/console")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    await _form(request)
    _sessions(request).close(request.cookies.get(SESSION_COOKIE))
    response = _to("/console/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# --- agents and the new-agent wizard ------------------------------------------------------------

@router.get("/agents", response_class=HTMLResponse)
def agents_page(request: Request) -> Response:
    session = _session(request)
    app = _app(request)
    agents = [(a, app.agents.stats(a)) for a in app.agents.list(session.owner.id)]
    return render(request, "agents.html", session=session, agents=agents)


@router.get("/new", response_class=HTMLResponse)
def new_page(request: Request) -> Response:
    return render(request, "new.html", session=_session(request), values={}, error="")


@router.post("/new")
async def create(request: Request) -> Response:
    session, form = await _form(request)
    app = _app(request)
    try:
        name = field(form, "name", "Name", 120, required=True)
        kind = field(form, "kind", "Who is it for?", 20) or "business"
        if kind not in ("creator", "business"):
            raise FormError("Who is it for?", "choose a business or a creator")
        contact = {"email": email_field(form, "email", "E-mail"),
                   "phone": phone_field(form, "phone", "Phone"),
                   "url": web_field(form, "url", "Website")}
        spec = AgentSpec.parse({
            "slug": _free_slug(request, name), "name": name, "kind": kind, "contact": contact,
            "greeting": f"Hi! I'm {name}'s assistant. Ask me anything."})
    except ValidationError as exc:
        return render(request, "new.html", 422, session=session, values=typed(form),
                      error=message(exc))
    agent = app.agents.create(spec, session.owner.id)
    return _to(f"/console/agents/{agent.slug}/import?wizard=1")


def _free_slug(request: Request, name: str) -> str:
    base = slugify(name)
    slug, n = base, 2
    while _app(request).agents.find(slug) is not None:
        slug, n = f"{base[:60]}-{n}", n + 1
    return slug


@router.get("/agents/{slug}", response_class=HTMLResponse)
def overview(slug: str, request: Request) -> Response:
    session = _session(request)
    agent = _agent(request, session, slug)
    base = str(request.base_url).rstrip("/")
    return render(request, "overview.html", session=session, agent=agent, tab="overview",
                  stats=_app(request).agents.stats(agent), base=base)


# --- importing ----------------------------------------------------------------------------------

@router.get("/agents/{slug}/import", response_class=HTMLResponse)
def import_page(slug: str, request: Request, wizard: int = 0, error: str = "") -> Response:
    return _import_page(request, slug, bool(wizard), error)


def _import_page(request: Request, slug: str, wizard: bool, error: str = "",
                 status: int = 400, url: str = "") -> Response:
    """The knowledge page; with an error, the message and the address typed (no password)."""
    session = _session(request)
    agent = _agent(request, session, slug)
    app = _app(request)
    documents = app.db.connect().execute(
        "SELECT source, loader, title, n_chunks, ingested_at FROM documents WHERE agent_id = ? "
        "ORDER BY source", (agent.id,)).fetchall()
    return render(request, "import.html", status if error else 200, session=session,
                  agent=agent, tab="knowledge", wizard=wizard, error=error, accept=ACCEPT,
                  documents=documents, jobs=request.app.state.imports.list(agent.id, 5),
                  max_bytes=app.settings.max_upload_bytes, url=redact_secrets(url))


@router.post("/agents/{slug}/files")
async def upload(slug: str, request: Request) -> Response:
    try:
        session, form = await _form(request)
    except UnreadableForm as exc:  # too many files: say so on the upload form
        return _import_page(request, slug, False, exc.message, exc.status)
    agent = _agent(request, session, slug)
    wizard = _text(form, "wizard") == "1"
    uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    if not uploads:
        return _import_page(request, slug, wizard, "Choose at least one file.")
    limit = _app(request).settings.max_upload_bytes
    files = []
    for item in uploads:
        name = (item.filename or "upload").replace("\\", "/").rsplit("/", 1)[-1] or "upload"
        if len(name) > MAX_NAME:
            return _import_page(request, slug, wizard, f"File name “{name[:40]}…”: at most "
                                f"{MAX_NAME} characters (this has {len(name)}); rename it.")
        files.append((name, await item.read(limit + 1)))
    try:
        job = request.app.state.imports.start_files(agent, files)
    except ValidationError as exc:
        return _import_page(request, slug, wizard, str(exc).capitalize() + ".")
    return _to(f"/console/agents/{slug}/imports/{job.id}" + ("?wizard=1" if wizard else ""))


@router.post("/agents/{slug}/import-url")
async def import_url(slug: str, request: Request) -> Response:
    session, form = await _form(request)
    agent = _agent(request, session, slug)
    wizard = _text(form, "wizard") == "1"
    try:
        url = web_field(form, "url", "Web address")
        if not url:
            raise FormError("Web address", "enter a web address starting with http:// or "
                            "https://")
    except ValidationError as exc:
        return _import_page(request, slug, wizard, message(exc), 422,
                            url=typed(form).get("url", ""))
    try:
        job = request.app.state.imports.start_url(agent, url)
    except ValidationError as exc:  # imports still waiting for this agent
        return _import_page(request, slug, wizard, str(exc).capitalize() + ".", url=url)
    return _to(f"/console/agents/{slug}/imports/{job.id}" + ("?wizard=1" if wizard else ""))


@router.get("/agents/{slug}/imports/{job_id}", response_class=HTMLResponse)
def job_page(slug: str, job_id: int, request: Request, wizard: int = 0) -> Response:
    session = _session(request)
    agent = _agent(request, session, slug)
    try:
        job = request.app.state.imports.get(job_id, agent.id)
    except NotFoundError:
        raise ConsoleError(404, f"There is no import #{job_id}.") from None
    return render(request, "job.html", session=session, agent=agent, tab="knowledge", job=job,
                  wizard=bool(wizard))


@router.post("/agents/{slug}/documents/delete")
async def delete_document(slug: str, request: Request) -> Response:
    session, form = await _form(request)
    agent = _agent(request, session, slug)
    try:
        source = field(form, "source", "File", 2000, required=True)
        if not _app(request).ingestor.remove(agent, source):
            raise FormError("File", f"there is no file called “{source[:80]}” (was it removed "
                            "already?)")
    except ValidationError as exc:
        return _import_page(request, slug, False, message(exc), 422)
    return _to(f"/console/agents/{slug}/import")


# --- review: facts, voice, a test chat, publishing ----------------------------------------------

@router.get("/agents/{slug}/review", response_class=HTMLResponse)
def review_page(slug: str, request: Request) -> Response:
    return _review(request, slug)


def _review(request: Request, slug: str, status: int = 200, trial: dict[str, Any] | None = None,
            voice_error: str = "", voice_typed: dict[str, str] | None = None,
            publish_error: str = "") -> Response:
    session = _session(request)
    agent = _agent(request, session, slug)
    app = _app(request)
    return render(request, "review.html", status, session=session, agent=agent, tab="review",
                  facts=facts_found(app.db, agent.id, rules=agent.spec.rules), stats=app.agents.stats(agent),
                  trial=trial, voice_error=voice_error, voice_typed=voice_typed or {},
                  publish_error=publish_error)


def _trouble(request: Request, exc: Exception) -> str:
    """What the owner is told of a failure: a model backend's error names the operator's hosts
    and carries the upstream's reply, so it goes to the log and the owner gets a plain line."""
    if isinstance(exc, BackendError) and not isinstance(exc, ContextOverflowError):
        log.error("model backend error on %s: %s", request.url.path, exc)
        return "The model is unavailable right now; try again in a minute."
    return str(exc)


@router.post("/agents/{slug}/try")
async def try_agent(slug: str, request: Request) -> Response:
    session, form = await _form(request)
    agent = _agent(request, session, slug)
    try:
        question = field(form, "q", "Test question", 2000)
    except ValidationError as exc:
        return _review(request, slug, 422, trial={"error": message(exc),
                                                  "question": typed(form).get("q", "")})
    if not question:
        return _review(request, slug, 422, trial={"error": "Type a question."})
    try:
        result = await _app(request).runtime.turn(agent, question,
                                                  thread=f"console:{session.owner.id}")
    except DoppelError as exc:
        return _review(request, slug, 422, trial={"error": _trouble(request, exc),
                                                  "question": question})
    return _review(request, slug, trial={"question": question, "result": result})


@router.post("/agents/{slug}/voice/derive")
async def derive_voice(slug: str, request: Request) -> Response:
    session, _ = await _form(request)
    agent = _agent(request, session, slug)
    app = _app(request)
    from doppel.agents.persona import derive_voice_async
    from doppel.agents.persona import texts_for_voice

    texts = texts_for_voice(app.db, agent.id, agent.spec.kind)
    try:
        voice = await derive_voice_async(
            texts, agent.spec.kind, backend=app.drafting_backend(agent.spec),
            embedder=app.embedder)
    except (ValueError, DoppelError) as exc:
        return _review(request, slug, 422, voice_error=_trouble(request, exc))
    # re-read: a settings save may have landed while the voice was measured
    app.agents.update(app.agents.get(slug).spec.model_copy(update={"voice": voice}))
    return _to(f"/console/agents/{slug}/review#voice")


@router.post("/agents/{slug}/voice")
async def save_voice(slug: str, request: Request) -> Response:
    session, form = await _form(request)
    agent = _agent(request, session, slug)
    from doppel.serve.console_pages import voice_from_form

    from doppel.agents.persona import check_examples

    try:
        voice = voice_from_form(agent, form)
        spec = AgentSpec.parse(agent.spec.model_dump() | {"voice": voice})
        await asyncio.to_thread(check_examples, _app(request).db, agent.id, spec)
    except ValidationError as exc:
        return _review(request, slug, 422, voice_error=message(exc), voice_typed=typed(form))
    _app(request).agents.update(spec)
    return _to(f"/console/agents/{slug}/review#voice")


@router.post("/agents/{slug}/publish")
async def publish(slug: str, request: Request) -> Response:
    session, form = await _form(request)
    agent = _agent(request, session, slug)
    try:
        # the buttons send 1 or 0; a form without the field publishes, as it always did
        public = flag(form, "public", "Publish", missing=True)
    except ValidationError as exc:
        return _review(request, slug, 422, publish_error=message(exc))
    _app(request).agents.update(agent.spec.model_copy(update={"public": public}))
    return _to(f"/console/agents/{slug}" + ("?published=1" if public else ""))
