"""Importers for product catalogs: Shopify and WooCommerce product exports and any catalog CSV.

A product becomes one record with its options and prices, so a question about one product finds
that product whole: "Country Sourdough — Bread. Sizes: Small $6.50, Large $9.00. Naturally
leavened..." Drafts, archived and unpublished products are left out and reported.

Shopify writes several rows per product (the first carries the title, the next ones only the
handle and a variant or an image); WooCommerce writes a variable product's variations as rows of
their own that point to it through `Parent`. A generic catalog CSV is read through a
`CatalogMapping`, guessed from its header or given by the owner.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from typing import ClassVar

from doppel.errors import IngestError
from doppel.knowledge.loaders.base import (
    LoadedDocument,
    Section,
    csv_header,
    decode_text,
    file_title,
    read_csv,
)

__all__ = ["CatalogMapping", "ShopifyLoader", "WooCommerceLoader", "CatalogLoader",
           "load_catalog", "is_catalog_header"]

Row = dict[str, str]

_SHOPIFY = {"handle", "title", "variant price"}
_WOO = {"type", "name", "regular price"}


@dataclass(frozen=True)
class CatalogMapping:
    """Which column of a catalog CSV holds what; only `name` is required."""

    name: str
    price: str | None = None
    description: str | None = None
    category: str | None = None
    sku: str | None = None
    url: str | None = None
    currency: str = "$"  # put before bare numbers; a price written "4,50 €" is kept as written

    # Header synonyms for `guess`, compared lower-cased and stripped. 'item' is left out on
    # purpose: a price list ("item,price") reads better as the plain CSV records it always was.
    SYNONYMS: ClassVar[dict[str, tuple[str, ...]]] = {
        "name": ("name", "product name", "product", "title", "product title", "item name"),
        "price": ("price", "cost", "unit price", "retail price", "amount"),
        "description": ("description", "desc", "details", "summary", "body"),
        "category": ("category", "categories", "type", "collection", "department"),
        "sku": ("sku", "product code", "item code", "code"),
        "url": ("url", "link", "product url", "permalink"),
    }

    @classmethod
    def guess(cls, header: list[str]) -> CatalogMapping | None:
        """A mapping from header names; None when no column looks like a product name."""
        lower = {h.strip().lower(): h for h in header}
        found = {key: next((lower[s] for s in names if s in lower), None)
                 for key, names in cls.SYNONYMS.items()}
        if not found["name"]:
            return None
        return cls(found["name"], found["price"], found["description"], found["category"],
                   found["sku"], found["url"])

    def columns(self) -> set[str]:
        return {getattr(self, f.name) for f in fields(self)
                if f.name != "currency" and getattr(self, f.name)}


def is_catalog_header(header: list[str]) -> bool:
    """True for a Shopify or WooCommerce export, or a CSV with a product name and a price."""
    names = {h.strip().lower() for h in header}
    if _SHOPIFY <= names or _WOO <= names:
        return True
    mapping = CatalogMapping.guess(header)
    return mapping is not None and mapping.price is not None


# --- helpers ------------------------------------------------------------------------------------

def _rows(data: bytes, filename: str) -> list[Row]:
    table = read_csv(decode_text(data, filename), filename)
    if len(table) < 2:
        raise IngestError("a CSV needs a header row and at least one record")
    header = [h.strip() for h in table[0]]
    return [{h: (r[i].strip() if i < len(r) else "") for i, h in enumerate(header)}
            for r in table[1:]]


def _strip_html(text: str) -> str:
    """Text of a product description: block ends become spaces, inline tags vanish whole (so
    'a <em>48-hour</em> ferment.' keeps its spacing)."""
    if "<" not in text and "&" not in text:
        return re.sub(r"\s+", " ", text).strip()
    from bs4 import BeautifulSoup

    text = re.sub(r"(?i)<br\s*/?>|</(p|div|li|h[1-6]|tr|td|blockquote)\s*>", " ", text)
    return re.sub(r"\s+", " ", BeautifulSoup(text, "html.parser").get_text("")).strip()


def _money(value: str, currency: str) -> str:
    """'6.5' -> '$6.50', '1,250' -> '$1250.00'; any other price ('4,50 €') stays as written."""
    if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", value):
        value = value.replace(",", "")  # thousands separators; a decimal comma is kept as is
    if not re.fullmatch(r"\d+(\.\d+)?", value):
        return value
    try:
        return f"{currency}{Decimal(value):.2f}"
    except InvalidOperation:
        return value


def _plural(word: str) -> str:
    if re.search(r"(s|x|ch|sh)$", word):
        return word + "es"
    if re.search(r"[^aeiou]y$", word):
        return word[:-1] + "ies"
    return word + "s"


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text[-1] in ".!?" else text + "."


def _product(name: str, category: str, prices: str, *details: str) -> str:
    head = f"{name} — {category}" if category else name
    return " ".join(_sentence(p) for p in (head, prices, *details) if p)


def _document(title: str, records: list[str], skipped: list[tuple[str, str]]) -> LoadedDocument:
    sections = [Section(title, records, 0, records=True)] if records else []
    return LoadedDocument(title, sections, skipped=skipped)


def _truthy(value: str) -> bool:
    return value.strip().lower() not in ("false", "0", "no", "n", "-1")


# --- Shopify ------------------------------------------------------------------------------------

class ShopifyLoader:
    """Shopify's product CSV export (Handle, Title, Body (HTML), Option1 Name, Variant Price...)."""

    name = "shopify"
    suffixes: tuple[str, ...] = ()

    def __init__(self, currency: str = "$") -> None:
        self.currency = currency

    def sniff(self, filename: str, head: bytes) -> bool:
        return _SHOPIFY <= set(csv_header(head, filename))

    def load(self, data: bytes, filename: str) -> LoadedDocument:
        products: dict[str, list[Row]] = {}
        for row in _rows(data, filename):
            if row.get("Handle"):
                products.setdefault(row["Handle"], []).append(row)
        records: list[str] = []
        skipped: list[tuple[str, str]] = []
        for handle, rows in products.items():
            first = rows[0]
            label = first.get("Title") or handle
            status = first.get("Status", "").lower()
            if not first.get("Title"):
                skipped.append((handle, "no row with the product's title"))
            elif status and status != "active":
                skipped.append((label, f"{status} product (not active)"))
            elif first.get("Published") and not _truthy(first["Published"]):
                skipped.append((label, "not published"))
            else:
                records.append(self._record(rows))
        return _document("Shopify products", records, skipped)

    def _record(self, rows: list[Row]) -> str:
        first = rows[0]
        category = first.get("Type") or first.get("Product Category", "").split(">")[-1].strip()
        names = [first.get(f"Option{i} Name", "") for i in (1, 2, 3)]
        names = [n for n in names if n and n != "Title"]  # 'Title: Default Title': no options
        variants = []
        for row in rows:  # rows without a price are image rows: nothing to say about them
            if not row.get("Variant Price"):
                continue
            values = [row.get(f"Option{i} Value", "") for i in range(1, len(names) + 1)]
            price = _money(row["Variant Price"], self.currency)
            was = row.get("Variant Compare At Price", "")
            if was and was != row["Variant Price"]:
                price += f" (was {_money(was, self.currency)})"
            qty = row.get("Variant Inventory Qty", "")
            if qty.lstrip("-").isdigit() and int(qty) <= 0 \
                    and row.get("Variant Inventory Policy", "deny") != "continue":
                price += " (sold out)"
            variants.append(f"{' / '.join(v for v in values if v)} {price}".strip())
        if names and len(variants) > 0:
            prices = f"{' / '.join(_plural(n) for n in names)}: {', '.join(variants)}"
        else:
            prices = f"Price: {variants[0]}" if variants else ""
        tags = first.get("Tags", "")
        return _product(first["Title"], category, prices, _strip_html(first.get("Body (HTML)", "")),
                        f"Tags: {tags}" if tags else "")


