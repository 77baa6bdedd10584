"""What a question asks (`analyse`) and what every composer shares: the answer, its
markers, word coverage."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from doppel.knowledge.index import Passage
from doppel.language.bound import (
    HOLIDAY_WORDS,
    Unit,
    WordWeights,
    claim_words,
    question_words,
    unit_days,
)
from doppel.language.facts import WEEKDAYS
from doppel.language.wants import Kind, wanted
from doppel.language.words import stem

# How close in meaning each of some texts is to the question (cosine, -1..1): the turn passes
# the embedder's, so a sentence that says the same in other words is found ("can my dog come
# along?" against "Dogs are welcome on the patio").
Similarity = Callable[[str, Sequence[str]], Sequence[float]]


# "what does that run?", "what'll it run me": a price asked
_RUN = (r"\bwhat(?:'s| does| would| will|'ll| do)\b.{0,40}\brun(?: me| us| you)?\s*[?.!]*$|"
        r"\bruns? (?:me|us)\b")


_PRICE = re.compile(r"\bhow much\b(?!\s+(notice|time|longer|later|earlier|space|room|weight|"
                    r"experience|warning|lead time|in advance)\b)|"
                    r"\b(cost|costs|costing|price|prices|pricing|priced|fee|fees|"
                    r"charge|charges|rate|rates|expensive|cheap|cheapest|quote)\b|\$|€|£|"
                    # "pay by cheque", "pay with Amex", "pay cash": how, not how much
                    r"\bpay\b(?!\s+(by|with|in|using|via|through|cash|card|online|over|at)\b)|"
                    + _RUN, re.I)


_RUNS = re.compile(_RUN, re.I)


# A part of a message that asks ("… what does it cost?"), not a remark ("trying to keep it
# cheap", "i get off work at 6")
QUESTION = re.compile(r"\s*(how|what|what's|whats|when|where|which|who|is|are|do|does|can|could|"
                      r"would|will|price|cost|and)\b", re.I)


def asked_words(ask: Ask) -> frozenset[str]:
    """The question's words without the remarks around it: "when does the counter close on
    fridays? i get off work at 6" is about the counter on Friday, not about work."""
    parts = [p for p in re.split(r"(?<=[?.!])\s+", ask.message or ask.text) if p.strip()]
    asking = [p for p in parts if p.rstrip().endswith("?") or QUESTION.match(p)]
    if not asking or len(asking) == len(parts):
        return ask.words
    own = claim_words(" ".join(asking))
    remarks = claim_words(" ".join(p for p in parts if p not in asking)) - own
    return ask.words - remarks


# A price question that leaves no doubt a figure is wanted ("rate" alone may be a heart rate)
FIGURE = re.compile(r"\bhow much\b|\b(cost|costs|price|prices|pricing|priced|fee|fees|charge|"
                    r"charges|expensive|cheap|cheapest)\b|[$€£]|" + _RUN, re.I)


_HOURS = re.compile(r"\b(open|opens|opening|close|closes|closing|closed|what time|"
                    r"until when|till when|how late|how early)\b|\bhours\b(?!['’]| notice| before| "
                    r"ahead| in advance| prior| of| per| a )", re.I)


# "can I bring my dog in on a Sunday?", "could we stop by Saturday": whether it is open then
_VISIT = re.compile(r"\b(come|coming|bring|visit|stop by|stop in|drop (in|by|off)|pop (in|by)|"
                    r"walk in|swing by|get in)\b", re.I)


_PHONE = re.compile(r"\b(phone|call you|call us|ring|telephone|text you|whatsapp|(contact|phone|"
                    r"your|emergency|hours|office) number)\b", re.I)


_EMAIL = re.compile(r"\b(e-?mail|mail you|write to)\b", re.I)


_ADDRESS = re.compile(r"\b(address|where are you|where is your|located|location|find you|"
                      r"directions|get to you|situated)\b|\bwhere\b[^?]{0,25}\b(studio|shop|store|"
                      r"office|clinic|salon|caf[eé]|showroom|premises|you guys|based)\b", re.I)


_PARKING = re.compile(r"\b(park|parking|car park|parking lot)\b", re.I)


# How to get there without a car: "is there a bus that goes near you?", "nearest station"
_TRANSIT = re.compile(r"\b(bus|buses|trains|tram|subway|metro|underground|tube|transit|"
                      r"station|public transport|light rail|streetcar|ferry)\b"
                      # "the train", not "can I come train at the studio"
                      r"|\b(by|the|a|which|what|any) train\b", re.I)


_DURATION = re.compile(r"\b(how long|duration|take)\b", re.I)


_YES_NO = re.compile(r"^\W*(do|does|did|can|could|is|are|was|will|would|may|might|have|has|"
                     r"should|shall|am|any)\b", re.I)


_TIME_QUESTION = re.compile(r"\b(when|date|dates|released?|out yet|come out|comes out|coming|"
                            r"next|upcoming|tour|show|launch|drop|drops|how long ago|year)\b",
                            re.I)


POST_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2}):\s*")


CLOSED = re.compile(r"^\W*closed\b", re.I)


# Question words that say what kind of answer is wanted, not what it is about.
_ASK_WORDS = frozenset(stem(w) for w in """price cost fee charge rate pay much expensive cheap
hour hours time open close closing opening today tomorrow phone call number email mail address
located location find park parking long take quote offer offers available anything need want
kind type sort get go come thing things way really able possible allowed okay fine happen
happens usually roughly exactly question wonder know tell guys someone anyone still heard hear
told saw seen read think thought wondering curious hoping planning cheapest option options
within total front now currently first rn version versions tier""".split())


