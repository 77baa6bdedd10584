"""Website import: the SSRF-safe fetcher (doppel.net) and the polite crawler, against real HTTP
servers on 127.0.0.1 (doppel.testing.FakeWebsite). Nothing here leaves the machine: every
non-loopback address in these tests must be refused before a connection is attempted."""

from __future__ import annotations

import gzip
import ipaddress
import itertools
import logging
import re
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from doppel.config import Settings
from doppel.errors import ConfigError, IngestError
from doppel.knowledge.crawl import Page, crawl, source_name, strip_repeated_blocks
from doppel.knowledge.loaders import HTMLLoader, loader_for
from doppel.knowledge.robots import Robots, parse_sitemap
from doppel.net import (
    USER_AGENT,
    AddressPolicy,
    FetchError,
    SafeFetcher,
    address_refusal,
    redact_url,
)
from doppel.testing import FakeWebsite, SitePage


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {"home": tmp_path / "home", "crawl_delay_s": 0.0,
                                 "crawl_timeout_s": 2.0}
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def html(title: str, body: str, head: str = "") -> str:
    return (f"<!doctype html><html><head><title>{title}</title>{head}</head>"
            f"<body>{body}</body></html>")


# --- the address policy -------------------------------------------------------------------------

@pytest.mark.parametrize("address, reason", [
    ("127.0.0.1", "a loopback address"),
    ("127.8.9.10", "a loopback address"),
    ("::1", "a loopback address"),
    ("10.0.0.1", "a private address"),
    ("172.16.5.4", "a private address"),
    ("192.168.1.1", "a private address"),
    ("fc00::1", "a private address"),
    ("fd12:3456::1", "a private address"),
    ("169.254.169.254", "a link-local address"),
    ("fe80::1", "a link-local address"),
    ("0.0.0.0", "an unspecified address"),
    ("::", "an unspecified address"),
    ("224.0.0.1", "a multicast address"),
    ("ff02::1", "a multicast address"),
    ("100.64.0.1", "a shared (carrier-grade NAT) address"),
    ("240.0.0.1", "a reserved address"),
    ("::ffff:127.0.0.1", "a form of 127.0.0.1, a loopback address"),
    ("::ffff:10.1.1.1", "a form of 10.1.1.1, a private address"),
    ("2002:7f00:1::", "a form of 127.0.0.1, a loopback address"),       # 6to4
    ("2002:a9fe:a9fe::", "a form of 169.254.169.254, a link-local address"),
    ("64:ff9b::a00:1", "a form of 10.0.0.1, a private address"),          # NAT64
])
def test_non_public_addresses_are_refused_with_their_reason(address: str, reason: str) -> None:
    assert address_refusal(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.216.34", "2606:4700:4700::1111",
                                     "2002:808:808::", "64:ff9b::808:808",
                                     "::ffff:8.8.8.8"])
def test_public_addresses_pass(address: str) -> None:
    assert address_refusal(ipaddress.ip_address(address)) is None


def test_allow_list_takes_hosts_addresses_networks_and_ports() -> None:
    policy = AddressPolicy(" 127.0.0.1:8080, 10.0.0.0/8, Intranet.Example ,[::1]:9000,")
    loopback, private = ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("10.9.9.9")
    assert policy.refusal("127.0.0.1", loopback, 8080) is None
    assert policy.refusal("127.0.0.1", loopback, 8081) == "a loopback address"
    assert policy.refusal("x", private, 22) is None
    assert policy.refusal("intranet.example.", ipaddress.ip_address("192.168.0.9"), 80) is None
    assert policy.refusal("::1", ipaddress.ip_address("::1"), 9000) is None
    assert policy.refusal("::1", ipaddress.ip_address("::1"), 9001) == "a loopback address"
    # an allowed IPv4 address covers its IPv4-mapped IPv6 spelling too
    assert policy.refusal("h", ipaddress.ip_address("::ffff:127.0.0.1"), 8080) is None


@pytest.mark.parametrize("entry", ["10.0.0.0/33", "bad host!", "127.0.0.1:http", "a/b"])
def test_a_bad_allow_list_entry_is_a_config_error(entry: str) -> None:
    with pytest.raises(ConfigError, match="DOPPEL_FETCH_ALLOW"):
        AddressPolicy(entry)


# --- SSRF: what the fetcher refuses -------------------------------------------------------------

@pytest.fixture
def site() -> Iterator[FakeWebsite]:
    with FakeWebsite({"/": html("Hi", "<p>hello</p>"), "/robots.txt": SitePage(
            "User-agent: *\nDisallow:\n", content_type="text/plain")}) as server:
        yield server


def refused(fetcher: SafeFetcher, url: str) -> str:
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(url)
    assert isinstance(caught.value, IngestError)  # a FetchError is reported like any bad source
    assert "\n" not in str(caught.value)
    return str(caught.value)


