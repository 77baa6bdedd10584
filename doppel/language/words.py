"""Words: the one sentence splitter, the stopword list and the content words every module
compares text by (grounding, retrieval, voice, private lines, the facts review).

Kept apart from agents and knowledge so both can use it without importing each other.
"""

from __future__ import annotations

import re

__all__ = ["COURTESIES", "FUNCTION_WORDS", "NEGATORS", "POLAR_WORDS", "SENTENCE_BREAK", "STOPWORDS",
           "content_words", "sentences", "stem"]

# Sentence ends, and line breaks: a price list's lines are sentences of their own.
SENTENCE_BREAK = re.compile(r"(?<=[.!?…])\s+|\n+")


def sentences(text: str) -> list[str]:
    """The sentences and lines of `text`, stripped, without empty ones."""
    return [part.strip() for part in SENTENCE_BREAK.split(text) if part and part.strip()]


# Words that flip a clause's polarity ("closed" is the negation of "open").
NEGATORS = frozenset({"not", "no", "never", "cannot", "can't", "closed", "unavailable", "without",
                      "none", "nothing", "nobody", "neither", "nor", "isn't", "aren't", "don't",
                      "doesn't", "didn't", "won't", "wouldn't", "shouldn't", "couldn't", "wasn't",
                      "weren't", "haven't", "hasn't", "n't"})
POLAR_WORDS = NEGATORS | {"open", "available", "yes", "offer", "offers", "have", "has", "do",
                          "does"}

# Function words (English and a few neighbours, for mixed-language accounts): they say nothing
# about what a text is about. The one list; each use adds its own words on top, below.
FUNCTION_WORDS = frozenset("""a about above after again all also am an and any are aren't as at be
because been before being below between both but by can can't cannot could couldn't did didn't do
does doesn't doing don't down during each few for from further had has have having he her here
hers him his how i i'd i'll i'm i've if in into is isn't it it's its itself just let's me more
most my no nor not of off on once only or other our ours out over own same she should so some such
than that that's the their theirs them then there there's these they this those through to too
under until up very was wasn't we we'd we'll we're we've were what what's when where which while
who whom why will with won't would you you'd you'll you're you've your yours yet el la los las lo
que de del y es en un una por para con mi mis su sus muy pero se al le les et est des pour avec je
nous vous mais très c'est qui dans ce sur pas ne au aux du der die das und ist ich wir nicht mit
ein eine für auf zu sehr den dem sie es il gli e è per che non sono io noi o os as um uma com não
eu nós us""".split())

# Greetings and courtesies: a customer's message is full of them, no passage is about them.
COURTESIES = frozenset("hi hello hey thanks thank please ok okay yes sure".split())

# What the grounding check and the voice ignore when deciding what a sentence is about: also
# the words every price question has ("how much does one cost"), which would otherwise anchor a
# price to any line that mentions prices.
STOPWORDS = FUNCTION_WORDS | COURTESIES | frozenset("""buy cost costs dollar dollars get got great
happy help here's know let like many much one ones price prices really sell sells""".split())


def stem(word: str) -> str:
    """A crude stem that maps a word's common forms to one key ("cheque", "cheques" and
    "chequed" are "chequ"; "bike" and "bikes" are "bik")."""
    word = word.lower().replace("’", "'")
    for suffix in ("ies", "ing", "ery", "ed", "es", "s", "y"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    return word[:-1] if word.endswith("e") and len(word) >= 4 else word


def content_words(text: str) -> set[str]:
    return {stem(w) for w in re.findall(r"[a-zA-Z][a-zA-Z']+|\d+(?:\.\d+)?", text)
            if w.lower() not in STOPWORDS and w.lower() not in POLAR_WORDS}
