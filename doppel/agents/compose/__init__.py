"""Composed answers: a reply a person would write, built from the facts bound to their subject.

The embedded model is a phraser, not a source of facts (MODELS.md), and a quote of a passage is
not a reply. For the questions every customer asks — a price, the hours on a day, a holiday,
how to reach the owner, whether a policy allows something — the answer is one row, label or
sentence of the owner's content, and saying it needs no model at all:

- **price**: the row whose subject the question names (doppel.language.bound), in the column
  it names ("a full day"), with what the row says it includes or takes;
- **hours**: the rule for the day asked about; a date or holiday's exception before the weekly
  rule; "closed" as a plain no; the week's hours when no day is named;
- **contact**: the phone, e-mail, address or parking line from the content (or the agent's
  contact card);
- **yes/no and prose**: the one sentence of the content that carries the question's words,
  lightly framed ("No — …" when it says no), never the whole passage.

`compose` returns None when nothing in the passages answers with confidence; the turn then
asks the model, and falls back to `compose(..., sentence_ok=True)` when the draft fails the
gate. Every composed answer names where it comes from with numbered markers ("[1]"), which
the turn's citations label with the document's title, never a file path.
"""

from __future__ import annotations

import datetime as dt
import re

from doppel.agents.compose.base import Ask, Composed, Found, Similarity, analyse
from doppel.agents.compose.contact import contact_answer
from doppel.agents.compose.hours import hours_answer
from doppel.agents.compose.price import price_answer
from doppel.agents.compose.sentence import sentence_answer
from doppel.agents.spec import AgentSpec
from doppel.knowledge.index import Passage
from doppel.language.bound import WordWeights, parse_units, unit_days
from doppel.language.quantity import excludes
from doppel.language.words import misspelt

__all__ = ["Ask", "Composed", "Similarity", "analyse", "compose"]


def _other_days(text: str, days: frozenset[str]) -> bool:
    named = unit_days(text)[0]
    return bool(named) and not named & days


def compose(message: str, passages: list[Passage], spec: AgentSpec, *,
            previous: str | None = None, today: dt.date | None = None,
            sentence_ok: bool = False, similarity: Similarity | None = None) -> Composed | None:
    """A reply from the bound facts of `passages`, or None when they do not answer it.

    Price, hours and contact answers come from a table row, a label or the contact card.
    With `sentence_ok`, prose questions get the one sentence that answers them (the fallback
    after a draft that failed the gate); without it only clear yes/no answers do."""
    ask = analyse(message, previous, today)
    # A unit whose bound leaves out the customer's own quantity ("up to 8 radiators" for
    # "I've got 10") answers another variant: it is not a candidate at all; nor, for a price,
    # a row for other days than the one the customer named ("Mon–Fri: £62 an hour" for "on a
    # Saturday morning").
    days = unit_days(message)[0] if ask.intent == "price" else frozenset()
    found = [Found(u, p, i) for i, p in enumerate(passages)
             for u in parse_units(p.text, p.heading) if not excludes(message, u.text)
             and not (days and _other_days(u.text, days))]
    # A customer's typing slip ("cappucino") is the content's word when only one is that close.
    vocabulary = frozenset().union(*(f.unit.words | f.unit.subject_words for f in found))
    ask.words = frozenset(misspelt(w, vocabulary) or w for w in ask.words)
    symbols = re.findall(r"[$€£]", " ".join(p.text for p in passages))
    if symbols:
        ask.currency = max(set(symbols), key=symbols.count)
    weights = WordWeights([f.unit for f in found])
    composed: Composed | None = None
    if ask.intent == "price":
        composed = price_answer(ask, found, weights)
    elif ask.intent == "hours":
        composed = hours_answer(ask, found, spec, today)
    elif ask.intent in ("phone", "email", "address", "parking", "transit"):
        composed = contact_answer(ask, found, spec, weights)
    if composed is None and (sentence_ok or (ask.yes_no and ask.intent != "hours")):
        composed = sentence_answer(ask, found, weights, spec, today or dt.date.today(),
                             yes_no_only=not sentence_ok, similarity=similarity)
    return composed
