"""Table rows as records that say what each value is: 'Header: value; Header: value'.

Owners' price tables put several prices in one row and say what each is somewhere else:

- a section row across the table names the columns for the rows below it: under "Piercing —
  piercing fee only / with basic titanium jewelry", the columns "Price" and "Second price" are
  the fee alone and the fee with jewellery;
- one cell holds two prices: "£6.95 / £11.50" under a "Starter / Main" header, "half £9.95 /
  full £16.95", or "£6.50 / £22.00" in the row "House white – glass (175ml) / bottle".

A record that keeps "Price: $40; Second price: $70" loses which price is which, and an answer
built on it can only guess. `TableReader` writes each row with its own labels ("Piercing fee
only: $40; With basic titanium jewelry: $70") and the section it sits in ("Category:
Piercing"), so that what the row states can be checked against what was asked. Nothing is
invented: every label is a piece of the owner's own header, section row or cell.
"""

from __future__ import annotations

import re

__all__ = ["DESCRIBED", "TableReader", "record"]

# Between a name cell's name and its description, where the page set them apart (a line
# break, small print): "Tarka Dal (VG) ⁞ Yellow lentils, garlic & cumin tempering."
DESCRIBED = "\u205e"

# A price: a currency sign or code next to a figure ("£6.95", "$100", "12.50 EUR").
_MONEY = re.compile(r"(?:[$£€¥]|\b(?:USD|EUR|GBP|AUD|CAD|NZD|CHF)\s?)\s?\d|\d[\d,.]*\s?(?:€|\b(?:"
                    r"USD|EUR|GBP|AUD|CAD|NZD|CHF)\b)", re.I)
# A bare figure with cents, a price where the column says so ("6.95" under "price_gbp")
_CENTS = re.compile(r"^\s*\d[\d,]*\.\d{2}\s*$")
_PRICE_HEADER = re.compile(r"price|cost|rate|fee|amount|charge|[$£€]|\b(usd|eur|gbp)\b", re.I)
_EMPTY = re.compile(r"^[\s\-–—/.]*$|^n/?a$", re.I)  # "—" in a cell: nothing there
_SLASH = re.compile(r"\s+/\s+|(?<=\S)/(?=\s*[$£€\d])|(?<=\d)\s*/(?=\S)")
_LEAD = re.compile(r"\s+[–—]\s+|\s+-\s+|:\s+")


def record(header: list[str], row: list[str]) -> str:
    """A row as 'Header: value; ...' (columns without a header are 'column N')."""
    parts = []
    for i, value in enumerate(row):
        value = value.strip()
        if not value:
            continue
        name = header[i].strip() if i < len(header) and header[i].strip() else f"column {i + 1}"
        parts.append(f"{name}: {value}")
    return "; ".join(parts)


class TableReader:
    """The rows of one table, read in order: section rows name what follows them."""

    def __init__(self, header: list[str]) -> None:
        self.header = [h.strip() for h in header]
        self.section = ""
        self.labels: list[str] = []
        # the columns a section row's labels name: the price columns after the first
        self._priced = [i for i, h in enumerate(self.header) if i and _PRICE_HEADER.search(h)]

    def row(self, cells: list[str]) -> str:
        """The row's text: a record, or a section row's own text (a sub-heading)."""
        cells = [re.sub(r"\s+", " ", c).strip() for c in cells]
        if not any(c and not _EMPTY.match(c) for c in cells):
            return ""  # nothing in the row (or only dashes)
        if self._is_section(cells):
            text = next(c for c in cells if c)
            name, labels = _split_labels(text)
            self.section = name
            self.labels = labels if len(labels) == len(self._priced) else []
            return text
        header = list(self.header) + [""] * max(0, len(cells) - len(self.header))
        if self.labels:
            for i, label in zip(self._priced, self.labels):
                header[i] = _capital(label)
        names: list[str] = []
        values: list[str] = []
        split = named_by_tail = False
        if self.section:
            names.append("Category")
            values.append(self.section)
        for i, value in enumerate(cells):
            if _EMPTY.match(value) and i:
                continue
            if DESCRIBED in value:
                value, about = (v.strip() for v in value.split(DESCRIBED, 1))
                cells[i] = value
                if i == 0 and about:  # the name names the row; what it is, after it
                    names.append(header[i] or "Item")
                    values.append(value)
                    names.append("Description")
                    values.append(about)
                    continue
            parts = _split_prices(value, header[i]) if i else None
            if parts is None:
                names.append(header[i] or f"column {i + 1}")
                values.append(value)
                continue
            labels = [lab for lab, _ in parts]
            if not all(labels):
                labels = _labels_from(header[i], len(parts))
                if not labels:
                    labels = _labels_from(_tail(cells[0]), len(parts))
                    named_by_tail = bool(labels)
            if len(labels) != len(parts) or not all(labels):
                names.append(header[i] or f"column {i + 1}")
                values.append(value)
                continue
            split = True
            for label, (_, amount) in zip(labels, parts):
                names.append(_capital(label))
                values.append(amount)
        if not any(self.header) and not split:
            return " | ".join(c.replace(DESCRIBED, "—") for c in cells if c)  # no header row
        first = 1 if self.section else 0
        if len(names) <= first:
            return record(names, values)
        if named_by_tail:  # "House white – glass / bottle": the labels leave the name
            values[first] = values[first][:len(values[first]) - len(_tail(cells[0]))].rstrip(
                " –—-:")
        if not names[first].strip() or names[first].startswith("column "):
            names[first] = "Item"
        if self.section:  # the row's name first, then where it sits
            names[0], names[1], values[0], values[1] = names[1], names[0], values[1], values[0]
        return record(names, values)

    def _is_section(self, cells: list[str]) -> bool:
        filled = [c for c in cells if c]
        if len(cells) < 2 or not filled:
            return False
        if len(filled) > 1 and len(set(filled)) == 1 and len(filled) == len(cells):
            return True  # one cell spread across the table (colspan)
        # "| **Piercing** | | |": a name alone in a row of a table with values
        return (len(filled) == 1 and bool(cells[0]) and len(self.header) >= 3
                and not re.search(r"\d", cells[0]))


