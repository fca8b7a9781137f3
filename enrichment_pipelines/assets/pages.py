from collections import Counter
from datetime import timedelta

import dagster as dg

from enrichment_pipelines.assets.progress import StepProgress
from enrichment_pipelines.core.crawl import SiteCrawl, crawl_sites
from enrichment_pipelines.core.enrichment.pages import (
    CrawlWriter,
    claim_websites,
    load_pages,
    release_claims,
    websites_to_crawl,
)
from enrichment_pipelines.core.enrichment.reasons import reason_group
from enrichment_pipelines.core.reports import counts_table
from enrichment_pipelines.core.segments.compiler import SegmentError
from enrichment_pipelines.partitions import shard_asset
from enrichment_pipelines.resources import (
    EnrichmentRunResource,
    WarehouseResource,
    WebClientResource,
)


@shard_asset(deps=["customers"], pool="web")
def scraped_pages(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    web: WebClientResource,
    enrichment_run: EnrichmentRunResource,
) -> dg.MaterializeResult:
    """The home page and fact pages (about, pricing, contact, careers, imprint) of each website
    whose customers need enriching, as clean text and metadata. Pages younger than the maximum
    age are not fetched again; older ones are re-fetched with conditional requests, and pages
    that did not change are marked unchanged (their extraction is reused)."""
    store = warehouse.get_warehouse()
    with store.transaction() as connection:
        try:
            wanted = websites_to_crawl(
                connection, enrichment_run.policy(context), timedelta(hours=web.max_page_age_hours)
            )
        except SegmentError as error:
            raise dg.Failure(str(error)) from None
        # The lease outlasts the slowest crawl these sites can take; a killed run's lapses.
        lease = timedelta(seconds=web.site_budget_seconds * (len(wanted) // web.concurrency + 2))
        urls = claim_websites(connection, wanted, context.run_id, lease)
        previous = load_pages(connection, urls)
    if len(urls) < len(wanted):
        context.log.info(f"{len(wanted) - len(urls)} websites are being crawled by another run")
    context.log.info(f"crawling {len(urls)} websites")
    progress = StepProgress(context, len(urls), "crawled", "websites")
    try:
        with CrawlWriter(store, context.run_id) as writer:

            def done(crawl: SiteCrawl) -> None:
                writer(crawl)
                progress()

            crawls = crawl_sites(urls, web.crawl_options(), on_done=done, previous=previous)
    finally:  # stopped or failed: hand the unsaved sites back (a killed run's claims lapse)
        with store.transaction() as connection:
            release_claims(connection, context.run_id)
    failures = Counter(reason_group(crawl.reason) for crawl in crawls if crawl.status != "ok")
    return dg.MaterializeResult(
        metadata={
            "websites_crawled": len(crawls),
            "websites_ok": len(crawls) - sum(failures.values()),
            "websites_failed": sum(failures.values()),
            "pages_fetched": sum(len(crawl.pages) for crawl in crawls),
            "websites_unchanged": sum(crawl.unchanged for crawl in crawls),
            "failures_by_reason": dg.MetadataValue.md(counts_table(failures)),
        }
    )