def test_loopback_and_private_urls_are_refused_before_any_request(
        tmp_path: Path, site: FakeWebsite) -> None:
    port = site.port
    loopback = r"127\.0\.0\.1 is a loopback address \(not in DOPPEL_FETCH_ALLOW\)"
    cases = {
        f"http://127.0.0.1:{port}/": loopback,
        f"http://2130706433:{port}/": loopback,           # decimal
        f"http://0x7f000001:{port}/": loopback,           # hex
        f"http://0x7f.1:{port}/": loopback,               # mixed short form
        f"http://017700000001:{port}/": loopback,         # octal
        f"http://127.1:{port}/": loopback,
        f"http://[::1]:{port}/": r"::1 is a loopback address",
        f"http://[::ffff:127.0.0.1]:{port}/": r"a form of 127\.0\.0\.1, a loopback address",
        f"http://localhost:{port}/": r"localhost resolves to (127\.0\.0\.1|::1), a loopback",
        "http://10.0.0.1/": r"10\.0\.0\.1 is a private address",
        "http://169.254.169.254/latest/meta-data": r"169\.254\.169\.254 is a link-local address",
        "http://0.0.0.0/": "an unspecified address",
        "http://100.64.0.9/": "carrier-grade NAT",
        "http://[fe80::1%25eth0]/": "a link-local address",
        "http://1.2.3.4.5/": "no IPv4 address",
        "file:///etc/passwd": "only http and https URLs can be fetched, not file",
        "ftp://example.com/x": "only http and https",
        "javascript:alert(1)": "only http and https",
        "http://user:secret@example.com/": r"credentials \(user:password@\) are refused",
    }
    with SafeFetcher(make_settings(tmp_path)) as fetcher:
        for url, pattern in cases.items():
            reason = refused(fetcher, url)
            assert re.search(pattern, reason), (url, reason)
    assert site.requests == []  # nothing reached the server


def test_a_name_resolving_to_a_private_address_is_refused(tmp_path: Path) -> None:
    answers = {"intranet.example": ["10.1.2.3"], "mixed.example": ["93.184.216.34", "10.0.0.5"],
               "v6.example": ["fd00::7"]}
    def resolve(host: str, port: int) -> list[str]:
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return answers[host]

    fetcher = SafeFetcher(make_settings(tmp_path), resolve=resolve)
    with fetcher:
        assert refused(fetcher, "http://intranet.example/") == \
            "intranet.example resolves to 10.1.2.3, a private address (not in DOPPEL_FETCH_ALLOW)"
        # every address must pass, not just the first
        assert "mixed.example resolves to 10.0.0.5, a private address" in \
            refused(fetcher, "https://mixed.example/")
        assert "v6.example resolves to fd00::7, a private address" in \
            refused(fetcher, "http://v6.example:8080/")
        assert refused(fetcher, "http://unknown.example/") == "cannot resolve unknown.example"


def test_allow_listing_127_0_0_1_lets_the_local_site_be_fetched(
        tmp_path: Path, site: FakeWebsite) -> None:
    with SafeFetcher(make_settings(tmp_path, fetch_allow="127.0.0.1")) as fetcher:
        got = fetcher.fetch(site.url("/"))
    assert got.status == 200 and got.content_type == "text/html" and b"hello" in got.data
    assert site.headers[-1]["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith("doppel/") and "site import" in USER_AGENT
    # the same address, allow-listed for another port only, stays refused
    with SafeFetcher(make_settings(tmp_path, fetch_allow="127.0.0.1:1")) as fetcher:
        assert "loopback" in refused(fetcher, site.url("/"))


def test_the_connection_goes_to_the_vetted_address_and_dns_is_asked_once(
        tmp_path: Path, site: FakeWebsite) -> None:
    """Pinning: the name is resolved once, by the guard, and the socket is opened to that
    address; the system resolver (which does not know 'rebind.test') is never asked."""
    answers = iter([["127.0.0.1"], ["10.0.0.1"]])  # a rebinding DNS server's two answers
    asked: list[tuple[str, int]] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append((host, port))
        return next(answers)

    settings = make_settings(tmp_path, fetch_allow="127.0.0.1")
    with SafeFetcher(settings, resolve=resolve) as fetcher:
        got = fetcher.fetch(f"http://rebind.test:{site.port}/")
        assert b"hello" in got.data
        assert asked == [("rebind.test", site.port)]
        assert site.headers[-1]["Host"] == f"rebind.test:{site.port}"
    # a new connection resolves again, and the rebound answer is refused
    with SafeFetcher(settings, resolve=resolve) as fetcher:
        assert "rebind.test resolves to 10.0.0.1, a private address" in \
            refused(fetcher, f"http://rebind.test:{site.port}/")
    assert len(site.requests) == 1


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_https_to_a_pinned_address_verifies_the_certificate_for_the_host_name(
        tmp_path: Path, site: FakeWebsite) -> None:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=site.test", "-addext",
                    "subjectAltName=DNS:site.test"], check=True, capture_output=True)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    sni: list[str | None] = []
    server_context.sni_callback = lambda sock, name, ctx: sni.append(name)  # type: ignore
    httpd = site._httpd  # the fake's server socket, wrapped in TLS for this test
    httpd.socket = server_context.wrap_socket(httpd.socket, server_side=True)
    trust = ssl.create_default_context(cafile=str(cert))
    settings = make_settings(tmp_path, fetch_allow="site.test,127.0.0.1")
    with SafeFetcher(settings, resolve=lambda h, p: ["127.0.0.1"], verify=trust) as fetcher:
        got = fetcher.fetch(f"https://site.test:{site.port}/")
        assert b"hello" in got.data
        assert sni == ["site.test"] and site.headers[-1]["Host"] == f"site.test:{site.port}"
        # by address, the certificate (issued for site.test) does not match: refused
        reason = refused(fetcher, f"https://127.0.0.1:{site.port}/")
        assert "connection failed" in reason and "certificate" in reason.lower()


