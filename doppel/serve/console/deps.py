"""What every console page needs: the signed-in owner, the CSRF-checked form, the owner's agent
(as FastAPI dependencies), the two console errors, and the page renderer.

A route reaches an agent only through `owned_agent`, which resolves the ``{slug}`` path
parameter for the signed-in owner: another owner's agent is a 404 there, worded exactly as an
agent that does not exist, so the console does not even confirm that it exists.
tests/test_console_routes.py fails when a ``{slug}`` route does without it.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

from doppel.agents.repo import Agent
from doppel.serve.charts import PATH_LABELS
from doppel.serve.sessions import CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE, Session, SessionStore
from doppel.serve.web import templates
from doppel.service import Doppel

__all__ = ["MAX_FIELDS", "MAX_FILES", "ConsoleError", "OwnedAgent", "Posted", "PostedUpload",
           "SignInRequired", "SignedIn", "UnreadableForm", "owned_agent", "posted_form",
           "posted_upload", "redirect", "render", "same_origin", "service", "session_store",
           "signed_in"]

MAX_FILES = 100
MAX_FIELDS = 2000

templates.env.filters["path_label"] = lambda path: PATH_LABELS.get(path, path)


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


def service(request: Request) -> Doppel:
    """The Doppel service behind the app."""
    return request.app.state.doppel  # type: ignore[no-any-return]


def session_store(request: Request) -> SessionStore:
    return request.app.state.sessions  # type: ignore[no-any-return]


def signed_in(request: Request) -> Session:
    """The live session of the request's cookie, or SignInRequired."""
    session = session_store(request).get(request.cookies.get(SESSION_COOKIE))
    if session is None:
        raise SignInRequired()
    return session


def same_origin(request: Request) -> bool:
    """A browser sends Origin on every cross-site POST; when it is there it must be ours:
    the configured public address (behind a proxy that rewrites Host), else the Host."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin != "null"
    public = service(request).settings.public_url.rstrip("/")
    if public:
        return origin.rstrip("/").lower() == public.lower()
    return urlsplit(origin).netloc == request.headers.get("host", request.url.netloc)


async def posted_form(request: Request,
                      session: Annotated[Session, Depends(signed_in)]) -> FormData:
    """The posted form of the signed-in owner, after the CSRF and origin checks."""
    try:
        form = await request.form(max_files=MAX_FILES, max_fields=MAX_FIELDS)
    except StarletteHTTPException as exc:
        raise UnreadableForm(exc.status_code, _unreadable(str(exc.detail))) from None
    token = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)
    if not same_origin(request) or not session.csrf_ok(token if isinstance(token, str)
                                                       else None):
        raise ConsoleError(403, "This form has expired or was sent from another site. "
                           "Go back, reload the page and try again.")
    return form


async def posted_upload(request: Request, session: Annotated[Session, Depends(signed_in)]
                        ) -> FormData | UnreadableForm:
    """As `posted_form`, but a form the parser refused is returned, not raised: the upload
    page says what was wrong on the upload form itself."""
    try:
        return await posted_form(request, session)
    except UnreadableForm as exc:
        return exc


def owned_agent(slug: str, request: Request,
                session: Annotated[Session, Depends(signed_in)]) -> Agent:
    """The agent ``{slug}`` of the signed-in owner; another owner's agent is a 404."""
    agent = service(request).agents.find(slug)
    if agent is None or agent.owner_id != session.owner.id:
        raise ConsoleError(404, f"You have no agent called “{slug}”.")
    return agent


SignedIn = Annotated[Session, Depends(signed_in)]
Posted = Annotated[FormData, Depends(posted_form)]
PostedUpload = Annotated[FormData | UnreadableForm, Depends(posted_upload)]
OwnedAgent = Annotated[Agent, Depends(owned_agent)]


def _unreadable(detail: str) -> str:
    if detail.startswith("Too many files"):
        return (f"Too many files at once: choose at most {MAX_FILES}, or put them in a .zip "
                "and upload that.")
    if detail.startswith("Too many fields"):
        return f"This form has too many fields (at most {MAX_FIELDS})."
    return "This form could not be read. Reload the page and try again."


def render(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    """A console page: `console/<template>` with the session's CSRF token for its forms."""
    session = context.get("session")
    context.setdefault("csrf", session.csrf if isinstance(session, Session) else "")
    response = templates.TemplateResponse(request, f"console/{template}", context,
                                          status_code=status)
    # Owner pages hold private data and CSRF tokens: never cached, never framed.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
    return response


def redirect(url: str) -> RedirectResponse:
    """303 See Other: after a form, the browser GETs the next page."""
    return RedirectResponse(url, status_code=303)
