"""The Dagster code location: assets, jobs and resources."""

from __future__ import annotations

import os

import dagster as dg

from enrichment_pipelines.assets import ENRICHMENT_ASSETS
from enrichment_pipelines.core.extractors.llm import DEFAULT_LLM_MODEL
from enrichment_pipelines.data_quality.checks import enrichment_quality_checks
from enrichment_pipelines.resources import (
    DataQualityResource,
    EnrichmentRunResource,
    ExtractorResource,
    WarehouseResource,
    WebClientResource,
)

enrich_customers_job = dg.define_asset_job(
    "enrich_customers",
    selection=dg.AssetSelection.assets(*ENRICHMENT_ASSETS),
    description="Import customers, crawl their websites, extract data points, write results.",
)

enrich_customer_job = dg.define_asset_job(
    "enrich_customer",
    selection=dg.AssetSelection.assets(*ENRICHMENT_ASSETS) - dg.AssetSelection.assets("customers"),
    description="Enrich the records in `enrichment_run.customer_ids` now, whatever their last "
    "enrichment (one-off). Fill in the customer id in the launchpad.",
    config={
        "resources": {
            "enrichment_run": {"config": {"customer_ids": ["<customer id>"], "enrich_now": True}}
        }
    },
)


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
    jobs=[enrich_customers_job, enrich_customer_job],
    resources=default_resources(),
)
