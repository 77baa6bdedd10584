"""The owner console: server-rendered pages under /console for owners who do not program.

It calls the same domain services as the owner JSON API (`doppel/serve/owner_api.py`): agents,
the ingestor (through import jobs), the runtime, approved answers and the insights queries. Only
the transport differs: a session cookie instead of a Bearer key, HTML forms instead of JSON, and
a CSRF token on every form (see `sessions.py`).

One router module per tab of an agent's page, plus the account pages:

    account     sign in and out, the first account, sign-ups, invitations, passwords
    agents      the agent list, the new-agent wizard, an agent's overview
    knowledge   documents, uploads, website imports and their jobs
    review      facts found, the voice profile, the test chat, publishing
    inbox       the unanswered questions (and answers the owner marked wrong)
    people      conversations for a person (reply, hand back), leads, booking requests
    channels    WhatsApp, Messenger, Instagram, Telegram: connect, test, deliveries
    answers     the approved answers: list, add, edit, delete
    insights    conversations, safety events, analytics
    settings    the agent's settings

`deps` holds what they share as FastAPI dependencies (the signed-in owner, the CSRF-checked
form, the owner's own agent); `forms` the checked form fields.
"""

from __future__ import annotations

import inspect
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response

from doppel.serve.console import (
    account,
    agents,
    answers,
    channels,
    inbox,
    insights,
    knowledge,
    people,
    review,
    settings,
)
from doppel.serve.console.deps import ConsoleError, SignInRequired, redirect, render
from doppel.serve.limits import failure_throttle
from doppel.serve.sessions import SessionStore
from doppel.service import Doppel

__all__ = ["ROUTERS", "install"]

ROUTERS: tuple[APIRouter, ...] = (account.router, agents.router, knowledge.router,
                                  review.router, inbox.router, people.router, channels.router,
                                  answers.router,
                                  insights.router, settings.router)


def install(app: FastAPI) -> None:
    """Add the console to an app: its routes, sessions and its two error pages."""
    service: Doppel = app.state.doppel
    app.state.sessions = SessionStore(service.db, service.owners,
                                      service.settings.console_session_hours)
    # Failed password sign-ins per account name; per address they count in auth_failures.
    setattr(app.state, account.NAME_FAILURES, failure_throttle(service.settings, "auth-name"))
    for router in ROUTERS:
        app.include_router(router)

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        if request.method == "GET":
            return redirect(f"/console/login?next={quote(request.url.path)}")
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
