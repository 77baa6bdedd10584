"""The built-in loaders for ordinary files: Markdown, plain text, HTML, PDF, CSV and FAQs in
JSON or YAML."""

from __future__ import annotations

import html
import io
import json
import re
from pathlib import Path
from typing import Any

import yaml

from doppel.errors import IngestError
from doppel.knowledge.loaders.base import (
    FAQEntry,
    LoadedDocument,
    Section,
    decode_text,
    file_title,
    read_csv,
)
from doppel.knowledge.loaders.tables import DESCRIBED, TableReader

__all__ = ["CSVLoader", "FAQLoader", "HTMLLoader", "MarkdownLoader", "PDFLoader", "TextLoader"]


def _paragraph_units(text: str) -> list[str]:
    """Blank-line separated paragraphs; list items and table rows are units of their own."""
    units: list[str] = []
    for block in re.split(r"\n\s*\n", text):
        lines = [ln.rstrip() for ln in block.strip().split("\n") if ln.strip()]
        if not lines:
            continue
        if any(ln.lstrip().startswith("|") for ln in lines):
            # A table, maybe with text around it: the text stays, rows become records.
            prose = [ln for ln in lines if not ln.lstrip().startswith("|")]
            if prose:
                units.extend(_paragraph_units("\n".join(prose)))
            units.extend(_table_units(lines))
        elif all(_is_item(ln) for ln in lines):
            units.extend(ln.strip() for ln in lines)
        else:
            units.append(" ".join(ln.strip() for ln in lines))
    return units


_PRICED = re.compile(r"[$€£]\s?\d")


def _is_item(line: str) -> bool:
    return bool(re.match(r"\s*([-*+]|\d+[.)])\s+", line))


def _table_units(lines: list[str]) -> list[str]:
    """A Markdown table: each row becomes 'Header: value; ...' so a row stands on its own."""
    rows = [ln.strip() for ln in lines if ln.strip().startswith("|")]
    cells = [[c.strip() for c in r.strip("|").split("|")] for r in rows]
    cells = [c for c in cells if not all(re.fullmatch(r":?-{2,}:?", x) for x in c if x)]
    if len(cells) < 2:
        return [" | ".join(c) for c in cells]
    reader = TableReader(cells[0])
    return [reader.row(row) for row in cells[1:]]


def _inline_markdown(text: str) -> str:
    text = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", text)           # images -> alt text
    text = re.sub(r"\[([^\]]+)\]\(([^)\s]+)[^)]*\)", r"\1 (\2)", text)  # links keep their URL
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)
    text = re.sub(r"(?<![\w*])[*_](?!\s)(.+?)(?<!\s)[*_](?![\w*])", r"\1", text)
    text = re.sub(r"`([^`]+)`", r"\1", text)
    text = re.sub(r"~~.+?~~", "", text)  # struck through: no longer so
    # Markdown passes HTML entities through to the page, which shows "—" for "&mdash;".
    return re.sub(r"&(#\d{1,6}|#x[0-9a-fA-F]{1,5}|[A-Za-z]{2,10});",
                  lambda m: html.unescape(m.group(0)), text)


# --- built-in loaders ---------------------------------------------------------------------------

class MarkdownLoader:
    name = "markdown"
    suffixes = (".md", ".markdown")

    def load(self, data: bytes, filename: str) -> LoadedDocument:
        text = decode_text(data, filename)
        text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)  # front matter
        title = file_title(filename)
        path: list[tuple[int, str]] = []
        sections: list[Section] = []
        body: list[str] = []
        offset = body_start = 0

        def flush() -> None:
            units = _paragraph_units(_inline_markdown("\n".join(body)))
            if units:
                heading = " > ".join(h for _, h in path) or title
                sections.append(Section(heading, units, body_start))

        for line in text.split("\n"):
            m = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
            if m:
                flush()
                body = []
                level, heading = len(m.group(1)), _inline_markdown(m.group(2))
                if level == 1 and not any(lv == 1 for lv, _ in path) and not sections:
                    title = heading
                path = [(lv, h) for lv, h in path if lv < level] + [(level, heading)]
                body_start = offset + len(line) + 1
                if level > 1 and _PRICED.search(heading):  # "### Veg Thali – £16.95"
                    body.append(heading + "\n")
            else:
                body.append(line)
            offset += len(line) + 1
        flush()
        if not sections:
            raise IngestError("no text found")
        return LoadedDocument(title, sections)


