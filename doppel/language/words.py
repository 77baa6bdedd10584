"""Words: the one sentence splitter, the stopword list and the content words every module
compares text by (grounding, retrieval, voice, private lines, the facts review).

Kept apart from agents and knowledge so both can use it without importing each other.
"""

from __future__ import annotations

import re

__all__ = ["NEGATORS", "POLAR_WORDS", "STOPWORDS", "content_words", "sentences", "stem"]

# Sentence ends, and line breaks: a price list's lines are sentences of their own.
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


def sentences(text: str) -> list[str]:
    """The sentences and lines of `text`, stripped, without empty ones."""
    return [part.strip() for part in _SENTENCE.split(text) if part and part.strip()]


# Words that flip a clause's polarity ("closed" is the negation of "open").
NEGATORS = {"not", "no", "never", "cannot", "can't", "closed", "unavailable", "without", "none",
             "nothing", "nobody", "neither", "nor", "isn't", "aren't", "don't", "doesn't",
             "didn't", "won't", "wouldn't", "shouldn't", "couldn't", "wasn't", "weren't",
             "haven't", "hasn't", "n't"}
POLAR_WORDS = NEGATORS | {"open", "available", "yes", "offer", "offers", "have", "has", "do", "does"}

# English function words, and the words every customer question is full of (greetings, "cost",
# "price", "much"): they say nothing about which passage or which fact a question is about.
STOPWORDS = frozenset("""a about above after again all also am an and any are as at be because been
before being below between both but by can could did do does doing down during each few for from
further had has have having he her here hers him his how i if in into is it its itself just me
more most my no nor not of off on once only or other our ours out over own same she should so
some such than that the their theirs them then there these they this those through to too under
until up very was we were what when where which while who whom why will with would you your
yours yes sure hi hello hey thanks thank please ok okay great happy help let know like get got
just really can't don't we're you're it's i'm i'd we'll you'll that's there's here's what's
cost costs price prices much many dollar dollars buy sell sells one ones""".split())


def stem(word: str) -> str:
    word = word.lower().replace("’", "'")
    for suffix in ("ies", "ing", "ery", "ed", "es", "s", "y"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def content_words(text: str) -> set[str]:
    return {stem(w) for w in re.findall(r"[a-zA-Z][a-zA-Z']+|\d+(?:\.\d+)?", text)
            if w.lower() not in STOPWORDS and w.lower() not in POLAR_WORDS}
