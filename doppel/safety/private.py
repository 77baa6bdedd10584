"""Private lines: what an owner's documents hold but customers must never be told.

Two kinds, both found per line (a sentence, or a line of a list or table):
- secrets that look like secrets whatever the owner wrote: passwords, door and alarm codes,
  PINs, API keys and tokens ("The staff wifi password is croissant42", "Alarm code: 4471",
  "sk-live-..."). A staff note uploaded with the menu is how they get into an agent.
- subjects the owner's own rules forbid: "Do not share the Wi-Fi password" makes every line
  about the Wi-Fi password private, "Never discuss the landlord dispute" every line about it.

Private lines are withheld before a passage reaches the prompt, the grounding evidence, a quote
or a citation (the agent cannot repeat what it never saw), and every answer sentence is checked
again (`private_line`) so an answer cannot state one from elsewhere. The owner sees them flagged
after an import (knowledge/facts.py) and can decide; an answer they approve themselves is theirs.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from doppel.language.words import FUNCTION_WORDS, SENTENCE_BREAK

__all__ = ["PrivateLine", "Subject", "rule_subjects", "private_line", "withhold", "asks_about",
           "mask"]

# Words that name a secret; a line holding one *and* a value after it is a secret line.
_SECRET_NOUN = (r"(?:pass(?:word|code|phrase)|pwd|wi-?fi\s+(?:key|code)|pin(?:\s+(?:code|number))?|"
                r"(?:door|gate|alarm|lock(?:box)?|safe|entry|access|security|key\s*pad|keypad|"
                r"garage|building|staff|admin)\s+(?:code|pin|combination)|combination|"
                r"(?:api|secret|private|access|license|licence)\s+key|(?:auth|access|api|bearer)"
                r"\s+token|login|credentials?|username\s+and\s+password)")
# "<noun> is X", "<noun>: X", "<noun> = X", "<noun> - X", "<noun> ... to X" (changed to 1234)
_SECRET_VALUE = re.compile(
    rf"\b{_SECRET_NOUN}\b[^.\n]{{0,40}}?(?:\bis\b|\bare\b|:|=|\s-\s|\bto\b|\bwill be\b)\s*"
    r"[\"'“‘(]?(?P<value>[^\s\"'”’),;]{3,})", re.IGNORECASE)
# Credentials with a shape of their own, wherever they stand.
_TOKEN = re.compile(
    r"\b(?:sk|pk|rk)[-_](?:live|test|proj)?[-_]?[A-Za-z0-9]{16,}|\bAKIA[0-9A-Z]{16}\b|"
    r"\bgh[pousr]_[A-Za-z0-9]{30,}\b|\bxox[abposr]-[A-Za-z0-9-]{10,}|"
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----|\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.")
# A value that is only a word like "required", "below" or "changed" is no secret.
_NOT_A_VALUE = {"required", "needed", "below", "above", "available", "free", "changed",
                "provided", "optional", "case", "sensitive", "reset", "protected", "not", "the",
                "a", "an", "your", "our", "on", "in", "at", "ask", "printed", "posted", "shown",
                "displayed", "written", "same", "different", "private", "secret", "confidential"}

# "do not share the Wi-Fi password", "never mention our landlord", "don't discuss politics"
_RULE = re.compile(
    r"\b(?:do\s+not|don't|dont|never|must\s+not|mustn't|should\s+not|shouldn't|may\s+not|no)\s+"
    r"(?:ever\s+)?(?:share|give(?:\s+out)?|reveal|disclose|tell(?:\s+(?:anyone|customers|people|"
    r"fans|users|them))?|mention|quote|discuss|talk\s+about|repeat|send|publish|say|post|leak|"
    r"provide|hand\s+out)\s+(?:the|our|any|my|their|its|a|an|about)?\s*(?P<subject>[^.;:!?\n]+)",
    re.IGNORECASE)
# Where a rule's subject ends: "the wifi password to anyone", "prices unless asked"
_SUBJECT_END = re.compile(r"\s+(?:to|with|unless|except|until|or\s+else|even|if|when|because|"
                          r"outside|over|by|in\s+(?:chat|messages|answers))\b.*$", re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9]+")
# A rule's subject words, without function words and the vague nouns rules are full of ("never
# share any information about other customers" is about *customers*).
_STOP = FUNCTION_WORDS | {"customers", "anyone", "people", "information", "info", "details",
                          "detail", "anything", "things", "thing"}


def _words(text: str) -> set[str]:
    """Lowercased words with hyphens and plurals folded: "Wi-Fi passwords" → {wifi, password}."""
    text = text.lower().replace("wi-fi", "wifi").replace("e-mail", "email")
    out = set()
    for word in _WORD.findall(text):
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        out.add(word)
    return out


def _mentions(words: set[str], word: str) -> bool:
    """A word or its family: "politic" (from "politics") matches "political", "politician"."""
    stem = word[:max(4, min(len(word), 6))]
    return word in words or any(w.startswith(stem) for w in words)


@dataclass(frozen=True)
class Subject:
    """A subject one of the owner's rules forbids, as the words a line must all contain."""

    words: frozenset[str]
    rule: str

    @property
    def label(self) -> str:
        return " ".join(sorted(self.words))