# --- redirects ----------------------------------------------------------------------------------

def test_every_redirect_hop_is_vetted(tmp_path: Path) -> None:
    with FakeWebsite() as site, FakeWebsite({"/": "internal admin"}) as other:
        def moved(location: str) -> SitePage:
            return SitePage(status=302, headers={"Location": location})

        site.routes.update({
            "/to-other-port": moved(f"http://127.0.0.1:{other.port}/"),
            "/to-metadata": moved("http://169.254.169.254/latest/meta-data"),
            "/to-private": moved("http://10.0.0.7/admin"),
            "/to-decimal": moved("http://167772161/"),
            "/to-file": moved("file:///etc/passwd"),
            "/loop": moved("/loop"),
            "/old": SitePage(status=301, headers={"Location": "/new?x=1"}),
            "/new": html("New", "<p>moved here</p>"),
        })
        settings = make_settings(tmp_path, fetch_allow=f"127.0.0.1:{site.port}")
        with SafeFetcher(settings) as fetcher:
            assert refused(fetcher, site.url("/to-other-port")) == (
                f"redirect to http://127.0.0.1:{other.port}/: 127.0.0.1 is a loopback address "
                "(not in DOPPEL_FETCH_ALLOW)")
            assert refused(fetcher, site.url("/to-metadata")) == (
                "redirect to http://169.254.169.254/latest/meta-data: 169.254.169.254 is a "
                "link-local address (not in DOPPEL_FETCH_ALLOW)")
            assert "10.0.0.7 is a private address" in refused(fetcher, site.url("/to-private"))
            assert "10.0.0.1 is a private address" in refused(fetcher, site.url("/to-decimal"))
            assert "refused: only http and https" in refused(fetcher, site.url("/to-file"))
            assert refused(fetcher, site.url("/loop")) == "more than 5 redirects"
            got = fetcher.fetch(site.url("/old"))
            assert got.url == site.url("/new?x=1") and got.redirects == [site.url("/old")]
            assert b"moved here" in got.data
        assert other.requests == []


# --- limits: size, time, type -------------------------------------------------------------------

def test_a_body_over_the_cap_stops_with_too_large(tmp_path: Path) -> None:
    endless = lambda: itertools.repeat(b"<p>" + b"x" * 65536 + b"</p>")  # noqa: E731
    bomb = gzip.compress(b"<p>" + b"0" * 20_000_000)  # 20 MB that travel as ~20 KB
    with FakeWebsite({
        "/endless": SitePage(endless),
        "/declared": SitePage(b"x" * 200_000),
        "/bomb": SitePage(bomb, headers={"Content-Encoding": "gzip"}),
        "/small-gzip": SitePage(gzip.compress(b"<p>fine</p>"),
                                headers={"Content-Encoding": "gzip"}),
    }) as site:
        settings = make_settings(tmp_path, fetch_allow="127.0.0.1",
                                 crawl_max_page_bytes=100_000)
        with SafeFetcher(settings) as fetcher:
            started = time.monotonic()
            for path in ("/endless", "/declared", "/bomb"):
                reason = refused(fetcher, site.url(path))
                assert reason.startswith("too large (more than 98 KB"), (path, reason)
            assert time.monotonic() - started < 5  # the endless body alone never ends
            assert fetcher.fetch(site.url("/small-gzip")).data == b"<p>fine</p>"
            cut = fetcher.fetch(site.url("/declared"), truncate=True)
            assert len(cut.data) == 100_000


def test_slow_and_dripping_pages_time_out_within_the_total_budget(tmp_path: Path) -> None:
    def drip() -> Iterator[bytes]:
        while True:  # a byte well within each read timeout, forever
            yield b"<p>x</p>"
            time.sleep(0.05)

    with FakeWebsite({"/slow": SitePage("<p>late</p>", delay_s=1.5),
                      "/drip": SitePage(drip)}) as site:
        settings = make_settings(tmp_path, fetch_allow="127.0.0.1", crawl_timeout_s=0.4)
        with SafeFetcher(settings) as fetcher:
            for path in ("/slow", "/drip"):
                started = time.monotonic()
                assert refused(fetcher, site.url(path)) == \
                    "timed out after 0.4 s (DOPPEL_CRAWL_TIMEOUT_S)"
                assert time.monotonic() - started < 2.0, path  # the drip alone never ends