# --- WooCommerce --------------------------------------------------------------------------------

class WooCommerceLoader:
    """WooCommerce's product CSV export; variations (Type=variation) join their Parent."""

    name = "woocommerce"
    suffixes: tuple[str, ...] = ()

    def __init__(self, currency: str = "$") -> None:
        self.currency = currency

    def sniff(self, filename: str, head: bytes) -> bool:
        return _WOO <= set(csv_header(head, filename))

    def load(self, data: bytes, filename: str) -> LoadedDocument:
        rows = _rows(data, filename)
        products = [r for r in rows if "variation" not in r.get("Type", "")]
        variations: dict[str, list[Row]] = {}
        keys: dict[str, str] = {}  # 'id:12' and the SKU both name the parent product
        for n, product in enumerate(products):
            for key in (f"id:{product.get('ID', '')}", product.get("SKU", "")):
                if key not in ("", "id:"):
                    keys[key] = str(n)
        skipped: list[tuple[str, str]] = []
        for row in rows:
            if "variation" in row.get("Type", ""):
                parent = keys.get(row.get("Parent", ""))
                if parent is None:
                    skipped.append((row.get("Name") or row.get("SKU") or "variation",
                                    "variation without its parent product"))
                else:
                    variations.setdefault(parent, []).append(row)
        records = []
        for n, product in enumerate(products):
            label = product.get("Name") or product.get("SKU") or f"row {n + 2}"
            published = product.get("Published", "1")
            if not product.get("Name"):
                skipped.append((label, "no product name"))
            elif published.strip() not in ("1", ""):
                skipped.append((label, "draft (not published)" if published.strip() == "-1"
                                else "private (not published)"))
            else:
                records.append(self._record(product, variations.get(str(n), [])))
        return _document("WooCommerce products", records, skipped)

    def _price(self, row: Row) -> str:
        regular, sale = row.get("Regular price", ""), row.get("Sale price", "")
        price = _money(regular, self.currency) if regular else ""
        if sale and regular and sale != regular:
            price += f" (on sale {_money(sale, self.currency)})"
        elif sale:
            price = _money(sale, self.currency)
        if row.get("In stock?", "1").strip() == "0":
            price += " (out of stock)"
        return price.strip()

    def _record(self, product: Row, variations: list[Row]) -> str:
        if variations:
            attributes = [product.get(f"Attribute {i} name", "") for i in (1, 2, 3)]
            attributes = [a for a in attributes if a]
            options = []
            for v in variations:
                values = [v.get(f"Attribute {i} value(s)", "") for i in (1, 2, 3)]
                label = " / ".join(x for x in values if x) or v.get("Name", "")
                options.append(f"{label} {self._price(v)}".strip())
            names = " / ".join(_plural(a) for a in attributes) or "Options"
            prices = f"{names}: {', '.join(options)}"
        else:
            price = self._price(product)
            prices = f"Price: {price}" if price else ""
        tags = product.get("Tags", "")
        return _product(product["Name"], product.get("Categories", ""), prices,
                        _strip_html(product.get("Short description", "")),
                        _strip_html(product.get("Description", "")),
                        f"Tags: {tags}" if tags else "")


