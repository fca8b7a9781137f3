"""The stored crawl of each site: which sites need crawling, and saving and loading pages.

Pages are written and read through one list of columns, `PAGE_COLUMNS`, derived from the
`Page` dataclass: a field added to `Page` (and its migration) is stored and read back without
anyone counting positions.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterable, Sequence
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from enrichment_pipelines.core.crawl import Page, SiteCrawl
from enrichment_pipelines.core.enrichment.policy import (
    EnrichmentPolicy,
    websites_in_use,
)
from enrichment_pipelines.core.warehouse import fetch_dicts, insert_rows

SITE_CRAWL_COLUMNS = (
    "website_url", "crawled_at", "status", "reason", "page_count", "content_key", "run_id",
)  # fmt: skip
_PAGE_FIELDS = tuple(page_field.name for page_field in fields(Page))
# `scraped_pages` has a column for each field of `Page`, under the same name.
PAGE_COLUMNS = ("website_url", *_PAGE_FIELDS)


def websites_to_crawl(
    connection: duckdb.DuckDBPyConnection,
    websites: Iterable[str],
    policy: EnrichmentPolicy,
    max_page_age: timedelta,
) -> list[str]:
    """Those of `websites` (of customers the policy selected) whose pages are missing or too
    old for it."""
    fresh_after = datetime.now(UTC) - max_page_age
    if policy.reenrich_before is not None:
        fresh_after = max(fresh_after, policy.reenrich_before)
    wanted = sorted(set(websites))
    fresh = _freshly_crawled(connection, wanted, fresh_after)
    return [url for url in wanted if url not in fresh]


def _freshly_crawled(
    connection: duckdb.DuckDBPyConnection, urls: Sequence[str], fresh_after: datetime
) -> set[str]:
    """Those of `urls` crawled successfully since `fresh_after`, with every page's assets (a
    page stored before pages kept them is stale, whatever its age)."""
    return {
        url
        for (url,) in connection.execute(
            "SELECT website_url FROM site_crawls AS s WHERE list_contains($urls, website_url) "
            "AND status = 'ok' AND crawled_at >= $fresh_after AND NOT EXISTS ("
            "SELECT 1 FROM scraped_pages AS p WHERE p.website_url = s.website_url "
            "AND p.error IS NULL AND p.assets IS NULL)",
            {"urls": list(urls), "fresh_after": fresh_after},
        ).fetchall()
    }


def sites_with_pages(connection: duckdb.DuckDBPyConnection, urls: Sequence[str]) -> set[str]:
    """Those of `urls` with pages stored from an earlier crawl."""
    return {
        url
        for (url,) in connection.execute(
            "SELECT DISTINCT website_url FROM scraped_pages WHERE list_contains(?, website_url)",
            [list(urls)],
        ).fetchall()
    }


def claim_websites(
    connection: duckdb.DuckDBPyConnection, urls: Sequence[str], run_id: str, lease: timedelta
) -> list[str]:
    """Claim `urls` for this run (call inside a transaction); the ones it may crawl. A site
    another run claimed and whose lease has not run out is left to that run: two runs at once
    share the work instead of both crawling everything."""
    taken = claimed_elsewhere(connection, urls, run_id)
    mine = [url for url in urls if url not in taken]
    insert_rows(
        connection,
        "website_claims",
        ("website_url", "run_id", "claimed_until", "claimed_by"),
        [[url, run_id, datetime.now(UTC) + lease, this_process()] for url in mine],
        conflict="ON CONFLICT (website_url) DO UPDATE SET run_id = excluded.run_id, "
        "claimed_until = excluded.claimed_until, claimed_by = excluded.claimed_by",
    )
    return mine


def this_process() -> str:
    """This process as a claim's holder: host, process id and the process's start time (a
    process id alone is reused)."""
    return f"{socket.gethostname()} {os.getpid()} {_start_time(os.getpid())}"


def _start_time(pid: int) -> str | None:
    """When process `pid` started, in clock ticks since boot (Linux); None when unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]  # field 22; the name in (...) may hold spaces


def _holder_gone(holder: str | None) -> bool:
    """Whether a claim's holder is a process of this host that no longer runs (killed before
    it could hand its claims back). A holder on another host, or unknown, is taken at its
    lease."""
    if holder is None:
        return False
    host, pid, started = holder.split(" ")
    if host != socket.gethostname() or started == "None":
        return False
    return _start_time(int(pid)) != started


