"""The console's form fields: each reads one posted value and checks it.

A bad value is a message on the form it came from, with what the owner typed shown again; no
form answers with a 500. The limits match the forms' maxlength, checked here too because a
browser is not the only thing that posts forms.
"""

from __future__ import annotations

import re

import httpx
from starlette.datastructures import FormData

from doppel.errors import ValidationError
from doppel.net import redact_secrets
from doppel.serve.sessions import CSRF_FIELD

__all__ = ["FormError", "email_field", "field", "field_lines", "flag", "message",
           "phone_field", "text", "typed", "web_field"]


class FormError(ValidationError):
    """One field's bad value, worded for the owner: '<label>: <what is wrong>'."""

    def __init__(self, label: str, problem: str) -> None:
        super().__init__(f"{label}: {problem}")


# What nobody types: control characters but tab and newlines, lone surrogates, and U+FFFD,
# which is what the form parser leaves of bytes that were not UTF-8.
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffd]")
_EMAIL = re.compile(r"[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[^@\s<>()\[\],;:\".]{2,}")
_PHONE = re.compile(r"\+?[\d\s().\-/]+(?:\s*(?:ext\.?|x|#)\s*\d{1,6})?", re.IGNORECASE)
_BARE_SITE = re.compile(r"[\w-]+(\.[\w-]+)+(/\S*)?")  # "bakery.example/contact"


def text(form: FormData, name: str, limit: int = 4000) -> str:
    """A value as it is, trimmed and cut at `limit`; '' for a file or nothing (no checks)."""
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def field(form: FormData, name: str, label: str, limit: int, *,
          required: bool = False) -> str:
    """A text field, trimmed; FormError when required and empty, too long, or not text."""
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
    """What the owner typed, to fill the form in again: text only, never the CSRF token nor
    a password, and an address without the password it may hold."""
    return {name: redact_secrets(value) if "url" in name else value
            for name, value in form.multi_items()
            if isinstance(value, str) and name != CSRF_FIELD and "password" not in name}


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
