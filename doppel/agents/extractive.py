"""The extractive answer: a quote of the best passage, used when a draft fails the gate.

Pure text work (no shields, no model): the fallback step screens each line of the quote through
the output shields before calling `extractive_answer` on what is left.
"""

from __future__ import annotations

import re

from doppel.knowledge.index import Passage
from doppel.language.words import SENTENCE_BREAK, content_words, sentences

__all__ = ["QUOTE_UNIT", "extractive_answer"]

# Units a quote is screened in: lines, and sentences within them (separators kept).
QUOTE_UNIT = re.compile(f"({SENTENCE_BREAK.pattern})")


def extractive_answer(question: str, passages: list[Passage], max_chars: int = 360) -> str:
    """Quote the lines of the best passage that share most words with the question."""
    if not passages:
        return "Sorry, I couldn't find that in my information."
    passage = passages[0]
    wanted = content_words(question)
    units = sentences(passage.text)
    scored = sorted(range(len(units)), key=lambda i: (-len(content_words(units[i]) & wanted), i))
    chosen: list[int] = []
    size = 0
    for i in scored:
        if chosen and (size + len(units[i]) > max_chars
                       or not content_words(units[i]) & wanted):
            continue
        chosen.append(i)
        size += len(units[i])
        if size >= max_chars:
            break
    quote = " ".join(units[i] for i in sorted(chosen))
    if len(quote) > max_chars + 80:
        quote = quote[:max_chars].rsplit(" ", 1)[0] + " …"
    where = passage.source + (f" › {passage.heading}" if passage.heading else "")
    return f"Here is what our information says ({where}): “{quote}”"
