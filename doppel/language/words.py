"""Words: the one sentence splitter, the stopword list and the content words every module
compares text by (grounding, retrieval, voice, private lines, the facts review).

Kept apart from agents and knowledge so both can use it without importing each other.
"""

from __future__ import annotations

import functools
import re

__all__ = ["COURTESIES", "FUNCTION_WORDS", "NEGATORS", "POLAR_WORDS", "SENTENCE_BREAK", "STOPWORDS",
           "content_words", "other_spellings", "sentences", "stem"]

# Sentence ends, and line breaks: a price list's lines are sentences of their own.
# A numbered list flattened into one line ("… critical! 1. Pick the tooth up …") keeps its
# numbers with their items: "1." after a sentence's end or at the start is no sentence of its
# own ("we open at 9." still ends one).
# Nor do titles and abbreviations end one ("Dr. Okafor graduated …", "approx. 40 minutes"), nor
# a menu's dot leaders before a price ("Almond croissant ... £3.20").
SENTENCE_BREAK = re.compile(
    r"(?<=[.!?…])(?<![.!?:…]\s\d\.)(?<![.!?:…]\s\d\d\.)(?<!^\d\.)(?<!^\d\d\.)"
    r"(?<!\bDr\.)(?<!\bMr\.)(?<!\bMs\.)(?<!\bMrs\.)(?<!\bSt\.)(?<!\bvs\.)(?<!\bNo\.)"
    r"(?<!\be\.g\.)(?<!\bi\.e\.)(?<!\bapprox\.)(?<!\betc\.)(?<!\bincl\.)"
    r"(?!(?<=\.\.)\s+[$£€]?\d)\s+|\n+")


def sentences(text: str) -> list[str]:
    """The sentences and lines of `text`, stripped, without empty ones."""
    return [part.strip() for part in SENTENCE_BREAK.split(text) if part and part.strip()]


# Words that flip a clause's polarity ("closed" is the negation of "open").
NEGATORS = frozenset({"not", "no", "never", "cannot", "can't", "closed", "unavailable", "without",
                      "none", "nothing", "nobody", "neither", "nor", "isn't", "aren't", "don't",
                      "doesn't", "didn't", "won't", "wouldn't", "shouldn't", "couldn't", "wasn't",
                      "weren't", "haven't", "hasn't", "n't",
                      # typed without the apostrophe
                      "dont", "cant", "wont", "doesnt", "isnt", "arent", "didnt"})
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
que de del y es en un una por para con mi mis su sus muy pero se al le les et est des avec je
nous vous mais très c'est qui dans ce sur pas ne au aux du der das und ist ich wir nicht mit
ein eine für auf zu sehr den dem sie es il gli e è per che non sono io noi o os as um uma com não
eu nós us whats wheres hows whos thats theres im ive youre u ur pls plz""".split())

# Greetings and courtesies: a customer's message is full of them, no passage is about them.
COURTESIES = frozenset("hi hello hey thanks thank please ok okay yes sure".split())

# What the grounding check and the voice ignore when deciding what a sentence is about: also
# the words every price question has ("how much does one cost"), which would otherwise anchor a
# price to any line that mentions prices.
STOPWORDS = FUNCTION_WORDS | COURTESIES | frozenset("""buy cost costs dollar dollars get got great
happy help here's know let like many much one ones price prices really sell sells""".split())


# British and American spellings, and what customers type for short, read as one word: a
# customer's "cheque" is the policy page's "check", "appt" is "appointment".
_VARIANTS = {
    "cheque": "check", "cheques": "checks", "colour": "color", "colours": "colors",
    "coloured": "colored", "centre": "center", "centres": "centers", "favourite": "favorite",
    "favourites": "favorites", "jewellery": "jewelry", "licence": "license", "programme": "program",
    "programmes": "programs", "tyre": "tire", "tyres": "tires", "grey": "gray", "metre": "meter",
    "metres": "meters", "theatre": "theater", "catalogue": "catalog", "enrol": "enroll",
    "enrolment": "enrollment", "cancelled": "canceled", "cancelling": "canceling",
    "travelled": "traveled", "travelling": "traveling", "aluminium": "aluminum",
    "practise": "practice", "organise": "organize", "organised": "organized",
    "personalised": "personalized", "personalise": "personalize", "accessorise": "accessorize",
    "appt": "appointment", "appts": "appointments", "info": "information", "mins": "minutes",
    "hrs": "hours", "wknd": "weekend", "wkend": "weekend", "xmas": "christmas",
    "bday": "birthday", "pics": "pictures", "pic": "picture", "photo": "picture",
    "photos": "pictures", "ppl": "people", "tmrw": "tomorrow", "tmr": "tomorrow",
    "amt": "amount", "qty": "quantity", "addr": "address", "msg": "message",
    # the same thing in a customer's and a policy page's words
    "kid": "child", "kids": "child", "children": "child", "childrens": "child",
    "wheelchair": "accessible", "wheelchairs": "accessible", "accessibility": "accessible",
    "reservation": "booking", "reservations": "booking", "reserve": "book",
    "cancellation": "cancel", "cancellations": "cancel", "delivery": "shipping",
    "deliveries": "shipping", "deliver": "ship", "delivered": "shipped", "postage": "shipping",
}


