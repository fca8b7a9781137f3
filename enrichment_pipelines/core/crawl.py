"""Fetching a company's website: the home page plus the few pages that carry facts.

Polite: robots.txt is honoured, the User-Agent names the project, requests to one host go one
at a time with a small delay (longer if robots.txt asks). Safe: every connection, redirects
included, goes to an address the SSRF guard checked: the host is resolved once, every address
checked, and the socket connected to a checked address (so a name that answers differently to
a second look-up, DNS rebinding, leads nowhere unchecked); responses are capped in size and
must be HTML. Fast: sites are crawled concurrently, and `concurrency` bounds the requests in
flight across all sites. Each site ends with its pages or one clear reason; transient failures (time
outs, resets, 429 and 5xx) are retried with backoff, honouring Retry-After. One bad site never
stops the others.

A re-crawl sends conditional requests (ETag / Last-Modified) for the pages it has; a page
that answers 304 or has the same content hash is marked `unchanged`, so extraction can skip it.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import re
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpcore
import httpx
from protego import Protego
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt

from enrichment_pipelines.core.config import CrawlConfig
from enrichment_pipelines.core.html_text import PageAssets, parse_html
from enrichment_pipelines.core.job_boards import is_posting, job_postings, listing_of
from enrichment_pipelines.core.network_errors import transport_failure
from enrichment_pipelines.core.retry import backoff_seconds, retry_after_seconds
from enrichment_pipelines.core.websites import (
    Address,
    Network,
    Resolver,
    WebsiteError,
    checked_addresses,
    parse_networks,
    resolve_host,
)

USER_AGENT = (
    "enrichment-pipelines/0.1 (+https://github.com/enrichment-pipelines/enrichment-pipelines; "
    "reads public company pages to enrich customer records)"
)
ROBOTS_AGENT = "enrichment-pipelines"

# Kinds of fact-bearing pages, in the order they are worth fetching, with the words that
# identify them in a link's path or text.
FACT_PAGE_KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "about",
        (
            "about",
            "company",
            "who-we-are",
            "our-story",
            "about-us",
            "ueber-uns",
            "uber-uns",
            "om-oss",
            "om-os",
            "over-ons",
            "a-propos",
            "chi-siamo",
            "sobre",
            "quienes-somos",
            "studio",
        ),
    ),
    ("pricing", ("pricing", "plans", "prices", "preise")),
    ("contact", ("contact", "kontakt", "get-in-touch")),
    ("careers", ("careers", "jobs", "join-us", "work-with-us", "karriere")),
    ("legal", ("imprint", "impressum", "legal-notice", "legal", "mentions-legales")),
    ("team", ("team", "leadership", "people")),
)
# A job board's listing of the company's roles, which its careers page links to or embeds:
# fetched on the board's host, read for the open positions only (not the site's own page).
JOB_BOARD_PAGE = "job board"
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_PARKED = re.compile(
    r"domain (name )?(is|may be) for sale|buy this domain|this domain is parked|"
    r"parked (free|domain)|domain parking|make an offer on this domain|"
    r"is for sale!|inquire about this domain",
    re.IGNORECASE,
)
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Response headers kept with a page (technology fingerprints read them): at most this many,
# each value cut to this length.
_MAX_HEADERS = 40
_MAX_HEADER_CHARS = 200
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})  # httpx's is_redirect includes 304
_ROBOTS_MAX_BYTES = 512 * 1024


@dataclass(frozen=True)
class CrawlOptions:
    """How a crawl behaves; the user-settable values default to `CrawlConfig`'s."""

    max_fact_pages: int = CrawlConfig.max_fact_pages
    concurrency: int = CrawlConfig.concurrency  # requests in flight across all sites
    request_timeout_seconds: float = CrawlConfig.request_timeout_seconds
    site_budget_seconds: float = CrawlConfig.site_budget_seconds
    max_response_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5
    per_host_delay_seconds: float = CrawlConfig.per_host_delay_seconds
    max_crawl_delay_seconds: float = 5.0  # cap on a robots.txt Crawl-delay we honour
    retries: int = CrawlConfig.retries  # further attempts after a transient failure
    backoff_seconds: float = 0.5
    max_retry_after_seconds: float = 30.0
    allowed_networks: tuple[Network, ...] = ()
    respect_robots: bool = True
    user_agent: str = USER_AGENT
    resolve: Resolver = resolve_host  # DNS look-up (blocking: called from a thread)

    @classmethod
    def from_config(cls, config: CrawlConfig) -> CrawlOptions:
        return cls(
            max_fact_pages=config.max_fact_pages,
            concurrency=config.concurrency,
            request_timeout_seconds=config.request_timeout_seconds,
            site_budget_seconds=config.site_budget_seconds,
            per_host_delay_seconds=config.per_host_delay_seconds,
            retries=config.retries,
            allowed_networks=parse_networks(config.allowed_private_networks),
        )


