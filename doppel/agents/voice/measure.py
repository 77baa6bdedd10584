"""The statistics of a voice: every figure of a `VoiceProfile`, plain and deterministic, measured
from the owner's own posts, pages or FAQ answers."""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from doppel.agents.profile import Kind, VoiceProfile
from doppel.agents.voice.vocabulary import (
    ALWAYS,
    BACKGROUND,
    BELIEF,
    CAPS,
    CONTRACTION,
    DATE_PREFIX,
    EDGE,
    EMOJI,
    FIRST_PERSON,
    FORMAL,
    GREETING,
    HASHTAG,
    LANG_NAMES,
    LANG_WORDS,
    MENTION,
    NOT_PROSE,
    NOTE,
    SEGMENT,
    SLANG,
    STOP,
    TOKEN,
    URL,
    VALUE_RES,
    VOCATIVE,
    WE,
    WORD,
    WRAPPED,
    I,
)
from doppel.errors import ValidationError
from doppel.language.words import SENTENCE_BREAK

MIN_POSTS = 3


@dataclass
class Post:
    text: str             # as written, date prefix removed
    plain: str            # URLs, @mentions and hashtags removed
    words: list[str]      # word and number tokens, as written
    sentences: list[str]  # of `plain`, emoji at the ends removed
    emojis: list[str]
    hashtags: list[str]


def clean(text: str) -> str:
    """A post without the importers' "2024-05-03: " date and "(reply to @x) " note."""
    return NOTE.sub("", DATE_PREFIX.sub("", text.strip(), count=1), count=1).strip()


def prepare(text: str) -> Post:
    text = WRAPPED.sub(" ", text)
    plain = HASHTAG.sub(" ", MENTION.sub(" ", URL.sub(" ", text)))
    plain = re.sub(r"[ \t]+", " ", plain).strip()
    sentences = []
    for piece in SENTENCE_BREAK.split(plain):
        piece = re.sub(rf"^(?:{EMOJI.pattern}|\s)+|(?:{EMOJI.pattern}|\s)+$", "", piece)
        if TOKEN.search(piece):
            sentences.append(piece)
    return Post(text, plain, TOKEN.findall(plain), sentences,
                 [e.replace("\uFE0F", "") for e in EMOJI.findall(text)],
                 [h.lower() for h in HASHTAG.findall(URL.sub(" ", text))])


def is_prose(sentence: str) -> bool:
    """A sentence, not a list item, table row, link or record (one with no function word)."""
    words = [lower(w) for w in WORD.findall(sentence)]
    return not NOT_PROSE.search(sentence) and any(w in STOP for w in words)


def lower(word: str) -> str:
    return word.lower().replace("’", "'")


def post_key(text: str) -> str:
    """Words only, lower case: "See you Saturday! 🧺" -> "see you saturday"."""
    return " ".join(lower(w) for w in TOKEN.findall(text))


def _ranked(counts: Counter[str], first: dict[str, int], min_count: int, limit: int) -> list[str]:
    """Keys seen at least min_count times, most frequent first, ties by first appearance."""
    keys = [k for k, n in counts.items() if n >= min_count]
    return sorted(keys, key=lambda k: (-counts[k], first[k]))[:limit]


def _habit(items: Sequence[tuple[int, str, str]], min_posts: int, limit: int) -> list[str]:
    """(post, key, as written) -> the written forms of keys seen in at least min_posts posts."""
    posts: dict[str, set[int]] = {}
    forms: dict[str, Counter[str]] = {}
    first: dict[str, int] = {}
    for i, key, written in items:
        posts.setdefault(key, set()).add(i)
        forms.setdefault(key, Counter())[written] += 1
        first.setdefault(key, len(first))
    counts = Counter({k: len(v) for k, v in posts.items()})
    return [forms[k].most_common(1)[0][0] for k in _ranked(counts, first, min_posts, limit)]


# --- the statistics -----------------------------------------------------------------------------

