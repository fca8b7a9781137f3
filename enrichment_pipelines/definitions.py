"""The Dagster code location: assets, checks, jobs, sensors, schedules and resources."""

from __future__ import annotations

from typing import Any

import dagster as dg

from enrichment_pipelines.assets import ASSET_CHECKS, ASSETS
from enrichment_pipelines.core.config import EnrichConfig
from enrichment_pipelines.jobs import (
    chartmogul_sync_job,
    chartmogul_sync_schedule,
    enrich_customer_job,
    enrich_customers_job,
    live_enrichment_job,
    refresh_segments_job,
    segment_memberships_schedule,
)
from enrichment_pipelines.resources import (
    ChartMogulResource,
    CustomerFileResource,
    DataQualityResource,
    EnrichmentRunResource,
    ExtractorResource,
    WarehouseResource,
    WebClientResource,
)
from enrichment_pipelines.sensors import new_customers_sensor, segment_entrants_sensor


def default_resources(config: EnrichConfig | None = None) -> dict[str, Any]:
    """The resources built from one configuration (read from the environment and the settings
    file when none is given): the CLI passes its own, so both always agree."""
    config = config or EnrichConfig.load()
    return {
        "warehouse": WarehouseResource.from_config(config),
        "web": WebClientResource.from_config(config.crawl),
        "extractor": ExtractorResource.from_config(
            config.llm, config.taxonomy_path, config.fingerprints_path
        ),
        "customer_file": CustomerFileResource(
            path=str(config.customers_path) if config.customers_path else None
        ),
        "enrichment_run": EnrichmentRunResource(),
        "data_quality": DataQualityResource.from_config(config.quality),
        "chartmogul": ChartMogulResource.from_config(config.chartmogul),
    }


def build_definitions(config: EnrichConfig | None = None) -> dg.Definitions:
    """The code location, its resources built from `config` (by default the environment's)."""
    return dg.Definitions(
        assets=ASSETS,
        asset_checks=ASSET_CHECKS,
        jobs=[
            enrich_customers_job,
            enrich_customer_job,
            live_enrichment_job,
            refresh_segments_job,
            chartmogul_sync_job,
        ],
        schedules=[segment_memberships_schedule, chartmogul_sync_schedule],
        sensors=[new_customers_sensor, segment_entrants_sensor],
        resources=default_resources(config),
        # Steps of a run share one process: a shard run's steps are sequential anyway, and a
        # process per step would import Dagster and the project again for each of them.
        executor=dg.in_process_executor,
    )


defs = build_definitions()
