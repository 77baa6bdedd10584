"""The Knowledge tab: the agent's documents, uploads and website imports (run in the
background as import jobs), a job's progress and report, and removing a document."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from doppel.agents.repo import Agent
from doppel.errors import NotFoundError, ValidationError
from doppel.net import redact_secrets
from doppel.serve.console.deps import (
    ConsoleError,
    OwnedAgent,
    Posted,
    PostedUpload,
    SignedIn,
    UnreadableForm,
    redirect,
    render,
    service,
)
from doppel.serve.console.forms import FormError, field, message, text, typed, web_field
from doppel.serve.sessions import Session

__all__ = ["ACCEPT", "MAX_NAME", "delete_document", "import_page", "import_url", "job_page",
           "router", "upload"]

router = APIRouter(prefix="/console", include_in_schema=False)

MAX_NAME = 255  # an uploaded file's name: what a file system takes
# What the drop zone offers; anything else is still reported per file, never silently dropped.
ACCEPT = (".zip,.md,.markdown,.txt,.html,.htm,.pdf,.csv,.tsv,.json,.yaml,.yml,.js,.vtt,.srt")


@router.get("/agents/{slug}/import", response_class=HTMLResponse)
def import_page(request: Request, agent: OwnedAgent, session: SignedIn, wizard: int = 0,
                error: str = "") -> Response:
    return _import_page(request, session, agent, bool(wizard), error)


def _import_page(request: Request, session: Session, agent: Agent, wizard: bool,
                 error: str = "", status: int = 400, url: str = "") -> Response:
    """The knowledge page; with an error, the message and the address typed (no password)."""
    app = service(request)
    documents = app.documents(agent)
    return render(request, "import.html", status if error else 200, session=session,
                  agent=agent, tab="knowledge", wizard=wizard, error=error, accept=ACCEPT,
                  documents=documents, jobs=request.app.state.imports.list(agent.id, 5),
                  max_bytes=app.settings.max_upload_bytes, url=redact_secrets(url))


@router.post("/agents/{slug}/files")
async def upload(request: Request, form: PostedUpload, agent: OwnedAgent,
                 session: SignedIn) -> Response:
    if isinstance(form, UnreadableForm):  # too many files: say so on the upload form
        return _import_page(request, session, agent, False, form.message, form.status)
    slug = agent.slug
    wizard = text(form, "wizard") == "1"
    uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    if not uploads:
        return _import_page(request, session, agent, wizard, "Choose at least one file.")
    limit = service(request).settings.max_upload_bytes
    files = []
    for item in uploads:
        name = (item.filename or "upload").replace("\\", "/").rsplit("/", 1)[-1] or "upload"
        if len(name) > MAX_NAME:
            return _import_page(request, session, agent, wizard,
                                f"File name “{name[:40]}…”: at most {MAX_NAME} characters "
                                f"(this has {len(name)}); rename it.")
        files.append((name, await item.read(limit + 1)))
    try:
        job = request.app.state.imports.start_files(agent, files)
    except ValidationError as exc:
        return _import_page(request, session, agent, wizard, str(exc).capitalize() + ".")
    return redirect(f"/console/agents/{slug}/imports/{job.id}" + ("?wizard=1" if wizard else ""))


@router.post("/agents/{slug}/import-url")
async def import_url(request: Request, form: Posted, agent: OwnedAgent,
                     session: SignedIn) -> Response:
    wizard = text(form, "wizard") == "1"
    try:
        url = web_field(form, "url", "Web address")
        if not url:
            raise FormError("Web address", "enter a web address starting with http:// or "
                            "https://")
    except ValidationError as exc:
        return _import_page(request, session, agent, wizard, message(exc), 422,
                            url=typed(form).get("url", ""))
    try:
        job = request.app.state.imports.start_url(agent, url)
    except ValidationError as exc:  # imports still waiting for this agent
        return _import_page(request, session, agent, wizard, str(exc).capitalize() + ".",
                            url=url)
    return redirect(f"/console/agents/{agent.slug}/imports/{job.id}"
                    + ("?wizard=1" if wizard else ""))


@router.get("/agents/{slug}/imports/{job_id}", response_class=HTMLResponse)
def job_page(job_id: int, request: Request, agent: OwnedAgent, session: SignedIn,
             wizard: int = 0) -> Response:
    try:
        job = request.app.state.imports.get(job_id, agent.id)
    except NotFoundError:
        raise ConsoleError(404, f"There is no import #{job_id}.") from None
    return render(request, "job.html", session=session, agent=agent, tab="knowledge", job=job,
                  wizard=bool(wizard))


@router.post("/agents/{slug}/documents/delete")
async def delete_document(request: Request, form: Posted, agent: OwnedAgent,
                          session: SignedIn) -> Response:
    try:
        source = field(form, "source", "File", 2000, required=True)
        if not service(request).ingestor.remove(agent, source):
            raise FormError("File", f"there is no file called “{source[:80]}” (was it removed "
                            "already?)")
    except ValidationError as exc:
        return _import_page(request, session, agent, False, message(exc), 422)
    return redirect(f"/console/agents/{agent.slug}/import")