def test_content_types_are_checked_and_unlabelled_bodies_sniffed(tmp_path: Path) -> None:
    with FakeWebsite({
        "/logo": SitePage(b"\x89PNG....", content_type="image/png"),
        "/pdf": SitePage(b"%PDF-1.4 ...", content_type="application/octet-stream"),
        "/bare": SitePage(b"<!DOCTYPE html><p>no header</p>", content_type=None),
        "/zip": SitePage(b"PK\x03\x04", content_type="application/octet-stream"),
    }) as site, SafeFetcher(make_settings(tmp_path, fetch_allow="127.0.0.1")) as fetcher:
        assert refused(fetcher, site.url("/logo")) == "unsupported content type image/png"
        assert fetcher.fetch(site.url("/pdf")).content_type == "application/pdf"
        assert fetcher.fetch(site.url("/bare")).content_type == "text/html"
        assert "application/octet-stream" in refused(fetcher, site.url("/zip"))
        assert fetcher.fetch(site.url("/logo"), accept=None).content_type == "image/png"
        assert refused(fetcher, site.url("/missing")) == "HTTP 404"


def test_logs_never_show_query_strings_or_credentials(
        tmp_path: Path, site: FakeWebsite, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="doppel.net")
    with SafeFetcher(make_settings(tmp_path, fetch_allow="127.0.0.1")) as fetcher:
        fetcher.fetch(site.url("/?token=s3cret-value"))
    assert "GET http://127.0.0.1" in caplog.text and "s3cret" not in caplog.text
    assert redact_url("https://u:p@example.com:8443/a/b?key=1#x") == \
        "https://example.com:8443/a/b?…"


# --- robots.txt and sitemaps, parsed ------------------------------------------------------------

def test_robots_rules_follow_rfc_9309() -> None:
    robots = Robots.parse("""
        # comments are ignored
        User-agent: OtherBot
        Disallow: /

        User-agent: *
        Disallow: /private/
        Allow: /private/open.html
        Disallow: /*.pdf$
        Disallow: /search?
        Crawl-delay: 2.5
    """.replace("        ", ""))
    allowed = lambda path: robots.refusal(httpx.URL("http://x.test" + path)) is None  # noqa
    assert allowed("/") and allowed("/menu.html") and allowed("/private/open.html")
    assert not allowed("/private/staff.html") and not allowed("/files/menu.pdf")
    assert allowed("/files/menu.pdf.html") and allowed("/search") and not allowed("/search?q=1")
    assert robots.delay == 2.5
    ours = Robots.parse("User-agent: *\nDisallow: /\n\nUser-agent: doppel\nDisallow: /tmp\n")
    assert ours.refusal(httpx.URL("http://x.test/menu")) is None
    assert ours.refusal(httpx.URL("http://x.test/tmp/a")) == "disallowed by robots.txt"
    # equally long Allow and Disallow: Allow wins
    tie = Robots.parse("User-agent: *\nDisallow: /page\nAllow: /page\n")
    assert tie.refusal(httpx.URL("http://x.test/page")) is None


def test_sitemaps_are_parsed_without_entities() -> None:
    urlset = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
              b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
              b"<url><loc> https://x.test/a </loc><lastmod>2024-01-01</lastmod></url>"
              b"<url><loc>https://x.test/b?x=1&amp;y=2</loc></url></urlset>")
    assert parse_sitemap(urlset) == ("urlset", ["https://x.test/a", "https://x.test/b?x=1&y=2"])
    index = b"<sitemapindex><sitemap><loc>https://x.test/s1.xml</loc></sitemap></sitemapindex>"
    assert parse_sitemap(index) == ("sitemapindex", ["https://x.test/s1.xml"])
    laughs = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
              b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]><urlset><url><loc>&lol2;</loc>'
              b"</url></urlset>")
    xxe = b'<!DOCTYPE u [<!ENTITY x SYSTEM "file:///etc/passwd">]><urlset>&x;</urlset>'
    utf16 = ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE u [<!ENTITY a "b">]>'
             "<urlset/>").encode("utf-16")
    for evil in (laughs, xxe, utf16):
        with pytest.raises(FetchError, match="DOCTYPE or entity declaration is refused"):
            parse_sitemap(evil)
    with pytest.raises(FetchError, match="not a sitemap"):
        parse_sitemap(b"<html><body/></html>")
    with pytest.raises(FetchError, match="invalid XML"):
        parse_sitemap(b"<urlset><url>")


def test_source_names_are_readable_and_end_in_a_loader_suffix() -> None:
    def name(url: str, kind: str = "text/html") -> str:
        return source_name(httpx.URL(url), kind)

    assert name("https://www.Example.com/") == "example.com/index.html"
    assert name("https://example.com/menu/") == "example.com/menu/index.html"
    assert name("https://example.com/menu") == "example.com/menu.html"
    assert name("https://example.com/menu.html") == "example.com/menu.html"
    assert name("https://example.com/menu.php") == "example.com/menu.php.html"
    assert name("https://example.com/p?id=3&x=a b") == "example.com/p_id_3_x_a_b.html"
    assert name("https://example.com/p.html?id=3") == "example.com/p_id_3.html"
    assert name("https://example.com/files/Menu.pdf", "application/pdf") == \
        "example.com/files/Menu.pdf"
    assert name("https://example.com/files/menu", "application/pdf") == \
        "example.com/files/menu.pdf"
    assert name("https://example.com/caf%C3%A9/../a/./b.htm") == "example.com/a/b.htm"
    long = name("https://example.com/" + "x" * 400)
    assert len(long) < 200 and long.endswith(".html")


