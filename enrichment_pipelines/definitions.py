"""The Dagster code location: assets, checks, jobs, sensors, schedules and resources."""

from __future__ import annotations

import os

import dagster as dg

from enrichment_pipelines.assets import ENRICHMENT_ASSETS
from enrichment_pipelines.core.extractors import DEFAULT_LLM_MODEL
from enrichment_pipelines.data_quality.checks import enrichment_quality_checks
from enrichment_pipelines.jobs import (
    enrich_customer_job,
    enrich_customers_job,
    live_enrichment_job,
    refresh_segments_job,
    segment_memberships_schedule,
)
from enrichment_pipelines.resources import (
    DataQualityResource,
    EnrichmentRunResource,
    ExtractorResource,
    WarehouseResource,
    WebClientResource,
)
from enrichment_pipelines.sensors import new_customers_sensor, segment_entrants_sensor


def _from_env(name: str) -> dg.EnvVar | None:
    """The variable, read at run time (so secrets stay out of stored config), when it is set."""
    return dg.EnvVar(name) if os.environ.get(name) else None


def default_resources() -> dict[str, dg.ConfigurableResource]:
    return {
        "warehouse": WarehouseResource(),
        "web": WebClientResource(),
        "extractor": ExtractorResource(
            taxonomy_path=_from_env("ENRICH_TAXONOMY"),
            openai_api_key=_from_env("OPENAI_API_KEY"),
            openai_base_url=_from_env("OPENAI_BASE_URL"),
            llm_model=_from_env("ENRICH_LLM_MODEL") or DEFAULT_LLM_MODEL,
        ),
        "enrichment_run": EnrichmentRunResource(),
        "data_quality": DataQualityResource(),
    }


defs = dg.Definitions(
    assets=ENRICHMENT_ASSETS,
    asset_checks=[enrichment_quality_checks],
    jobs=[enrich_customers_job, enrich_customer_job, live_enrichment_job, refresh_segments_job],
    schedules=[segment_memberships_schedule],
    sensors=[new_customers_sensor, segment_entrants_sensor],
    resources=default_resources(),
    # Steps of a run share one process: a shard run's steps are sequential anyway, and a
    # process per step would import Dagster and the project again for each of them.
    executor=dg.in_process_executor,
)
