"""What a loader is: the `Loader` and `Sniffer` protocols, the document they return, and the
helpers every loader shares (text decoding, CSV reading, titles).

A loader returns `Section`s: a heading path ("Menu > Breads"), the text, and the text's offset
in the document's extracted text (for citations), plus `units`: the pieces the chunker must
never split (a paragraph, a list item, a table row, a CSV record, a FAQ entry).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from doppel.errors import IngestError

__all__ = ["FAQEntry", "LoadedDocument", "Loader", "SNIFF_BYTES", "Section", "Sniffer",
           "csv_header", "decode_text", "file_title", "read_csv"]

# A sniffer sees at most this many of a file's first bytes.
SNIFF_BYTES = 64 * 1024


@dataclass
class Section:
    heading: str
    units: list[str]
    offset: int = 0
    # True for records (CSV rows, FAQ entries): each unit becomes its own chunk.
    records: bool = False


@dataclass
class FAQEntry:
    question: str
    answer: str


@dataclass
class LoadedDocument:
    title: str
    sections: list[Section]
    faq: list[FAQEntry] = field(default_factory=list)
    # Items a loader left out, each (label, reason): ("post 3 (2024-05-03)", "no text
    # (media only)"). The ingestor reports them, so an owner sees what was not taken and why.
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def items(self) -> int:
        """Items taken: the records (rows, entries, posts, products) across the sections."""
        return sum(len(s.units) for s in self.sections if s.records)


@runtime_checkable
class Loader(Protocol):
    """Reads one kind of file. `load` raises IngestError with a one-line reason on bad input."""

    @property
    def name(self) -> str: ...

    @property
    def suffixes(self) -> tuple[str, ...]: ...

    def load(self, data: bytes, filename: str) -> LoadedDocument: ...


@runtime_checkable
class Sniffer(Protocol):
    """A loader that can claim a file by its path or first bytes, whatever its suffix.

    `head` is the file's first SNIFF_BYTES bytes, or b"" when only the name is known; a sniffer
    must then decide from the path alone (or decline). Sniffers are asked in registration order,
    before any suffix match, so they must claim only what is unmistakably theirs.
    """

    def sniff(self, filename: str, head: bytes) -> bool: ...


# --- helpers ------------------------------------------------------------------------------------

def decode_text(data: bytes, filename: str) -> str:
    """UTF-8 (with or without BOM), else a clear error. NUL bytes mean a binary file."""
    if b"\x00" in data[:8192]:
        raise IngestError("binary file, not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            raise IngestError("not UTF-8 text") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_csv(text: str, filename: str) -> list[list[str]]:
    """Rows of a CSV/TSV whose delimiter is sniffed; rows with no value at all are dropped."""
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096],
                                                                      delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel_tab if filename.lower().endswith(".tsv") else csv.excel
    try:
        return [r for r in csv.reader(io.StringIO(text), dialect) if any(c.strip() for c in r)]
    except csv.Error as exc:  # a field over the csv module's limit, a stray NUL
        raise IngestError(f"unreadable CSV ({exc})") from None


def csv_header(head: bytes, filename: str) -> list[str]:
    """The header row of a CSV from its first bytes, lower-cased ([] when it is no CSV)."""
    if not filename.lower().endswith((".csv", ".tsv")) or not head:
        return []
    text = head.decode("utf-8-sig", errors="replace")
    first = text.split("\n", 1)[0]  # a header never spans lines; sniff on it alone
    try:
        rows = read_csv(first, filename)
    except IngestError:
        return []
    return [h.strip().lower() for h in rows[0]] if rows else []


def file_title(filename: str) -> str:
    """A title from a file name: 'spring-menu_2024.md' -> 'spring menu 2024'."""
    return Path(filename).stem.replace("-", " ").replace("_", " ").strip()
