"""Website import: a polite crawl of one site (or its sitemap) into pages the loaders can read.

    result = crawl("https://bakery.example/", settings, progress=show)
    for page in result.pages:
        ingestor.ingest_bytes(agent, page.data, page.source)   # 'bakery.example/menu.html'
    for url, reason in result.skipped: ...

Every request goes through `doppel.net.SafeFetcher` (no private addresses unless allow-listed,
size caps, timeouts). The crawl:

- stays on the start URL's site: ``www.`` and the bare host count as one, other subdomains and
  ports do not (a start URL that redirects elsewhere moves the site there);
- goes breadth first, within `crawl_max_depth` links of the start and `crawl_max_pages`
  fetches (failed ones count: a site of endless links or errors stops there), and stops once
  pages x page cap bytes have come in;
- honours robots.txt (RFC 9309: the group for ``doppel``, else ``*``; longest match; ``*`` and
  ``$`` patterns; Crawl-delay up to 60 s; a missing one allows all, an unreachable one (5xx,
  timeout) allows nothing) and ``noindex``/``nofollow`` in ``<meta name=robots>`` or
  ``X-Robots-Tag``; pauses `crawl_delay_s` between requests;
- follows ``<a href>``, ``<area href>`` and ``<link rel=canonical>``; skips links to images,
  archives and other non-pages by extension; fetches each page once (fragments, ``utm_*`` and
  other tracking parameters, parameter order and http/https ignored) and imports each body once;
- reports every URL it did not import, with the reason.

A start URL ending in ``.xml`` (or ``sitemap=True``) is read as a sitemap: exactly the pages it
lists are fetched, no links followed (one level of sitemap index is read).

Blocks repeated on most pages (a promo banner, a cookie notice) are cut by
`strip_repeated_blocks`, which also serves a folder of saved pages. robots.txt and sitemaps are
read by doppel.knowledge.robots.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import time
from collections import Counter, deque
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import unquote, urlencode

import httpx

from doppel.config import Settings
from doppel.knowledge.robots import Robots, parse_sitemap
from doppel.net import (
    PAGE_TYPES,
    ROBOTS_TOKEN,
    SITEMAP_TYPES,
    Fetcher,
    FetchError,
    FetchResult,
    SafeFetcher,
    redact_secrets,
)

__all__ = ["Page", "CrawlResult", "crawl", "strip_repeated_blocks", "source_name", "Progress"]

# progress(url about to be fetched, pages fetched so far, page limit)
Progress = Callable[[str, int, int], None]

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_EXTENSIONS = {"text/html": ".html", "application/xhtml+xml": ".html",
               "application/pdf": ".pdf", "text/plain": ".txt"}
# Links to these are not pages: reported as skipped without a request.
_NOT_PAGES = frozenset(
    ".png .jpg .jpeg .gif .webp .svg .ico .bmp .tif .tiff .avif .heic "
    ".mp3 .mp4 .m4a .m4v .mov .avi .mkv .webm .wav .ogg .flac "
    ".zip .gz .tgz .tar .rar .7z .bz2 .xz .dmg .exe .msi .apk .iso .bin "
    ".css .js .mjs .json .xml .rss .atom .ics .vcf .csv .woff .woff2 .ttf .otf .eot "
    ".doc .docx .xls .xlsx .ppt .pptx .odt .ods .odp".split())
_TRACKING = re.compile(r"utm_\w+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|yclid"
                       r"|igshid|_ga|_gl|_hsenc|_hsmi", re.I)
_MAX_SITEMAPS = 20        # child sitemaps read from one sitemap index
_MAX_REPORTED = 1000      # skipped URLs listed; more are only counted (a link bomb stays small)
_MAX_CRAWL_DELAY_S = 60.0  # a larger robots.txt Crawl-delay would make an import take hours
_ROBOTS_BYTES = 512 * 1024  # RFC 9309: parse at least the first 500 KiB


@dataclass
class Page:
    url: str            # the final URL, after redirects
    source: str         # document source name: 'example.com/menu.html' (ends .html/.pdf/.txt)
    data: bytes         # HTML and text are UTF-8 here, whatever the site served
    content_type: str   # media type: text/html, application/xhtml+xml, application/pdf, text/plain


@dataclass
class CrawlResult:
    start_url: str
    pages: list[Page] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (url, reason)
    fetched: int = 0              # page requests made (robots.txt and sitemaps not counted)
    bytes_received: int = 0       # body bytes, sitemaps and robots.txt included
    stopped: str | None = None    # why the crawl stopped with links left, if it did
    unlisted: int = 0             # skipped URLs beyond the report's limit: counted, not listed

    def summary(self) -> str:
        line = f"{len(self.pages)} pages imported, {len(self.skipped) + self.unlisted} skipped"
        return line + (f"; stopped: {self.stopped}" if self.stopped else "")


# --- URLs ---------------------------------------------------------------------------------------

def _site(url: httpx.URL) -> str:
    """What counts as one site: the host without 'www.', and the port when not the default."""
    host = url.host.lower().rstrip(".").removeprefix("www.")
    return f"{host}:{url.port}" if url.port else host


def _origin(url: httpx.URL) -> str:
    return f"{url.scheme}://{url.netloc.decode('ascii')}"


def _clean(url: httpx.URL) -> httpx.URL:
    """The URL to fetch: no fragment, no tracking parameters (utm_*, fbclid, ...)."""
    url = url.copy_with(fragment=None)
    items = url.params.multi_items()
    kept = [(k, v) for k, v in items if not _TRACKING.fullmatch(k)]
    if len(kept) != len(items):
        url = url.copy_with(params=kept) if kept else url.copy_with(query=None)
    return url


def _key(url: httpx.URL) -> str:
    """Identity for de-duplication: scheme, 'www.', parameter order and tracking ignored."""
    path = url.raw_path.split(b"?")[0].decode("ascii", "replace") or "/"
    params = sorted((k, v) for k, v in url.params.multi_items() if not _TRACKING.fullmatch(k))
    return f"{_site(url)}{path}" + (f"?{urlencode(params)}" if params else "")


def source_name(url: httpx.URL, content_type: str) -> str:
    """A document source name for a fetched page, readable and stable across imports:
    'example.com/menu.html', 'example.com/index.html' for '/', 'example.com/menu.php.html'."""
    path = url.path + ("index" if url.path.endswith("/") else "")
    name = url.host.lower().rstrip(".").removeprefix("www.") + path
    ext = _EXTENSIONS.get(content_type, ".html")
    own = next((e for e in ((ext, ".htm") if ext == ".html" else (ext,))
                if name.lower().endswith(e)), "")  # the URL's own extension, if it fits
    if own:
        ext, name = name[-len(own):], name[:-len(own)]
    if url.query:  # the query goes before the extension: 'shop/item_id_3.html'
        # ... without the value of a ?token= or ?sig=: a source name is shown in citations
        query = redact_secrets("?" + url.query.decode("ascii", "replace"))[1:]
        name += "_" + unquote(query)
    name = re.sub(r"[^\w.\-/]+", "_", name)
    name = "/".join(s for s in name.split("/") if s not in ("", ".", "..")) + ext
    if len(name) > 180:  # keep names short enough for any file system and the UI
        digest = hashlib.sha1(name.encode()).hexdigest()[:10]
        name = f"{name[:150]}-{digest}{ext}"
    return name


# --- pages --------------------------------------------------------------------------------------

@dataclass
class _PageLinks:
    links: list[str]
    base: httpx.URL
    directives: set[str]  # robots meta directives: noindex, nofollow, none


def _read_html(html: str, url: httpx.URL) -> _PageLinks:
    from bs4 import BeautifulSoup, Tag

    soup = BeautifulSoup(html, "html.parser")
    base = url
    tag = soup.find("base", href=True)
    if isinstance(tag, Tag):
        try:
            base = url.join(str(tag["href"]).strip())
        except httpx.InvalidURL:
            pass
    directives: set[str] = set()
    for meta in soup.find_all("meta", attrs={"name": True, "content": True}):
        if str(meta["name"]).strip().lower() in ("robots", ROBOTS_TOKEN):
            directives |= {d.strip() for d in str(meta["content"]).lower().split(",")}
    links = [str(a["href"]) for a in soup.find_all(["a", "area"], href=True)]
    for link in soup.find_all("link", href=True):
        rel: object = link.get("rel")  # bs4 gives a list for multi-valued attributes
        values = [str(r) for r in rel] if isinstance(rel, list) else str(rel or "").split()
        if "canonical" in [v.lower() for v in values]:
            links.append(str(link["href"]))
    return _PageLinks(links, base, directives)


def _header_directives(value: str) -> set[str]:
    """noindex/nofollow/none from X-Robots-Tag, skipping parts addressed to other crawlers."""
    agent, sep, rest = value.partition(":")
    if sep and agent.strip().lower() not in ("noindex", "nofollow", "none"):
        if agent.strip().lower() != ROBOTS_TOKEN:
            return set()
        value = rest
    return {d.strip().lower() for d in value.split(",")}


def _decode(data: bytes, content_type: str, charset: str | None) -> bytes:
    """HTML and text as UTF-8 (the loaders read UTF-8 first), from whatever was served."""
    if content_type in _HTML_TYPES:
        from bs4 import UnicodeDammit

        text = UnicodeDammit(data, [charset] if charset else [], is_html=True).unicode_markup
        return (text if text is not None else data.decode("utf-8", "replace")).encode("utf-8")
    if content_type == "text/plain" and charset and charset not in ("utf-8", "utf8"):
        try:
            return data.decode(charset, "replace").encode("utf-8")
        except LookupError:  # a charset Python does not know: leave it to the loader
            return data
    return data


# --- the crawl ----------------------------------------------------------------------------------

def _start(url: str) -> httpx.URL:
    text = url.strip()
    if "://" not in text:
        text = "https://" + text  # 'bakery.example' typed into a form
    try:
        parsed = httpx.URL(text)
    except httpx.InvalidURL as exc:
        raise FetchError(f"invalid URL ({exc})") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise FetchError("a website import needs an http or https URL with a host")
    return _clean(parsed)


class _Crawl:
    def __init__(self, settings: Settings, fetcher: Fetcher, progress: Progress | None,
                 sleep: Callable[[float], None], max_total_bytes: int | None) -> None:
        self.settings = settings
        self.fetcher = fetcher
        self.progress = progress
        self.sleep = sleep
        self.max_pages = settings.crawl_max_pages
        self.max_total = max_total_bytes or settings.crawl_max_pages * settings.crawl_max_page_bytes
        self.delay = settings.crawl_delay_s
        self.queue: deque[tuple[httpx.URL, int]] = deque()
        self.seen: set[str] = set()          # keys of every URL queued, fetched or reported
        self.fetched: dict[str, str] = {}    # key of each fetched final URL -> URL asked for
        self.digests: dict[str, str] = {}    # SHA-256 of each imported body -> its URL
        self.robots: dict[str, Robots] = {}  # per origin
        self.names: set[str] = set()
        self.sites: set[str] = set()
        self.follow_links = True
        self.last_request: float | None = None
        self.result = CrawlResult("")

    # -- reporting and politeness --

    def skip(self, url: str, reason: str) -> None:
        if len(self.result.skipped) < _MAX_REPORTED:
            # Reports are shown to owners and stored: no passwords or tokens from a URL
            # (a link on the page, or one quoted in the reason) in either.
            self.result.skipped.append((redact_secrets(url), redact_secrets(reason)))
        else:
            self.result.unlisted += 1

    def wait(self) -> None:
        if self.last_request is not None:
            pause = self.last_request + self.delay - time.monotonic()
            if pause > 0:
                self.sleep(pause)

    def request(self, url: str, accept: Collection[str] | None, *, max_bytes: int | None = None,
                truncate: bool = False, follow: Callable[[str], str | None] | None = None,
                ) -> FetchResult:
        """One polite fetch: the pause first, the clock after."""
        self.wait()
        try:
            return self.fetcher.fetch(url, accept=accept, max_bytes=max_bytes,
                                      truncate=truncate, follow=follow)
        finally:
            self.last_request = time.monotonic()

    def robots_for(self, url: httpx.URL) -> Robots:
        origin = _origin(url)
        if origin not in self.robots:
            self.robots[origin] = self._load_robots(origin)
            delay = self.robots[origin].delay
            if delay is not None:
                self.delay = max(self.delay, min(delay, _MAX_CRAWL_DELAY_S))
        return self.robots[origin]

    def _load_robots(self, origin: str) -> Robots:
        try:
            got = self.request(origin + "/robots.txt", None, max_bytes=_ROBOTS_BYTES,
                               truncate=True)
        except FetchError as exc:
            if exc.kind == "refused" and not exc.redirected:
                return Robots(blocked=str(exc))  # the site's own address: say so, not robots
            if exc.kind in ("timeout", "network") or (exc.status or 0) >= 500:
                # RFC 9309: robots.txt unreachable -> assume everything is disallowed
                return Robots(blocked=f"robots.txt could not be read ({exc}), so nothing is "
                                      "fetched from this site")
            # RFC 9309: unavailable (4xx, too many redirects) -> everything is allowed
            return Robots()
        self.result.bytes_received += len(got.data)
        return Robots.parse(got.data.decode("utf-8-sig", "replace"))

    # -- which URLs to fetch --

    def refusal(self, url: httpx.URL, depth: int) -> str | None:
        if _site(url) not in self.sites:
            return "another site"
        suffix = re.search(r"\.[a-z0-9]{1,5}$", url.path.lower())
        if suffix and suffix[0] in _NOT_PAGES:
            return f"not a web page ({suffix[0]} file)"
        if depth > self.settings.crawl_max_depth:
            return (f"more than {self.settings.crawl_max_depth} links from the start page "
                    "(DOPPEL_CRAWL_MAX_DEPTH)")
        return self.robots_for(url).refusal(url)

    def consider(self, href: str, base: httpx.URL, depth: int) -> None:
        """Queue a link found at `depth`, or report why not (once per URL)."""
        try:
            url = base.join(href.strip())
        except (httpx.InvalidURL, ValueError):
            return
        if url.scheme not in ("http", "https") or not url.host:
            return  # mailto:, tel:, javascript: are not pages, and not worth a report line
        url = _clean(url)
        key = _key(url)
        if key in self.seen:
            return
        self.seen.add(key)
        reason = self.refusal(url, depth)
        if reason:
            self.skip(str(url), reason)
        elif len(self.queue) >= self.max_pages - self.result.fetched:
            # every queued URL costs a fetch, so this one could never be reached
            self.result.stopped = self.page_limit()
            self.skip(str(url), self.result.stopped)
        else:
            self.queue.append((url, depth))

    def page_limit(self) -> str:
        return f"page limit reached ({self.max_pages} pages, DOPPEL_CRAWL_MAX_PAGES)"

    def redirect_refusal(self, target: str, *, first: bool) -> str | None:
        url = httpx.URL(target)
        if not first and _site(url) not in self.sites:
            return "another site"
        return self.robots_for(url).refusal(url)

    # -- fetching --

    def run(self, start: httpx.URL, sitemap: bool) -> CrawlResult:
        self.result.start_url = str(start)
        self.sites.add(_site(start))
        if sitemap:
            self.follow_links = False  # a sitemap lists the pages wanted: exactly those
            for loc in self.sitemap_urls(start):
                self.consider(loc, start, 0)
        else:
            self.consider(str(start), start, 0)
        first = not sitemap
        while self.queue:
            url, depth = self.queue.popleft()
            if self.result.bytes_received >= self.max_total:
                received = self.result.bytes_received
                self.result.stopped = f"size limit reached ({received} bytes received)"
                for left in [url] + [u for u, _ in self.queue]:
                    self.skip(str(left), self.result.stopped)
                self.queue.clear()
                break
            self.fetch_page(url, depth, first)
            first = False
        return self.result

    def fetch_page(self, url: httpx.URL, depth: int, first: bool) -> None:
        if self.progress:
            self.progress(str(url), self.result.fetched, self.max_pages)
        self.result.fetched += 1
        try:
            got = self.request(str(url), PAGE_TYPES,
                               follow=lambda t: self.redirect_refusal(t, first=first))
        except FetchError as exc:
            self.skip(str(url), str(exc))
            return
        self.result.bytes_received += len(got.data)
        final = httpx.URL(got.url)
        if first:
            self.sites.add(_site(final))  # a start URL may move the site ('x.com' -> 'x.net')
        final_key = _key(final)
        if final_key in self.fetched:  # a redirect to a page already imported
            self.skip(str(url), f"same page as {self.fetched[final_key]}")
            return
        self.fetched[final_key] = str(url)
        self.seen.add(final_key)
        digest = hashlib.sha256(got.data).hexdigest()
        if digest in self.digests:
            self.skip(str(url), f"same content as {self.digests[digest]}")
            return
        self.digests[digest] = str(url)
        directives = _header_directives(got.headers.get("x-robots-tag", ""))
        data = _decode(got.data, got.content_type, got.charset)
        if got.content_type in _HTML_TYPES:
            found = _read_html(data.decode("utf-8", "replace"), final)
            directives |= found.directives
            if self.follow_links and not directives & {"nofollow", "none"}:
                for href in found.links:
                    self.consider(href, found.base, depth + 1)
        if directives & {"noindex", "none"}:
            self.skip(str(url), "the page asks not to be indexed (noindex)")
            return
        self.result.pages.append(Page(str(final), self.unique(source_name(final,
                                      got.content_type)), data, got.content_type))

    def unique(self, name: str) -> str:
        stem, dot, ext = name.rpartition(".")
        candidate, n = name, 1
        while candidate in self.names:
            n += 1
            candidate = f"{stem}-{n}{dot}{ext}"
        self.names.add(candidate)
        return candidate

    def sitemap_urls(self, url: httpx.URL) -> list[str]:
        """Page URLs a sitemap lists (reading one level of sitemap index)."""
        kind, locs = self.read_sitemap(url)
        if kind != "sitemapindex":
            return locs
        pages: list[str] = []
        for i, loc in enumerate(locs):
            try:
                child = _clean(url.join(loc))
            except httpx.InvalidURL:
                continue
            if _site(child) not in self.sites:
                self.skip(str(child), "another site")
            elif i >= _MAX_SITEMAPS:
                self.skip(str(child), f"more than {_MAX_SITEMAPS} sitemaps in the index")
            else:
                child_kind, child_locs = self.read_sitemap(child)
                if child_kind == "sitemapindex":
                    self.skip(str(child), "a sitemap index inside a sitemap index (only one "
                                          "level is read)")
                else:
                    pages.extend(child_locs)
        return pages

    def read_sitemap(self, url: httpx.URL) -> tuple[str, list[str]]:
        reason = self.robots_for(url).refusal(url)
        if reason:
            self.skip(str(url), reason)
            return "", []
        try:
            got = self.request(str(url), SITEMAP_TYPES | {"text/plain"},
                               follow=lambda t: self.redirect_refusal(t, first=False))
            self.result.bytes_received += len(got.data)
            if got.content_type == "text/plain":  # a sitemap may be a list of URLs
                lines = got.data.decode("utf-8", "replace").split()
                return "urlset", [ln for ln in lines if ln.startswith(("http://", "https://"))]
            return parse_sitemap(got.data)
        except FetchError as exc:
            self.skip(str(url), str(exc))
            return "", []



def crawl(start_url: str, settings: Settings, *, fetcher: Fetcher | None = None,
          progress: Progress | None = None, sitemap: bool | None = None,
          strip_boilerplate: bool = True, max_total_bytes: int | None = None,
          sleep: Callable[[float], None] = time.sleep) -> CrawlResult:
    """Crawl one website politely; see the module docstring for the rules.

    sitemap: read start_url as a sitemap (None: when its path ends in '.xml').
    max_total_bytes: stop once this much has been received (default: pages x page cap).
    Never raises for what a site does (each problem is a line in `skipped`); raises
    FetchError only for a start URL that is not an http(s) URL.
    """
    start = _start(start_url)
    if sitemap is None:
        sitemap = start.path.lower().endswith(".xml")
    if fetcher is None:
        with SafeFetcher(settings) as own:
            result = _Crawl(settings, own, progress, sleep, max_total_bytes).run(start, sitemap)
    else:
        result = _Crawl(settings, fetcher, progress, sleep, max_total_bytes).run(start, sitemap)
    if strip_boilerplate:
        result.pages = strip_repeated_blocks(result.pages)
    return result


# --- boilerplate repeated across pages ----------------------------------------------------------

# Elements that can hold a repeated block; headings are not here (a page's own title often
# repeats a menu label), and inline elements are judged as part of their block.
_BLOCKS = ["div", "section", "aside", "header", "footer", "nav", "form", "p", "ul", "ol", "dl",
           "table", "blockquote", "figure", "details"]
PageLike = TypeVar("PageLike", Page, tuple[str, bytes])


def strip_repeated_blocks(pages: Sequence[PageLike], *,
                          keep_first: bool = True) -> list[PageLike]:
    """Cut blocks whose text appears on more than half of the HTML pages (at least 3 pages):
    a promo banner, a cookie notice, a sign-up box that menus-and-footers dropping misses.

    Takes crawled `Page`s or a folder of saved pages as (name, html bytes); returns the same
    kind, in order, with only the HTML pages that changed rewritten (as UTF-8). With
    keep_first, each repeated block stays on the first page that has it, so a fact printed
    on every page (the address in a side box) is still imported once.
    """
    from bs4 import BeautifulSoup, Tag

    html = [i for i, page in enumerate(pages) if _is_html(page)]
    if len(html) < 3:
        return list(pages)
    soups = {i: BeautifulSoup(_html_text(pages[i]), "html.parser") for i in html}
    counts: Counter[str] = Counter()
    for i in html:
        counts.update({_block_text(el) for el in soups[i].find_all(_BLOCKS)} - {""})
    repeated = {text for text, n in counts.items() if n * 2 > len(html)}
    out = list(pages)
    if not repeated:
        return out
    kept: set[str] = set()
    for i in html:
        protected: set[int] = set()  # blocks inside a block kept on this page
        changed = False
        for el in soups[i].find_all(_BLOCKS):
            if not isinstance(el, Tag) or el.decomposed or id(el) in protected:
                continue
            text = _block_text(el)
            if text not in repeated:
                continue
            if keep_first and text not in kept:
                inner = el.find_all(_BLOCKS)
                kept.add(text)
                kept.update(_block_text(d) for d in inner)
                protected.update(id(d) for d in inner)
                continue
            el.decompose()
            changed = True
        if changed:
            out[i] = _with_data(pages[i], str(soups[i]).encode("utf-8"))
    return out


def _block_text(el: object) -> str:
    from bs4 import Tag

    return " ".join(el.get_text(" ").split()).casefold() if isinstance(el, Tag) else ""


def _is_html(page: Page | tuple[str, bytes]) -> bool:
    if isinstance(page, Page):
        return page.content_type in _HTML_TYPES
    return page[0].lower().endswith((".html", ".htm", ".xhtml"))


def _html_text(page: Page | tuple[str, bytes]) -> str | bytes:
    # A crawled page is UTF-8 whatever its <meta charset> says; a saved one is sniffed by bs4.
    return page.data.decode("utf-8", "replace") if isinstance(page, Page) else page[1]


def _with_data(page: PageLike, data: bytes) -> PageLike:
    if isinstance(page, Page):
        return dataclasses.replace(page, data=data)
    return (page[0], data)
