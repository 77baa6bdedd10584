"""Outbound HTTP that cannot be turned against the machine doppel runs on (SSRF-safe fetching).

Every URL doppel fetches on someone's behalf (a website import, its robots.txt and sitemaps)
goes through `SafeFetcher`. The rule: **outbound fetches refuse private and loopback addresses
unless allow-listed** (`DOPPEL_FETCH_ALLOW`). How it holds:

- Only http and https; no credentials in URLs. Any port is allowed: the address check is what
  keeps requests off the local network, and public sites do run on odd ports.
- The host is resolved once, at connection time, inside the transport (`_GuardedBackend`).
  *Every* resolved address must be globally routable, and the socket is opened to one of those
  very addresses, so a DNS answer that changes between check and connect (DNS rebinding)
  cannot reach a private address. TLS still verifies the certificate against the host name
  (and sends it as SNI), because the connection pool only swaps the address, not the origin.
- Numeric host spellings browsers and libc accept (``2130706433``, ``0x7f.1``, ``017700000001``)
  are parsed like an IPv4 address, and IPv6 forms that embed an IPv4 address (IPv4-mapped,
  6to4, NAT64) are judged by the address they embed.
- Redirects are followed by hand (at most 5); each hop goes through the same checks.
- Each fetch has a total deadline (`crawl_timeout_s`, covering redirects and a body that
  trickles in), a size cap enforced while streaming (gzip too: decompression is bounded), and
  a content-type check.
- Logs name URLs without query strings or user info (`redact_url`); every message that names
  a URL (a `FetchError`, an import's report and error) drops its user info and the values of
  parameters that look like secrets (`redact_secrets`).

Refusals and failures raise `FetchError`, an `IngestError` with one line saying why.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import re
import socket
import ssl
import time
import typing
import zlib
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Literal, Protocol

import httpcore
import httpx

from doppel import __version__
from doppel.config import Settings
from doppel.errors import ConfigError, IngestError

__all__ = [
    "FetchError", "FetchResult", "Fetcher", "SafeFetcher", "AddressPolicy", "Resolver",
    "address_refusal", "parse_ip_host", "system_resolve", "redact_url", "redact_secrets",
    "PAGE_TYPES",
    "SITEMAP_TYPES", "USER_AGENT", "ROBOTS_TOKEN", "MAX_REDIRECTS", "sign_body",
]

log = logging.getLogger(__name__)

ROBOTS_TOKEN = "doppel"  # the product token robots.txt groups are matched against
USER_AGENT = f"doppel/{__version__} (+https://github.com/doppel; site import)"
MAX_REDIRECTS = 5
PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml", "text/plain", "application/pdf"})
SITEMAP_TYPES = frozenset({"application/xml", "text/xml"})

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# (host, port) -> IP address strings; the default is the system resolver (getaddrinfo).
Resolver = Callable[[str, int], Sequence[str]]
FetchKind = Literal["refused", "status", "timeout", "network", "too_large", "type"]


class FetchError(IngestError):
    """A URL was refused or could not be fetched. The message is one line; `kind` says which
    family of failure it was, `status` holds the HTTP status where there was one, and
    `redirected` is True when the failure came after following a redirect."""

    def __init__(self, message: str, *, kind: FetchKind = "refused",
                 status: int | None = None, redirected: bool = False) -> None:
        # Messages quote URLs and library errors, and end up in reports owners see.
        super().__init__(redact_secrets(message))
        self.kind: FetchKind = kind
        self.status = status
        self.redirected = redirected


@dataclass
class FetchResult:
    url: str                    # the final URL, after redirects
    status: int
    content_type: str           # media type, lower case, without parameters
    charset: str | None         # from the Content-Type header, if it named one
    data: bytes                 # the body, decoded from gzip/deflate if the server sent that
    headers: Mapping[str, str] = field(default_factory=dict)
    redirects: list[str] = field(default_factory=list)  # URLs that redirected, in order


class Fetcher(Protocol):
    """What the crawler needs from a fetcher; `SafeFetcher` is the one doppel uses."""

    def fetch(self, url: str, *, accept: Collection[str] | None = PAGE_TYPES,
              max_bytes: int | None = None, truncate: bool = False,
              follow: Callable[[str], str | None] | None = None,
              headers: Mapping[str, str] | None = None) -> FetchResult: ...


def sign_body(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Doppel-Signature of a request doppel sends an owner's system (an order look-up, a
    webhook): HMAC-SHA256 of "timestamp.body" under the owner's secret, as "sha256=<hex>"."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def redact_url(url: str | httpx.URL) -> str:
    """The URL without user info, query string or fragment: safe to log."""
    try:
        u = httpx.URL(str(url))
    except (httpx.InvalidURL, TypeError):
        return "<invalid URL>"
    port = f":{u.port}" if u.port else ""
    host = f"[{u.host}]" if ":" in u.host else u.host
    return f"{u.scheme}://{host}{port}{u.path}" + ("?…" if u.query else "")


# User info in any URL (scheme://user:password@host), and the values of query or fragment
# parameters named like secrets: token, key, sig, password, ..., also as a suffix (api_key,
# access_token, X-Amz-Signature) but not inside a word (monkey=, keyword=).
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s/?#]*@")
_SECRET_PARAM = re.compile(
    r"(?i)([?&;#](?:[\w.%-]*[_.-])?(?:token|key|apikey|sig|signature|secret|password|passwd"
    r"|pwd|pass|auth|authorization|credentials?|session|sessionid|sid|jwt|code|otp)=)"
    r"[^&#\s\"'<>)]*")  # a value ends where its URL does, quoted or in parentheses


def redact_secrets(text: str) -> str:
    """`text` with every URL in it stripped of user info and of secret-looking parameter
    values ('?token=…'): what a message, a report or a stored import job may show. Unlike
    `redact_url` the rest of the query stays, so '?page=2' and '?page=3' remain two lines."""
    return _SECRET_PARAM.sub(r"\1…", _USERINFO.sub(r"\1", text))


# --- which addresses may be reached -------------------------------------------------------------

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


def address_refusal(ip: IPAddress) -> str | None:
    """Why `ip` must not be fetched from ('a loopback address', ...); None for a public one."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and any(ip in net for net in _NAT64):
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            # The packet ends up at the embedded IPv4 address: judge that one (a public one
            # passes, so DNS64 answers on an IPv6-only network still work).
            inner = address_refusal(embedded)
            return f"a form of {embedded}, {inner}" if inner else None
    checks: tuple[tuple[bool, str], ...] = (
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (ip in _CGNAT, "a shared (carrier-grade NAT) address"),
        (ip.is_reserved, "a reserved address"),
        (ip.is_private, "a private address"),
        (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local, "a site-local address"),
        (not ip.is_global, "not a globally routable address"),
    )
    return next((reason for refused, reason in checks if refused), None)