@dataclass
class Page:
    url: str
    fetched_at: datetime
    final_url: str | None = None
    status_code: int | None = None
    content_type: str | None = None
    charset: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None
    title: str | None = None
    meta: dict[str, str] = field(default_factory=dict)
    structured_data: list[dict[str, Any]] = field(default_factory=list)
    # (URL, anchor text), this site's and others' (social profiles, job boards)
    links: list[tuple[str, str]] = field(default_factory=list)
    text: str = ""
    error: str | None = None
    kind: str = "home"
    unchanged: bool = False
    assets: PageAssets = field(default_factory=lambda: PageAssets())


@dataclass
class SiteCrawl:
    website_url: str
    crawled_at: datetime
    status: str  # "ok" | "failed"
    reason: str | None = None
    pages: list[Page] = field(default_factory=list)

    @property
    def content_key(self) -> str | None:
        hashes = sorted(f"{p.url} {p.content_hash}" for p in self.pages if p.content_hash)
        if not hashes:
            return None
        return hashlib.sha256("\n".join(hashes).encode()).hexdigest()[:32]

    @property
    def unchanged(self) -> bool:
        return bool(self.pages) and all(page.unchanged or page.error for page in self.pages)


class FetchError(Exception):
    """A page that could not be fetched; the message is the reason recorded."""


class _Transient(FetchError):
    """A failure worth another attempt, after `retry_after` seconds if the server said so."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").removeprefix("www.")


def _same_site(url: str, website_url: str) -> bool:
    return _host(url) == _host(website_url)


def choose_fact_pages(
    links: Sequence[tuple[str, str]], website_url: str, limit: int
) -> list[tuple[str, str]]:
    """Pick up to `limit` same-site links, at most one per kind of fact page: (kind, url)."""
    chosen: list[tuple[str, str]] = []
    taken: set[str] = {website_url.rstrip("/")}
    for kind, words in FACT_PAGE_KINDS:
        if len(chosen) >= limit:
            break
        for url, text in links:
            if not _same_site(url, website_url) or url.rstrip("/") in taken:
                continue
            segments = [segment for segment in urlsplit(url).path.lower().split("/") if segment]
            label = text.lower().split()
            if any(word in segments or word in label for word in words) or any(
                segment.startswith(words) for segment in segments
            ):
                chosen.append((kind, url))
                taken.add(url.rstrip("/"))
                break
    return chosen


class _HostGate:
    """One request at a time per host, with a delay between them."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._last: dict[str, float] = {}
        self.delays: dict[str, float] = {}

    def lock(self, host: str) -> asyncio.Lock:
        return self._locks.setdefault(host, asyncio.Lock())

    async def wait_turn(self, host: str, default_delay: float) -> None:
        delay = self.delays.get(host, default_delay)
        ready_at = self._last.get(host, 0.0) + delay
        pause = ready_at - time.monotonic()
        if pause > 0:
            await asyncio.sleep(pause)

    def done(self, host: str) -> None:
        self._last[host] = time.monotonic()


