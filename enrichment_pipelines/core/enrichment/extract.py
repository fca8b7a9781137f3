"""Extracting data points from stored pages, once per change of pages, extractor or data points.

Each site's extraction is stored under a key hashed from what it depends on; a site whose key
is unchanged (and whose last extraction did not fail) is not extracted again, so a rerun costs
no LLM calls for sites that have not changed.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import repeat

import duckdb

from enrichment_pipelines.core.crawl import Page
from enrichment_pipelines.core.enrichment.batching import batches
from enrichment_pipelines.core.enrichment.pages import load_pages
from enrichment_pipelines.core.enrichment.policy import (
    EnrichmentPolicy,
    select_customers,
    websites_in_use,
)
from enrichment_pipelines.core.extractors import Extraction, Extractor, Usage
from enrichment_pipelines.core.warehouse import Warehouse, insert_rows

EXTRACT_BATCH_SIZE = 50

EXTRACTION_COLUMNS = (
    "website_url", "extraction_key", "extractor", "extracted_at", "result", "error",
    "llm_calls", "prompt_tokens", "completion_tokens", "cost_usd",
)  # fmt: skip


def extraction_key(content_key: str, extractor: str, keys: Sequence[str]) -> str:
    material = "\n".join([content_key, extractor, ",".join(sorted(keys))])
    return hashlib.sha256(material.encode()).hexdigest()[:32]


@dataclass
class ExtractSummary:
    extracted: int = 0
    unchanged: int = 0
    failed: int = 0
    values_found: int = 0
    usage: Usage = field(default_factory=Usage)  # LLM calls, tokens and cost, summed
    problems: Counter[str] = field(default_factory=Counter)

    def add(self, extraction: Extraction) -> None:
        self.extracted += 1
        self.failed += extraction.error is not None
        self.values_found += len(extraction.data)
        self.usage.add(extraction.usage)
        self.problems.update(problem.split(":")[0] for problem in extraction.problems)
        if extraction.error:
            self.problems[extraction.error.split(":")[0]] += 1


def extract_one(
    extractor: Extractor, website_url: str, pages: Sequence[Page], keys: Sequence[str]
) -> Extraction:
    """`extractor.extract`, with any exception it raises made the site's error."""
    try:
        return extractor.extract(website_url, pages, keys)
    except Exception as error:  # one site's bad pages must not stop the others
        return Extraction(error=f"extractor error: {type(error).__name__}: {error}")


def extract_sites(
    warehouse: Warehouse,
    policy: EnrichmentPolicy,
    extractor: Extractor,
    keys: Sequence[str],
    on_done: Callable[[str], None] | None = None,
) -> ExtractSummary:
    """Extract data points for crawled sites of customers needing enrichment, when changed.

    `on_done` is called with each extracted site once its batch is written (not for sites
    left unchanged), so progress shown to a person never runs ahead of the warehouse."""
    summary = ExtractSummary()
    with warehouse.connect() as connection:
        urls = sorted(
            {c.website_url for c in select_customers(connection, policy) if c.website_url}
        )
        stored = _stored_extractions(connection, urls)
    pending = []
    for website_url, content_key, stored_key, stored_error in stored:
        key = extraction_key(content_key or "", extractor.name, keys)
        if key == stored_key and stored_error is None:
            summary.unchanged += 1
        else:
            pending.append((website_url, key))
    # Extraction (an LLM call, say) happens outside any transaction; each batch is written
    # in one short transaction, so a run killed half way keeps what it finished.
    with ThreadPoolExecutor(max_workers=max(1, extractor.concurrency)) as pool:
        for batch in batches(pending, EXTRACT_BATCH_SIZE):
            with warehouse.connect() as connection:
                pages_by_site = load_pages(connection, [url for url, _ in batch])
            extractions = pool.map(
                extract_one,
                repeat(extractor),
                [url for url, _ in batch],
                [list(pages_by_site[url].values()) for url, _ in batch],
                repeat(keys),
            )
            results = []
            for (website_url, key), extraction in zip(batch, extractions, strict=True):
                summary.add(extraction)
                results.append(_extraction_row(website_url, key, extractor.name, extraction))
            with warehouse.transaction() as connection:
                _save_extractions(connection, results)
            if on_done is not None:
                for website_url, _ in batch:
                    on_done(website_url)
    return summary


def _stored_extractions(
    connection: duckdb.DuckDBPyConnection, urls: Sequence[str]
) -> list[tuple[str, str | None, str | None, str | None]]:
    """(website, content key, stored extraction key, stored error) of each successfully
    crawled site among `urls`; the extraction fields are None when it was never extracted."""
    return connection.execute(
        """
        SELECT s.website_url, s.content_key, x.extraction_key, x.error
        FROM site_crawls AS s LEFT JOIN extractions AS x USING (website_url)
        WHERE list_contains($urls, s.website_url) AND s.status = 'ok'
        """,
        {"urls": list(urls)},
    ).fetchall()


def _save_extractions(
    connection: duckdb.DuckDBPyConnection, rows: Sequence[Sequence[object]]
) -> None:
    """Store each site's latest extraction, replacing the one before (not for a site no
    customer has any more: forgotten while it was being extracted)."""
    in_use = websites_in_use(connection, [row[0] for row in rows])
    insert_rows(
        connection,
        "extractions",
        EXTRACTION_COLUMNS,
        [row for row in rows if row[0] in in_use],
        conflict="ON CONFLICT (website_url) DO UPDATE SET "
        + ", ".join(f"{c} = excluded.{c}" for c in EXTRACTION_COLUMNS[1:]),
    )


def _extraction_row(
    website_url: str, key: str, extractor_name: str, extraction: Extraction
) -> list[object]:
    usage = extraction.usage
    return [
        website_url, key, extractor_name, datetime.now(UTC), extraction.to_json(),
        extraction.error, usage.calls, usage.prompt_tokens, usage.completion_tokens,
        usage.cost_usd,
    ]  # fmt: skip
