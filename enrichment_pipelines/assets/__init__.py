"""The asset graph: customers -> scraped_pages -> enriched_attributes -> customer_attributes
-> customer_360 -> data_quality_report."""

from enrichment_pipelines.assets.customers import customers
from enrichment_pipelines.assets.enrichment import customer_attributes, enriched_attributes
from enrichment_pipelines.assets.pages import scraped_pages
from enrichment_pipelines.assets.reports import customer_360, data_quality_report

ENRICHMENT_ASSETS = [
    customers,
    scraped_pages,
    enriched_attributes,
    customer_attributes,
    customer_360,
    data_quality_report,
]

__all__ = [
    "ENRICHMENT_ASSETS",
    "customer_360",
    "customer_attributes",
    "customers",
    "data_quality_report",
    "enriched_attributes",
    "scraped_pages",
]