class TextLoader:
    name = "text"
    suffixes = (".txt", ".text")

    def load(self, data: bytes, filename: str) -> LoadedDocument:
        text = decode_text(data, filename)
        units = _paragraph_units(text)
        if not units:
            raise IngestError("no text found")
        title = file_title(filename)
        return LoadedDocument(title, [Section(title, units, 0)])


class HTMLLoader:
    """Main content of a web page; menus, headers, footers, scripts and forms are dropped."""

    name = "html"
    suffixes = (".html", ".htm")
    _DROP = ["script", "style", "noscript", "nav", "header", "footer", "aside", "form",
             "iframe", "svg", "template", "button"]

    def load(self, data: bytes, filename: str) -> LoadedDocument:
        from bs4 import BeautifulSoup

        soup = BeautifulSoup(decode_text(data, filename), "html.parser")
        title_tag = soup.find("title")
        title = title_tag.get_text(" ", strip=True) if title_tag else Path(filename).stem
        # A footer's address, phone and e-mail are often the only place a page states them:
        # kept as a "Contact" section (its links, legal lines and menus are not).
        contact = _footer_contact(soup)
        for tag in soup(self._DROP):
            tag.decompose()
        for tag in soup(["s", "del", "strike"]):  # struck through: no longer so (a sale's
            tag.decompose()                        # old price, a cancelled date)
        root = soup.find("main") or soup.find("article") or soup.body or soup
        sections: list[Section] = []
        path: list[tuple[int, str]] = []
        units: list[str] = []
        offset = start = 0  # offsets in the extracted text (units joined by newlines)
        grids: dict[int, dict[int, list[str]]] = {}  # each table's rows, spans filled in
        readers: dict[int, TableReader] = {}  # each table's reader: its section rows' labels

        def flush() -> None:
            nonlocal units, start
            if units:
                heading = " > ".join(h for _, h in path) or title
                sections.append(Section(heading, units, start))
                units = []
            start = offset

        for el in root.find_all(["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "tr", "dt",
                                 "dd", "blockquote", "pre", "address"]):
            if el.name[0] == "h" and el.name[1:].isdigit():
                flush()
                level = int(el.name[1])
                path = [(lv, h) for lv, h in path if lv < level]
                head = re.sub(r"\s+", " ", el.get_text(" ", strip=True))
                path.append((level, head))
                if level > 1 and _PRICED.search(head):
                    # "Saffron Veg Thali – £16.95" over its description: the heading is
                    # the only line that states the price, so it is a line of content too
                    units.append(head)
                    offset += len(head) + 1
                continue
            if el.find_parent(["li", "p", "tr", "blockquote", "dd"]) and el.name != "tr":
                continue  # nested inside a unit we already take whole
            if el.name == "tr":
                table = el.find_parent("table")
                if table is not None and id(table) not in grids:
                    grids[id(table)] = _table_grid(table)
                grid = grids.get(id(table), {}) if table is not None else {}
                cells = grid.get(id(el)) or [c.get_text(" ", strip=True)
                                             for c in el.find_all(["td", "th"])]
                header_row = table.find("tr") if table else None
                if header_row is not None and not header_row.find("th"):
                    header_row = None  # a table without a header: its first row is a row
                if header_row is el:
                    continue
                header = (grid.get(id(header_row)) or [
                    c.get_text(" ", strip=True) for c in header_row.find_all(["td", "th"])]
                    ) if header_row is not None else []
                if table is not None:
                    reader = readers.setdefault(id(table), TableReader(header))
                    text = reader.row(cells)
                else:
                    text = " | ".join(c for c in cells if c)
            else:
                text = el.get_text(" ", strip=True)
                if el.name == "li":
                    text = "- " + text
            text = re.sub(r"\s+", " ", text).strip()
            if text:
                units.append(text)
                offset += len(text) + 1
        flush()
        if contact and not any(line in u for s in sections for u in s.units for line in contact):
            sections.append(Section("Contact", contact, offset))
        if not sections:
            raise IngestError("no text found in the page")
        return LoadedDocument(title, sections)