_HOST_NAME = re.compile(r"(?=.{1,253}\.?$)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?"
                        r"(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?")
_DECIMAL, _OCTAL, _HEX = re.compile(r"[0-9]+"), re.compile(r"0[0-7]*"), re.compile(r"0x[0-9a-f]*")


def _ipv4_part(part: str) -> int | None:
    """One part of a (possibly odd) IPv4 spelling: decimal, 0-prefixed octal or 0x hex."""
    part = part.lower()
    if _HEX.fullmatch(part):
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        return int(part, 8) if _OCTAL.fullmatch(part) else None
    return int(part) if _DECIMAL.fullmatch(part) else None


def parse_ip_host(host: str) -> IPAddress | None:
    """The address a numeric host stands for, spelled any way libc and browsers accept it
    ('2130706433', '0x7f.1', '017700000001', '::ffff:127.0.0.1'); None for a host name.

    Follows the WHATWG URL standard's IPv4 parser, so a host whose last label is a number but
    which is no valid address is refused rather than handed to a resolver that might guess.
    """
    host = host.strip("[]").split("%")[0]  # an IPv6 zone id does not change the address
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host)
        except ValueError:
            raise FetchError(f"invalid IPv6 address {host!r}") from None
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()  # 'example.com.' and '127.0.0.1.' mean the same as without the dot
    if _ipv4_part(parts[-1]) is None:
        return None
    numbers = [_ipv4_part(p) for p in parts]
    if len(parts) > 4 or any(n is None for n in numbers):
        raise FetchError(f"invalid host {host!r} (looks numeric but is no IPv4 address)")
    values = typing.cast(list[int], numbers)
    if any(n > 255 for n in values[:-1]) or values[-1] >= 256 ** (5 - len(values)):
        raise FetchError(f"invalid host {host!r} (IPv4 number out of range)")
    value = values[-1] + sum(n << (8 * (3 - i)) for i, n in enumerate(values[:-1]))
    return ipaddress.IPv4Address(value)


