"""Private data: e-mail addresses, phone numbers, payment card numbers and street addresses of
third parties are redacted from answers and from stored turns.

The owner's own published contact details are not private and stay: those in the agent's spec
(its contact card, greeting, rules) and those its documents publish as the business's own
("Call us on ...", "Email: ...", an address under "Visit us"). A customer's e-mail quoted in a
testimonial, or a staff member's mobile number in an internal note, is redacted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from doppel.safety.base import ShieldContext, SyncShield, Verdict

EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
# A phone: optional +country, then 7-15 digits with common separators; must not be part of a
# longer token (prices, order numbers with letters) and must contain enough digits.
PHONE = re.compile(r"(?<![\w.$€£])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)[\s.-]?)?\d{2,4}"
                   r"(?:[\s.-]\d{2,4}){1,4}(?![\w.]\d)|(?<![\w$€£])0\d{9}\b|\+\d{9,14}\b")
CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")
ADDRESS = re.compile(
    r"\b\d{1,5}\s+(?:[A-Z][\w'.-]*\s+){1,4}(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Boulevard|"
    r"Blvd|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Close|Crescent|Square|Sq)\b"
    r"(?:,?\s+(?:Apt|Apartment|Unit|Flat|Suite)\s*#?\w+)?", re.UNICODE)
_DIGITS = re.compile(r"\d")


def _luhn(digits: str) -> bool:
    total, alt = 0, False
    for ch in reversed(digits):
        d = int(ch)
        if alt:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
        alt = not alt
    return total % 10 == 0


def _key(kind: str, text: str) -> str:
    if kind in ("phone", "card"):
        return "".join(_DIGITS.findall(text))
    return re.sub(r"\s+", " ", text.lower()).strip()


@dataclass(frozen=True)
class Finding:
    kind: str   # email | phone | card | address
    start: int
    end: int
    text: str


def find_pii(text: str) -> list[Finding]:
    found: list[Finding] = []
    taken: list[tuple[int, int]] = []

    def add(kind: str, m: re.Match[str]) -> None:
        if any(s < m.end() and m.start() < e for s, e in taken):
            return
        taken.append(m.span())
        found.append(Finding(kind, m.start(), m.end(), m.group(0)))

    for m in EMAIL.finditer(text):
        add("email", m)
    for m in CARD.finditer(text):
        digits = "".join(_DIGITS.findall(m.group(0)))
        if 13 <= len(digits) <= 19 and _luhn(digits):
            add("card", m)
    for m in PHONE.finditer(text):
        if 7 <= len(_DIGITS.findall(m.group(0))) <= 15:
            add("phone", m)
    for m in ADDRESS.finditer(text):
        add("address", m)
    return sorted(found, key=lambda f: f.start)


def redact(text: str, allowed: Iterable[str] = ()) -> tuple[str, list[Finding]]:
    """Text with private data replaced by [email], [phone], [card] or [address]; details that
    occur in `allowed` (the owner's published texts) are kept. Cards are always redacted."""
    findings = find_pii(text)
    if not findings:
        return text, []
    published = {(f.kind, _key(f.kind, f.text)) for t in allowed for f in find_pii(t)}
    redacted: list[Finding] = []
    out, last = [], 0
    for f in findings:
        if f.kind != "card" and (f.kind, _key(f.kind, f.text)) in published:
            continue
        out.append(text[last:f.start])
        out.append(f"[{f.kind}]")
        last = f.end
        redacted.append(f)
    out.append(text[last:])
    return "".join(out), redacted


_CONTACT_CUE = re.compile(
    r"\b(call|phone|tel|telephone|contact|e-?mail|reach|text|whatsapp|sms|fax|visit|find) "
    r"?(us|our)?\b|\b(our|the) (shop|store|studio|bakery|office|address|number|team|"
    r"front desk|phone|email)\b|^\s*(phone|tel|email|e-mail|address|contact|location|"
    r"where)\s*[:|,]", re.IGNORECASE | re.MULTILINE)
_LINE = re.compile(r"[^\n]+")


def published(spec_texts: Iterable[str], passages: Iterable[str] = ()) -> list[str]:
    """Texts whose contact details are the owner's own: the spec, and the lines of passages
    that present a detail as the business's ("Call us", "Our address", "Email:")."""
    out = list(spec_texts)
    for passage in passages:
        out += [m.group(0) for m in _LINE.finditer(passage) if _CONTACT_CUE.search(m.group(0))]
    return out


class PiiShield(SyncShield):
    name = "pii"

    def inspect(self, ctx: ShieldContext) -> Verdict:
        text, found = redact(ctx.text, ctx.evidence)
        if not found:
            return Verdict(self.name)
        kinds = sorted({f.kind for f in found})
        return Verdict(self.name, "rewrite", ["privacy"], {k: 1.0 for k in kinds},
                       f"redacted {', '.join(kinds)}", rewritten=text)