# --- the crawl ----------------------------------------------------------------------------------

NAV = ('<nav><a href="/">Home</a> <a href="/menu.html">Menu</a> <a href="/about">About</a> '
       '<a href="/private/staff.html">Staff</a></nav>')
PROMO = '<div class="promo"><p>Free delivery on orders over 30 euros this week!</p></div>'
FOOTER = '<footer><p>Crumb &amp; Co.</p><a href="/contact">Contact</a></footer>'
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def shop_page(title: str, body: str, head: str = "") -> str:
    return html(title, f"{NAV}{PROMO}<main><h1>{title}</h1>{body}</main>{FOOTER}", head)


def bakery_routes() -> dict[str, str | bytes | SitePage]:
    return {
        "/robots.txt": SitePage("User-agent: *\nDisallow: /private/\n", content_type="text/plain"),
        "/": shop_page("Crumb & Co.", "<p>Sourdough bakery in Lisbon.</p>"
                       '<a href="/menu.html?utm_source=newsletter">Our menu</a> '
                       '<a href="/about#team">The team</a> '
                       '<a href="https://other.example/shop">Shop</a> '
                       '<a href="/files/menu.pdf">Menu (PDF)</a> '
                       '<a href="/img/logo.png">Logo</a> '
                       '<a href="mailto:hi@crumb.example">Mail</a> '
                       '<a href="/old-hours">Hours</a> <a href="/missing.html">Old page</a> '
                       '<a href="/drafts.html">Drafts</a>'),
        "/menu.html": shop_page("Menu", "<ul><li>Sourdough loaf 6.50</li></ul>",
                                '<link rel="canonical" href="/menu.html">'),
        "/about": shop_page("About", '<p>Founded in 2012.</p><a href="/about/history">More</a>'),
        "/about/history": shop_page("History", '<p>Our oven.</p><a href="/about/oven">Oven</a>'),
        "/about/oven": shop_page("Oven", "<p>Too deep to reach.</p>"),
        "/contact": shop_page("Contact", "<p>Rua Augusta 1.</p>"),
        "/old-hours": SitePage(status=301, headers={"Location": "/hours.html"}),
        "/hours.html": shop_page("Hours", "<p>Open 7-19.</p>"),
        "/drafts.html": shop_page("Drafts", '<p>Draft.</p><a href="/news.html">News</a>',
                                  '<meta name="robots" content="noindex">'),
        "/news.html": shop_page("News", "<p>New rye bread.</p>"),
        "/files/menu.pdf": SitePage(PDF, content_type="application/pdf"),
        "/private/staff.html": shop_page("Staff", "<p>Staff only.</p>"),
        "/img/logo.png": SitePage(b"\x89PNG", content_type="image/png"),
        "/sitemap.xml": SitePage(
            "<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
            "<url><loc>{base}/</loc></url><url><loc>{base}/menu.html</loc></url>"
            "<url><loc>{base}/private/staff.html</loc></url>"
            "<url><loc>https://other.example/page</loc></url>"
            "<url><loc>{base}/about</loc></url></urlset>", content_type="application/xml"),
    }


@pytest.fixture
def bakery() -> Iterator[FakeWebsite]:
    with FakeWebsite(bakery_routes()) as server:
        for _path, route in server.routes.items():  # sitemaps name absolute URLs
            if isinstance(route, SitePage) and isinstance(route.body, str):
                route.body = route.body.replace("{base}", server.base_url)
        yield server


def test_the_test_site_is_crawled_exactly(tmp_path: Path, bakery: FakeWebsite) -> None:
    settings = make_settings(tmp_path, fetch_allow="127.0.0.1", crawl_max_depth=2)
    seen: list[tuple[str, int, int]] = []
    result = crawl(bakery.url("/"), settings, progress=lambda *a: seen.append(a))
    base = bakery.base_url
    assert [p.source for p in result.pages] == [
        "127.0.0.1/index.html", "127.0.0.1/menu.html", "127.0.0.1/about.html",
        "127.0.0.1/files/menu.pdf", "127.0.0.1/hours.html", "127.0.0.1/contact.html",
        "127.0.0.1/about/history.html", "127.0.0.1/news.html"]
    assert [p.content_type for p in result.pages].count("application/pdf") == 1
    assert result.pages[4].url == base + "/hours.html"  # after the redirect from /old-hours
    assert sorted(result.skipped) == sorted([
        (base + "/private/staff.html", "disallowed by robots.txt"),
        ("https://other.example/shop", "another site"),
        (base + "/img/logo.png", "not a web page (.png file)"),
        (base + "/missing.html", "HTTP 404"),
        (base + "/drafts.html", "the page asks not to be indexed (noindex)"),
        (base + "/about/oven", "more than 2 links from the start page (DOPPEL_CRAWL_MAX_DEPTH)"),
    ])
    assert result.stopped is None and result.fetched == 10
    # robots.txt first; nothing disallowed, off-site or not a page was requested
    assert bakery.requests[0] == "/robots.txt"
    assert not {"/private/staff.html", "/img/logo.png", "/about/oven"} & set(bakery.requests)
    assert all(h["User-Agent"] == USER_AGENT for h in bakery.headers)
    assert [(n, limit) for _, n, limit in seen] == [(i, 50) for i in range(10)]
    assert seen[0][0] == base + "/"
    # the promo on every page is kept once (home page) and cut from the others
    with_promo = [p.source for p in result.pages if b"Free delivery" in p.data]
    assert with_promo == ["127.0.0.1/index.html"]
    for page in result.pages:
        assert loader_for(page.source) is not None
    menu = HTMLLoader().load(result.pages[1].data, result.pages[1].source)
    texts = [u for s in menu.sections for u in s.units]
    assert texts == ["- Sourdough loaf 6.50"]  # nav, footer and promo are gone


