"""The crawler against a real loopback HTTP server serving every hard case at its own address.

All sites are crawled in one call, beside healthy ones: each bad site must end in its own
clear reason while the others succeed.
"""

from __future__ import annotations

import socket
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from enrichment_pipelines.core.crawl import CrawlOptions, SiteCrawl, crawl_sites
from enrichment_pipelines.core.enrichment.reasons import OTHER, reason_group
from enrichment_pipelines.core.websites import ALL_NETWORKS, parse_networks
from enrichment_pipelines.demo.server import Request, SiteServer
from enrichment_pipelines.demo.sites import Response

HOME = (
    "<html><head><title>{name}</title><meta name='description' content='{name} makes tools.'>"
    "</head><body><nav><a href='/'>Home</a></nav><h1>{name}</h1><p>We build things.</p>"
    "<a href='/about'>About us</a> <a href='/pricing'>Pricing</a> <a href='/contact'>Contact</a>"
    " <a href='https://elsewhere.example/'>Partner</a></body></html>"
)
PAGE = (
    "<html><head><title>{name} {page}</title></head><body><h2>{page}</h2><p>Text.</p></body></html>"
)


def html(text: str, **headers: str) -> Response:
    return Response(200, text.encode(), headers=tuple(headers.items()))


def healthy(name: str) -> dict[str, Any]:
    return {
        "/": html(HOME.format(name=name)),
        **{
            f"/{page}": html(PAGE.format(name=name, page=page))
            for page in ("about", "pricing", "contact")
        },
    }


class Flaky:
    """429 with Retry-After on the first request, then the page."""

    def __init__(self, name: str) -> None:
        self.calls = 0
        self.ok = html(HOME.format(name=name))

    def __call__(self, request: Request) -> Response:
        self.calls += 1
        if self.calls == 1:
            return Response(429, b"slow down", headers=(("Retry-After", "1"),))
        return self.ok


class Revalidating:
    """Answers 304 when the client sends the page's ETag back."""

    def __init__(self, body: str) -> None:
        self.body, self.etag, self.not_modified = body, '"v1"', 0

    def __call__(self, request: Request) -> Response:
        if request.headers.get("if-none-match") == self.etag:
            self.not_modified += 1
            return Response(304, b"", headers=(("ETag", self.etag),))
        return html(self.body, ETag=self.etag, **{"Last-Modified": "Sun, 01 Nov 2026 10:00:00 GMT"})


