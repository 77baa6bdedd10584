"""Accounts: signing in (name and password, or an owner key) and out, the first account of a
fresh install, sign-ups (when the operator allows them), invitation links, and the owner's
password.

None of the signed-out forms has a session to hold a CSRF token, so each carries a
double-submit token instead: the page sets a short-lived cookie and puts the same value in the
form (login CSRF: nobody can sign a visitor in to the attacker's account).

A failed sign-in counts against the client's address (the same throttle as bad API keys) and
against the account name; an unknown name, an owner without a password and a wrong password
get the same message after the same work (one Argon2 verification). Passwords are never
logged, never put back in a form, and only their hash is stored (`doppel/owners.py`).
"""

from __future__ import annotations

import asyncio
import re
import secrets

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

from doppel.errors import NotFoundError, ValidationError
from doppel.owners import MAX_PASSWORD, MIN_PASSWORD, Owner
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
from doppel.serve.console.forms import FormError, field, text
from doppel.serve.limits import FailureThrottle
from doppel.serve.sessions import CSRF_FIELD, LOGIN_COOKIE, SESSION_COOKIE, Session, same_secret

__all__ = ["NAME_FAILURES", "account_page", "change_password", "home", "invite", "invite_page",
           "login", "login_page", "logout", "router", "safe_next", "setup", "setup_page",
           "signup", "signup_page"]

router = APIRouter(prefix="/console", include_in_schema=False)

# app.state attribute holding the per-account-name throttle (made by `install`).
NAME_FAILURES = "console_name_failures"
BAD_SIGN_IN = "That name and password do not match an account."


@router.get("")
def home(session: SignedIn) -> Response:
    return redirect("/console/agents")


# --- signing in ---------------------------------------------------------------------------------

@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/console/agents", error: str = "",
               name: str = "") -> Response:
    if not error and not service(request).owners.any():
        return redirect("/console/setup")  # a fresh install: nobody to sign in yet
    return _signed_out(request, "login.html", 401 if error else 200, next=safe_next(next),
                       error=error, name=name[:200],
                       signups=service(request).settings.console_signups)


def safe_next(target: str) -> str:
    """Only a console path: never an open redirect to another site."""
    ok = re.fullmatch(r"/console(/[\w.-]+)*/?", target or "") and ".." not in target
    return target if ok else "/console/agents"


@router.post("/login")
async def login(request: Request) -> Response:
    form = await _signed_out_form(request, "This sign-in form has expired or was sent from "
                                  "another site. Reload the sign-in page and try again.")
    next_page = text(form, "next", 300) or "/console/agents"
    key, name = text(form, "key", 300), text(form, "name", 200)
    password = form.get("password")
    password = password if isinstance(password, str) else ""
    # Checked before the key or password, so a guesser learns nothing more once throttled,
    # not even when a guess is right.
    wait = auth_retry_after(request)
    if wait:
        return _refused(request, next_page, name, wait, "from your address")
    if key or not (name or password):
        if not key:
            return login_page(request, next_page, error="Enter your name and password.")
        opened = session_store(request).open(key)
        if opened is None:
            auth_failed(request, "failed console sign-in")
            return login_page(request, next_page,
                              error="That key is unknown, revoked, or lacks the admin scope.")
        return _signed_in(request, opened[0], safe_next(next_page))
    throttle = _name_throttle(request)
    if wait := throttle.retry_after(_name_bucket(name)):
        return _refused(request, next_page, name, wait, "for this account")
    owner = await asyncio.to_thread(service(request).owners.check_password, name, password)
    if owner is None:
        auth_failed(request, "failed console sign-in")
        throttle.failed(_name_bucket(name))
        return login_page(request, next_page, error=BAD_SIGN_IN, name=name)
    token, _ = session_store(request).open_for(owner)
    return _signed_in(request, token, safe_next(next_page))


def _refused(request: Request, next_page: str, name: str, wait: int, whose: str) -> Response:
    refused = login_page(request, next_page, name=name, error=(
        f"Too many failed sign-ins {whose}. Try again in {wait} seconds."))
    refused.status_code = 429
    refused.headers["Retry-After"] = str(wait)
    return refused


def _name_throttle(request: Request) -> FailureThrottle:
    return getattr(request.app.state, NAME_FAILURES)  # type: ignore[no-any-return]


def _name_bucket(name: str) -> str:
    return "name:" + name.strip().casefold()


