"""The Dagster code location: assets, jobs and resources."""

from __future__ import annotations

import dagster as dg

from enrichment_pipelines.assets import ENRICHMENT_ASSETS
from enrichment_pipelines.resources import (
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


def default_resources() -> dict[str, dg.ConfigurableResource]:
    return {
        "warehouse": WarehouseResource(),
        "web": WebClientResource(),
        "extractor": ExtractorResource(),
        "enrichment_run": EnrichmentRunResource(),
    }


defs = dg.Definitions(
    assets=ENRICHMENT_ASSETS,
    jobs=[enrich_customers_job],
    resources=default_resources(),
)