class AddressPolicy:
    """Public addresses only, plus the allow-list: comma-separated host names, IP addresses
    and CIDR networks, each optionally with a port ('127.0.0.1:8080', '[::1]:8080',
    'intranet.example', '10.0.0.0/8'). An allow-listed *name* trusts whatever it resolves to.
    """

    def __init__(self, allow: str = "") -> None:
        self.names: list[tuple[str, int | None]] = []
        self.networks: list[tuple[IPNetwork, int | None]] = []
        for raw in allow.split(","):
            entry = raw.strip().lower()
            if entry:
                self._add(entry, raw.strip())

    def _add(self, entry: str, raw: str) -> None:
        host, port = entry, None
        bracketed = re.fullmatch(r"\[([0-9a-f:.]+)\](?::(\d+))?", entry)
        if bracketed:
            host, port = bracketed[1], int(bracketed[2]) if bracketed[2] else None
        elif entry.count(":") == 1:
            host, _, digits = entry.partition(":")
            if not digits.isdigit() or not 0 < int(digits) < 65536:
                raise ConfigError(f"DOPPEL_FETCH_ALLOW: bad port in {raw!r}")
            port = int(digits)
        try:
            self.networks.append((ipaddress.ip_network(host, strict=False), port))
            return
        except ValueError:
            pass
        if "/" in host or not _HOST_NAME.fullmatch(host):
            raise ConfigError(f"DOPPEL_FETCH_ALLOW: {raw!r} is not a host name, an IP address "
                              "or a network")
        self.names.append((host.rstrip("."), port))

    def allowed(self, host: str, ip: IPAddress, port: int) -> bool:
        """True when the allow-list covers this host name or address (on this port)."""
        name = host.lower().rstrip(".")
        if any(n == name and p in (None, port) for n, p in self.names):
            return True
        candidates: list[IPAddress] = [ip]
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            candidates.append(ip.ipv4_mapped)
        return any(a.version == net.version and a in net and p in (None, port)
                   for net, p in self.networks for a in candidates)

    def refusal(self, host: str, ip: IPAddress, port: int) -> str | None:
        """None when `ip` (which `host` resolved to) may be fetched from, else why not."""
        if self.allowed(host, ip, port):
            return None
        return address_refusal(ip)


def system_resolve(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for host (IPv4 and IPv6, TCP)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


# --- the transport: vet at connect time, connect to the vetted address ------------------------

# The deadline of the fetch in progress (time.monotonic()), seen by every socket operation the
# fetch makes. A context variable, so concurrent fetches in other threads keep their own.
_DEADLINE: ContextVar[float | None] = ContextVar("doppel_fetch_deadline", default=None)


def _time_left(timeout: float | None, error: type[Exception]) -> float | None:
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise error("the fetch's deadline passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every read and write waits no longer than the fetch has left, so a
    server that sends a byte a second cannot stretch one fetch past its total timeout."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _time_left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _time_left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.start_tls(
            ssl_context, server_hostname, _time_left(timeout, httpcore.ConnectTimeout)))

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class _GuardedBackend(httpcore.SyncBackend):
    """httpcore's socket backend, except that `connect_tcp` resolves the host itself, refuses
    unless every address passes the policy, and connects to those addresses only."""

    def __init__(self, policy: AddressPolicy, resolve: Resolver) -> None:
        self.policy = policy
        self.resolve = resolve

    def addresses(self, host: str, port: int) -> list[str]:
        """The vetted addresses to connect to; FetchError when any resolved one is refused."""
        literal = parse_ip_host(host)
        if literal is not None:
            ips: list[IPAddress] = [literal]
        else:
            try:
                found = self.resolve(host, port)
                ips = [ipaddress.ip_address(a.split("%")[0]) for a in found]
            except (OSError, UnicodeError, ValueError):
                raise FetchError(f"cannot resolve {host}", kind="network") from None
            if not ips:
                raise FetchError(f"cannot resolve {host}", kind="network")
        for ip in ips:
            reason = self.policy.refusal(host, ip, port)
            if reason:
                what = f"{ip} is" if literal is not None else f"{host} resolves to {ip},"
                raise FetchError(f"{what} {reason} (not in DOPPEL_FETCH_ALLOW)")
        return list(dict.fromkeys(str(ip) for ip in ips))

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
                    ) -> httpcore.NetworkStream:
        error: Exception = httpcore.ConnectError(f"cannot connect to {host}")
        for address in self.addresses(host, port):
            try:
                stream = super().connect_tcp(address, port,
                                             _time_left(timeout, httpcore.ConnectTimeout),
                                             local_address, socket_options)
                return _DeadlineStream(stream)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc  # try the host's next (equally vetted) address
        raise error