def _greeting(post: Post) -> tuple[str, str] | None:
    text = re.sub(r"^[\W_]+", "", post.plain)  # "¡Hola amigos!", "✨ hey fam"
    opening = re.split(rf"[\n.!?,:;–—]|\s-\s|{EMOJI.pattern}", text, maxsplit=1)[0].strip()
    if not GREETING.match(opening):
        return None
    words = opening.split()
    if len(words) > 4:  # "hey fam so excited to..." -> "hey fam"
        g = GREETING.match(opening)
        lead = len(g.group(0).split()) if g else 1
        words = words[:lead + (lead < len(words) and lower(words[lead]) in VOCATIVE)]
    return lower(" ".join(words)), " ".join(words)


def _sign_off(post: Post) -> tuple[str, str] | None:
    if len(post.sentences) < 2:
        return None
    last = post.sentences[-1].strip(" -–—")
    key = post_key(last)
    if not key or len(key.split()) > 5 or GREETING.match(key):
        return None
    return key, last


def _phrases(posts: list[Post], exclude: list[str], limit: int = 8) -> list[str]:
    """Word 2- to 4-grams found in several different posts (a phrase repeated within one post
    counts once), not starting or ending with a function word, longest variant kept."""
    df: Counter[tuple[str, ...]] = Counter()
    first: dict[tuple[str, ...], int] = {}
    forms: dict[tuple[str, ...], Counter[str]] = {}  # "small batch(es)" are one phrase
    for post in posts:
        grams: dict[tuple[str, ...], str] = {}
        for segment in SEGMENT.split(post.plain):
            words = [lower(w) for w in WORD.findall(segment)]
            for n in (2, 3, 4):
                for j in range(len(words) - n + 1):
                    if words[j] not in EDGE and words[j + n - 1] not in EDGE:
                        gram = tuple(singular(w) for w in words[j:j + n])
                        grams.setdefault(gram, " ".join(words[j:j + n]))
        for gram in sorted(grams):
            df[gram] += 1
            first.setdefault(gram, len(first))
            forms.setdefault(gram, Counter())[grams[gram]] += 1
    min_posts = max(2, len(posts) // 10)
    excluded = [" ".join(WORD.findall(lower(e))) for e in exclude]
    kept: list[tuple[str, ...]] = []
    for gram in sorted((g for g, n in df.items() if n >= min_posts), key=lambda g: -len(g)):
        text = forms[gram].most_common(1)[0][0]
        if any(text in e or e in text for e in excluded if e):
            continue
        if any(df[k] >= df[gram] and _contains(k, gram) for k in kept):
            continue  # only ever part of a longer phrase
        kept.append(gram)
    kept.sort(key=lambda g: (-df[g], -len(g), first[g]))
    return [forms[g].most_common(1)[0][0] for g in kept[:limit]]


def _contains(longer: tuple[str, ...], shorter: tuple[str, ...]) -> bool:
    n = len(shorter)
    return any(longer[i:i + n] == shorter for i in range(len(longer) - n + 1))


def singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes", "sses")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


def _topics(posts: list[Post], exclude: set[str], limit: int = 8) -> list[str]:
    df: Counter[str] = Counter()
    tf: Counter[str] = Counter()
    forms: dict[str, Counter[str]] = {}
    cases: dict[str, Counter[str]] = {}
    first: dict[str, int] = {}
    for post in posts:
        seen = set()
        for word in WORD.findall(post.plain):
            low = lower(word)
            key = singular(low)
            if len(low) < 3 or low in BACKGROUND or key in BACKGROUND or low in exclude:
                continue
            tf[key] += 1
            forms.setdefault(key, Counter())[low] += 1
            cases.setdefault(low, Counter())[word] += 1
            first.setdefault(key, len(first))
            seen.add(key)
        df.update(seen)
    keys = sorted((k for k in df if df[k] >= 2), key=lambda k: (-df[k], -tf[k], first[k]))
    shown = [forms[k].most_common(1)[0][0] for k in keys[:limit]]
    return [_display(w, cases[w]) for w in shown]


def _display(word: str, written: Counter[str]) -> str:
    """A name keeps its capital ("Millbrook"); any other word is shown in lower case."""
    return written.most_common(1)[0][0] if all(w[:1].isupper() for w in written) else word


def _values(posts: list[Post]) -> tuple[list[str], list[str]]:
    """(value words seen, most posts first; stated-value sentences, strongest first)."""
    hits: list[tuple[int, str, str]] = []
    ranked: list[tuple[int, int, str]] = []
    for i, post in enumerate(posts):
        for pattern, label in VALUE_RES:
            if pattern.search(post.plain):
                hits.append((i, label, label))
        for sentence in post.sentences:
            n = len(TOKEN.findall(sentence))
            if not 3 <= n <= 30 or not is_prose(sentence):
                continue
            if BELIEF.search(sentence):
                tier = 0
            elif ALWAYS.search(sentence) and (FIRST_PERSON.search(sentence)
                                               or ALWAYS.match(sentence)):
                tier = 1
            elif n >= 6 and any(p.search(sentence) for p, _ in VALUE_RES):
                tier = 2
            else:
                continue
            ranked.append((tier, len(ranked), sentence))
    sentences = list(dict.fromkeys(s for _, _, s in sorted(ranked)))
    return _habit(hits, 1, 6), sentences[:5]


def _language(post: Post) -> str | None:
    words = {lower(w) for w in WORD.findall(post.plain)}
    scores = sorted(((len(words & w), code) for code, w in LANG_WORDS.items()), reverse=True)
    (best, code), (second, _) = scores[0], scores[1]
    return code if best >= 2 and best > second else None


def _formality(posts: list[Post], exclaim: float) -> float:
    """0 (very casual) .. 1 (very formal), from word length, register words, contractions,
    slang, emoji and exclamation marks. Each feature moves the score by a bounded amount."""
    words = [lower(w) for p in posts for w in WORD.findall(p.plain)]
    per100 = 100 / max(1, len(words))
    avg_len = statistics.fmean(len(w) for w in words) if words else 4.5
    formal = sum(w in FORMAL for w in words) * per100
    slang = sum(w in SLANG for w in words) * per100
    contractions = sum(len(CONTRACTION.findall(p.plain)) for p in posts) * per100
    emoji = sum(len(p.emojis) for p in posts) * per100

    def clamp(x: float, lo: float = 0.0, hi: float = 1.0) -> float:
        return max(lo, min(hi, x))

    score = (0.5 + 0.15 * clamp((avg_len - 4.3) / 0.8, -1) + 0.15 * clamp(formal / 2)
             - 0.15 * clamp(contractions / 3) - 0.15 * clamp(slang / 3)
             - 0.1 * clamp(emoji / 5) - 0.1 * clamp(exclaim / 0.4))
    return round(clamp(score), 2)


def _describe(p: VoiceProfile, kind: Kind) -> str:
    tone = p.tone().replace("neutral", "friendly, plain")
    who = {"I": 'writing as "I"', "we": 'writing as "we"', "mixed": 'mixing "I" and "we"'}
    lang = (" in " + join_words([LANG_NAMES.get(c, c) for c in p.languages])) if p.languages else ""
    parts = [f"A {tone} {kind} voice{lang}, {who[p.person]}."]
    length = "short" if p.sentence_words <= 12 else "long" if p.sentence_words > 20 else "medium"
    habits = [f"{length} sentences (about {p.sentence_words:g} words)"]
    if p.exclamation_rate >= 0.2:
        habits.append("frequent exclamation marks")
    if p.emoji_rate >= 0.3:
        habits.append(f"about {p.emoji_rate:g} emoji per post ({' '.join(p.emojis[:3])})")
    if p.caps_rate >= 0.2:
        habits.append("the odd word in CAPS")
    if p.hashtags:
        habits.append("hashtags such as " + ", ".join("#" + h for h in p.hashtags[:3]))
    texts = "Posts" if kind == "creator" else "Texts"
    parts.append(f"{texts} run about {p.typical_words} words, with " + join_words(habits) + ".")
    if p.greetings or p.sign_offs:
        opens = f'often opens with "{p.greetings[0]}"' if p.greetings else ""
        signs = f'signs off with "{p.sign_offs[0]}"' if p.sign_offs else ""
        habit = join_words([x for x in (opens, signs) if x])
        parts.append(habit[:1].upper() + habit[1:] + ".")
    if p.topics:
        parts.append("Talks mostly about " + join_words(p.topics[:4]) + ".")
    if p.value_words:
        parts.append("Cares about " + join_words(p.value_words[:4]) + ".")
    return " ".join(parts)


def join_words(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def measure_profile(posts: list[Post], kind: Kind) -> VoiceProfile:
    n = len(posts)
    greetings = _habit([(i, *g) for i, p in enumerate(posts) if (g := _greeting(p))], 2, 3)
    sign_offs = _habit([(i, *s) for i, p in enumerate(posts) if (s := _sign_off(p))], 2, 3)
    # Sentence figures describe the body: "hey fam!" and "xoxo" are counted as habits instead.
    formulas = {post_key(f) for f in greetings + sign_offs}
    sentences = [s for p in posts for s in p.sentences if post_key(s) not in formulas]
    exclaim = sum("!" in s for s in sentences) / max(1, len(sentences))
    emoji_items = [(i, e, e) for i, p in enumerate(posts) for e in p.emojis]
    tags = [(i, t, t) for i, p in enumerate(posts) for t in p.hashtags]
    value_words, values = _values(posts)
    langs = Counter(c for p in posts if (c := _language(p)))
    pronouns = Counter("I" if w in I else "we" for p in posts
                       for w in map(lower, WORD.findall(p.plain)) if w in I or w in WE)
    if pronouns["I"] + pronouns["we"] == 0:
        person: Literal["I", "we", "mixed"] = "I" if kind == "creator" else "we"
    else:
        person = ("I" if pronouns["I"] >= 2 * pronouns["we"] else
                  "we" if pronouns["we"] >= 2 * pronouns["I"] else "mixed")
    score = _formality(posts, exclaim)
    # Greetings, sign-offs and value words have fields of their own; a topic is a subject.
    greeting_words = {w for g in greetings + sign_offs + value_words
                      for w in WORD.findall(lower(g))}
    profile = VoiceProfile(
        posts=n,
        languages=[c for c, k in sorted(langs.items(), key=lambda x: (-x[1], x[0]))
                   if k >= max(1, 0.15 * sum(langs.values()))],
        person=person,
        typical_words=int(statistics.median(len(p.words) for p in posts)),
        sentence_words=round(statistics.median(len(TOKEN.findall(s)) for s in sentences), 1)
        if sentences else 0.0,
        formality="casual" if score < 0.4 else "formal" if score > 0.6 else "neutral",
        formality_score=score,
        emoji_rate=round(len(emoji_items) / n, 2),
        emojis=_habit(emoji_items, 2, 5),
        exclamation_rate=round(exclaim, 2),
        question_rate=round(sum("?" in s for s in sentences) / max(1, len(sentences)), 2),
        caps_rate=round(sum(bool(CAPS.search(p.plain)) for p in posts) / n, 2),
        hashtag_rate=round(len(tags) / n, 2),
        hashtags=_habit(tags, 2, 6),
        greetings=greetings,
        sign_offs=sign_offs,
        phrases=_phrases(posts, greetings + sign_offs),
        topics=_topics(posts, greeting_words | VOCATIVE),
        value_words=value_words,
        values=values,
    )
    profile.description = _describe(profile, kind)
    return profile


def posts_of(texts: Sequence[str]) -> list[Post]:
    cleaned = list(dict.fromkeys(c for t in texts if (c := clean(t))))
    if len(cleaned) < MIN_POSTS:
        raise ValidationError(f"not enough text to derive a voice ({len(cleaned)} posts; "
                              f"at least {MIN_POSTS} needed)")
    posts = [prepare(t) for t in cleaned]
    if not any(p.words for p in posts):
        raise ValidationError(f"not enough text to derive a voice ({len(posts)} posts, "
                              "none with words)")
    return posts
