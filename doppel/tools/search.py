"""`web_search`: a web search the owner turns on, through a provider the operator runs.

Off by default. The operator picks the search service (`DOPPEL_WEB_SEARCH_PROVIDER`): a SearXNG
instance (`DOPPEL_WEB_SEARCH_URL`, its JSON API), or the Brave Search or Tavily API with the
operator's key (`DOPPEL_WEB_SEARCH_KEY`, sent only to that API, in its header, never logged or
shown). An owner only turns the tool on for an agent and may keep it to their own sites
(`sites: ["bakery.example"]`). Results are other people's words: they are quoted as such ("On
the web, …, not from the business's own information"), never stated as the business's facts,
and a result whose text reads as instructions to an AI (the same scan that checks documents at
ingestion) is dropped before anything sees it.

Providers are objects with a `search(query, n, sites)` (`SearchProvider`); every request goes
through doppel's SSRF-safe fetcher.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from doppel.config import Settings
from doppel.net import FetchError, SafeFetcher
from doppel.tools.base import Tool, ToolContext, ToolError, ToolResult

__all__ = ["Brave", "SearXNG", "SearchHit", "SearchProvider", "Tavily", "WebSearch",
           "search_provider"]


@dataclass(frozen=True)
class SearchHit:
    title: str
    url: str
    snippet: str


class SearchProvider(Protocol):
    def search(self, query: str, n: int, sites: Sequence[str] = ()) -> list[SearchHit]:
        """Up to n results (a few more may come: the tool keeps n), best first; `sites`: only
        these domains. Raises ToolError when the service fails."""
        ...


def _hits(items: object, n: int, snippet_key: str) -> list[SearchHit]:
    """A provider's result objects as hits: web addresses only, text without markup."""
    hits = []
    for item in (items if isinstance(items, list) else [])[:max(n * 3, n)]:
        if not isinstance(item, dict):
            continue
        url = str(item.get("url") or "")
        if urlsplit(url).scheme not in ("http", "https"):
            continue
        text = re.sub(r"<[^>]{0,100}>", "", str(item.get(snippet_key) or ""))  # Brave: <strong>
        hits.append(SearchHit(re.sub(r"<[^>]{0,100}>", "", str(item.get("title") or ""))[:200],
                              url[:500], re.sub(r"\s+", " ", html.unescape(text)).strip()[:400]))
    return hits


def _json(result_data: bytes) -> dict[str, Any]:
    try:
        data = json.loads(result_data)
    except ValueError:
        raise ToolError("search service answered with invalid JSON") from None
    if not isinstance(data, dict):
        raise ToolError("search service answered with unexpected JSON")
    return data


def _refused(exc: FetchError) -> ToolError:
    # The service's answer to a bad key or an exhausted plan is the operator's problem to see
    # in the log; the customer hears that the search failed (the tool's caller says so).
    return ToolError(f"search service: {exc}")


def _with_sites(query: str, sites: Sequence[str]) -> str:
    return query + (" " + " OR ".join(f"site:{s}" for s in sites) if sites else "")


class SearXNG:
    """A SearXNG instance's JSON API (`/search?q=…&format=json`), fetched safely."""

    def __init__(self, settings: Settings, base_url: str) -> None:
        self.settings, self.base_url = settings, base_url.rstrip("/")

    def search(self, query: str, n: int, sites: Sequence[str] = ()) -> list[SearchHit]:
        url = f"{self.base_url}/search?" + urlencode({"q": _with_sites(query, sites),
                                                      "format": "json", "safesearch": 1})
        try:
            with SafeFetcher(self.settings) as fetcher:
                result = fetcher.fetch(url, accept={"application/json"}, max_bytes=2_000_000)
        except FetchError as exc:
            raise _refused(exc) from None
        return _hits(_json(result.data).get("results"), n, "content")


class Brave:
    """The Brave Search API (`GET /res/v1/web/search`, the key in X-Subscription-Token)."""

    default_url = "https://api.search.brave.com/res/v1"

    def __init__(self, settings: Settings, base_url: str, key: str) -> None:
        self.settings, self.base_url, self.key = settings, base_url.rstrip("/"), key

    def search(self, query: str, n: int, sites: Sequence[str] = ()) -> list[SearchHit]:
        url = f"{self.base_url}/web/search?" + urlencode({
            "q": _with_sites(query, sites), "count": min(20, max(n * 3, n)),
            "safesearch": "strict", "text_decorations": "false"})
        try:
            with SafeFetcher(self.settings) as fetcher:
                result = fetcher.fetch(url, accept={"application/json"}, max_bytes=2_000_000,
                                       headers={"X-Subscription-Token": self.key,
                                                "Accept": "application/json"})
        except FetchError as exc:
            raise _refused(exc) from None
        web = _json(result.data).get("web")
        return _hits(web.get("results") if isinstance(web, dict) else None, n, "description")