SITES = {
    "healthy": "127.0.1.1",
    "robots_disallow_all": "127.0.1.2",
    "robots_disallow_pricing": "127.0.1.3",
    "slow": "127.0.1.4",
    "huge": "127.0.1.5",
    "huge_chunked": "127.0.1.6",
    "binary": "127.0.1.7",
    "pdf": "127.0.1.8",
    "redirect_loop": "127.0.1.9",
    "redirect_private": "127.0.1.10",
    "redirect_metadata": "127.0.1.11",
    "flaky_429": "127.0.1.12",
    "rate_limited_long": "127.0.1.13",
    "server_error": "127.0.1.14",
    "robots_unavailable": "127.0.1.15",
    "bad_charset": "127.0.1.16",
    "parked": "127.0.1.17",
    "revalidating": "127.0.1.18",
    "other_company": "127.0.1.19",
    "healthy_2": "127.0.1.20",
    "not_found": "127.0.1.21",
}
RESET = "127.0.1.30"  # accepts, then resets the connection
CLOSED = "127.0.1.31"  # nothing listens: connection refused


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[SiteServer, dict[str, Any]]]:
    flaky = Flaky("Flaky")
    revalidating = Revalidating(HOME.format(name="Stable"))
    s = SITES
    sites: dict[str, dict[str, Any]] = {
        s["healthy"]: healthy("Healthy"),
        s["healthy_2"]: healthy("Healthy Two"),
        s["robots_disallow_all"]: {
            "/robots.txt": Response(200, b"User-agent: *\nDisallow: /\n", "text/plain"),
            **healthy("Private"),
        },
        s["robots_disallow_pricing"]: {
            "/robots.txt": Response(
                200, b"User-agent: enrichment-pipelines\nDisallow: /pricing\n", "text/plain"
            ),
            **healthy("Partly"),
        },
        s["slow"]: {"/": Response(200, b"<p>late</p>", delay_seconds=3)},
        s["huge"]: {"/": Response(200, b"<p>" + b"x" * (6 * 1024 * 1024) + b"</p>")},
        s["huge_chunked"]: {"/": Response(200, b"<p>" + b"y" * (6 * 1024 * 1024), chunked=True)},
        s["binary"]: {"/": Response(200, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10)},
        s["pdf"]: {"/": Response(200, b"%PDF-1.7 ...", "application/pdf")},
        s["redirect_loop"]: {
            "/": Response(302, b"", headers=(("Location", "/a"),)),
            "/a": Response(302, b"", headers=(("Location", "/b"),)),
            "/b": Response(302, b"", headers=(("Location", "/a"),)),
        },
        s["other_company"]: {
            "/": Response(301, b"", headers=(("Location", f"http://{s['healthy']}:{{port}}/"),))
        },
        s["flaky_429"]: {"/": flaky},
        s["rate_limited_long"]: {
            "/": Response(429, b"", headers=(("Retry-After", "3600"),)),
        },
        s["server_error"]: {"/": Response(500, b"<h1>oops</h1>")},
        s["robots_unavailable"]: {
            "/robots.txt": Response(503, b"down", "text/plain"),
            **healthy("Down Robots"),
        },
        s["bad_charset"]: {
            "/": Response(
                200,
                "<title>Café Zürich</title><p>Grüße aus Zürich, naïve café.</p>".encode("latin-1"),
                "text/html; charset=klingon-8",
            )
        },
        s["parked"]: {
            "/": html(
                "<title>brightleaf.com is for sale</title><h1>This domain is for sale!</h1>"
                "<p>Buy this domain today. Make an offer.</p>"
            )
        },
        s["revalidating"]: {"/": revalidating},
        s["redirect_private"]: {},  # filled in below, once the port is known
        s["redirect_metadata"]: {},
        s["not_found"]: {"/": Response(404, b"<h1>gone</h1>")},
    }
    server = SiteServer(sites).start()
    # Redirect targets need the port, known only now.
    port = server.port
    sites[s["other_company"]]["/"] = Response(
        301, b"", headers=(("Location", f"http://{s['healthy']}:{port}/"),)
    )
    sites[s["redirect_private"]]["/"] = Response(
        302, b"", headers=(("Location", f"http://127.0.0.1:{port}/"),)
    )
    sites[s["redirect_metadata"]]["/"] = Response(
        302, b"", headers=(("Location", "http://169.254.169.254/latest/"),)
    )
    reset = _resetting_listener(RESET, port)
    try:
        yield server, {"flaky": flaky, "revalidating": revalidating}
    finally:
        reset.close()
        server.stop()


def _resetting_listener(address: str, port: int) -> socket.socket:
    listener = socket.socket()
    listener.bind((address, port))
    listener.listen()

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
            connection.close()  # linger 0: the client sees a reset

    threading.Thread(target=serve, daemon=True).start()
    return listener


# Only the test sites' range is allowed, so redirects elsewhere on loopback are refused.
OPTIONS = CrawlOptions(
    allowed_networks=parse_networks("127.0.1.0/24"),
    request_timeout_seconds=1.0,
    backoff_seconds=0.05,
    per_host_delay_seconds=0.0,
    max_retry_after_seconds=5,
)


@pytest.fixture(scope="module")
def crawled(server: tuple[SiteServer, dict[str, Any]]) -> dict[str, SiteCrawl]:
    site_server, _ = server
    urls = {name: site_server.url(address) for name, address in SITES.items()}
    urls["reset"] = site_server.url(RESET)
    urls["refused"] = site_server.url(CLOSED)
    urls["dns"] = "http://no-such-company.invalid"
    results = crawl_sites(list(urls.values()), OPTIONS)
    by_url = {crawl.website_url: crawl for crawl in results}
    return {name: by_url[url] for name, url in urls.items()}


@pytest.mark.parametrize(
    ("site", "reason"),
    [
        ("robots_disallow_all", "disallowed by robots.txt"),
        ("robots_unavailable", "robots.txt unavailable (HTTP 503); not crawled"),
        ("slow", "home page: timed out after 1s"),
        ("huge", "home page: page larger than 5242880 bytes"),
        ("huge_chunked", "home page: page larger than 5242880 bytes"),
        ("binary", "home page: binary content, not HTML"),
        ("pdf", "home page: not an HTML page (application/pdf)"),
        ("redirect_loop", "home page: redirect loop"),
        (
            "redirect_private",
            "home page: refused: 127.0.0.1 is a private address; set ENRICH_ALLOW_PRIVATE_NETWORKS",
        ),
        ("redirect_metadata", "home page: refused: 169.254.169.254 is a private address"),
        ("rate_limited_long", "home page: HTTP 429, Retry-After 3600s is longer than 5s"),
        ("server_error", "home page: HTTP 500"),
        ("not_found", "home page: HTTP 404"),
        ("parked", "parked or for-sale domain"),
        ("other_company", "redirects to another site (127.0.1.1)"),
        ("reset", "home page: connection reset by the server"),
        ("refused", "home page: connection refused"),
        ("dns", "home page: refused: DNS lookup failed for no-such-company.invalid"),
    ],
)
def test_each_bad_site_fails_with_its_reason(
    crawled: dict[str, SiteCrawl], site: str, reason: str
) -> None:
    crawl = crawled[site]
    assert crawl.status == "failed"
    assert crawl.reason is not None and crawl.reason.startswith(reason), crawl.reason