def test_a_sitemap_lists_exactly_the_pages_to_fetch(tmp_path: Path, bakery: FakeWebsite) -> None:
    settings = make_settings(tmp_path, fetch_allow="127.0.0.1")
    result = crawl(bakery.url("/sitemap.xml"), settings)
    base = bakery.base_url
    assert [p.url for p in result.pages] == [base + "/", base + "/menu.html", base + "/about"]
    assert sorted(result.skipped) == sorted([
        (base + "/private/staff.html", "disallowed by robots.txt"),
        ("https://other.example/page", "another site")])
    assert "/contact" not in bakery.requests  # a sitemap crawl follows no links


def test_a_sitemap_index_is_read_one_level_deep(tmp_path: Path) -> None:
    with FakeWebsite() as site:
        xml = lambda body: SitePage(body, content_type="text/xml")  # noqa: E731
        site.routes.update({
            "/sitemap_index.xml": xml(
                f"<sitemapindex><sitemap><loc>{site.url('/pages.xml')}</loc></sitemap>"
                f"<sitemap><loc>{site.url('/nested.xml')}</loc></sitemap>"
                f"<sitemap><loc>{site.url('/evil.xml')}</loc></sitemap>"
                "<sitemap><loc>https://other.example/sitemap.xml</loc></sitemap>"
                "</sitemapindex>"),
            "/pages.xml": xml(f"<urlset><url><loc>{site.url('/a.html')}</loc></url></urlset>"),
            "/nested.xml": xml(f"<sitemapindex><sitemap><loc>{site.url('/pages.xml')}</loc>"
                               "</sitemap></sitemapindex>"),
            "/evil.xml": xml('<!DOCTYPE x [<!ENTITY a "aaaa">]><urlset>&a;</urlset>'),
            "/a.html": html("A", "<p>page a</p>"),
        })
        result = crawl(site.url("/sitemap_index.xml"), make_settings(
            tmp_path, fetch_allow="127.0.0.1"))
    assert [p.source for p in result.pages] == ["127.0.0.1/a.html"]
    assert sorted(result.skipped) == sorted([
        (site.url("/nested.xml"),
         "a sitemap index inside a sitemap index (only one level is read)"),
        (site.url("/evil.xml"), "XML with a DOCTYPE or entity declaration is refused"),
        ("https://other.example/sitemap.xml", "another site")])


def test_a_refused_start_url_is_reported_not_fetched(tmp_path: Path, bakery: FakeWebsite) -> None:
    result = crawl(bakery.url("/"), make_settings(tmp_path))  # 127.0.0.1 not allow-listed
    assert result.pages == []
    assert result.skipped == [(bakery.url("/"), "127.0.0.1 is a loopback address "
                                                "(not in DOPPEL_FETCH_ALLOW)")]
    assert bakery.requests == []
    with pytest.raises(FetchError, match="http or https"):
        crawl("ftp://example.com/", make_settings(tmp_path))
    # a bare host, as typed into a form, means https
    fetcher = SafeFetcher(make_settings(tmp_path), resolve=lambda h, p: ["192.168.1.20"])
    with fetcher:
        result = crawl("bakery.example", make_settings(tmp_path), fetcher=fetcher)
    assert result.start_url == "https://bakery.example"
    assert result.skipped == [("https://bakery.example", "bakery.example resolves to "
                               "192.168.1.20, a private address (not in DOPPEL_FETCH_ALLOW)")]


