"""The shard steps: `scraped_pages` -> `enriched_attributes` -> `customer_attributes`.

One step makes all three, as a stream (`core.enrichment.stream`): a site's pages are
extracted, and its customers' records written, while other sites are still being crawled.
Selecting fewer of the three runs only those stages, from what the warehouse holds (say,
`enriched_attributes` alone re-extracts stored pages after a settings change, crawling
nothing).
"""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import dagster as dg

from enrichment_pipelines.assets.progress import StepProgress
from enrichment_pipelines.core.enrichment.stream import (
    CrawlPlan,
    ShardEvents,
    ShardSummary,
    Stages,
    enrich_shard,
)
from enrichment_pipelines.core.reports import counts_table, settings_table
from enrichment_pipelines.core.segments.compiler import SegmentError
from enrichment_pipelines.core.settings import EnrichmentSettings, ensure_settings
from enrichment_pipelines.core.status import workspace_status
from enrichment_pipelines.core.warehouse import Warehouse
from enrichment_pipelines.partitions import shard_asset_spec, shard_multi_asset
from enrichment_pipelines.resources import (
    EnrichmentRunResource,
    ExtractorResource,
    WarehouseResource,
    WebClientResource,
)

SCRAPED_PAGES = dg.AssetKey("scraped_pages")
ENRICHED_ATTRIBUTES = dg.AssetKey("enriched_attributes")
CUSTOMER_ATTRIBUTES = dg.AssetKey("customer_attributes")


@shard_multi_asset(
    name="enrich_shard",
    # The crawl is what the "web" pool limits across runs (see deploy/dagster.yaml).
    pool="web",
    specs=[
        shard_asset_spec(
            SCRAPED_PAGES,
            deps=["customers"],
            description="The home page and fact pages (about, pricing, contact, careers, "
            "imprint) of each website whose customers need enriching, as clean text and "
            "metadata. Pages younger than the maximum age are not fetched again; older ones "
            "are re-fetched with conditional requests, and pages that did not change are "
            "marked unchanged (their extraction is reused).",
        ),
        shard_asset_spec(
            ENRICHED_ATTRIBUTES,
            deps=[SCRAPED_PAGES],
            description="Data points extracted from each crawled website, with evidence and "
            "confidence. A site whose pages, extractor and enabled data points are unchanged "
            "is not extracted again.",
        ),
        shard_asset_spec(
            CUSTOMER_ATTRIBUTES,
            deps=[ENRICHED_ATTRIBUTES],
            description="Each customer's enrichment written as custom attributes (history "
            "kept), a summary note, and one credit per record enriched, in the same "
            "transaction. Records without a website, with a failed crawl, or beyond the credit "
            "balance are skipped with the reason.",
        ),
    ],
)
def enrich_shard_step(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    web: WebClientResource,
    extractor: ExtractorResource,
    enrichment_run: EnrichmentRunResource,
) -> Iterator[dg.MaterializeResult]:
    """Crawl, extract and write the shard's records as one stream."""
    selected = context.selected_asset_keys
    stages = Stages(
        crawl=SCRAPED_PAGES in selected,
        extract=ENRICHED_ATTRIBUTES in selected,
        apply=CUSTOMER_ATTRIBUTES in selected,
    )
    store = warehouse.get_warehouse()
    with store.transaction() as connection:
        settings, created = ensure_settings(connection)
    if created:
        context.log.info("no enrichment settings saved yet: saved the defaults")
    chosen = extractor.get_extractor()
    crawled = StepProgress(context, "crawled", "websites")
    extracted = StepProgress(context, "extracted", "websites")
    applied = StepProgress(context, "wrote", "records")

    def started(records: int, websites: int) -> None:
        context.log.info(f"{records} records to bring up to date, {websites} websites")
        crawled.start(websites)
        extracted.start(websites)
        applied.start(records)

    try:
        summary = enrich_shard(
            store,
            enrichment_run.policy(context),
            chosen,
            settings,
            context.run_id,
            crawl=CrawlPlan(web.crawl_options(), timedelta(hours=web.max_page_age_hours)),
            stages=stages,
            events=ShardEvents(
                started=started, crawled=crawled, extracted=extracted, applied=applied
            ),
        )
    except SegmentError as error:
        raise dg.Failure(str(error)) from None
    if summary.crawl.crawling_elsewhere:
        context.log.info(
            f"{summary.crawl.crawling_elsewhere} websites were being crawled by another run"
        )
    if summary.extract.failed:
        context.log.warning(
            f"{summary.extract.failed} sites could not be extracted; retried next run"
        )
    if summary.apply.skipped.get("out of credits"):
        context.log.warning(
            f"out of credits: {summary.apply.skipped['out of credits']} records were not enriched"
        )
    if stages.crawl:
        yield dg.MaterializeResult(asset_key=SCRAPED_PAGES, metadata=_crawl_metadata(summary))
    if stages.extract:
        yield dg.MaterializeResult(
            asset_key=ENRICHED_ATTRIBUTES, metadata=_extract_metadata(summary, chosen.name)
        )
    if stages.apply:
        yield dg.MaterializeResult(
            asset_key=CUSTOMER_ATTRIBUTES,
            metadata=_apply_metadata(summary, store, settings),
        )


def _crawl_metadata(summary: ShardSummary) -> dict[str, Any]:
    crawl = summary.crawl
    failed = sum(crawl.failed.values())
    return {
        "websites_crawled": crawl.crawled,
        "websites_ok": crawl.crawled - failed,
        "websites_failed": failed,
        "pages_fetched": crawl.pages,
        "websites_unchanged": crawl.unchanged,
        "failures_by_reason": dg.MetadataValue.md(counts_table(crawl.failed)),
    }


def _extract_metadata(summary: ShardSummary, extractor: str) -> dict[str, Any]:
    extract = summary.extract
    return {
        "extractor": extractor,
        "sites_extracted": extract.extracted,
        "sites_unchanged": extract.unchanged,
        "sites_failed": extract.failed,
        "values_found": extract.values_found,
        "llm_calls": extract.usage.calls,
        "prompt_tokens": extract.usage.prompt_tokens,
        "completion_tokens": extract.usage.completion_tokens,
        "llm_cost_usd": round(extract.usage.cost_usd, 4),
        "problems": dg.MetadataValue.md(counts_table(extract.problems, "problem")),
    }


def _apply_metadata(
    summary: ShardSummary,
    store: Warehouse,
    settings: EnrichmentSettings,
) -> dict[str, Any]:
    applied = summary.apply
    with store.connect() as connection:
        status = workspace_status(connection)
    return {
        "records_in_scope": summary.in_scope,
        "records_up_to_date": summary.in_scope - summary.records,
        "records_enriched": applied.enriched,
        "records_skipped": sum(applied.skipped.values()),
        "records_failed": sum(applied.failed.values()),
        "credits_spent": applied.credits_spent,
        "credit_balance": status.credit_balance,
        "enriched_total": status.enriched_total,
        "enriched_last_7_days": status.enriched_last_7_days,
        "skipped_by_reason": dg.MetadataValue.md(counts_table(applied.skipped)),
        "settings_in_force": dg.MetadataValue.md(settings_table(settings)),
        "failed_by_reason": dg.MetadataValue.md(counts_table(applied.failed)),
    }