def release_claims(connection: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """End this run's claims on sites it did not save (it failed or was stopped): another run
    may crawl them at once rather than wait for the lease to run out."""
    connection.execute("DELETE FROM website_claims WHERE run_id = ?", [run_id])


def claimed_elsewhere(
    connection: duckdb.DuckDBPyConnection, urls: Sequence[str], run_id: str | None
) -> set[str]:
    """Those of `urls` that another run holds a live claim on (it is crawling them now): its
    lease has not run out, and its process still runs."""
    return {
        url
        for url, holder in connection.execute(
            "SELECT website_url, claimed_by FROM website_claims "
            "WHERE list_contains($urls, website_url) "
            "AND run_id IS DISTINCT FROM $run AND claimed_until > $now",
            {"urls": list(urls), "run": run_id, "now": datetime.now(UTC)},
        ).fetchall()
        if not _holder_gone(holder)
    }


def save_crawls(
    connection: duckdb.DuckDBPyConnection, crawls: Sequence[SiteCrawl], run_id: str | None
) -> None:
    """Replace each site's latest crawl and pages (call inside a transaction). Sites no
    customer has any more (forgotten during the crawl) are not written."""
    in_use = websites_in_use(connection, [crawl.website_url for crawl in crawls])
    crawls = [crawl for crawl in crawls if crawl.website_url in in_use]
    urls = [crawl.website_url for crawl in crawls]
    connection.execute("DELETE FROM scraped_pages WHERE list_contains(?, website_url)", [urls])
    connection.execute("DELETE FROM website_claims WHERE list_contains(?, website_url)", [urls])
    insert_rows(
        connection,
        "site_crawls",
        SITE_CRAWL_COLUMNS,
        [
            [
                crawl.website_url,
                crawl.crawled_at,
                crawl.status,
                crawl.reason,
                len(crawl.pages),
                crawl.content_key,
                run_id,
            ]
            for crawl in crawls
        ],
        conflict="ON CONFLICT (website_url) DO UPDATE SET "
        + ", ".join(f"{c} = excluded.{c}" for c in SITE_CRAWL_COLUMNS[1:]),
    )
    insert_rows(
        connection,
        "scraped_pages",
        PAGE_COLUMNS,
        [_page_row(crawl.website_url, page) for crawl in crawls for page in crawl.pages],
        conflict="ON CONFLICT DO NOTHING",  # a page linked twice is stored once
    )


def _page_row(website_url: str, page: Page) -> list[object]:
    """The values of `PAGE_COLUMNS` for one page: its fields, the structured ones as JSON."""
    values: dict[str, object] = {name: getattr(page, name) for name in _PAGE_FIELDS}
    values["meta"] = json.dumps(page.meta)
    values["structured_data"] = json.dumps(page.structured_data, default=str)
    values["links"] = json.dumps(page.links)
    values["assets"] = json.dumps(page.assets)
    return [website_url, *values.values()]


def load_pages(
    connection: duckdb.DuckDBPyConnection, website_urls: Sequence[str]
) -> dict[str, dict[str, Page]]:
    """The stored pages of each website: website URL -> page URL -> page."""
    pages: dict[str, dict[str, Page]] = {url: {} for url in website_urls}
    for row in _page_rows(connection, website_urls):
        pages[row["website_url"]][row["url"]] = _page_from_row(row)
    return pages


def _page_rows(
    connection: duckdb.DuckDBPyConnection, website_urls: Sequence[str]
) -> list[dict[str, Any]]:
    return fetch_dicts(
        connection,
        f"SELECT {', '.join(PAGE_COLUMNS)} FROM scraped_pages "
        "WHERE list_contains(?, website_url) ORDER BY website_url, fetched_at, url",
        [list(website_urls)],
    )


def _page_from_row(row: dict[str, Any]) -> Page:
    """A page from its `PAGE_COLUMNS` row: the inverse of `_page_row`."""
    values = {name: row[name] for name in _PAGE_FIELDS}
    values["meta"] = json.loads(row["meta"]) if row["meta"] else {}
    values["structured_data"] = json.loads(row["structured_data"]) if row["structured_data"] else []
    values["assets"] = json.loads(row["assets"]) if row["assets"] else {}
    links = json.loads(row["links"]) if row["links"] else []
    values["links"] = [(url, text) for url, text in links]
    values["text"] = row["text"] or ""
    values["unchanged"] = bool(row["unchanged"])
    return Page(**values)