def test_robots_crawl_delay_is_honoured_and_an_unreachable_robots_stops_the_crawl(
        tmp_path: Path) -> None:
    pauses: list[float] = []
    pages = {f"/p{i}": html(f"P{i}", f"<p>page {i}</p>" + (
        f"<a href='/p{i + 1}'>next</a>" if i < 3 else "")) for i in range(4)}
    with FakeWebsite({**pages, "/robots.txt": SitePage(
            "User-agent: *\nCrawl-delay: 2\n", content_type="text/plain")}) as site:
        result = crawl(site.url("/p0"), make_settings(tmp_path, fetch_allow="127.0.0.1"),
                       sleep=pauses.append)
    assert len(result.pages) == 4
    assert len(pauses) == 4 and all(1.5 < p <= 2.0 for p in pauses)  # before each page
    with FakeWebsite({**pages, "/robots.txt": SitePage("oops", status=503)}) as site:
        result = crawl(site.url("/p0"), make_settings(tmp_path, fetch_allow="127.0.0.1"))
        assert result.pages == [] and site.requests == ["/robots.txt"]
    assert result.skipped[0][1].startswith("robots.txt could not be read (HTTP 503)")


def test_same_site_www_folding_dedupe_and_nofollow(tmp_path: Path) -> None:
    with FakeWebsite() as site, FakeWebsite({"/": html("Other", "<p>other</p>")}) as other:
        p = site.port
        site.routes.update({
            "/": html("Home", f'<a href="http://www.site.test:{p}/menu.html">Menu</a>'
                              f'<a href="http://shop.site.test:{p}/">Shop</a>'
                              f'<a href="{other.url("/")}">Other port</a>'
                              '<a href="/menu.html?b=2&a=1">sorted</a>'
                              '<a href="/menu.html?a=1&b=2&gclid=x">sorted too</a>'
                              '<a href="/copy.html">Copy</a> <a href="/away">Away</a>'
                              '<a href="/quiet.html">Quiet</a>'),
            "/menu.html": html("Menu", "<p>bread</p>"),
            "/menu.html?b=2&a=1": html("Menu", "<p>bread, sorted</p>"),
            "/copy.html": html("Menu", "<p>bread</p>"),  # the same bytes under another URL
            "/away": SitePage(status=302, headers={"Location": other.url("/")}),
            "/quiet.html": html("Quiet", "<p>quiet</p><a href='/hidden.html'>x</a>",
                                '<meta name="robots" content="nofollow">'),
            "/hidden.html": html("Hidden", "<p>never</p>"),
        })
        names = {"site.test": ["127.0.0.1"], "www.site.test": ["127.0.0.1"],
                 "shop.site.test": ["127.0.0.1"]}
        settings = make_settings(tmp_path, fetch_allow="127.0.0.1")
        with SafeFetcher(settings, resolve=lambda h, port: names[h]) as fetcher:
            result = crawl(f"http://site.test:{p}/", settings, fetcher=fetcher)
    assert [pg.source for pg in result.pages] == [
        "site.test/index.html", "site.test/menu.html", "site.test/menu_b_2_a_1.html",
        "site.test/quiet.html"]
    assert sorted(result.skipped) == sorted([
        (f"http://shop.site.test:{p}/", "another site"),
        (other.url("/"), "another site"),
        (f"http://site.test:{p}/copy.html",
         f"same content as http://www.site.test:{p}/menu.html"),
        (f"http://site.test:{p}/away",
         f"redirect to {other.url('/')} not followed: another site"),
    ])
    assert "/hidden.html" not in site.requests and other.requests == []


def test_a_start_url_may_move_to_another_site_and_the_crawl_follows_it(tmp_path: Path) -> None:
    with FakeWebsite() as new_site, FakeWebsite() as old_site:
        old_site.routes["/"] = SitePage(status=301, headers={
            "Location": f"http://bakery.test:{new_site.port}/home"})
        new_site.routes.update({
            "/robots.txt": SitePage("User-agent: *\nDisallow: /admin\n",
                                    content_type="text/plain"),
            "/home": html("Home", "<p>home</p><a href='/menu.html'>Menu</a>"
                                  "<a href='/admin'>Admin</a>"),
            "/menu.html": html("Menu", "<p>menu</p>"),
        })
        names = {"old.test": ["127.0.0.1"], "bakery.test": ["127.0.0.1"]}
        settings = make_settings(tmp_path, fetch_allow="127.0.0.1")
        with SafeFetcher(settings, resolve=lambda h, port: names[h]) as fetcher:
            result = crawl(f"http://old.test:{old_site.port}/", settings, fetcher=fetcher)
    assert [p.source for p in result.pages] == ["bakery.test/home.html", "bakery.test/menu.html"]
    assert result.skipped == [(f"http://bakery.test:{new_site.port}/admin",
                               "disallowed by robots.txt")]


def test_a_robots_txt_that_redirects_in_a_loop_counts_as_missing(tmp_path: Path) -> None:
    loop = SitePage(status=302, headers={"Location": "/robots.txt"})
    with FakeWebsite({"/robots.txt": loop, "/": html("Home", "<p>home</p>")}) as site:
        result = crawl(site.url("/"), make_settings(tmp_path, fetch_allow="127.0.0.1"))
    assert [p.url for p in result.pages] == [site.url("/")]