# --- any catalog CSV ----------------------------------------------------------------------------

class CatalogLoader:
    """A catalog CSV read through a CatalogMapping (guessed from the header when not given)."""

    name = "catalog"
    suffixes: tuple[str, ...] = ()

    def __init__(self, mapping: CatalogMapping | None = None) -> None:
        self.mapping = mapping

    def sniff(self, filename: str, head: bytes) -> bool:
        header = csv_header(head, filename)
        names = set(header)
        return not (_SHOPIFY <= names or _WOO <= names) and is_catalog_header(header)

    def load(self, data: bytes, filename: str) -> LoadedDocument:
        return load_catalog(data, filename, self.mapping)


def load_catalog(data: bytes, filename: str,
                 mapping: CatalogMapping | None = None) -> LoadedDocument:
    """Products from a catalog CSV, one record each; the columns come from `mapping`, else are
    guessed from the header (IngestError when no column looks like a product name)."""
    rows = _rows(data, filename)
    header = list(rows[0])
    mapping = mapping or CatalogMapping.guess(header)
    if mapping is None:
        raise IngestError("no product name column (expected one of: "
                          f"{', '.join(CatalogMapping.SYNONYMS['name'])})")
    missing = sorted(c for c in mapping.columns() if c not in header)
    if missing:
        raise IngestError(f"no column {', '.join(repr(c) for c in missing)} in the CSV")
    records, skipped = [], []
    for n, row in enumerate(rows, start=2):  # row numbers as a spreadsheet shows them
        name = row.get(mapping.name, "")
        if not name:
            skipped.append((f"row {n}", "no product name"))
            continue

        def get(column: str | None) -> str:
            return row.get(column, "") if column else ""  # noqa: B023  # called in this loop only

        price = get(mapping.price)
        extra = "; ".join(f"{h}: {row[h]}" for h in header
                          if row[h] and h not in mapping.columns())
        records.append(_product(
            name, get(mapping.category),
            f"Price: {_money(price, mapping.currency)}" if price else "",
            _strip_html(get(mapping.description)), extra,
            f"SKU: {get(mapping.sku)}" if get(mapping.sku) else "", get(mapping.url)))
    return _document(f"{file_title(filename)} (product catalog)", records, skipped)