def test_healthy_sites_succeed_beside_the_bad_ones(crawled: dict[str, SiteCrawl]) -> None:
    for name in ("healthy", "healthy_2"):
        crawl = crawled[name]
        assert crawl.status == "ok", crawl.reason
        kinds = Counter(page.kind for page in crawl.pages)
        assert kinds == {"home": 1, "about": 1, "pricing": 1, "contact": 1}
        home = crawl.pages[0]
        assert home.status_code == 200 and home.content_hash and home.title
        assert home.meta["description"].endswith("makes tools.")
        # Links to other sites are kept (social profiles, job boards); only this site's pages
        # are fetched.
        assert any(not link.startswith(crawl.website_url) for link, _ in home.links)
        assert all(page.url.startswith(crawl.website_url) for page in crawl.pages)
        assert "Home" not in home.text.splitlines()  # navigation is boilerplate
        assert crawl.content_key


def test_robots_can_forbid_one_page_and_allow_the_rest(crawled: dict[str, SiteCrawl]) -> None:
    crawl = crawled["robots_disallow_pricing"]
    assert crawl.status == "ok"
    errors = {page.kind: page.error for page in crawl.pages}
    assert errors == {
        "home": None,
        "about": None,
        "pricing": "disallowed by robots.txt",
        "contact": None,
    }


def test_429_is_retried_after_retry_after(
    crawled: dict[str, SiteCrawl], server: tuple[SiteServer, dict[str, Any]]
) -> None:
    assert crawled["flaky_429"].status == "ok"
    assert server[1]["flaky"].calls == 2


def test_bad_charset_is_survived(crawled: dict[str, SiteCrawl]) -> None:
    crawl = crawled["bad_charset"]
    assert crawl.status == "ok"
    assert "Z" in crawl.pages[0].text and crawl.pages[0].charset == "utf-8"


def test_revisit_sends_conditional_requests_and_marks_pages_unchanged(
    crawled: dict[str, SiteCrawl], server: tuple[SiteServer, dict[str, Any]]
) -> None:
    first = crawled["revalidating"]
    assert first.status == "ok" and not first.unchanged
    home = first.pages[0]
    assert home.etag == '"v1"' and home.last_modified
    previous = {first.website_url: {home.url: home}}
    [again] = crawl_sites([first.website_url], OPTIONS, previous=previous)
    assert server[1]["revalidating"].not_modified == 1
    assert again.status == "ok" and again.unchanged
    assert again.pages[0].status_code == 304 and again.pages[0].text == home.text
    assert again.content_key == first.content_key  # so extraction is not repeated
    # The same content without validators counts as unchanged too (same hash).
    stale = replace(home, etag=None, last_modified=None)
    [by_hash] = crawl_sites(
        [first.website_url], OPTIONS, previous={first.website_url: {home.url: stale}}
    )
    assert by_hash.pages[0].status_code == 200 and by_hash.unchanged


def test_private_addresses_refused_unless_allowed(
    server: tuple[SiteServer, dict[str, Any]],
) -> None:
    url = server[0].url(SITES["healthy"])
    [refused] = crawl_sites([url], replace(OPTIONS, allowed_networks=()))
    assert (
        refused.reason == "home page: refused: 127.0.1.1 is a private address; "
        "set ENRICH_ALLOW_PRIVATE_NETWORKS to allow it"
    )
    [allowed] = crawl_sites([url], replace(OPTIONS, allowed_networks=ALL_NETWORKS))
    assert allowed.status == "ok"


def test_every_failure_reason_falls_in_a_group(crawled: dict[str, SiteCrawl]) -> None:
    """Outcome tables count reasons by group: no reason the crawler writes is left as
    "other" (a new reason needs its group in `core/enrichment/reasons.py`)."""
    ungrouped = {
        name: crawl.reason
        for name, crawl in crawled.items()
        if crawl.status == "failed" and reason_group(crawl.reason) == OTHER
    }
    assert ungrouped == {}
    assert reason_group(crawled["refused"].reason) == "unreachable"
    assert reason_group(crawled["redirect_private"].reason) == "private address"
    assert reason_group(crawled["robots_unavailable"].reason) == "robots.txt"
