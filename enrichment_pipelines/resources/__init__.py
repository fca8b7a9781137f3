"""Dagster resources: thin, typed wrappers that build the core's objects from configuration."""

from enrichment_pipelines.resources.chartmogul import ChartMogulResource
from enrichment_pipelines.resources.customer_file import CustomerFileResource
from enrichment_pipelines.resources.data_quality import DataQualityResource
from enrichment_pipelines.resources.enrichment_run import EnrichmentRunResource
from enrichment_pipelines.resources.extractor import ExtractorResource
from enrichment_pipelines.resources.warehouse import WarehouseResource
from enrichment_pipelines.resources.web import WebClientResource

__all__ = [
    "ChartMogulResource",
    "CustomerFileResource",
    "DataQualityResource",
    "EnrichmentRunResource",
    "ExtractorResource",
    "WarehouseResource",
    "WebClientResource",
]