class _CheckedNetwork(httpcore.AsyncNetworkBackend):
    """httpcore's network layer with the SSRF guard inside: each new connection resolves its
    host once, checks every address (`checked_addresses`), and connects the socket to a
    checked address, never to what a second look-up might answer. Only the socket's
    destination changes: httpcore still gives the TLS layer the site's name (server name and
    certificate check), and httpx still sends it as the Host header. A refused host raises
    `WebsiteError`, which passes through httpcore and httpx unchanged."""

    def __init__(self, allowed_networks: Sequence[Network], resolve: Resolver) -> None:
        self._allowed_networks = allowed_networks
        self._resolve = resolve
        self._network = httpcore.AnyIOBackend()

    async def _addresses(self, host: str, port: int, timeout: float | None) -> list[Address]:
        check = partial(
            checked_addresses,
            host,
            port,
            allowed_networks=self._allowed_networks,
            resolve=self._resolve,
        )
        if _is_address(host):
            return check()  # nothing to look up: no need for a thread
        try:
            return await asyncio.wait_for(asyncio.to_thread(check), timeout)  # DNS blocks
        except TimeoutError as error:
            raise httpcore.ConnectTimeout(f"DNS lookup for {host} timed out") from error

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        # The connect time-out covers the look-up and every address tried.
        deadline = None if timeout is None else time.monotonic() + timeout
        failure: httpcore.ConnectError | None = None
        for address in await self._addresses(host, port, timeout):
            try:
                return await self._network.connect_tcp(
                    str(address),
                    port,
                    timeout=None if deadline is None else max(0.0, deadline - time.monotonic()),
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectError as error:
                failure = error  # try the next checked address
        assert failure is not None  # checked_addresses never returns an empty list
        raise failure

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.AsyncNetworkStream:
        raise WebsiteError("the crawler does not use Unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._network.sleep(seconds)


class _CheckedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport, on a connection pool that connects through `_CheckedNetwork`.
    httpx (0.28, pinned) takes no network backend; the httpcore pool under it does."""

    def __init__(
        self, ssl_context: ssl.SSLContext, limits: httpx.Limits, network: _CheckedNetwork
    ) -> None:
        super().__init__(verify=ssl_context, limits=limits, trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=network,
        )


class Crawler:
    """Crawls many sites concurrently (see the module docstring)."""

    def __init__(self, options: CrawlOptions) -> None:
        self.options = options
        self.requests = asyncio.Semaphore(options.concurrency)
        self.gate = _HostGate()
        self.robots: dict[str, Protego | str | None] = {}  # host -> rules, refusal, or none
        # Loaded once: reading the CA bundle for every site would cost more than its crawl.
        self.ssl_context = httpx.create_ssl_context()
        self.network = _CheckedNetwork(options.allowed_networks, options.resolve)

    def site_client(self) -> httpx.AsyncClient:
        """An HTTP client for one site's crawl. A site is fetched one request at a time, so
        its pool stays tiny; one shared pool would check every pooled connection on every
        request, and would hold far more connections than the sites in flight need. Its
        connections go only to addresses the SSRF guard checked (`_CheckedNetwork`)."""
        limits = httpx.Limits(max_connections=2, max_keepalive_connections=2)
        return httpx.AsyncClient(
            headers={
                "User-Agent": self.options.user_agent,
                "Accept": "text/html,application/xhtml+xml",
            },
            timeout=httpx.Timeout(self.options.request_timeout_seconds),
            transport=_CheckedTransport(self.ssl_context, limits, self.network),
            follow_redirects=False,  # followed by hand, so that every hop is checked
            trust_env=False,  # no proxy from the environment between us and the SSRF guard
        )

    async def _get(
        self, client: httpx.AsyncClient, url: str, headers: Mapping[str, str], max_bytes: int
    ) -> tuple[httpx.Response, bytes, str]:
        """GET with hand-followed redirects (each hop checked); (response, body, final URL)."""
        current, visited = url, {url}
        for _hop in range(self.options.max_redirects + 1):
            parts = urlsplit(current)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise FetchError(f"refused URL {current!r}: only http(s) URLs with a host")
            host = _host(current)
            async with self.gate.lock(host):
                await self.gate.wait_turn(host, self.options.per_host_delay_seconds)
                try:
                    async with self.requests:
                        request = client.build_request("GET", current, headers=headers)
                        response = await client.send(request, stream=True)
                        try:
                            body = b""
                            if response.status_code == 200:
                                body = await _read_capped(response, max_bytes)
                        finally:
                            await response.aclose()
                except WebsiteError as error:  # a new connection's address was refused
                    raise FetchError(f"refused: {error}") from error
                except httpx.TimeoutException as error:
                    raise _Transient(
                        f"timed out after {self.options.request_timeout_seconds:g}s"
                    ) from error
                except httpx.TransportError as error:
                    failure = transport_failure(error, parts.hostname)
                    if not failure.transient:
                        raise FetchError(failure.reason) from error
                    raise _Transient(failure.reason) from error
                finally:
                    self.gate.done(host)
            if response.status_code in _REDIRECT_STATUSES:
                location = response.headers.get("location")
                if not location:
                    raise FetchError(f"HTTP {response.status_code} redirect without Location")
                current = urljoin(current, location)
                if current in visited:
                    raise FetchError("redirect loop")
                visited.add(current)
                continue
            if response.status_code in _RETRY_STATUSES:
                retry_after = retry_after_seconds(response.headers.get("retry-after"))
                if retry_after is not None and retry_after > self.options.max_retry_after_seconds:
                    raise FetchError(
                        f"HTTP {response.status_code}, Retry-After {retry_after:.0f}s is longer "
                        f"than {self.options.max_retry_after_seconds:g}s"
                    )
                raise _Transient(f"HTTP {response.status_code}", retry_after)
            return response, body, current
        raise FetchError(f"too many redirects (more than {self.options.max_redirects})")

    async def _get_with_retries(
        self, client: httpx.AsyncClient, url: str, headers: Mapping[str, str], max_bytes: int
    ) -> tuple[httpx.Response, bytes, str]:
        def wait(state: Any) -> float:
            error = state.outcome.exception() if state.outcome else None
            retry_after = error.retry_after if isinstance(error, _Transient) else None
            return backoff_seconds(state.attempt_number, self.options.backoff_seconds, retry_after)

        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(_Transient),
            stop=stop_after_attempt(self.options.retries + 1),
            wait=wait,
            reraise=True,
        ):
            with attempt:
                return await self._get(client, url, headers, max_bytes)
        raise AssertionError("unreachable: tenacity reraises the last error")

    async def _robots(self, client: httpx.AsyncClient, url: str) -> Protego | str | None:
        """The host's robots.txt rules; a string is the reason the site may not be crawled."""
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}"
        if key in self.robots:
            return self.robots[key]
        robots_url = urlunsplit((parts.scheme, parts.netloc, "/robots.txt", "", ""))
        rules: Protego | str | None
        try:
            response, body, _ = await self._get_with_retries(
                client, robots_url, {}, _ROBOTS_MAX_BYTES
            )
            if response.status_code == 200:
                rules = Protego.parse(body.decode("utf-8", errors="replace"))
                delay = rules.crawl_delay(ROBOTS_AGENT)
                if delay:
                    self.gate.delays[_host(url)] = min(
                        float(delay), self.options.max_crawl_delay_seconds
                    )
            else:
                rules = None  # 4xx: no robots.txt, everything allowed (RFC 9309)
        except _Transient as error:
            if str(error).startswith("HTTP "):
                # RFC 9309: a robots.txt that errors (5xx) puts the whole site off limits.
                rules = f"robots.txt unavailable ({error}); not crawled"
            else:
                rules = str(error)  # the host itself is unreachable: say that

        except FetchError as error:
            # The host refused by the SSRF guard or not in DNS: that is the site's reason.
            # Other trouble with robots.txt alone (redirect loops, size) means no rules.
            rules = str(error) if str(error).startswith("refused") else None
        self.robots[key] = rules
        return rules

    async def fetch_page(
        self, client: httpx.AsyncClient, url: str, kind: str, previous: Page | None
    ) -> Page:
        """Fetch one page; a failure is recorded on the page as its `error`."""
        page = Page(url=url, fetched_at=datetime.now(UTC), kind=kind)
        headers = {}
        if previous is not None and not previous.error:
            if previous.etag:
                headers["If-None-Match"] = previous.etag
            if previous.last_modified:
                headers["If-Modified-Since"] = previous.last_modified
        try:
            if self.options.respect_robots:
                rules = await self._robots(client, url)
                if isinstance(rules, str):
                    raise FetchError(rules)
                if rules is not None and not rules.can_fetch(url, ROBOTS_AGENT):
                    raise FetchError("disallowed by robots.txt")
            response, body, final_url = await self._get_with_retries(
                client, url, headers, self.options.max_response_bytes
            )
            if response.status_code == 304 and previous is not None:
                return replace(
                    previous, fetched_at=page.fetched_at, status_code=304, unchanged=True
                )
            self._read_page(response, body, final_url, page)
        except FetchError as error:
            page.error = str(error)
        if (
            previous is not None
            and page.content_hash
            and page.content_hash == previous.content_hash
        ):
            page.unchanged = True
        return page

    def _read_page(self, response: httpx.Response, body: bytes, final_url: str, page: Page) -> None:
        page.final_url = final_url
        page.status_code = response.status_code
        page.content_type = response.headers.get("content-type", "").split(";")[0].strip() or None
        page.etag = response.headers.get("etag")
        page.last_modified = response.headers.get("last-modified")
        if response.status_code >= 400:
            raise FetchError(f"HTTP {response.status_code}")
        if response.status_code != 200:
            raise FetchError(f"unexpected HTTP {response.status_code}")
        if page.content_type is not None and page.content_type not in _HTML_TYPES:
            raise FetchError(f"not an HTML page ({page.content_type})")
        if b"\x00" in body[:4096]:
            raise FetchError("binary content, not HTML")
        if page.content_type is None and not body.lstrip()[:1] == b"<":
            raise FetchError("not an HTML page (no content type, no markup)")
        page.charset = response.charset_encoding or "utf-8"
        try:
            html = body.decode(page.charset, errors="replace")
        except LookupError:  # an unknown charset name: fall back rather than fail
            page.charset = "utf-8"
            html = body.decode("utf-8", errors="replace")
        page.content_hash = hashlib.sha256(body).hexdigest()[:32]
        parsed = parse_html(html, final_url)
        page.title, page.meta = parsed.title, parsed.meta
        page.structured_data, page.text = parsed.structured_data, parsed.text
        page.links = parsed.links
        page.assets = parsed.assets
        page.assets["headers"] = {
            name.lower(): value[:_MAX_HEADER_CHARS]
            for name, value in list(response.headers.items())[:_MAX_HEADERS]
            if name.lower() != "set-cookie"
        }
        # Only the names: a cookie's value may be a session, and is nobody's business here.
        page.assets["cookies"] = [
            cookie.split("=", 1)[0].strip()
            for cookie in response.headers.get_list("set-cookie")[:_MAX_HEADERS]
        ]

    async def crawl_site(
        self, website_url: str, previous: Mapping[str, Page] | None = None
    ) -> SiteCrawl:
        previous = previous or {}
        crawl = SiteCrawl(website_url=website_url, crawled_at=datetime.now(UTC), status="failed")
        async with self.site_client() as client:
            await self._crawl_pages(client, crawl, previous)
        return crawl

    async def _crawl_pages(
        self, client: httpx.AsyncClient, crawl: SiteCrawl, previous: Mapping[str, Page]
    ) -> None:
        website_url = crawl.website_url
        home = await self.fetch_page(client, website_url, "home", previous.get(website_url))
        crawl.pages.append(home)
        if home.error:
            crawl.reason = home.error if "robots.txt" in home.error else f"home page: {home.error}"
            return
        if home.final_url and not _same_site(home.final_url, website_url):
            crawl.reason = f"redirects to another site ({urlsplit(home.final_url).hostname})"
            return
        if _looks_parked(home):
            crawl.reason = "parked or for-sale domain"
            return
        base = home.final_url or website_url
        for kind, url in choose_fact_pages(home.links, base, self.options.max_fact_pages):
            crawl.pages.append(await self.fetch_page(client, url, kind, previous.get(url)))
        careers = next((p for p in crawl.pages if p.kind == "careers" and not p.error), None)
        listing = board_listing(careers) if careers is not None else None
        if listing is not None:
            page = await self.fetch_page(client, listing, JOB_BOARD_PAGE, previous.get(listing))
            crawl.pages.append(page)
        crawl.status = "ok"

    async def crawl_site_within_budget(
        self, website_url: str, previous: Mapping[str, Page] | None = None
    ) -> SiteCrawl:
        """`crawl_site` bounded by the site budget; never raises."""
        try:
            return await asyncio.wait_for(
                self.crawl_site(website_url, previous), self.options.site_budget_seconds
            )
        except TimeoutError:
            reason = f"site took longer than {self.options.site_budget_seconds:g}s"
        except Exception as error:  # one broken site must never stop the others
            reason = f"unexpected error: {type(error).__name__}: {error}"
        return SiteCrawl(website_url, datetime.now(UTC), "failed", reason)


def board_listing(careers: Page) -> str | None:
    """The job board listing a careers page links to or embeds, when the page itself lists
    no single posting to count (`core.job_boards`)."""
    if job_postings(careers.structured_data) or any(is_posting(link) for link, _ in careers.links):
        return None
    return next((found for address in referenced(careers) if (found := listing_of(address))), None)


def referenced(page: Page) -> list[str]:
    """The addresses a page links to, then the scripts and frames it loads."""
    return [
        *(link for link, _ in page.links),
        *page.assets.get("scripts", []),
        *page.assets.get("frames", []),
    ]


def site_pages(pages: Sequence[Page]) -> list[Page]:
    """The site's own pages: not a job board's listing, which shows the board's markup and
    other companies' words as much as this one's."""
    return [page for page in pages if page.kind != JOB_BOARD_PAGE]


def _looks_parked(page: Page) -> bool:
    words = len(page.text.split())
    return bool(_PARKED.search(f"{page.title or ''}\n{page.text}")) and words < 400


async def _read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"page larger than {max_bytes} bytes ({declared} declared)")
    body = bytearray()
    async for chunk in response.aiter_bytes():  # decompressed: the cap bounds what we hold
        body.extend(chunk)
        if len(body) > max_bytes:
            raise FetchError(f"page larger than {max_bytes} bytes")
    return bytes(body)


