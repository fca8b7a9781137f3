"""Jobs: what a run of each kind materialises."""

import dagster as dg

from enrichment_pipelines.assets import EVERYTHING, SHARD_RUN, SINKS

enrich_customers_job = dg.define_asset_job(
    "enrich_customers",
    selection=EVERYTHING,
    description="Import customers, crawl their websites, extract data points, write results, "
    "for the shards chosen (a backfill over all shards is a batch).",
)

enrich_customer_job = dg.define_asset_job(
    "enrich_customer",
    selection=SHARD_RUN,
    description="Enrich the records in `enrichment_run.customer_ids` now, whatever their last "
    "enrichment (one-off). Fill in the customer id in the launchpad; any shard will do "
    "(`enrich customer ID` picks the customer's own).",
    config={
        "resources": {
            "enrichment_run": {"config": {"customer_ids": ["<customer id>"], "enrich_now": True}}
        }
    },
)

live_enrichment_job = dg.define_asset_job(
    "live_enrichment",
    selection=SHARD_RUN,
    description="Enrich the customers a live sensor found (new, or entering the target "
    "segment), one shard per run.",
)

refresh_segments_job = dg.define_asset_job(
    "refresh_segment_memberships",
    selection=dg.AssetSelection.assets("segment_memberships"),
    description="Record who entered and left each saved segment.",
)

segment_memberships_schedule = dg.ScheduleDefinition(
    job=refresh_segments_job,
    cron_schedule="30 */6 * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Keeps membership history current between enrichment runs.",
)

chartmogul_sync_job = dg.define_asset_job(
    "push_to_chartmogul",
    selection=SINKS,
    description="Push what changed in the enrichments to ChartMogul (CHARTMOGUL_API_KEY).",
)

chartmogul_sync_schedule = dg.ScheduleDefinition(
    job=chartmogul_sync_job,
    cron_schedule="15 * * * *",
    # Off until someone with a ChartMogul key turns it on (UI: Automation).
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Pushes new and changed enrichments to ChartMogul every hour.",
)