def _split_labels(text: str) -> tuple[str, list[str]]:
    """A section row's name and the column labels it lists: "Flash — black & grey / color"
    is ("Flash", ["black & grey", "color"]); "Tattoo — hourly rates (per hour / full day)" is
    ("Tattoo — hourly rates", ["per hour", "full day"])."""
    m = re.search(r"\(([^()]*\s/\s[^()]*)\)", text)
    if m:
        name = (text[:m.start()] + text[m.end():]).strip(" –—-:")
        return name, [p.strip() for p in m.group(1).split(" / ") if p.strip()]
    pieces = _LEAD.split(text)
    if len(pieces) > 1 and " / " in pieces[-1]:
        name = text[:text.rfind(pieces[-1])].strip(" –—-:")
        return name, [p.strip() for p in pieces[-1].split(" / ") if p.strip()]
    return text, []


def _split_prices(value: str, header: str) -> list[tuple[str, str]] | None:
    """A cell of several prices as (label, price) pairs ("starter £7.45 / main £12.50"),
    label "" where the cell names none ("£6.95 / £11.50"); None for one price or none."""
    parts = [p.strip() for p in _SLASH.split(value) if p.strip()]
    if len(parts) < 2:
        return None
    money = _MONEY if not _PRICE_HEADER.search(header) else re.compile(
        _MONEY.pattern + r"|^\s*\d[\d,]*(?:\.\d{2})?\s*$", re.I)
    out: list[tuple[str, str]] = []
    for p in parts:
        m = money.search(p)
        if not m:
            return None
        figure = re.search(r"(?:[$£€¥]\s?)?\d[\d,]*(?:\.\d+)?(?:\s?(?:€|USD|EUR|GBP|AUD|CAD|NZD"
                           r"|CHF)\b)?", p[m.start():])
        if figure is None:
            return None
        amount = figure.group(0).strip()
        label = (p[:m.start()] + p[m.start() + figure.end():]).strip(" :-–—()")
        out.append((label, p if not label else amount))
    if any(lab for lab, _ in out) and not all(lab for lab, _ in out):
        return [("", p) for p in parts]  # "£9 / £12 with a side": labels unclear
    return out


def _labels_from(text: str, n: int) -> list[str]:
    """`n` labels from a header or a row name's tail that lists them: "Starter / Main"."""
    parts = [p.strip() for p in re.split(r"\s*/\s*", text) if p.strip()] if text else []
    return parts if len(parts) == n and all(len(p) <= 40 for p in parts) else []


def _tail(name: str) -> str:
    """The part of a row's name after a dash or colon: "glass (175ml) / bottle" in "House
    white – glass (175ml) / bottle"."""
    pieces = _LEAD.split(name)
    return pieces[-1] if len(pieces) > 1 else ""


def _capital(label: str) -> str:
    return label[:1].upper() + label[1:]
