"""The voice's vocabulary: the patterns that clean a post (dates, notes, URLs, mentions,
hashtags, emoji) and the word lists the measurements compare against (background words,
greetings, slang, formal words, languages, value words)."""

from __future__ import annotations

import re

from doppel.language.words import FUNCTION_WORDS

DATE_PREFIX = re.compile(r"^\s*\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?\s*[:–—-]\s+")
NOTE = re.compile(r"^\((?:reply to|comment on) [^)\n]{1,80}\)\s*")  # social importers' notes
FAQ = re.compile(r"^Q:.*?\nA:\s*(.*)$", re.S)
URL = re.compile(r"\bhttps?://\S+|\bwww\.\S+", re.I)
MENTION = re.compile(r"(?<![\w@.])@\w+")  # the lookbehind keeps email addresses
HASHTAG = re.compile(r"(?<![\w#&])#(\w*[^\W\d_]\w*)")  # not "#1"
EMOJI = re.compile(
    "[\U0001F1E6-\U0001F1FF]{2}|(?:[\u2600-\u27BF\u2B50\u2B55\U0001F000-\U0001FAFF]\uFE0F?"
    "[\U0001F3FB-\U0001F3FF]?(?:\u200D[\u2600-\u27BF\U0001F000-\U0001FAFF]\uFE0F?)*)")
TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")       # a word or a number, for lengths
WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")   # letters only, for phrases and topics
SEGMENT = re.compile(r"[^\w\s'’-]+|\n")              # phrases never cross punctuation or emoji
CAPS = re.compile(r"\b[A-Z]{3,}\b")
WRAPPED = re.compile(r"(?<=[\w,;])\n(?=[a-z])")  # a line break inside a sentence (PDF, site)
# Not prose (the title-case words are joined by exactly one space, so a run of capitals has
# one way to match: the looser `(?:[A-Z]\w*\s?)+` backtracked exponentially on ALL CAPS):
# list items, table rows, links to files ("Read about cakes (cakes.md)."), and
# "Title Case Name: ..." / "Name — ..." records (menu entries, allergen lists, contact lines).
NOT_PROSE = re.compile(r"^\W*[-*•|#>\d]|\|\s|\(\S+\.(?:md|html?|pdf|csv|ya?ml|json|txt)\)|"
                        r"^[A-Z][\w'’&-]*(?: [A-Z][\w'’&-]*)*(?: ?[:—–]| -)\s")

# Function words: never a topic, never the first or last word of a phrase.
STOP = FUNCTION_WORDS
# A built-in background of everyday words: a word must be neither a function word nor one of
# these to be a topic. This is TF-IDF with a two-valued IDF (0 for the background, 1 for the
# rest), which needs no corpus and keeps topics deterministic.
BACKGROUND = STOP | frozenset("""new good great best little lot lots today tomorrow yesterday
week weekend day days time times year years month morning night evening afternoon now still
back one two three first last next every much many something thing things way really always
never ever even well make made makes making get got getting go going goes went come coming came
see seeing saw look looking know think love loved loving like liked want need take took give
try trying tried keep feel felt work working use using used say said tell told thank thanks
people everyone everything someone anything nothing place home part kind sure hope hoping let
can't wait right little big small long soon ago please yes yeah oh wow hey hi hello happy
excited super fun nice lovely beautiful amazing awesome favorite favourite perfect cute
monday tuesday wednesday thursday friday saturday sunday january february march april may june
july august september october november december link bio post posts click follow share
note least order orders offer offers contact team thank thanks ask question questions
hour hours minute minutes serve change changes end ends means""".split())
EDGE = STOP  # words a recurring phrase may not start or end with ("of the", "in my")
GREETING_WORDS = ("hey", "hi", "hello", "hiya", "heya", "howdy", "yo", "dear", "greetings",
                   "welcome", "good morning", "good afternoon", "good evening", "morning",
                   "hola", "bonjour", "salut", "ciao", "hallo", "olá", "oi")
GREETING = re.compile(r"^(?:" + "|".join(GREETING_WORDS) + r")\b", re.I)
VOCATIVE = frozenset("""fam friends friend everyone everybody all folks guys gang team there loves
lovelies babes y'all yall crew family peeps world bakers makers""".split())
SLANG = frozenset("""lol omg gonna wanna gotta yay haha hahaha tbh pls plz thx btw fam y'all yall
ya u ur kinda sooo soo ok okay awesome cool xoxo babes guys hey yum yummy obsessed vibes bestie
literally totally omw idk""".split())
FORMAL = frozenset("""please kindly therefore however additionally furthermore regarding ensure
provide provides required require requires receive purchase purchases customers customer
accordance shall hereby thus prior upon inquiries inquiry policy request requests within
applicable information reservation reservations appointment appointments available may
services service""".split())
BACKGROUND |= FORMAL | SLANG  # register words say nothing about the subject
CONTRACTION = re.compile(
    r"\b\w+['’](?:re|ve|ll|d|m|t)\b|\b(?:it|that|what|there|here|let)['’]s\b", re.I)
LANGS = {
    "en": "the and is you to of it for this with are was my we i our",
    "es": "el la los las que de y es en un una por para con mi muy pero nuestro",
    "fr": "le la les et est un une des pour avec je nous mais très c'est qui dans",
    "de": "der die das und ist ich wir nicht mit ein eine für auf zu sehr",
    "it": "il lo la gli le e è un una per con che non sono molto",
    "pt": "o a os as e é um uma para com que não muito eu nós",
}
LANG_NAMES = {"en": "English", "es": "Spanish", "fr": "French", "de": "German", "it": "Italian",
               "pt": "Portuguese"}
LANG_WORDS = {code: frozenset(words.split()) for code, words in LANGS.items()}
I = frozenset("i me my mine myself i'm i've i'll i'd".split())  # noqa: E741  # "I", as in "we"
WE = frozenset("we us our ours ourselves we're we've we'll we'd".split())

# Stated values: explicit statements first, then always/never claims, then value words.
BELIEF = re.compile(
    r"\b(?:we|i)\s+(?:really\s+|truly\s+|deeply\s+|still\s+)?(?:believe|care|value|promise|"
    r"refuse|insist|stand for)\b|\b(?:we're|we are|i'm|i am)\s+(?:so\s+)?(?:committed|passionate|"
    r"proud|obsessed)\b|\bour (?:mission|promise|philosophy|values?)\b|\bmatters? to (?:me|us)\b",
    re.I)
ALWAYS = re.compile(r"\b(?:always|never)\b", re.I)
FIRST_PERSON = re.compile(r"\b(?:i|we|my|our|me|us|i'm|we're|i've|we've)\b", re.I)
VALUE_WORDS = (
    (r"hand[- ]?made|hand[- ]?crafted|made by hand|hand[- ]thrown", "handmade"),
    (r"small[- ]batch(?:es)?", "small batch"), (r"from scratch", "from scratch"),
    (r"local(?:ly)?", "local"), (r"organic", "organic"), (r"sustainab\w+", "sustainable"),
    (r"seasonal", "seasonal"), (r"family[- ](?:run|owned)", "family-run"),
    (r"fair[- ]trade", "fair trade"), (r"zero[- ]waste|low[- ]waste|plastic[- ]free", "low waste"),
    (r"independent", "independent"), (r"community", "community"), (r"ethical(?:ly)?", "ethical"),
    (r"quality", "quality"), (r"honest(?:y|ly)?|transparen\w+", "honesty"),
)
VALUE_RES = [(re.compile(rf"\b(?:{p})\b", re.I), label) for p, label in VALUE_WORDS]
