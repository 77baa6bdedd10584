"""Loaders turn an owner's files into sections of text with headings and offsets.

A loader is the extension point for new sources: implement `Loader` (base.py). The built-ins
register below, in one explicit order; a third-party package registers its own through the
`doppel.loaders` entry-point group (see doppel/registry.py), read once at start-up and placed
after the built-ins.

The built-ins: ordinary files (files.py: Markdown, plain text, HTML, PDF, CSV, FAQ in JSON/YAML),
owners' social exports (social.py: Instagram, Facebook, X, captions, posts) and product catalogs
(catalog.py: Shopify, WooCommerce, any catalog CSV).

Exports share suffixes with ordinary files (an Instagram `posts_1.json` is no FAQ, a Shopify
export is no plain CSV), so a loader may also implement `Sniffer`: `loader_for(name, data)` asks
every sniffer first, in registration order, and falls back to the first loader whose suffix
matches. That is why the order below matters.
"""

from __future__ import annotations

from doppel.knowledge.loaders.base import (
    SNIFF_BYTES,
    FAQEntry,
    LoadedDocument,
    Loader,
    Section,
    Sniffer,
    csv_header,
    decode_text,
    file_title,
    read_csv,
)
from doppel.knowledge.loaders.catalog import CatalogLoader, ShopifyLoader, WooCommerceLoader
from doppel.knowledge.loaders.files import (
    CSVLoader,
    FAQLoader,
    HTMLLoader,
    MarkdownLoader,
    PDFLoader,
    TextLoader,
)
from doppel.knowledge.loaders.social import (
    CaptionsLoader,
    FacebookLoader,
    InstagramLoader,
    PostsLoader,
    XLoader,
)
from doppel.registry import Registry

__all__ = [
    "BUILT_IN", "LOADERS", "SNIFF_BYTES", "CSVLoader", "CaptionsLoader", "CatalogLoader",
    "FAQEntry", "FAQLoader", "FacebookLoader", "HTMLLoader", "InstagramLoader", "LoadedDocument",
    "Loader", "MarkdownLoader", "PDFLoader", "PostsLoader", "Section", "ShopifyLoader", "Sniffer",
    "TextLoader", "WooCommerceLoader", "XLoader", "csv_header", "decode_text", "file_title",
    "loader_for", "read_csv",
]

LOADERS: Registry[Loader] = Registry("loader", group="doppel.loaders",
                                     accepts=lambda obj: isinstance(obj, Loader))

# Registration order is sniffing order, then suffix order. The export importers claim files only
# by sniffing (they have no suffix of their own, or only captions' .vtt/.srt), so:
# - Shopify and WooCommerce before the generic catalog mapping, which would also claim their CSVs;
# - the Meta and X exports before the generic posts loader, which would otherwise claim a
#   your_posts_1.json by its "post" key;
# - the ordinary files by suffix alone, for whatever no sniffer claimed.
BUILT_IN: tuple[Loader, ...] = (
    ShopifyLoader(), WooCommerceLoader(), CatalogLoader(),
    InstagramLoader(), FacebookLoader(), XLoader(), CaptionsLoader(), PostsLoader(),
    MarkdownLoader(), TextLoader(), HTMLLoader(), PDFLoader(), CSVLoader(), FAQLoader(),
)
for _loader in BUILT_IN:
    LOADERS.register(_loader)


def loader_for(filename: str, data: bytes | None = None) -> Loader | None:
    """The loader that claims the file by path or content, else the first by suffix."""
    head = data[:SNIFF_BYTES] if data else b""
    for loader in LOADERS:
        if isinstance(loader, Sniffer) and loader.sniff(filename, head):
            return loader
    lower = filename.lower()
    for loader in LOADERS:
        if loader.suffixes and lower.endswith(tuple(loader.suffixes)):
            return loader
    return None