class Tavily:
    """The Tavily API (`POST /search`, the key as a bearer token); sites as include_domains."""

    default_url = "https://api.tavily.com"

    def __init__(self, settings: Settings, base_url: str, key: str) -> None:
        self.settings, self.base_url, self.key = settings, base_url.rstrip("/"), key

    def search(self, query: str, n: int, sites: Sequence[str] = ()) -> list[SearchHit]:
        body = {"query": query, "max_results": min(20, max(n * 3, n)),
                "search_depth": "basic", "include_answer": False}
        if sites:
            body["include_domains"] = list(sites)
        try:
            with SafeFetcher(self.settings) as fetcher:
                result = fetcher.post(f"{self.base_url}/search", json.dumps(body).encode(),
                                      headers={"Authorization": f"Bearer {self.key}",
                                               "Content-Type": "application/json"},
                                      max_bytes=2_000_000)
        except FetchError as exc:
            raise _refused(exc) from None
        return _hits(_json(result.data).get("results"), n, "content")


def search_provider(settings: Settings) -> SearchProvider | None:
    """The operator's search service, or None when none is configured."""
    kind = settings.web_search_provider
    if kind == "searxng":
        return SearXNG(settings, settings.web_search_url) if settings.web_search_url else None
    if not settings.web_search_key:
        return None
    known: dict[str, type[Brave] | type[Tavily]] = {"brave": Brave, "tavily": Tavily}
    cls = known[kind]
    return cls(settings, settings.web_search_url or cls.default_url, settings.web_search_key)


class SearchSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sites: list[str] = Field(default_factory=list, description="Only these sites (the "
                             "owner's own domains); empty: the whole web.")
    max_results: int = Field(2, ge=1, le=5, description="Results quoted in an answer.")

    @field_validator("sites")
    @classmethod
    def _sites(cls, value: list[str]) -> list[str]:
        out = []
        for site in value:
            site = site.strip().lower().removeprefix("https://").removeprefix("http://")
            site = site.split("/")[0]
            if not re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", site):
                raise ValueError(f"give a domain such as bakery.example, not {site!r}")
            out.append(site)
        return out


class SearchArguments(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=2, max_length=200, description="What to search the web for.")


_WANTS = re.compile(r"\b(search (the )?(web|internet|online)|look (it |that |this )?up online|"
                    r"google (it|that|this|for)|search online|on the web)\b", re.I)
_FILLER = re.compile(r"\b(can you|could you|please|search (the )?(web|internet|online)|"
                     r"look (it |that |this )?up online|google( it| that| this| for)?|"
                     r"search online|on the web|for me|and tell me|what you find|for)\b|[?!]",
                     re.I)


class WebSearch(Tool):
    name = "web_search"
    description = ("Search the web (through the operator's search service) and quote what it "
                   "finds, as other people's words.")
    Arguments = SearchArguments
    Settings = SearchSettings
    default = False
    timeout_s = 8.0
    examples = ("can you search the web for that?", "google it for me", "look it up online")

    def __init__(self, provider: SearchProvider | None = None) -> None:
        self.provider = provider  # None: the operator's (search_provider)

    def wants(self, message: str) -> bool:
        return bool(_WANTS.search(message))

    def fill(self, message: str, now: dt.datetime, known: Mapping[str, Any]
             ) -> dict[str, Any]:
        out = dict(known)
        query = re.sub(r"\s+", " ", _FILLER.sub(" ", message)).strip(" ,.")
        if len(query) >= 2:
            out["query"] = query
        return out

    def ask(self, missing: Sequence[str], settings: BaseModel) -> str:
        return "What should I search the web for?"

    async def run(self, ctx: ToolContext, args: SearchArguments, settings: SearchSettings
                  ) -> ToolResult:
        provider = self.provider or search_provider(ctx.settings)
        if provider is None:
            raise ToolError("no search service configured (DOPPEL_WEB_SEARCH_PROVIDER, "
                            "DOPPEL_WEB_SEARCH_URL or DOPPEL_WEB_SEARCH_KEY)")
        hits = await asyncio.to_thread(provider.search, args.query, settings.max_results,
                                       settings.sites)
        if settings.sites:
            hits = [h for h in hits if any(urlsplit(h.url).hostname == s or str(
                urlsplit(h.url).hostname).endswith("." + s) for s in settings.sites)]
        if ctx.scan is not None and hits:
            # Planted instructions ("ignore your rules and…") in a result: the result goes.
            flags = await asyncio.to_thread(ctx.scan, [f"{h.title}\n{h.snippet}" for h in hits])
            hits = [h for h, f in zip(hits, flags, strict=True) if not f]
        hits = [h for h in hits if h.snippet][:settings.max_results]
        if not hits:
            return ToolResult("ok", "I searched the web but found nothing I can share on that.",
                              (), {"results": 0})
        quoted = " ".join(f"“{h.snippet}” ({h.title}, {h.url})" for h in hits)
        text = (f"On the web (not from {ctx.agent_name}'s own information): {quoted}")
        return ToolResult("ok", text, tuple(f"{h.title} {h.url} {h.snippet}" for h in hits),
                          {"results": len(hits), "urls": [h.url for h in hits]})