@dataclass(frozen=True)
class PrivateLine:
    """A line withheld: why (secret or the rule) and the words that made it so."""

    line: str
    kind: str          # "secret" | "rule"
    reason: str        # "a password" / the rule's text
    words: frozenset[str]


def rule_subjects(rules: Iterable[str]) -> list[Subject]:
    """The subjects the owner's rules forbid sharing ("do not share the Wi-Fi password")."""
    subjects: list[Subject] = []
    for rule in rules:
        for match in _RULE.finditer(rule):
            subject = _SUBJECT_END.sub("", match.group("subject")).strip()
            words = frozenset(w for w in _words(subject) if w not in _STOP)
            # A rule about "competitors" or "prices" is a subject; one of five words or more is
            # a sentence, not a subject ("never say anything that could upset a customer").
            if words and len(words) <= 3:
                subjects.append(Subject(words, rule.strip()))
    return subjects


def private_line(line: str, subjects: Sequence[Subject] = (), *,
                 secrets: bool = True) -> PrivateLine | None:
    """Why this line must not be shown, or None."""
    words = _words(line)
    for subject in subjects:
        if all(_mentions(words, w) for w in subject.words):
            return PrivateLine(line, "rule", subject.rule, subject.words)
    if not secrets:
        return None
    if _TOKEN.search(line):
        return PrivateLine(line, "secret", "a key or token", frozenset({"key", "token"}))
    for match in _SECRET_VALUE.finditer(line):
        value = match.group("value").strip(".").lower()
        if value in _NOT_A_VALUE or (value.isalpha() and len(value) < 4):
            continue
        noun = match.group(0)[:match.start("value") - match.start()]
        return PrivateLine(line, "secret", _secret_kind(noun),
                           frozenset(w for w in _words(noun) if w not in _STOP and len(w) > 2
                                     and w not in {"is", "are", "to", "will"}))
    return None


def _secret_kind(noun: str) -> str:
    noun = noun.lower()
    for word, kind in (("pass", "a password"), ("pin", "a PIN"), ("combination", "a combination"),
                       ("code", "an access code"), ("key", "a key"), ("token", "a token"),
                       ("login", "a login"), ("credential", "credentials")):
        if word in noun:
            return kind
    return "a secret"


def withhold(text: str, subjects: Sequence[Subject] = (), *,
             secrets: bool = True) -> tuple[str, list[PrivateLine]]:
    """The text without its private lines, and the lines withheld. A pure function of its
    arguments, asked of the same passages turn after turn: cached (1.6 ms a turn, measured)."""
    kept, withheld = _withhold(text, tuple(subjects), secrets)
    return kept, list(withheld)


@functools.lru_cache(maxsize=8192)
def _withhold(text: str, subjects: tuple[Subject, ...],
              secrets: bool) -> tuple[str, tuple[PrivateLine, ...]]:
    withheld: list[PrivateLine] = []
    kept: list[str] = []
    last = 0
    for match in SENTENCE_BREAK.finditer(text + "\n"):
        unit = text[last:match.start()]
        separator = match.group(0)
        last = match.end()
        found = private_line(unit, subjects, secrets=secrets) if unit.strip() else None
        if found is None:
            kept.append(unit + separator)
        else:
            withheld.append(found)
    if not withheld:
        return text, ()
    return ("".join(kept).rstrip("\n") + ("\n" if text.endswith("\n") else ""),
            tuple(withheld))


def asks_about(question: str, withheld: Sequence[PrivateLine]) -> bool:
    """Whether the question asks for what was withheld ("what is the wifi password?")."""
    words = _words(question)
    return any(line.words and sum(_mentions(words, w) for w in line.words)
               >= min(2, len(line.words)) for line in withheld)


def mask(line: PrivateLine) -> str:
    """The line as the owner's review shows it: a secret's value hidden (a line withheld by a
    rule may hold one too)."""
    text = _TOKEN.sub("••••••", line.line)
    match = _SECRET_VALUE.search(text)
    # Everything after the secret's name goes: "Login: admin / hunter2" has two values.
    return (text[:match.start("value")] + "••••••" if match else text).strip()