# Phrases a customer says in one word, or the other way round: read as that one word.
_PHRASES = {"american express": "amex", "money back": "refund", "step free": "accessible",
            "step-free": "accessible", "e mail": "email", "e-mail": "email"}
_PHRASE = re.compile(r"\b(" + "|".join(re.escape(p) for p in _PHRASES) + r")\b", re.I)

_OTHER_SPELLINGS: dict[str, set[str]] = {}
for _a, _b in _VARIANTS.items():
    _OTHER_SPELLINGS.setdefault(_a, set()).add(_b)
    _OTHER_SPELLINGS.setdefault(_b, set()).add(_a)
# A name written short finds it written out in the full-text search ("money back" would only
# add noise to a search for "refund").
_OTHER_SPELLINGS.setdefault("amex", set()).update({"american", "express"})


def other_spellings(word: str) -> set[str]:
    """The word's other spellings ("cheque" for "check" and back), for a full-text search
    that matches words as written."""
    return set(_OTHER_SPELLINGS.get(word.lower(), ()))


@functools.lru_cache(maxsize=65536)  # pure, and called for every word of every passage read
def stem(word: str) -> str:
    """A crude stem that maps a word's common forms to one key ("cheque", "cheques" and
    "chequed" are "check"; "bike" and "bikes" are "bik")."""
    word = word.lower().replace("’", "'")
    word = _VARIANTS.get(word, word)
    if word.startswith("cheque"):
        word = "check" + word[6:]
    for suffix in ("ings", "ies", "ing", "ery", "ed", "es", "s", "y"):
        if suffix == "s" and word.endswith(("ss", "us", "is")):
            continue  # "class" is "classes" without "es", not "clas"; "bonus", "basis"
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            if suffix in ("ing", "ings", "ed") and len(word) >= 4 and word[-1] == word[-2] \
                    and word[-1] in "bdgmnprt":
                word = word[:-1]  # "shipping", "shipped", "microchipping": "ship", "microchip"
            break
    return word[:-1] if word.endswith("e") and len(word) >= 4 else word


_ORDINAL = re.compile(r"(\d)(?:st|nd|rd|th)\b", re.I)


def content_words(text: str) -> set[str]:
    text = _ORDINAL.sub(r"\1", text)  # "the 15th" is 15
    text = _PHRASE.sub(lambda m: _PHRASES[m.group(0).lower()], text)
    return {stem(w) for w in re.findall(r"[a-zA-Z][a-zA-Z']+|\d+(?:\.\d+)?", text)
            if w.lower() not in STOPWORDS and w.lower() not in POLAR_WORDS}


def _within(a: str, b: str, most: int) -> bool:
    """Whether `a` becomes `b` by at most `most` insertions, deletions, substitutions or
    swaps of neighbours (Damerau's optimal string alignment), with an early exit."""
    if abs(len(a) - len(b)) > most:
        return False
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], previous2[j - 2] + 1)
        if min(row) > most:
            return False
        previous2, previous = previous, row
    return previous[-1] <= most


def misspelt(word: str, vocabulary: frozenset[str]) -> str | None:
    """The one word of `vocabulary` that `word` (a stem) is a typing slip of ("cappucino" for
    "cappuccino", "recieve" for "receive"), or None: not for short words, where one letter
    makes another word ("cost"/"coat"), and not when two words are equally close."""
    if word in vocabulary or len(word) < 5 or not word.isalpha():
        return None
    most = 1 if len(word) < 8 else 2
    close = [v for v in vocabulary
             if v[:1] == word[:1] and len(v) >= 5 and _within(word, v, most)]
    return close[0] if len(close) == 1 else None