def _table_grid(table: Any) -> dict[int, list[str]]:
    """Each row of a table as the cells a reader sees in it: a cell spanning rows
    (`rowspan="2"`: one plan, a dog and a cat price) or columns is repeated where it shows,
    so every value stays under its own column."""
    grid: dict[int, list[str]] = {}
    pending: dict[int, tuple[int, str]] = {}  # column -> (rows still covered, text)
    for tr in table.find_all("tr"):
        if tr.find_parent("table") is not table:
            continue  # a nested table's rows are its own
        row: list[str] = []
        col = 0
        cells = iter(tr.find_all(["td", "th"], recursive=False))
        cell = next(cells, None)
        while cell is not None or col in pending:
            if col in pending:
                left, text = pending[col]
                row.append(text)
                if left <= 1:
                    del pending[col]
                else:
                    pending[col] = (left - 1, text)
                col += 1
                continue
            assert cell is not None
            text = _cell_text(cell) if col == 0 else cell.get_text(" ", strip=True)
            for _ in range(_span(cell, "colspan")):
                rows = _span(cell, "rowspan")
                if rows > 1:
                    pending[col] = (rows - 1, text)
                row.append(text)
                col += 1
            cell = next(cells, None)
        grid[id(tr)] = row
    return grid


def _cell_text(cell: Any) -> str:
    """A name cell's text, its description set apart: "<strong>Tarka Dal</strong><br>
    <small>Yellow lentils…</small>" is "Tarka Dal — Yellow lentils…" (`TableReader` makes the
    part after " — " the row's description, so the dish is named by its name)."""
    small = cell.find(["small", "br"])
    if small is None:  # (the marker never comes from the page itself)
        return str(cell.get_text(" ", strip=True)).replace(DESCRIBED, " ")
    name: list[str] = []
    for node in cell.children:
        if node is small or getattr(node, "name", None) in ("small", "br"):
            break
        name.append(node.get_text(" ", strip=True) if hasattr(node, "get_text") else str(node))
    head = re.sub(r"\s+", " ", " ".join(name)).strip()
    whole = re.sub(r"\s+", " ", cell.get_text(" ", strip=True)).strip()
    rest = whole[len(head):].strip() if head and whole.startswith(head) else ""
    head, rest, whole = (t.replace(DESCRIBED, " ").strip() for t in (head, rest, whole))
    return f"{head} {DESCRIBED} {rest}" if head and rest else whole


def _span(cell: Any, attr: str) -> int:
    try:
        return max(1, min(int(str(cell.get(attr, 1)).strip() or 1), 50))
    except ValueError:
        return 1


_CONTACT_LINE = re.compile(
    r"@[\w-]+\.|\+?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}|\b\d{3}[\s.-]\d{4}\b|"
    r"\b\d{1,5}\s+[A-Z][\w.' -]{1,40}\b(street|st|avenue|ave|road|rd|lane|ln|boulevard|blvd|way|"
    r"drive|dr|place|pl|square|court|highway|hwy|parkway)\b|\b(open|hours|mon|tue|wed|thu|fri|"
    r"sat|sun)\w*\b.*\d", re.I)


def _footer_contact(soup: object) -> list[str]:
    """The footer's lines that state an address, a phone, an e-mail or hours."""
    lines: list[str] = []
    for footer in soup.find_all(["footer", "address"]):  # type: ignore[attr-defined]
        if footer.find_parent(["footer", "address"]):
            continue
        blocks = footer.find_all(["p", "li", "dd", "td", "div"]) or [footer]
        leaves = [b for b in blocks if not b.find(["p", "li", "dd", "td", "div"])]
        texts = [(b.get_text(" ", strip=True), _under_find_us(b, footer)) for b in leaves]
        for text, find_us in texts or [(t, False) for t in
                                       footer.get_text("\n", strip=True).split("\n")]:
            text = re.sub(r"\s+", " ", text).strip(" ·|•")
            if text and text not in lines and (
                    (len(text) <= 200 and (_CONTACT_LINE.search(text) or find_us))
                    or (len(text) <= 500 and _GETTING_HERE.match(text))):
                lines.append(text)
    return lines[:12]


def _under_find_us(block: Any, footer: Any) -> bool:
    """The block sits under a footer heading such as "Find us" or "Visit": an address that
    names no street ("The Old Bobbin Mill, 3 Mill Yard")."""
    heading = block.find_previous(["h1", "h2", "h3", "h4", "h5", "h6", "strong"])
    return bool(heading is not None and footer in heading.parents
                and _FIND_US.search(heading.get_text(" ", strip=True)))


