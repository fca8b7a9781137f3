"""Fetching a company's website: the home page plus the few pages that carry facts.

Every request (redirects included) passes the SSRF guard, responses are capped in size and must
be HTML, and each site ends in a page list or one clear reason. One bad site never stops the
others. Requests to one site are made one at a time; sites are crawled concurrently.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from enrichment_pipelines.core.html_text import parse_html
from enrichment_pipelines.core.websites import WebsiteError, refuse_private_resolution

USER_AGENT = (
    "enrichment-pipelines/0.1 (+https://github.com/enrichment-pipelines/enrichment-pipelines; "
    "reads public company pages to enrich customer records)"
)

# Kinds of fact-bearing pages, in the order they are worth fetching, with the words that
# identify them in a link's path or text.
FACT_PAGE_KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("about", ("about", "company", "who-we-are", "our-story", "about-us", "ueber-uns")),
    ("pricing", ("pricing", "plans", "prices", "preise")),
    ("contact", ("contact", "kontakt", "get-in-touch")),
    ("careers", ("careers", "jobs", "join-us", "work-with-us", "karriere")),
    ("legal", ("imprint", "impressum", "legal-notice", "legal", "mentions-legales")),
    ("team", ("team", "leadership", "people")),
)


@dataclass(frozen=True)
class CrawlOptions:
    max_fact_pages: int = 5
    concurrency: int = 32
    request_timeout_seconds: float = 10.0
    site_budget_seconds: float = 60.0
    max_response_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5
    per_host_delay_seconds: float = 0.05
    allow_private: bool = False
    user_agent: str = USER_AGENT


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
    links: list[tuple[str, str]] = field(default_factory=list)  # (URL, anchor text)
    text: str = ""
    error: str | None = None
    kind: str = "home"


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


class FetchError(Exception):
    """A page that could not be fetched; the message is the reason recorded."""


def _same_site(url: str, website_url: str) -> bool:
    host, site_host = urlsplit(url).hostname or "", urlsplit(website_url).hostname or ""
    return host.removeprefix("www.") == site_host.removeprefix("www.")


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
            path = urlsplit(url).path.lower()
            segments = [segment for segment in path.split("/") if segment]
            label = text.lower()
            if any(word in segments or word in label.split() for word in words) or any(
                segment.startswith(words) for segment in segments
            ):
                chosen.append((kind, url))
                taken.add(url.rstrip("/"))
                break
    return chosen


async def _check_address(url: str, options: CrawlOptions) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(f"refused URL {url!r}: only http(s) URLs with a host")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        await asyncio.to_thread(
            refuse_private_resolution, parts.hostname, port, allow_private=options.allow_private
        )
    except WebsiteError as error:
        raise FetchError(f"refused: {error}") from error


async def fetch_page(
    client: httpx.AsyncClient, url: str, options: CrawlOptions, kind: str = "home"
) -> Page:
    """Fetch one page, following redirects by hand so that every hop is checked."""
    page = Page(url=url, fetched_at=datetime.now(UTC), kind=kind)
    current = url
    try:
        for _hop in range(options.max_redirects + 1):
            await _check_address(current, options)
            request = client.build_request("GET", current)
            response = await client.send(request, stream=True)
            try:
                if response.is_redirect:
                    location = response.headers.get("location")
                    if not location:
                        raise FetchError(f"HTTP {response.status_code} redirect without Location")
                    current = urljoin(current, location)
                    continue
                await _read_page(response, page, options)
                page.final_url = current
                return page
            finally:
                await response.aclose()
        raise FetchError(f"too many redirects (more than {options.max_redirects})")
    except FetchError as error:
        page.error = str(error)
    except httpx.TimeoutException:
        page.error = f"timed out after {options.request_timeout_seconds:g}s"
    except httpx.TransportError as error:
        page.error = f"connection failed: {type(error).__name__}: {error}".rstrip(": ")
    return page


async def _read_page(response: httpx.Response, page: Page, options: CrawlOptions) -> None:
    page.status_code = response.status_code
    page.content_type = response.headers.get("content-type", "").split(";")[0].strip() or None
    page.etag = response.headers.get("etag")
    page.last_modified = response.headers.get("last-modified")
    if response.status_code >= 400:
        raise FetchError(f"HTTP {response.status_code}")
    if page.content_type not in (None, "text/html", "application/xhtml+xml"):
        raise FetchError(f"not an HTML page ({page.content_type})")
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body.extend(chunk)
        if len(body) > options.max_response_bytes:
            raise FetchError(f"page larger than {options.max_response_bytes} bytes")
    if b"\x00" in body[:4096]:
        raise FetchError("binary content served as HTML")
    page.charset = response.charset_encoding or "utf-8"
    try:
        html = body.decode(page.charset, errors="replace")
    except LookupError:
        page.charset = "utf-8"
        html = body.decode("utf-8", errors="replace")
    page.content_hash = hashlib.sha256(body).hexdigest()[:32]
    parsed = parse_html(html, str(response.url))
    page.title, page.meta, page.structured_data = parsed.title, parsed.meta, parsed.json_ld
    page.text = parsed.text
    page.links = parsed.links


async def crawl_site(
    client: httpx.AsyncClient, website_url: str, options: CrawlOptions
) -> SiteCrawl:
    crawl = SiteCrawl(website_url=website_url, crawled_at=datetime.now(UTC), status="failed")
    home = await fetch_page(client, website_url, options)
    crawl.pages.append(home)
    if home.error:
        crawl.reason = f"home page: {home.error}"
        return crawl
    if home.final_url and not _same_site(home.final_url, website_url):
        crawl.reason = f"redirects to another site ({urlsplit(home.final_url).hostname})"
        return crawl
    base = home.final_url or website_url
    for kind, url in choose_fact_pages(home.links, base, options.max_fact_pages):
        await asyncio.sleep(options.per_host_delay_seconds)
        crawl.pages.append(await fetch_page(client, url, options, kind=kind))
    crawl.status = "ok"
    return crawl


async def _crawl_all(
    website_urls: Sequence[str],
    options: CrawlOptions,
    on_done: Callable[[SiteCrawl], None] | None,
) -> list[SiteCrawl]:
    semaphore = asyncio.Semaphore(options.concurrency)
    limits = httpx.Limits(max_connections=options.concurrency * 2, max_keepalive_connections=64)
    headers = {"User-Agent": options.user_agent, "Accept": "text/html,application/xhtml+xml"}
    timeout = httpx.Timeout(options.request_timeout_seconds)
    async with httpx.AsyncClient(
        headers=headers, timeout=timeout, limits=limits, follow_redirects=False, trust_env=False
    ) as client:

        async def one(url: str) -> SiteCrawl:
            async with semaphore:
                try:
                    result = await asyncio.wait_for(
                        crawl_site(client, url, options), options.site_budget_seconds
                    )
                except TimeoutError:
                    result = SiteCrawl(
                        url,
                        datetime.now(UTC),
                        "failed",
                        f"site took longer than {options.site_budget_seconds:g}s",
                    )
            if on_done is not None:
                on_done(result)
            return result

        return list(await asyncio.gather(*(one(url) for url in website_urls)))


def crawl_sites(
    website_urls: Sequence[str],
    options: CrawlOptions,
    on_done: Callable[[SiteCrawl], None] | None = None,
) -> list[SiteCrawl]:
    """Crawl every site concurrently; `on_done` is called as each one finishes (progress)."""
    if not website_urls:
        return []
    return asyncio.run(_crawl_all(list(dict.fromkeys(website_urls)), options, on_done))
