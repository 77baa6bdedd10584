"""Fakes of the web search APIs doppel.tools.search calls (Brave Search, Tavily), on
127.0.0.1, answering from a fixed list of pages as each service shapes its answers."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

from doppel.testing import _JSONHandler, _LocalHTTPServer, _QuietServer

__all__ = ["FakeBraveSearch", "FakeTavily", "WebPage"]

# (title, url, text)
WebPage = tuple[str, str, str]


def _matches(pages: Sequence[WebPage], query: str, sites: Sequence[str]) -> list[WebPage]:
    """Pages that share a word with the query, on one of `sites` when given."""
    words = {w for w in query.lower().split() if not w.startswith("site:") and w != "or"}
    found = [p for p in pages if words & set(f"{p[0]} {p[2]}".lower().split())]
    if sites:
        found = [p for p in found if any(urlsplit(p[1]).hostname in (s, f"www.{s}")
                                         for s in sites)]
    return found


class _SearchAPI(_LocalHTTPServer):
    def __init__(self, key: str, pages: Sequence[WebPage]) -> None:
        self.key, self.pages = key, list(pages)
        # (method, path with query, headers, JSON body or None) of every request
        self.requests: list[tuple[str, str, dict[str, str], dict[str, Any] | None]] = []
        self.status: int | None = None  # `fail(status)`: every request answered with it
        self._httpd = _QuietServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def fail(self, status: int | None) -> None:
        self.status = status

    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def _handler(self) -> type[_JSONHandler]:
        raise NotImplementedError


class FakeBraveSearch(_SearchAPI):
    """Brave's `GET /res/v1/web/search?q=&count=`: the key in `X-Subscription-Token` (else
    401 as Brave answers), `site:` operators in q honoured, results under web.results with
    `description` snippets that carry <strong> marks."""

    def _handler(self) -> type[_JSONHandler]:
        fake = self

        class Handler(_JSONHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                fake.requests.append(("GET", self.path, dict(self.headers.items()), None))
                url = urlsplit(self.path)
                if url.path != "/res/v1/web/search":
                    return self._json(404, {"type": "ErrorResponse"})
                if self.headers.get("X-Subscription-Token") != fake.key:
                    return self._json(401, {"type": "ErrorResponse", "error": {
                        "code": "SUBSCRIPTION_TOKEN_INVALID", "status": 401}})
                if fake.status:
                    return self._json(fake.status, {"type": "ErrorResponse"})
                q = parse_qs(url.query)
                query = q.get("q", [""])[0]
                sites = [w[5:] for w in query.split() if w.startswith("site:")]
                count = int(q.get("count", ["20"])[0])
                found = _matches(fake.pages, query, sites)[:count]
                return self._json(200, {"type": "search", "query": {"original": query},
                                        "web": {"type": "search", "results": [
                    {"title": t, "url": u, "description": f"<strong>{x.split()[0]}</strong> "
                     + " ".join(x.split()[1:]), "type": "search_result"}
                    for t, u, x in found]}})

        return Handler


class FakeTavily(_SearchAPI):
    """Tavily's `POST /search` with a JSON body: the key as a bearer token (else 401),
    `include_domains` honoured, `max_results` results with `content` and `score`."""

    def _handler(self) -> type[_JSONHandler]:
        fake = self

        class Handler(_JSONHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self._body()
                fake.requests.append(("POST", self.path, dict(self.headers.items()), body))
                if urlsplit(self.path).path != "/search":
                    return self._json(404, {"detail": {"error": "Not Found"}})
                if self.headers.get("Authorization") != f"Bearer {fake.key}":
                    return self._json(401, {"detail": {"error": "Unauthorized: missing or "
                                                       "invalid API key."}})
                if fake.status:
                    return self._json(fake.status, {"detail": {"error": "failed"}})
                found = _matches(fake.pages, str(body.get("query", "")),
                                 list(body.get("include_domains") or []))
                found = found[:int(body.get("max_results", 5))]
                return self._json(200, {"query": body.get("query"), "answer": None,
                                        "results": [{"title": t, "url": u, "content": x,
                                                     "score": 0.9} for t, u, x in found],
                                        "response_time": 0.01})

        return Handler