# A follow-up's words that measure rather than name ("how many weeks is it?")
_UNIT_WORDS = frozenset(stem(w) for w in """week weeks month months year years minute minutes day
days session sessions class classes oz ml cl litre liter kg g lb inch cm size sizes small medium
large regular big bigger smaller mini half full kilo kilos gram grams pound pounds ounce
ounces starter starters main mains side sides glass bottle pint single double pair adult adults
child children kid kids""".split())


# A follow-up that points back at what was asked before ("how long until it expires?")
_REFERS = re.compile(r"\b(it|its|it's|that|this one|that one|them|they|those|these)\b", re.I)


@dataclass
class Ask:
    """What a question asks for and about."""

    text: str
    intent: str                   # price | hours | phone | email | address | parking | transit |
    #                               other
    yes_no: bool
    words: frozenset[str]         # claim words (doppel.language.bound)
    days: frozenset[str]
    dates: frozenset[str]
    duration: bool = False
    about_time: bool = False
    currency: str = ""            # the symbol the content writes prices with, if one
    wants: Kind | None = None     # the kind of value asked for ("how long": a duration)
    message: str = ""             # the message itself (`text` has a follow-up's question too)


@dataclass
class Composed:
    text: str
    kind: str                     # price | hours | contact | sentence
    passages: list[Passage] = field(default_factory=list)


def analyse(message: str, previous: str | None = None, today: dt.date | None = None) -> Ask:
    """The ask of `message`; a short follow-up ("and on Sunday?", "how long does it take?")
    keeps the previous question's intent and subject, with its own days and words on top."""
    today = today or dt.date.today()
    text = message
    days, dates = unit_days(message)
    # "Today" is the business's today (the caller's `today`, in its time zone); a day the
    # customer names outright ("open today? it's Sunday") is the day asked about.
    if not days and not dates:
        if re.search(r"\btoday\b|\bright now\b|\bnow\b|\btonight\b", message, re.I):
            days = days | {WEEKDAYS[today.weekday()]}
        if re.search(r"\btomorrow\b", message, re.I):
            days = days | {WEEKDAYS[(today.weekday() + 1) % 7]}
    intent = _intent(message)
    words = question_words(message)
    if previous:
        prev = analyse(previous, None, today)
        if intent == "other" or (_DURATION.search(message) and prev.intent == "price"):
            intent = prev.intent if not _DURATION.search(message) else "price"
        named_day = bool(days or dates)
        if not days and not dates:
            days, dates = prev.days, prev.dates
        own = {w for w in words - _ASK_WORDS - _UNIT_WORDS - days - dates
               if not w[:1].isdigit()}  # "and the 16 oz?" is the same mug, another size
        # "and the sourdough?" names its own subject; "and on Sunday?", "how long does it
        # take?", "how many weeks is it?" keep the previous question's
        # "and the main?" after "chicken tikka as a starter": the tikka, as a main — the
        # previous question's variant words give way to the new ones
        kept = prev.words - prev.days - prev.dates - (
            _UNIT_WORDS if words & _UNIT_WORDS else frozenset()) - (
            HOLIDAY_WORDS if named_day else frozenset())  # "…christmas? and saturday?"
        words = words if own and not _REFERS.search(message) else words | kept
        text = f"{previous} {message}"
    if _RUNS.search(message):  # "what does that run?" asks a price; "run" names nothing
        words = words - {"run"}
    yes_no = bool(_YES_NO.match(message))
    wants = wanted(message)
    if wants is None and intent == "price" and not yes_no and FIGURE.search(message):
        wants = "money"  # "how much is the kids' class": a figure (or "free"), not its size
    return Ask(text, intent, yes_no, frozenset(words - _ASK_WORDS), frozenset(days),
               frozenset(dates), bool(_DURATION.search(message)),
               bool(_TIME_QUESTION.search(message)), wants=wants, message=message)


def _intent(message: str) -> str:
    if _PARKING.search(message):
        return "parking"
    if _TRANSIT.search(message):
        return "transit"
    if _EMAIL.search(message):
        return "email"
    if _PHONE.search(message) and not _PRICE.search(message):
        return "phone"
    if _ADDRESS.search(message):
        return "address"
    if _PRICE.search(message):
        return "price"
    if _HOURS.search(message) or (_VISIT.search(message) and unit_days(message)[0]):
        return "hours"
    return "other"


@dataclass
class Found:
    unit: Unit
    passage: Passage
    rank: int


def marked(text: str, used: list[Passage], all_used: list[Passage]) -> str:
    marks = "".join(f"[{all_used.index(p) + 1}]" for p in used if p in all_used)
    return f"{text} {marks}" if marks else text


def finish(kind: str, parts: list[tuple[str, Passage | None]]) -> Composed:
    cited: list[Passage] = []
    for _, p in parts:
        if p is not None and p not in cited:
            cited.append(p)
    text = " ".join(marked(t, [p] if p else [], cited) for t, p in parts)
    return Composed(text, kind, cited)


def with_article(subject: str) -> str:
    subject = subject.strip()
    if not subject or subject[0].isdigit() or subject.isupper():
        return subject
    if subject.lower().startswith(("the ", "a ", "an ", "our ")):
        return subject[0].lower() + subject[1:]
    return "the " + subject


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def lower_header(header: str) -> str:
    return header if header.isupper() and len(header) <= 4 else header[:1].lower() + header[1:]


def join_and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def coverage(words: frozenset[str], unit_words: frozenset[str], weights: WordWeights) -> float:
    """The share of the question's word weight the unit carries."""
    total = sum(weights(w) for w in words)
    if not total:
        return 0.0
    return sum(weights(w) for w in words & unit_words) / total


def clean_sentence(text: str) -> str:
    text = re.sub(r"^\s*[-*•]\s+", "", text.strip())
    text = POST_DATE.sub("", text)
    return text if text[-1:] in ".!?…)\"”" else text + "."
