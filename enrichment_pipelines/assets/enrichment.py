import dagster as dg

from enrichment_pipelines.assets.progress import StepProgress
from enrichment_pipelines.core.enrichment.apply import apply_enrichments
from enrichment_pipelines.core.enrichment.extract import extract_sites
from enrichment_pipelines.core.enrichment.policy import select_customers
from enrichment_pipelines.core.reports import counts_table, settings_table
from enrichment_pipelines.core.settings import ensure_settings
from enrichment_pipelines.core.status import workspace_status
from enrichment_pipelines.partitions import shard_asset
from enrichment_pipelines.resources import (
    EnrichmentRunResource,
    ExtractorResource,
    WarehouseResource,
)


@shard_asset(deps=["scraped_pages"], pool="llm")
def enriched_attributes(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    extractor: ExtractorResource,
    enrichment_run: EnrichmentRunResource,
) -> dg.MaterializeResult:
    """Data points extracted from each crawled website, with evidence and confidence. A site
    whose pages, extractor and enabled data points are unchanged is not extracted again."""
    store = warehouse.get_warehouse()
    with store.transaction() as connection:
        settings, created = ensure_settings(connection)
    if created:
        context.log.info("no enrichment settings saved yet: saved the defaults")
    chosen = extractor.get_extractor()
    summary = extract_sites(store, enrichment_run.policy(context), chosen, settings.enabled_keys)
    if summary.failed:
        context.log.warning(f"{summary.failed} sites could not be extracted; retried next run")
    return dg.MaterializeResult(
        metadata={
            "extractor": chosen.name,
            "sites_extracted": summary.extracted,
            "sites_unchanged": summary.unchanged,
            "sites_failed": summary.failed,
            "values_found": summary.values_found,
            "llm_calls": summary.usage.calls,
            "prompt_tokens": summary.usage.prompt_tokens,
            "completion_tokens": summary.usage.completion_tokens,
            "llm_cost_usd": round(summary.usage.cost_usd, 4),
            "problems": dg.MetadataValue.md(counts_table(summary.problems, "problem")),
        }
    )


@shard_asset(deps=["enriched_attributes"])
def customer_attributes(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    extractor: ExtractorResource,
    enrichment_run: EnrichmentRunResource,
) -> dg.MaterializeResult:
    """Each customer's enrichment written as custom attributes (history kept), a summary note,
    and one credit per record enriched, in the same transaction (a batch of records each).
    Records without a website, with a failed crawl, or beyond the credit balance are skipped
    with the reason."""
    store = warehouse.get_warehouse()
    policy = enrichment_run.policy(context)
    with store.transaction() as connection:
        settings, _ = ensure_settings(connection)
        records = len(select_customers(connection, policy))
        in_scope = len(select_customers(connection, policy, up_to_date_too=True))
    summary = apply_enrichments(
        store,
        policy,
        settings,
        extractor.get_extractor().name,
        context.run_id,
        on_done=StepProgress(context, records, "wrote", "records"),
    )
    if summary.skipped.get("out of credits"):
        context.log.warning(
            f"out of credits: {summary.skipped['out of credits']} records were not enriched"
        )
    with store.connect() as connection:
        status = workspace_status(connection)
    return dg.MaterializeResult(
        metadata={
            "records_in_scope": in_scope,
            "records_up_to_date": in_scope - records,
            "records_enriched": summary.enriched,
            "records_skipped": sum(summary.skipped.values()),
            "records_failed": sum(summary.failed.values()),
            "credits_spent": summary.credits_spent,
            "credit_balance": status.credit_balance,
            "enriched_total": status.enriched_total,
            "enriched_last_7_days": status.enriched_last_7_days,
            "skipped_by_reason": dg.MetadataValue.md(counts_table(summary.skipped)),
            "settings_in_force": dg.MetadataValue.md(settings_table(settings)),
            "failed_by_reason": dg.MetadataValue.md(counts_table(summary.failed)),
        }
    )
