"""Who the client is, which Host names the server answers, and the headers on every response.

Three ASGI middlewares, outermost first:

- `SecurityHeadersMiddleware`: a Content-Security-Policy and ``X-Content-Type-Options: nosniff``
  on every response. Pages may run only this server's own scripts and styles (plus, by hash, the
  few inline attributes the templates really use); nothing else may run anything at all.
- `HostCheckMiddleware`: a browser tricked by DNS rebinding sends the attacker's name as Host;
  a loopback install answers only the names it is really reached by (DOPPEL_ALLOWED_HOSTS).
- `ClientAddressMiddleware`: the client's address for rate limits, sign-in throttling and
  logs; X-Forwarded-For counts only when the connection comes from a trusted proxy.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from doppel.config import Settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# --- the client's address ------------------------------------------------------------------------


def parse_networks(spec: str) -> tuple[Network, ...]:
    """'10.0.0.0/8, 127.0.0.1' -> networks (a bare address is a network of one)."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False)
                 for part in spec.split(",") if part.strip())


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address from an X-Forwarded-For entry ('1.2.3.4', '1.2.3.4:80', '[::1]:443')."""
    value = value.strip()
    if value.startswith("["):
        value = value[1:].partition("]")[0]
    elif value.count(":") == 1:
        value = value.partition(":")[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address | None,
             trusted: Iterable[Network]) -> bool:
    if address is None:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address.version == net.version and address in net for net in trusted)


def client_address(peer: str, forwarded: str | None, trusted: tuple[Network, ...]) -> str:
    """The client: the connection's own address unless it is a trusted proxy; then the
    right-most address of X-Forwarded-For that is not one of our proxies (each proxy appends
    the address it was reached from, so whatever lies left of that was written by the client
    and may be anything)."""
    if not trusted or not forwarded or not _trusted(_ip(peer), trusted):
        return peer
    hops = [h for h in forwarded.split(",") if h.strip()]
    nearest = peer  # the closest hop known to be one of ours
    for hop in reversed(hops):
        address = _ip(hop)
        if address is None:
            return nearest  # garbage: nothing further left can be believed
        if not _trusted(address, trusted):
            return str(address)
        nearest = str(address)
    return nearest  # every hop is a proxy of ours: the farthest one is the client


class ClientAddressMiddleware:
    """Rewrites the ASGI ``client`` (and ``scheme``, from X-Forwarded-Proto) for requests that
    come through a trusted proxy, so every handler sees the real client.

    uvicorn would do this itself for 127.0.0.1 whatever DOPPEL_TRUSTED_PROXIES says; `doppel
    serve` turns that off (proxy_headers=False) so this setting alone decides.
    """

    def __init__(self, app: ASGIApp, trusted: str) -> None:
        self.app = app
        self.trusted = parse_networks(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.trusted and scope["type"] in ("http", "websocket") and scope.get("client"):
            peer = scope["client"][0]
            if _trusted(_ip(peer), self.trusted):
                headers = _headers(scope)
                forwarded = headers.get("x-forwarded-for")
                client = client_address(peer, forwarded, self.trusted)
                if client != peer:
                    scope["client"] = (client, 0)
                # The last proxy says how the browser reached it (secure cookies need it).
                proto = headers.get("x-forwarded-proto", "").rsplit(",", 1)[-1].strip().lower()
                if proto in ("http", "https") and scope["type"] == "http":
                    scope["scheme"] = proto
        await self.app(scope, receive, send)


def _headers(scope: Scope) -> dict[str, str]:
    """Request headers by lower-case name; repeated ones joined with ', ' (as RFC 9110 allows
    for lists like X-Forwarded-For)."""
    out: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers") or []:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


# --- the Host check ------------------------------------------------------------------------------

_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
_ALL_INTERFACES = frozenset({"", "0.0.0.0", "::"})


def host_name(header: str) -> str:
    """The name in a Host header, lower-case, without port or trailing dot ('' if malformed)."""
    header = header.strip().lower()
    if header.startswith("["):
        name, bracket, _ = header[1:].partition("]")
        return name if bracket else ""
    return header.rsplit(":", 1)[0].rstrip(".") if header.count(":") <= 1 else ""


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def allowed_hosts(settings: Settings) -> frozenset[str] | None:
    """The Host names to answer, or None for any (DOPPEL_ALLOWED_HOSTS explains the default).

    Ports are not compared: a rebinding attack changes the name, and the port is whatever the
    attacker's page already uses.
    """
    return _allowed_hosts(settings.allowed_hosts, settings.host, settings.public_url)


@functools.lru_cache(maxsize=16)
def _allowed_hosts(listed_spec: str, host: str, public_url: str) -> frozenset[str] | None:
    # Cached on the three settings it reads: asked on every request, and the settings may
    # still change at run time (tests, `doppel serve` binding another address).
    listed = {host_name(h) for h in listed_spec.split(",") if h.strip()}
    if listed:
        return frozenset(listed - {""})
    bound = host_name(f"[{host}]" if ":" in host else host)
    if bound in _ALL_INTERFACES:
        return None  # reached by whatever names the network gives it: nothing to hold on to
    names = {bound}
    if _is_loopback(bound):
        names |= _LOOPBACK_NAMES
    public = urlsplit(public_url.strip()).hostname if public_url else None
    if public:
        names.add(public.rstrip("."))
    return frozenset(names)


class HostCheckMiddleware:
    """400 for a Host the server does not answer to, before any route (/healthz too)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            allowed = allowed_hosts(self.settings)
            host = _headers(scope).get("host")
            # No Host at all (HTTP/1.0) is no browser: rebinding needs one to send the name.
            if allowed is not None and host is not None and host_name(host) not in allowed:
                await _bad_host(send)
                return
        await self.app(scope, receive, send)