_FIND_US = re.compile(r"^\s*(find us|visit( us)?|address|location|where (to find )?us|"
                      r"our (address|location)|getting here)\b", re.I)


# A footer's "Parking: …", "By bus: …" paragraph: how to get there, often said nowhere else.
_GETTING_HERE = re.compile(r"(parking|car park|by (bus|train|tram|subway|metro|bike|car)|"
                           r"getting here|directions|public transport|accessibility)\b.{0,20}:",
                           re.I)


class PDFLoader:
    name = "pdf"
    suffixes = (".pdf",)

    def load(self, data: bytes, filename: str) -> LoadedDocument:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError

        if not data.startswith(b"%PDF"):
            raise IngestError("not a PDF file")
        try:
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted:
                raise IngestError("encrypted PDF")
            pages = [page.extract_text() or "" for page in reader.pages]
        except IngestError:
            raise
        except (PdfReadError, Exception) as exc:  # pypdf raises many types on damaged files
            raise IngestError(f"unreadable PDF ({type(exc).__name__})") from None
        title = file_title(filename)
        meta_title = reader.metadata.get("/Title") if reader.metadata else None
        if isinstance(meta_title, str) and meta_title.strip():
            title = meta_title.strip()
        sections, offset = [], 0
        for number, page_text in enumerate(pages, start=1):
            lines = [ln.strip() for ln in page_text.split("\n") if ln.strip()]
            if lines:
                sections.append(Section(f"{title} (page {number})", lines, offset))
            offset += len(page_text) + 1
        if not sections:
            raise IngestError("no extractable text (scanned PDF?)")
        return LoadedDocument(title, sections)


class CSVLoader:
    """Each row is a record ("item: Sourdough; price: 6.50; ...") and becomes its own chunk."""

    name = "csv"
    suffixes = (".csv", ".tsv")

    def load(self, data: bytes, filename: str) -> LoadedDocument:
        text = decode_text(data, filename)
        if not text.strip():
            raise IngestError("empty file")
        rows = read_csv(text, filename)
        if len(rows) < 2:
            raise IngestError("a CSV needs a header row and at least one record")
        header = [h.strip() for h in rows[0]]
        reader = TableReader(header)
        records = [reader.row(row) for row in rows[1:]]
        title = file_title(filename)
        return LoadedDocument(title, [Section(title, [r for r in records if r], 0, records=True)])


class FAQLoader:
    """A FAQ as JSON or YAML: a list of {question, answer}, {"faq": [...]}, or {question: answer}.

    Entries become retrievable chunks and approved answers that the agent uses verbatim.
    """

    name = "faq"
    suffixes = (".yaml", ".yml", ".json")

    def load(self, data: bytes, filename: str) -> LoadedDocument:
        text = decode_text(data, filename)
        try:
            doc = (json.loads(text) if filename.lower().endswith(".json")
                   else yaml.safe_load(text))
        except (json.JSONDecodeError, yaml.YAMLError) as exc:
            raise IngestError(f"invalid {Path(filename).suffix[1:].upper()}: "
                              f"{str(exc).splitlines()[0]}") from None
        entries = self._entries(doc)
        if not entries:
            raise IngestError("no question/answer entries found")
        title = file_title(filename)
        units = [f"Q: {e.question}\nA: {e.answer}" for e in entries]
        return LoadedDocument(title, [Section(title, units, 0, records=True)], faq=entries)

    @staticmethod
    def _entries(doc: object) -> list[FAQEntry]:
        if isinstance(doc, dict):
            for key in ("faq", "faqs", "questions", "entries"):
                if isinstance(doc.get(key), list):
                    doc = doc[key]
                    break
            else:
                if doc and all(isinstance(k, str) and isinstance(v, str) for k, v in doc.items()):
                    return [FAQEntry(k.strip(), v.strip()) for k, v in doc.items()]
        if not isinstance(doc, list):
            return []
        out = []
        for item in doc:
            if not isinstance(item, dict):
                continue
            q = item.get("question") or item.get("q")
            a = item.get("answer") or item.get("a")
            if isinstance(q, str) and isinstance(a, (str, int, float)) and q.strip():
                out.append(FAQEntry(q.strip(), str(a).strip()))
        return out
