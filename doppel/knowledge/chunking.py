"""Chunking: pack a section's units into chunks of about `chunk_chars` characters.

Units (paragraphs, list items, table rows, records) are never split unless one alone is longer
than the target, in which case it is split at sentence boundaries. Records (CSV rows, FAQ
entries) are one chunk each. Every chunk keeps its section's heading path for retrieval and
citation, and the offsets of its text within the document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from doppel.knowledge.loaders import LoadedDocument

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")


@dataclass(frozen=True)
class Chunk:
    ord: int
    heading: str
    text: str
    start: int
    end: int

    def embedding_text(self) -> str:
        """What the embedder sees: the heading gives a short passage its context."""
        return f"{self.heading}\n{self.text}" if self.heading else self.text


def chunk_document(doc: LoadedDocument, chunk_chars: int = 600) -> list[Chunk]:
    chunks: list[Chunk] = []
    for section in doc.sections:
        pos = section.offset
        pieces: list[tuple[str, int]] = []  # (unit text, offset)
        heads: dict[int, str] = {}  # piece index -> the record it continues
        for unit in section.units:
            parts = _split_long(unit, chunk_chars)
            for i, part in enumerate(parts):
                if section.records and i > 0:
                    # A long record (a product with many variants) split in parts: each later
                    # part says whose it is in its heading (the text keeps its offsets), so
                    # a price in part 2 still has its product.
                    heads[len(pieces)] = _record_head(unit)
                pieces.append((part, pos))
                pos += len(part) + 1
        if section.records:
            for i, (text, start) in enumerate(pieces):
                head = heads.get(i)
                heading = (f"{section.heading} > {head} (continued)" if head
                           else section.heading)
                chunks.append(Chunk(len(chunks), heading, text, start, start + len(text)))
            continue
        groups: list[list[tuple[str, int]]] = []
        current: list[tuple[str, int]] = []
        size = 0
        for piece in pieces:
            if current and size + len(piece[0]) + 1 > chunk_chars:
                groups.append(current)
                current, size = [], 0
            current.append(piece)
            size += len(piece[0]) + 1
        if current:
            groups.append(current)
        for group in groups:
            text = "\n".join(p for p, _ in group)
            start = group[0][1]
            chunks.append(Chunk(len(chunks), section.heading, text, start, start + len(text)))
    return chunks


def _record_head(unit: str) -> str:
    """A record's name: what comes before its first ' — ', ';' or sentence end."""
    head = re.split(r" — |; |\. |: ", unit, maxsplit=1)[0]
    return head[:80].strip()


def _split_long(unit: str, limit: int) -> list[str]:
    if len(unit) <= limit:
        return [unit]
    parts, current = [], ""
    for sentence in _SENTENCE_END.split(unit):
        while len(sentence) > limit:  # a "sentence" longer than a chunk: cut at a space
            cut = sentence.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            if current:
                parts.append(current)
                current = ""
            parts.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if current and len(current) + len(sentence) + 1 > limit:
            parts.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        parts.append(current)
    return parts