async def _crawl_all(
    website_urls: Sequence[str],
    options: CrawlOptions,
    previous: Mapping[str, Mapping[str, Page]],
    on_done: Callable[[SiteCrawl], None],
) -> None:
    # Twice as many sites as request slots in flight, so that a site waiting for its host's
    # politeness delay leaves its slot to another site; a site's budget starts when it starts.
    sites = asyncio.Semaphore(max(1, options.concurrency * 2))
    crawler = Crawler(options)
    # `on_done` may block (a full queue downstream): it runs on a thread of its own, and the
    # site keeps its slot until it returns, so a slow consumer pauses the crawl instead of
    # letting finished sites pile up in memory, and the event loop keeps serving the requests
    # in flight meanwhile.
    handoff = ThreadPoolExecutor(max_workers=1, thread_name_prefix="crawl-handoff")
    loop = asyncio.get_running_loop()

    async def one(url: str) -> None:
        async with sites:
            result = await crawler.crawl_site_within_budget(url, previous.get(url))
            await loop.run_in_executor(handoff, on_done, result)

    try:
        await asyncio.gather(*(one(url) for url in website_urls))
    finally:
        handoff.shutdown(wait=True)


def crawl_each(
    website_urls: Sequence[str],
    options: CrawlOptions,
    on_done: Callable[[SiteCrawl], None],
    previous: Mapping[str, Mapping[str, Page]] | None = None,
) -> None:
    """Crawl every site concurrently, handing each site's crawl to `on_done` as it finishes
    (in the order they finish) and keeping none: memory stays flat however many sites there
    are. `previous` (website -> URL -> page) enables conditional requests."""
    urls = list(dict.fromkeys(website_urls))
    if urls:
        asyncio.run(_crawl_all(urls, options, previous or {}, on_done))


def crawl_sites(
    website_urls: Sequence[str],
    options: CrawlOptions,
    on_done: Callable[[SiteCrawl], None] | None = None,
    previous: Mapping[str, Mapping[str, Page]] | None = None,
) -> list[SiteCrawl]:
    """`crawl_each`, keeping the crawls: one per distinct URL, in the order given; `on_done`
    is called as each site finishes (progress)."""
    crawls: dict[str, SiteCrawl] = {}

    def keep(crawl: SiteCrawl) -> None:
        crawls[crawl.website_url] = crawl
        if on_done is not None:
            on_done(crawl)

    crawl_each(website_urls, options, keep, previous)
    return [crawls[url] for url in dict.fromkeys(website_urls)]
