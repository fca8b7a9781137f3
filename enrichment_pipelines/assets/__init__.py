"""The asset graph: customers -> scraped_pages -> enriched_attributes -> customer_attributes
-> segment_memberships -> customer_360 (quality checks) -> analytics_snapshot; and
customer_attributes -> data_quality_report. The three enrichment assets are partitioned by
customer shard."""

from enrichment_pipelines.assets.customers import customers
from enrichment_pipelines.assets.enrichment import customer_attributes, enriched_attributes
from enrichment_pipelines.assets.pages import scraped_pages
from enrichment_pipelines.assets.reports import (
    analytics_snapshot,
    customer_360,
    data_quality_report,
)
from enrichment_pipelines.assets.segments import segment_memberships

ENRICHMENT_ASSETS = [
    customers,
    scraped_pages,
    enriched_attributes,
    customer_attributes,
    segment_memberships,
    customer_360,
    analytics_snapshot,
    data_quality_report,
]

PARTITIONED_ASSETS = [scraped_pages, enriched_attributes, customer_attributes]
# What a live run over shards brings up to date (customers are imported separately), and what
# a batch does (the whole-warehouse assets run once, after every shard).
SHARD_RUN_ASSETS = [*PARTITIONED_ASSETS, segment_memberships, customer_360, analytics_snapshot]
BATCH_ASSETS = [*SHARD_RUN_ASSETS, data_quality_report]

__all__ = [
    "BATCH_ASSETS",
    "ENRICHMENT_ASSETS",
    "PARTITIONED_ASSETS",
    "SHARD_RUN_ASSETS",
    "analytics_snapshot",
    "customer_360",
    "customer_attributes",
    "customers",
    "data_quality_report",
    "enriched_attributes",
    "scraped_pages",
    "segment_memberships",
]