async def _bad_host(send: Send) -> None:
    body = b"Invalid Host header\n"
    await send({"type": "http.response.start", "status": 400,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


# --- response headers ----------------------------------------------------------------------------

def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


# Inline attributes the templates really use, allowed by hash ('unsafe-hashes' admits attribute
# values, never <script> blocks): the analytics period picker submits on change, and the SVG
# charts (doppel/serve/charts.py) scale with a style attribute. Moving these into console.js and
# console.css would let the policy drop 'unsafe-hashes'.
PAGE_HASHES = frozenset({_sha256("this.form.submit()")})
STYLE_HASHES = frozenset({_sha256("max-width:100%;height:auto")})

# Pages: this server's own scripts, styles and images; fetches only to itself (the chat page
# streams from /v1); forms post only here; no plugins, no <base> tricks.
_PAGE = {
    "default-src": "'self'",
    "script-src": " ".join(["'self'", "'unsafe-hashes'", *sorted(PAGE_HASHES)]),
    "style-src": " ".join(["'self'", "'unsafe-hashes'", *sorted(STYLE_HASHES)]),
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "form-action": "'self'",
    "base-uri": "'none'",
    "object-src": "'none'",
}
# Everything else (JSON, SSE, scripts and styles served as files, plain text): if a browser
# ever renders one as a document, nothing in it may run or load.
_OTHER = {"default-src": "'none'", "base-uri": "'none'", "form-action": "'none'"}
# FastAPI's /docs page loads Swagger UI from its CDN and configures it in an inline script.
_DOCS = {
    "default-src": "'self'",
    "script-src": "'self' 'unsafe-inline' https://cdn.jsdelivr.net",
    "style-src": "'self' https://cdn.jsdelivr.net",
    "img-src": "'self' data: https://fastapi.tiangolo.com",
    "base-uri": "'none'",
    "object-src": "'none'",
}
_DOCS_PATHS = ("/docs", "/docs/oauth2-redirect")


def policy_for(path: str, content_type: str) -> dict[str, str]:
    """The policy's directives for a response."""
    if path in _DOCS_PATHS:
        base = _DOCS
    elif content_type.startswith("text/html"):
        base = _PAGE
    else:
        base = _OTHER
    if path.startswith("/a/"):
        # The public chat page and its passages: widget.js frames /a/{slug}?embed=1 on any
        # site (even a file:// page), so no frame-ancestors at all, as before.
        return dict(base)
    return base | {"frame-ancestors": "'none'"}  # nothing else is ever framed


def merge_policy(existing: str, wanted: dict[str, str]) -> str:
    """A route's own directives win (the console sets frame-ancestors itself); the rest of
    `wanted` is added, so one header carries the whole policy."""
    have = {part.split()[0].lower() for part in existing.split(";") if part.strip()}
    parts = [p.strip() for p in existing.split(";") if p.strip()]
    parts += [f"{name} {value}" for name, value in wanted.items() if name not in have]
    return "; ".join(parts)


class SecurityHeadersMiddleware:
    """Content-Security-Policy and nosniff on every HTTP response, errors and 404s included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                wanted = policy_for(path, headers.get("content-type", ""))
                headers["Content-Security-Policy"] = merge_policy(
                    headers.get("content-security-policy", ""), wanted)
                headers["X-Content-Type-Options"] = "nosniff"
            await send(message)

        await self.app(scope, receive, with_headers)