@router.post("/logout")
async def logout(request: Request, form: Posted) -> Response:
    session_store(request).close(request.cookies.get(SESSION_COOKIE))
    response = redirect("/console/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# --- new accounts: the first one, sign-ups, invitations -----------------------------------------

FIRST_GONE = ("This server has its first account already: sign in, or ask its operator for "
              "an invitation.")


@router.get("/setup", response_class=HTMLResponse)
def setup_page(request: Request) -> Response:
    if service(request).owners.any():
        return redirect("/console/login")
    return _account_form(request, "/console/setup", first=True)


@router.post("/setup")
async def setup(request: Request) -> Response:
    app = service(request)
    form = await _signed_out_form(request)
    if app.owners.any():
        raise ConsoleError(409, FIRST_GONE)
    try:
        name, password = _new_account(form)
        owner = await asyncio.to_thread(app.owners.create_first, name, password)
    except ValidationError as exc:
        return _account_form(request, "/console/setup", 422, first=True, error=str(exc),
                             name=text(form, "name", 200))
    if owner is None:  # another visitor's account landed first
        raise ConsoleError(409, FIRST_GONE)
    return _welcome(request, owner)


@router.get("/signup", response_class=HTMLResponse)
def signup_page(request: Request) -> Response:
    _signups_allowed(request)
    return _account_form(request, "/console/signup")


@router.post("/signup")
async def signup(request: Request) -> Response:
    _signups_allowed(request)
    form = await _signed_out_form(request)
    try:
        name, password = _new_account(form)
        owner = await asyncio.to_thread(service(request).owners.create_with_password, name,
                                        password)
    except ValidationError as exc:
        return _account_form(request, "/console/signup", 422, error=str(exc),
                             name=text(form, "name", 200))
    return _welcome(request, owner)


def _signups_allowed(request: Request) -> None:
    if not service(request).settings.console_signups:
        raise ConsoleError(404, "This server does not take sign-ups: ask its operator for an "
                           "invitation.")


INVITE_GONE = "This invitation link has expired or was used already. Ask for a new one."


@router.get("/invite/{token}", response_class=HTMLResponse)
def invite_page(token: str, request: Request) -> Response:
    if not service(request).owners.invite_open(token):
        raise ConsoleError(404, INVITE_GONE)
    return _account_form(request, f"/console/invite/{token}", invited=True)


@router.post("/invite/{token}")
async def invite(token: str, request: Request) -> Response:
    form = await _signed_out_form(request)
    try:
        name, password = _new_account(form)
        owner = await asyncio.to_thread(service(request).owners.accept_invite, token, name,
                                        password)
    except NotFoundError:
        raise ConsoleError(404, INVITE_GONE) from None
    except ValidationError as exc:
        return _account_form(request, f"/console/invite/{token}", 422, invited=True,
                             error=str(exc), name=text(form, "name", 200))
    return _welcome(request, owner)


def _new_account(form: FormData) -> tuple[str, str]:
    """The name and password of a new-account form; FormError for a bad one."""
    name = field(form, "name", "Name", 80, required=True)
    password, confirm = _password(form, "password"), _password(form, "confirm")
    _check_new(password, confirm)
    return name, password


def _password(form: FormData, name: str) -> str:
    value = form.get(name)
    if value is not None and not isinstance(value, str):
        raise FormError("Password", "expected text, not a file")
    return value or ""  # as typed: spaces are part of a password


def _check_new(password: str, confirm: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise FormError("Password", f"at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise FormError("Password", f"at most {MAX_PASSWORD} characters")
    if password != confirm:
        raise FormError("Confirm password", "the two passwords differ; type them again")


def _account_form(request: Request, action: str, status: int = 200, *, first: bool = False,
                  invited: bool = False, error: str = "", name: str = "") -> Response:
    return _signed_out(request, "signup.html", status, action=action, first=first,
                       invited=invited, error=error, name=name, min_password=MIN_PASSWORD)


def _welcome(request: Request, owner: Owner) -> Response:
    token, _ = session_store(request).open_for(owner)
    return _signed_in(request, token, "/console/agents")


# --- the signed-out forms' plumbing -------------------------------------------------------------

def _signed_out(request: Request, template: str, status: int, **context: object) -> Response:
    """A signed-out form with its double-submit token (cookie and hidden field)."""
    token = secrets.token_urlsafe(24)
    response = render(request, template, status, login_csrf=token, **context)
    response.set_cookie(LOGIN_COOKIE, token, max_age=3600, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/console")
    return response


async def _signed_out_form(request: Request, expired: str = (
        "This form has expired or was sent from another site. Reload the page and try "
        "again.")) -> FormData:
    try:
        form = await request.form(max_files=0, max_fields=10)
    except StarletteHTTPException:
        raise ConsoleError(400, "This form could not be read. Reload the page and try "
                           "again.") from None
    posted, cookie = text(form, CSRF_FIELD, 200), request.cookies.get(LOGIN_COOKIE, "")
    if not cookie or not same_secret(posted, cookie) or not same_origin(request):
        raise ConsoleError(403, expired)
    return form


def _signed_in(request: Request, token: str, to: str) -> Response:
    response = redirect(to)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", path="/",
                        secure=request.url.scheme == "https",
                        max_age=int(service(request).settings.console_session_hours * 3600))
    response.delete_cookie(LOGIN_COOKIE, path="/console")
    return response


# --- the owner's own account --------------------------------------------------------------------

@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, session: SignedIn, saved: int = 0) -> Response:
    return _account(request, session, saved=bool(saved))


def _account(request: Request, session: Session, status: int = 200, *, error: str = "",
             saved: bool = False) -> Response:
    return render(request, "account.html", status, session=session, error=error, saved=saved,
                  has_password=service(request).owners.has_password(session.owner.id),
                  min_password=MIN_PASSWORD)


@router.post("/account/password")
async def change_password(request: Request, form: Posted, session: SignedIn) -> Response:
    app, throttle = service(request), _name_throttle(request)
    bucket = _name_bucket(session.owner.name)
    if wait := throttle.retry_after(bucket):
        return _account(request, session, 429, error=(
            f"Too many wrong passwords for this account. Try again in {wait} seconds."))
    try:
        password, confirm = _password(form, "password"), _password(form, "confirm")
        _check_new(password, confirm)
        await asyncio.to_thread(app.owners.set_password, session.owner.id, password,
                                current=_password(form, "current_password"))
    except ValidationError as exc:
        if str(exc).startswith("Current password"):
            throttle.failed(bucket)
        return _account(request, session, 422, error=str(exc))
    session_store(request).close_others(session)
    return redirect("/console/account?saved=1")