# --- the fetcher --------------------------------------------------------------------------------

def _media_type(value: str) -> tuple[str, str | None]:
    kind, _, params = value.partition(";")
    charset = re.search(r"charset\s*=\s*\"?([\w.:-]+)", params, re.I)
    return kind.strip().lower(), charset[1].lower() if charset else None


def _sniff(head: bytes) -> str:
    """A content type for a body the server did not label (or labelled octet-stream)."""
    start = head.lstrip()[:64].lower()
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if start.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        return "text/html"
    if start.startswith(b"<?xml") or start.startswith((b"<urlset", b"<sitemapindex")):
        return "application/xml"
    return "application/octet-stream"


def _describe(n: int) -> str:
    return f"{n / 1048576:.1f} MB" if n >= 1048576 else f"{n / 1024:.0f} KB"


class SafeFetcher:
    """Fetches one URL at a time, safely (see the module's docstring). Use as a context manager
    or call `close()`. `resolve` replaces the system resolver (tests make names resolve where
    they like); `verify` is an SSL context to trust instead of the default CA bundle."""

    def __init__(self, settings: Settings, *, resolve: Resolver | None = None,
                 verify: ssl.SSLContext | None = None) -> None:
        self.settings = settings
        self.policy = AddressPolicy(settings.fetch_allow)
        self.timeout_s = settings.crawl_timeout_s
        self._backend = _GuardedBackend(self.policy, resolve or system_resolve)
        # No proxies and no .netrc: a proxy would make the address check vet the proxy, not
        # the site, and .netrc would attach credentials to URLs nobody typed them into.
        self._pool = httpcore.ConnectionPool(
            ssl_context=verify or httpx.create_ssl_context(), max_connections=4,
            keepalive_expiry=30.0, network_backend=self._backend)

    def __enter__(self) -> SafeFetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._pool.close()

    def check_url(self, url: str | httpx.URL) -> httpx.URL:
        """The parsed URL if its form is acceptable (http/https, a host, no credentials)."""
        try:
            parsed = httpx.URL(str(url))
        except (httpx.InvalidURL, TypeError, ValueError) as exc:
            raise FetchError(f"invalid URL ({str(exc).splitlines()[0][:80]})") from None
        if parsed.scheme not in ("http", "https"):
            raise FetchError(f"only http and https URLs can be fetched, not "
                             f"{parsed.scheme or 'a relative URL'}")
        if parsed.userinfo:
            raise FetchError("URLs with credentials (user:password@) are refused")
        if not parsed.host:
            raise FetchError("the URL has no host")
        parse_ip_host(parsed.host)  # an invalid numeric host fails here, before any request
        return parsed.copy_with(fragment=None)

    def check_private_channel(self, url: str) -> httpx.URL:
        """An owner's system that is sent a customer's data or credentials (an order look-up,
        a webhook, a calendar behind a password) must be reached over HTTPS; plain HTTP only
        to a host the operator allow-listed (their own network, a test server)."""
        parsed = self.check_url(url)
        if parsed.scheme == "https":
            return parsed
        ip = parse_ip_host(parsed.host)
        if ip is not None and self.policy.allowed(parsed.host, ip, parsed.port or 80):
            return parsed
        if ip is None and any(n == parsed.host.lower().rstrip(".")
                              for n, _ in self.policy.names):
            return parsed
        raise FetchError("must be an https:// address (plain http would send customers' data "
                         "unencrypted)")

    def fetch(self, url: str, *, accept: Collection[str] | None = PAGE_TYPES,
              max_bytes: int | None = None, truncate: bool = False,
              follow: Callable[[str], str | None] | None = None,
              headers: Mapping[str, str] | None = None) -> FetchResult:
        """GET `url`, following up to 5 redirects, each vetted like the first URL.

        accept: media types to take (None: any); an unlabelled body is sniffed.
        max_bytes: body cap (default `crawl_max_page_bytes`); over it the fetch fails with
        'too large', or with truncate=True the body is cut at the cap.
        follow(url): a reason to refuse a redirect target (e.g. another site), or None.
        headers: sent with the request (an owner's calendar credentials); a redirect to another
        origin is refused rather than sent them.
        Raises FetchError (one line) for every refusal and failure, non-2xx answers included.
        """
        cap = max_bytes or self.settings.crawl_max_page_bytes
        current = self.check_url(url)
        redirects: list[str] = []
        token = _DEADLINE.set(time.monotonic() + self.timeout_s)
        try:
            while True:
                try:
                    outcome = self._hop(current, accept, cap, truncate, extra=headers)
                except FetchError as exc:
                    if redirects:  # say which hop failed: the URL the user gave was fine
                        raise FetchError(f"redirect to {redact_url(current)}: {exc}",
                                         kind=exc.kind, status=exc.status,
                                         redirected=True) from None
                    raise
                if isinstance(outcome, FetchResult):
                    outcome.redirects = redirects
                    return outcome
                redirects.append(str(current))
                if len(redirects) > MAX_REDIRECTS:
                    raise FetchError(f"more than {MAX_REDIRECTS} redirects", redirected=True)
                try:
                    target = self.check_url(outcome)
                except FetchError as exc:
                    raise FetchError(f"redirect to {redact_url(outcome)} refused: {exc}",
                                     redirected=True) from None
                reason = follow(str(target)) if follow else None
                if headers and (target.scheme, target.host, target.port) != (
                        current.scheme, current.host, current.port):
                    reason = "credentials are never sent to another origin"
                if reason:
                    raise FetchError(f"redirect to {redact_url(target)} not followed: {reason}",
                                     redirected=True)
                current = target
        finally:
            _DEADLINE.reset(token)

    def post(self, url: str, body: bytes, *, headers: Mapping[str, str],
             accept: Collection[str] | None = frozenset({"application/json"}),
             max_bytes: int = 1_048_576) -> FetchResult:
        """POST `body` to `url` once, vetted like a fetch: no redirect is followed (a signed
        request must not be replayed to another address), and a redirect is an error."""
        return self.send("POST", url, body, headers=headers, accept=accept,
                         max_bytes=max_bytes)

    def send(self, method: Literal["POST", "PUT", "DELETE"], url: str, body: bytes = b"", *,
             headers: Mapping[str, str], accept: Collection[str] | None = None,
             max_bytes: int = 1_048_576) -> FetchResult:
        """`method` to `url` once (POST, or a CalDAV calendar's PUT and DELETE), vetted like
        a fetch; a redirect is an error, never followed with the request's credentials."""
        current = self.check_url(url)
        token = _DEADLINE.set(time.monotonic() + self.timeout_s)
        try:
            outcome = self._hop(current, accept, max_bytes, False, method=method, body=body,
                                extra=headers)
        finally:
            _DEADLINE.reset(token)
        if not isinstance(outcome, FetchResult):
            raise FetchError("answered with a redirect (not followed for a signed request)",
                             kind="status")
        return outcome

    def _hop(self, url: httpx.URL, accept: Collection[str] | None, cap: int,
             truncate: bool, *, method: str = "GET", body: bytes = b"",
             extra: Mapping[str, str] | None = None) -> FetchResult | httpx.URL:
        """One request: the result, or the URL a redirect points to."""
        accept_header = ", ".join(sorted(accept)) + ", */*;q=0.1" if accept else "*/*"
        # httpx.Request writes the Host header (port, IPv6 brackets) exactly as httpx would.
        request = httpx.Request(method, url, headers={
            "User-Agent": USER_AGENT, "Accept": accept_header, "Accept-Encoding": "gzip",
            **(extra or {})}, content=body if method != "GET" else None)
        t = self.timeout_s
        try:
            with self._pool.stream(
                    method, httpcore.URL(scheme=url.raw_scheme, host=url.raw_host,
                                         port=url.port, target=url.raw_path),
                    headers=request.headers.raw, content=body if method != "GET" else None,
                    extensions={"timeout": {"connect": t, "read": t, "write": t, "pool": t}},
            ) as response:
                headers = httpx.Headers(response.headers)
                status = response.status
                log.debug("%s %s -> %s", method, redact_url(url), status)
                if status in (301, 302, 303, 307, 308) and headers.get("location"):
                    try:
                        return url.join(headers["location"].strip())
                    except httpx.InvalidURL:
                        raise FetchError(f"HTTP {status} with an invalid Location",
                                         kind="status", status=status) from None
                if not 200 <= status < 300:
                    raise FetchError(f"HTTP {status}", kind="status", status=status)
                content_type, charset = _media_type(headers.get("content-type", ""))
                sniff = content_type in ("", "application/octet-stream")
                if accept is not None and not sniff and content_type not in accept:
                    raise FetchError(f"unsupported content type {content_type}", kind="type")
                data = self._read_body(response.iter_stream(), headers, cap, truncate)
        except httpcore.TimeoutException:
            raise FetchError(f"timed out after {t:g} s (DOPPEL_CRAWL_TIMEOUT_S)",
                             kind="timeout") from None
        except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol,
                OSError) as exc:
            detail = str(exc).splitlines()[0][:100] if str(exc) else type(exc).__name__
            raise FetchError(f"connection failed ({detail})", kind="network") from None
        if sniff:
            content_type = _sniff(data[:512])
            if accept is not None and content_type not in accept:
                raise FetchError(f"unsupported content type {content_type or 'unknown'}",
                                 kind="type")
        return FetchResult(str(url), status, content_type, charset, data, headers)

    @staticmethod
    def _read_body(chunks: Iterable[bytes], headers: httpx.Headers, cap: int,
                   truncate: bool) -> bytes:
        """The body, at most `cap` bytes after decompression; a larger one fails (or is cut)."""
        too_large = FetchError(f"too large (more than {_describe(cap)}; the limit is "
                               "DOPPEL_CRAWL_MAX_PAGE_BYTES)", kind="too_large")
        encoding = headers.get("content-encoding", "identity").strip().lower()
        decoder: typing.Any = None
        if encoding in ("gzip", "x-gzip"):
            decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            decoder = zlib.decompressobj()
        elif encoding not in ("", "identity"):
            raise FetchError(f"unsupported Content-Encoding {encoding}", kind="type")
        declared = headers.get("content-length", "")
        if decoder is None and declared.isdigit() and int(declared) > cap and not truncate:
            raise too_large  # no need to download what we would throw away
        body = bytearray()
        try:
            for chunk in chunks:
                if decoder is not None:
                    # max_length bounds what one compressed chunk may expand to: a gzip bomb
                    # stops at the cap instead of filling memory.
                    chunk = decoder.decompress(chunk, cap + 1 - len(body))
                body += chunk
                if len(body) > cap or (decoder is not None and decoder.unconsumed_tail):
                    if truncate:
                        return bytes(body[:cap])
                    raise too_large
            if decoder is not None:
                body += decoder.flush()
        except zlib.error:
            raise FetchError(f"corrupt {encoding} body", kind="network") from None
        if len(body) > cap:
            if truncate:
                return bytes(body[:cap])
            raise too_large
        return bytes(body)
