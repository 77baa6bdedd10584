"""Signing in to the console and out of it."""

from __future__ import annotations

import re
import secrets

from fastapi import APIRouter, Request
from fastapi.responses import Response

from doppel.serve.auth import auth_failed, auth_retry_after
from doppel.serve.console.deps import (
    ConsoleError,
    Posted,
    SignedIn,
    redirect,
    render,
    same_origin,
    service,
    session_store,
)
from doppel.serve.console.forms import text
from doppel.serve.sessions import CSRF_FIELD, LOGIN_COOKIE, SESSION_COOKIE, same_secret

__all__ = ["home", "login", "login_page", "logout", "router", "safe_next"]

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("")
def home(session: SignedIn) -> Response:
    return redirect("/console/agents")


@router.get("/login")
def login_page(request: Request, next: str = "/console/agents", error: str = "") -> Response:
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", 401 if error else 200, login_csrf=token,
                      next=safe_next(next), error=error)
    response.set_cookie(LOGIN_COOKIE, token, max_age=3600, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/console")
    return response


def safe_next(target: str) -> str:
    """Only a console path: never an open redirect to another site."""
    ok = re.fullmatch(r"/console(/[\w.-]+)*/?", target or "") and ".." not in target
    return target if ok else "/console/agents"


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form(max_files=0, max_fields=10)
    posted, cookie = text(form, CSRF_FIELD, 200), request.cookies.get(LOGIN_COOKIE, "")
    if not cookie or not same_secret(posted, cookie) or not same_origin(request):
        raise ConsoleError(403, "This sign-in form has expired or was sent from another site. "
                           "Reload the sign-in page and try again.")
    next_page = text(form, "next", 300) or "/console/agents"
    # Checked before the key, so a key guesser learns nothing more once throttled, not even
    # when a guess is right.
    if wait := auth_retry_after(request):
        refused = login_page(request, next_page, error=(
            f"Too many failed sign-ins from your address. Try again in {wait} seconds."))
        refused.status_code = 429
        refused.headers["Retry-After"] = str(wait)
        return refused
    opened = session_store(request).open(text(form, "key", 300))
    if opened is None:
        auth_failed(request, "failed console sign-in")
        return login_page(request, next_page,
                          error="That key is unknown, revoked, or lacks the admin scope.")
    token, _ = opened
    response = redirect(safe_next(text(form, "next", 300)))
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", path="/",
                        secure=request.url.scheme == "https",
                        max_age=int(service(request).settings.console_session_hours * 3600))
    response.delete_cookie(LOGIN_COOKIE, path="/console")
    return response


@router.post("/logout")
async def logout(request: Request, form: Posted) -> Response:
    session_store(request).close(request.cookies.get(SESSION_COOKIE))
    response = redirect("/console/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