def test_a_link_bomb_stops_at_the_page_limit(tmp_path: Path) -> None:
    counter = itertools.count()

    def endless(path: str) -> str | None:
        if path == "/robots.txt":
            return None
        links = "".join(f'<a href="/p/{next(counter)}">more</a>' for _ in range(10))
        return html("Page", f"<p>{path}</p>{links}")

    with FakeWebsite(endless) as site:
        settings = make_settings(tmp_path, fetch_allow="127.0.0.1", crawl_max_pages=7,
                                 crawl_max_depth=1000)
        result = crawl(site.url("/"), settings)
        assert len(site.requests) == 1 + 7  # robots.txt, then exactly the page limit
    assert len(result.pages) == 7 and result.fetched == 7
    assert result.stopped == "page limit reached (7 pages, DOPPEL_CRAWL_MAX_PAGES)"
    assert len(result.skipped) + result.unlisted == 7 * 10 - 6  # links never fetched
    assert {reason for _, reason in result.skipped} == {result.stopped}


def test_size_bombs_stop_at_the_limits(tmp_path: Path) -> None:
    endless = lambda: itertools.repeat(b"<p>" + b"y" * 8192 + b"</p>")  # noqa: E731
    pages = {f"/{i}.html": html(str(i), f"<p>{i}</p>" + "z" * 40_000 + "".join(
        f'<a href="/{j}.html">{j}</a>' for j in range(i + 1, 10))) for i in range(10)}
    with FakeWebsite({**pages, "/forever.html": SitePage(endless)}) as site:
        settings = make_settings(tmp_path, fetch_allow="127.0.0.1", crawl_max_page_bytes=65536)
        result = crawl(site.url("/forever.html"), settings)
        assert result.pages == [] and result.skipped == [(site.url("/forever.html"),
            "too large (more than 64 KB; the limit is DOPPEL_CRAWL_MAX_PAGE_BYTES)")]
        # the total budget: pages of ~40 KB stop once 100 KB have come in
        result = crawl(site.url("/0.html"), settings, max_total_bytes=100_000)
    assert len(result.pages) == 3 and result.stopped is not None
    assert result.stopped.startswith("size limit reached")
    assert len(result.skipped) == 7


# --- repeated blocks ----------------------------------------------------------------------------

def test_repeated_blocks_are_stripped_from_a_folder_of_saved_pages() -> None:
    cookie = '<div id="cookies"><p>We use cookies.</p><button>OK</button></div>'
    half = "<section><p>Seasonal special: pumpkin bread.</p></section>"
    saved = [
        ("index.html", html("Home", f"{cookie}<p>Welcome</p>{half}").encode()),
        ("menu.html", html("Menu", f"{cookie}<p>Rye 5.00</p>{half}").encode()),
        ("about.htm", html("About", f"{cookie}<div><p>Since 2012</p></div>").encode()),
        ("faq.html", html("FAQ", "<p>Do you deliver? Yes.</p>").encode()),
        ("notes.txt", b"We use cookies."),
    ]
    out = strip_repeated_blocks(saved)
    assert [name for name, _ in out] == [name for name, _ in saved]
    assert b"We use cookies." in out[0][1]                  # kept once, on the first page
    assert b"We use cookies." not in out[1][1] + out[2][1]  # cut from the others
    assert b"Welcome" in out[0][1] and b"Rye 5.00" in out[1][1] and b"Since 2012" in out[2][1]
    assert out[1][1].count(b"pumpkin") == 1                 # on 2 of 4 pages: not "most"
    assert out[3] == saved[3] and out[4] == saved[4]        # unchanged pages stay as they were
    everywhere = strip_repeated_blocks(saved, keep_first=False)
    assert all(b"We use cookies" not in data for _, data in everywhere[:3])
    assert strip_repeated_blocks(saved[:2]) == saved[:2]    # fewer than 3 pages: left alone


def test_strip_repeated_blocks_keeps_crawled_pages_utf8() -> None:
    pages = [Page(f"https://x.test/{i}", f"x.test/{i}.html",
                  html(str(i), f"<div class='promo'><p>Promo</p></div><p>Pão de Deus {i}, "
                       "1,20 €</p>",
                       '<meta charset="iso-8859-1">').encode("utf-8"), "text/html")
             for i in range(3)]
    out = strip_repeated_blocks(pages)
    assert b"Promo" in out[0].data and b"Promo" not in out[1].data
    assert "Pão de Deus 2, 1,20 €" in out[2].data.decode("utf-8")
    assert out[2].source == "x.test/2.html" and out[2].url == "https://x.test/2"


@pytest.mark.parametrize("pattern, path, expected", [
    ("/a*b$", "/ab", True), ("/a*b$", "/axxb", True), ("/a*b$", "/axxbc", False),
    ("/*.pdf$", "/menu.pdf", True), ("/*.pdf$", "/menu.pdf?x=1", False),
    ("/private", "/private/x", True), ("/private$", "/private/x", False),
    ("/*a*a*a*a*a*a*a*a*b", "/" + "a" * 5000, False),  # once a catastrophic regex
    ("/*a*a*a*a*a*a*a*a*b", "/" + "a" * 5000 + "b", True),
])
def test_robots_wildcards_match_in_linear_time(pattern: str, path: str, expected: bool) -> None:
    robots = Robots([(False, pattern)])
    refused = robots.refusal(httpx.URL("https://bakery.example" + path))
    assert (refused is not None) is expected
