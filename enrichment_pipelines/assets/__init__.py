"""The asset graph: customers -> scraped_pages -> enriched_attributes -> customer_attributes
-> customer_360."""

from enrichment_pipelines.assets.customers import customers
from enrichment_pipelines.assets.enrichment import customer_attributes, enriched_attributes
from enrichment_pipelines.assets.pages import scraped_pages
from enrichment_pipelines.assets.reports import customer_360

ENRICHMENT_ASSETS = [
    customers,
    scraped_pages,
    enriched_attributes,
    customer_attributes,
    customer_360,
]

__all__ = [
    "ENRICHMENT_ASSETS",
    "customer_360",
    "customer_attributes",
    "customers",
    "enriched_attributes",
    "scraped_pages",
]
