"""Bringing customers up to date under a policy: crawl -> extract -> apply.

The three steps communicate only through the warehouse, so each can be retried on its own and
a run killed half way resumes where it stopped:

- `save_crawls` stores each site's latest pages (the crawl itself happens outside any
  transaction, in `core.crawl`);
- `extract_sites` extracts data points for sites whose pages, extractor or enabled data points
  changed since the last extraction (unchanged sites are not extracted again);
- `apply_enrichments` writes each record's result: enrichment, values with evidence, custom
  attributes with history, summary note and the credit charge, in one transaction per batch
  of records. A record already brought up to date under the policy is not touched again, so a
  retried or resumed run never charges twice.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import repeat
from typing import TypeVar

import duckdb

from enrichment_pipelines.core.crawl import Page, SiteCrawl
from enrichment_pipelines.core.credits import balance, charge_enrichments
from enrichment_pipelines.core.datapoints import DATA_POINTS_BY_KEY
from enrichment_pipelines.core.extractors import Extraction, Extractor
from enrichment_pipelines.core.segments import compile_segment, load_segment
from enrichment_pipelines.core.settings import EnrichmentSettings
from enrichment_pipelines.core.shards import shard_sql
from enrichment_pipelines.core.warehouse import Warehouse, insert_rows

T = TypeVar("T")

APPLY_BATCH_SIZE = 25
EXTRACT_BATCH_SIZE = 50


@dataclass(frozen=True)
class EnrichmentPolicy:
    """Which records a run brings up to date.

    `reenrich_before=None` never re-enriches an enriched record; a timestamp re-enriches
    records last enriched before it (a one-off "enrich now" uses the moment it was asked for,
    so a retry of the same request finds the record already done). `customer_ids`, `shards`
    and `segment` (a saved segment's name) restrict the run to those records; empty means all.
    """

    reenrich_before: datetime | None = None
    customer_ids: tuple[str, ...] = ()
    shards: tuple[int, ...] = ()
    segment: str | None = None


@dataclass(frozen=True)
class CustomerToEnrich:
    customer_id: str
    website_url: str | None
    website_error: str | None


@dataclass
class ApplySummary:
    enriched: int = 0
    credits_spent: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)


def select_customers(
    connection: duckdb.DuckDBPyConnection,
    policy: EnrichmentPolicy,
    *,
    up_to_date_too: bool = False,
) -> list[CustomerToEnrich]:
    """Customers that the policy says still need enriching, or with `up_to_date_too` every
    customer in its scope (a SegmentError for a segment that does not exist or no longer
    compiles)."""
    in_segment, parameters = "true", {}
    if policy.segment is not None:
        compiled = compile_segment(connection, load_segment(connection, policy.segment))
        in_segment, parameters = compiled.where, compiled.parameters
    rows = connection.execute(
        f"""
        SELECT c.customer_id, c.website_url, c.website_error
        FROM customers AS c
        LEFT JOIN current_enrichments AS e USING (customer_id)
        WHERE ($all OR e.customer_id IS NULL OR e.created_at < $cutoff)
          AND (len($ids) = 0 OR list_contains($ids, c.customer_id))
          AND (len($shards) = 0 OR list_contains($shards, {shard_sql("c.customer_id")}))
          AND {in_segment}
        ORDER BY c.customer_id
        """,
        {
            **parameters,
            "all": up_to_date_too,
            "cutoff": policy.reenrich_before,
            "ids": list(policy.customer_ids),
            "shards": list(policy.shards),
        },
    ).fetchall()
    return [CustomerToEnrich(*row) for row in rows]


def websites_to_crawl(
    connection: duckdb.DuckDBPyConnection, policy: EnrichmentPolicy, max_page_age: timedelta
) -> list[str]:
    """Websites of customers needing enrichment whose pages are missing or too old."""
    fresh_after = datetime.now(UTC) - max_page_age
    if policy.reenrich_before is not None:
        fresh_after = max(fresh_after, policy.reenrich_before)
    wanted = sorted({c.website_url for c in select_customers(connection, policy) if c.website_url})
    fresh = {
        url
        for (url,) in connection.execute(
            "SELECT website_url FROM site_crawls WHERE list_contains($urls, website_url) "
            "AND status = 'ok' AND crawled_at >= $fresh_after",
            {"urls": wanted, "fresh_after": fresh_after},
        ).fetchall()
    }
    return [url for url in wanted if url not in fresh]


def save_crawls(
    connection: duckdb.DuckDBPyConnection, crawls: Sequence[SiteCrawl], run_id: str | None
) -> None:
    """Replace each site's latest crawl and pages (call inside a transaction)."""
    urls = [crawl.website_url for crawl in crawls]
    connection.execute("DELETE FROM scraped_pages WHERE list_contains(?, website_url)", [urls])
    insert_rows(
        connection,
        "site_crawls",
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
        conflict="ON CONFLICT (website_url) DO UPDATE SET crawled_at = excluded.crawled_at, "
        "status = excluded.status, reason = excluded.reason, page_count = excluded.page_count, "
        "content_key = excluded.content_key, run_id = excluded.run_id",
    )
    insert_rows(
        connection,
        "scraped_pages",
        [_page_row(crawl.website_url, page) for crawl in crawls for page in crawl.pages],
        chunk_size=100,
        conflict="ON CONFLICT DO NOTHING",  # a page linked twice is stored once
    )


def _page_row(website_url: str, page: Page) -> list[object]:
    return [
        website_url,
        page.url,
        page.final_url,
        page.status_code,
        page.content_type,
        page.charset,
        page.fetched_at,
        page.etag,
        page.last_modified,
        page.content_hash,
        page.title,
        json.dumps(page.meta),
        json.dumps(page.structured_data, default=str),
        json.dumps(page.links),
        page.text,
        page.error,
        page.kind,
        page.unchanged,
    ]


def load_pages(
    connection: duckdb.DuckDBPyConnection, website_urls: Sequence[str]
) -> dict[str, dict[str, Page]]:
    """The stored pages of each website: website URL -> page URL -> page."""
    rows = connection.execute(
        "SELECT website_url, url, fetched_at, final_url, status_code, content_type, charset, "
        "etag, last_modified, content_hash, title, meta, structured_data, links, text, error, "
        "kind, unchanged FROM scraped_pages WHERE list_contains(?, website_url) "
        "ORDER BY website_url, fetched_at, url",
        [list(website_urls)],
    ).fetchall()
    pages: dict[str, dict[str, Page]] = {url: {} for url in website_urls}
    for row in rows:
        pages[row[0]][row[1]] = Page(
            url=row[1],
            fetched_at=row[2],
            final_url=row[3],
            status_code=row[4],
            content_type=row[5],
            charset=row[6],
            etag=row[7],
            last_modified=row[8],
            content_hash=row[9],
            title=row[10],
            meta=json.loads(row[11]) if row[11] else {},
            structured_data=json.loads(row[12]) if row[12] else [],
            links=[(url, text) for url, text in json.loads(row[13])] if row[13] else [],
            text=row[14] or "",
            error=row[15],
            kind=row[16],
            unchanged=bool(row[17]),
        )
    return pages


def extraction_key(content_key: str, extractor: str, keys: Sequence[str]) -> str:
    material = "\n".join([content_key, extractor, ",".join(sorted(keys))])
    return hashlib.sha256(material.encode()).hexdigest()[:32]


@dataclass
class ExtractSummary:
    extracted: int = 0
    unchanged: int = 0
    failed: int = 0
    values_found: int = 0
    llm_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    problems: Counter[str] = field(default_factory=Counter)

    def add(self, extraction: Extraction) -> None:
        self.extracted += 1
        self.failed += extraction.error is not None
        self.values_found += len(extraction.data)
        self.llm_calls += extraction.usage.calls
        self.prompt_tokens += extraction.usage.prompt_tokens
        self.completion_tokens += extraction.usage.completion_tokens
        self.cost_usd += extraction.usage.cost_usd
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
    """Extract data points for crawled sites of customers needing enrichment, when changed."""
    summary = ExtractSummary()
    with warehouse.connect() as connection:
        urls = sorted(
            {c.website_url for c in select_customers(connection, policy) if c.website_url}
        )
        rows = connection.execute(
            """
            SELECT s.website_url, s.content_key, x.extraction_key, x.error
            FROM site_crawls AS s LEFT JOIN extractions AS x USING (website_url)
            WHERE list_contains($urls, s.website_url) AND s.status = 'ok'
            """,
            {"urls": urls},
        ).fetchall()
    pending = []
    for website_url, content_key, stored_key, stored_error in rows:
        key = extraction_key(content_key or "", extractor.name, keys)
        if key == stored_key and stored_error is None:
            summary.unchanged += 1
        else:
            pending.append((website_url, key))
    # Extraction (an LLM call, say) happens outside any transaction; each batch is written
    # in one short transaction, so a run killed half way keeps what it finished.
    with ThreadPoolExecutor(max_workers=max(1, extractor.concurrency)) as pool:
        for batch in _batches(pending, EXTRACT_BATCH_SIZE):
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
                insert_rows(
                    connection,
                    "extractions",
                    results,
                    columns=EXTRACTION_COLUMNS,
                    conflict="ON CONFLICT (website_url) DO UPDATE SET "
                    + ", ".join(f"{c} = excluded.{c}" for c in EXTRACTION_COLUMNS[1:]),
                )
        if on_done is not None:
            for website_url, _ in batch:
                on_done(website_url)
    return summary


EXTRACTION_COLUMNS = (
    "website_url", "extraction_key", "extractor", "extracted_at", "result", "error",
    "llm_calls", "prompt_tokens", "completion_tokens", "cost_usd",
)  # fmt: skip


def _extraction_row(
    website_url: str, key: str, extractor_name: str, extraction: Extraction
) -> list[object]:
    usage = extraction.usage
    return [
        website_url, key, extractor_name, datetime.now(UTC), extraction.to_json(),
        extraction.error, usage.calls, usage.prompt_tokens, usage.completion_tokens,
        usage.cost_usd,
    ]  # fmt: skip


def _batches(items: Sequence[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def apply_enrichments(
    warehouse: Warehouse,
    policy: EnrichmentPolicy,
    settings: EnrichmentSettings,
    extractor_name: str,
    run_id: str | None,
    on_done: Callable[[str, str, str | None], None] | None = None,
) -> ApplySummary:
    """Write each selected record's outcome, charging at most one credit per record.

    Records are written APPLY_BATCH_SIZE at a time, each batch in one transaction with its
    charges: a run killed half way loses only the batch in flight, which was not charged
    either. `on_done` is called for each record once its batch is committed."""
    summary = ApplySummary()
    with warehouse.connect() as connection:
        customers = select_customers(connection, policy)
    for batch in _batches(customers, APPLY_BATCH_SIZE):
        with warehouse.transaction() as connection:
            outcomes = _apply_batch(connection, batch, policy, settings, extractor_name, run_id)
        for customer, (status, reason) in zip(batch, outcomes, strict=True):
            if status == "enriched":
                summary.enriched += 1
                summary.credits_spent += 1
            elif status == "skipped":
                summary.skipped[reason or ""] += 1
            elif status == "failed":
                summary.failed[_reason_kind(reason)] += 1
            if on_done is not None and status != "done":
                on_done(customer.customer_id, status, reason)
    return summary


def _reason_kind(reason: str | None) -> str:
    """Group failure reasons for counting ("home page: HTTP 500" and "... 503" differ)."""
    return (reason or "unknown").split(" (")[0]


_ENRICHMENT_COLUMNS = (
    "enrichment_id", "customer_id", "run_id", "status", "reason", "website_url", "extractor",
    "extraction_key", "credits_charged", "created_at", "prompt_tokens", "completion_tokens",
    "cost_usd",
)  # fmt: skip


@dataclass
class _BatchInputs:
    """What deciding a batch of records needs from the warehouse, read in a few queries
    inside the batch's transaction."""

    due: set[str]
    crawls: dict[str, tuple[str, str | None, str | None]]  # url -> status, reason, content key
    extractions: dict[str, tuple[str, str]]  # url -> extraction key, result
    attributes: dict[str, dict[str, str | None]]  # customer -> attribute name -> value text
    credits_left: int


@dataclass
class _BatchWrites:
    """The rows a batch of records adds, written with one statement per table: DuckDB's cost
    is per statement, so this is what makes a batch fast."""

    run_id: str | None
    at: datetime
    enrichments: list[list[object]] = field(default_factory=list)
    values: list[list[object]] = field(default_factory=list)
    history: list[list[object]] = field(default_factory=list)
    attributes: list[list[object]] = field(default_factory=list)
    cleared: list[tuple[str, str]] = field(default_factory=list)  # customer, attribute name
    notes: list[list[object]] = field(default_factory=list)
    charges: list[tuple[str, str]] = field(default_factory=list)  # customer, enrichment

    def outcome(
        self, customer: CustomerToEnrich, status: str, reason: str | None
    ) -> tuple[str, str | None]:
        """A record looked at and not enriched: skipped or failed, with the reason."""
        self.enrichments.append(
            [uuid.uuid4().hex, customer.customer_id, self.run_id, status, reason,
             customer.website_url, None, None, 0, self.at, 0, 0, 0.0]
        )  # fmt: skip
        return status, reason

    def write(self, connection: duckdb.DuckDBPyConnection) -> None:
        insert_rows(connection, "enrichments", self.enrichments, columns=_ENRICHMENT_COLUMNS)
        insert_rows(connection, "enrichment_values", self.values)
        insert_rows(connection, "custom_attribute_history", self.history)
        if self.cleared:
            customers, names = zip(*self.cleared, strict=True)
            connection.execute(
                "DELETE FROM custom_attributes USING "
                "(SELECT unnest($customers) AS customer_id, unnest($names) AS name) AS gone "
                "WHERE custom_attributes.customer_id = gone.customer_id "
                "AND custom_attributes.name = gone.name",
                {"customers": list(customers), "names": list(names)},
            )
        insert_rows(
            connection,
            "custom_attributes",
            self.attributes,
            conflict="ON CONFLICT (customer_id, name) DO UPDATE SET value_string = "
            "excluded.value_string, value_boolean = excluded.value_boolean, "
            "source = excluded.source, enrichment_id = excluded.enrichment_id, "
            "updated_at = excluded.updated_at",
        )
        insert_rows(connection, "notes", self.notes)
        charge_enrichments(connection, self.charges, self.run_id, self.at)


def _apply_batch(
    connection: duckdb.DuckDBPyConnection,
    batch: Sequence[CustomerToEnrich],
    policy: EnrichmentPolicy,
    settings: EnrichmentSettings,
    extractor_name: str,
    run_id: str | None,
) -> list[tuple[str, str | None]]:
    """Decide and write a batch of records (call inside a transaction); one outcome each."""
    inputs = _read_batch_inputs(connection, batch, policy, settings)
    writes = _BatchWrites(run_id=run_id, at=datetime.now(UTC))
    outcomes = [
        _apply_one(customer, inputs, writes, settings, extractor_name) for customer in batch
    ]
    writes.write(connection)
    return outcomes


def _read_batch_inputs(
    connection: duckdb.DuckDBPyConnection,
    batch: Sequence[CustomerToEnrich],
    policy: EnrichmentPolicy,
    settings: EnrichmentSettings,
) -> _BatchInputs:
    ids = [customer.customer_id for customer in batch]
    urls = sorted({customer.website_url for customer in batch if customer.website_url})
    names = [settings.data_points[key].attribute_name for key in settings.enabled_keys]
    attributes: dict[str, dict[str, str | None]] = {}
    for customer_id, name, string, boolean in connection.execute(
        "SELECT customer_id, name, value_string, value_boolean FROM custom_attributes "
        "WHERE list_contains($ids, customer_id) AND list_contains($names, name)",
        {"ids": ids, "names": names},
    ).fetchall():
        attributes.setdefault(customer_id, {})[name] = _as_text(
            boolean if boolean is not None else string
        )
    return _BatchInputs(
        due=_still_due(connection, ids, policy),
        crawls={
            url: (status, reason, content_key)
            for url, status, reason, content_key in connection.execute(
                "SELECT website_url, status, reason, content_key FROM site_crawls "
                "WHERE list_contains(?, website_url)",
                [urls],
            ).fetchall()
        },
        extractions={
            url: (key, result)
            for url, key, result in connection.execute(
                "SELECT website_url, extraction_key, result FROM extractions "
                "WHERE list_contains(?, website_url)",
                [urls],
            ).fetchall()
        },
        attributes=attributes,
        credits_left=balance(connection),
    )


def _still_due(
    connection: duckdb.DuckDBPyConnection, customer_ids: Sequence[str], policy: EnrichmentPolicy
) -> set[str]:
    """The policy check of `select_customers` again, read inside the writing transaction: a
    record brought up to date meanwhile (a retry, or a concurrent run) is left alone."""
    rows = connection.execute(
        """
        SELECT id FROM unnest($ids) AS wanted(id)
        LEFT JOIN (
            SELECT customer_id, max(created_at) AS last_enriched FROM enrichments
            WHERE status = 'enriched' AND list_contains($ids, customer_id)
            GROUP BY customer_id
        ) AS enriched ON enriched.customer_id = wanted.id
        WHERE last_enriched IS NULL OR last_enriched < $cutoff
        """,
        {"ids": list(customer_ids), "cutoff": policy.reenrich_before},
    ).fetchall()
    return {customer_id for (customer_id,) in rows}


def _apply_one(
    customer: CustomerToEnrich,
    inputs: _BatchInputs,
    writes: _BatchWrites,
    settings: EnrichmentSettings,
    extractor_name: str,
) -> tuple[str, str | None]:
    if customer.customer_id not in inputs.due:
        return "done", None  # brought up to date meanwhile (a retry, or a concurrent run)
    if customer.website_url is None:
        return writes.outcome(customer, "skipped", customer.website_error or "no website")
    crawl = inputs.crawls.get(customer.website_url)
    if crawl is None:
        return writes.outcome(customer, "failed", "website not crawled yet")
    status, reason, content_key = crawl
    if status != "ok":
        return writes.outcome(customer, "failed", reason)
    keys = settings.enabled_keys
    key = extraction_key(content_key or "", extractor_name, keys)
    stored = inputs.extractions.get(customer.website_url)
    if stored is None or stored[0] != key:
        return writes.outcome(customer, "failed", "pages not extracted yet")
    extraction = Extraction.from_json(stored[1])
    if extraction.error:
        return writes.outcome(customer, "failed", extraction.error)
    if not any(extraction.data.get(k) is not None for k in keys):
        detail = "; ".join(extraction.problems[:2])
        reason = "no data points found on the site" + (f" ({detail})" if detail else "")
        return writes.outcome(customer, "failed", reason)
    if inputs.credits_left <= 0:
        return writes.outcome(customer, "skipped", "out of credits")
    inputs.credits_left -= 1
    enrichment_id = uuid.uuid4().hex
    usage = extraction.usage
    writes.enrichments.append(
        [enrichment_id, customer.customer_id, writes.run_id, "enriched", None,
         customer.website_url, extractor_name, key, 1, writes.at, usage.prompt_tokens,
         usage.completion_tokens, usage.cost_usd]
    )  # fmt: skip
    writes.values.extend(
        [
            enrichment_id,
            data_point,
            _as_text(extraction.data.get(data_point)),
            ev.url if (ev := extraction.evidence.get(data_point)) else None,
            ev.quote if ev else None,
            extraction.confidence.get(data_point),
        ]
        for data_point in keys
    )
    current = inputs.attributes.get(customer.customer_id, {})
    _write_attributes(writes, customer.customer_id, enrichment_id, extraction, settings, current)
    _write_note(writes, customer, enrichment_id, extraction, settings)
    writes.charges.append((customer.customer_id, enrichment_id))
    return "enriched", None


def _as_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _write_attributes(
    writes: _BatchWrites,
    customer_id: str,
    enrichment_id: str,
    extraction: Extraction,
    settings: EnrichmentSettings,
    current: dict[str, str | None],
) -> None:
    """Replace current attribute values, keeping every change in the history."""
    for key in settings.enabled_keys:
        name = settings.data_points[key].attribute_name
        value = extraction.data.get(key)
        new_text, old_text = _as_text(value), current.get(name)
        if new_text == old_text:
            continue
        reason = "enrichment" if name not in current else "re-enrichment"
        writes.history.append(
            [customer_id, name, old_text, new_text, writes.at, enrichment_id, reason]
        )
        if value is None:
            writes.cleared.append((customer_id, name))
            continue
        is_boolean = DATA_POINTS_BY_KEY[key].type == "Boolean"
        writes.attributes.append(
            [
                customer_id,
                name,
                None if is_boolean else value,
                value if is_boolean else None,
                "enrichment",
                enrichment_id,
                writes.at,
            ]
        )


def summary_note(extraction: Extraction, settings: EnrichmentSettings) -> str | None:
    """The note body built from the data points flagged "add to notes summary"."""
    lines = []
    for key in settings.enabled_keys:
        if not settings.data_points[key].in_notes:
            continue
        value = extraction.data.get(key)
        if value is None:
            continue
        label = key.replace("_", " ").capitalize()
        shown = ("yes" if value else "no") if isinstance(value, bool) else value
        lines.append(f"- {label}: {shown}")
    return "\n".join(lines) if lines else None


def _write_note(
    writes: _BatchWrites,
    customer: CustomerToEnrich,
    enrichment_id: str,
    extraction: Extraction,
    settings: EnrichmentSettings,
) -> None:
    if not settings.summary_note:
        return
    body = summary_note(extraction, settings)
    if body is None:
        return
    heading = f"Enrichment summary from {customer.website_url}"
    writes.notes.append(
        [uuid.uuid4().hex, customer.customer_id, f"{heading}\n{body}", "enrichment",
         enrichment_id, writes.at]
    )  # fmt: skip
