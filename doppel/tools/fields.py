"""What customers type that tools need: e-mail addresses, phone numbers, names, order numbers,
read from free text and validated the same way by every tool."""

from __future__ import annotations

import re

__all__ = ["EMAIL", "PHONE", "contact_in", "contacts_in", "name_in", "valid_contact",
           "valid_email"]

EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,24}\b")
# A phone number: at least 7 digits, with the separators people type ("+44 20 7946 0958",
# "(541) 555-0163", "555.123.4567").
# Not a date ("2027-03-10") and not glued to other words or numbers.
PHONE = re.compile(r"(?<![\w#+/.:@-])(?!20\d\d-\d\d-\d\d)\+?\(?\d[\d ().-]{5,20}\d(?![\w/:@-])")
# "order no. 10420042" is no phone number
_NUMBER_NAMED = re.compile(r"(order|invoice|ref|reference|confirmation|tracking|account)\W*"
                           r"(no\.?|number|num|#|id)?\W*$", re.I)
_NAME = re.compile(
    r"\b(?:i'?m|i am|my name is|my name's|this is|it's|name:?)\s+"
    r"([A-Z][a-z'’-]+(?:\s+[A-Z][a-z'’-]+){0,2})", re.I)
_LEADING_NAME = re.compile(r"^\s*([A-Z][a-z'’-]+(?:\s+[A-Z][a-z'’-]+){0,2})\s*[,;:-]")
_NOT_NAMES = frozenset("""hi hello hey yes no sure ok okay thanks please sorry great tomorrow today
monday tuesday wednesday thursday friday saturday sunday interested looking here just not
calling writing asking wondering""".split())


def valid_email(value: str) -> bool:
    return bool(EMAIL.fullmatch(value.strip()))


def _digits(value: str) -> int:
    return sum(ch.isdigit() for ch in value)


def valid_contact(value: str) -> bool:
    """An e-mail address or a phone number of 7 to 15 digits."""
    value = value.strip()
    if valid_email(value):
        return True
    return bool(re.fullmatch(r"\+?[\d ().-]+", value)) and 7 <= _digits(value) <= 15


def contact_in(text: str) -> str | None:
    """The first e-mail address or phone number in `text`."""
    found = contacts_in(text)
    return found[0][1] if found else None


def contacts_in(text: str) -> list[tuple[int, str]]:
    """(position, value) of every e-mail address and phone number in `text`, in order."""
    found = [(m.start(), m.group(0)) for m in EMAIL.finditer(text)]
    for m in PHONE.finditer(text):
        if 7 <= _digits(m.group(0)) <= 15 and not _NUMBER_NAMED.search(
                text[max(0, m.start() - 24):m.start()]):
            found.append((m.start(), m.group(0).strip()))
    return sorted(found)


def name_in(text: str) -> str | None:
    """A name the customer gives: "I'm Sam", "my name is Sam Lee", or "Sam Lee, 555-0101"."""
    m = _NAME.search(text)
    if m is not None:  # said outright: "my name is dana price" is a name in any case
        words = []
        for w in m.group(1).split():
            if w.lower() in _NOT_NAMES or w.lower() in ("and", "my", "i", "from", "at", "on"):
                break
            words.append(w[:1].upper() + w[1:])
    elif contact_in(text) and (m := _LEADING_NAME.match(text)) is not None:
        words = [w for w in m.group(1).split() if w[:1].isupper()]
    else:
        return None
    while words and words[-1].lower() in _NOT_NAMES:
        words.pop()
    if not words or words[0].lower() in _NOT_NAMES:
        return None
    return " ".join(words)
