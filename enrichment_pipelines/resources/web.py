from __future__ import annotations

import dagster as dg

from enrichment_pipelines.core.config import CrawlConfig
from enrichment_pipelines.core.crawl import CrawlOptions
from enrichment_pipelines.core.websites import Network, parse_networks
from enrichment_pipelines.resources.config_fields import LaunchDefaults, config_values, to_config


class WebClientResource(dg.ConfigurableResource):
    """How websites are fetched (the `ENRICH_CRAWL_*` settings). Private networks stay refused
    unless `allowed_private_networks` ("1" for all, or CIDR ranges) allows them."""

    concurrency: int = CrawlConfig.concurrency
    max_fact_pages: int = CrawlConfig.max_fact_pages
    request_timeout_seconds: float = CrawlConfig.request_timeout_seconds
    site_budget_seconds: float = CrawlConfig.site_budget_seconds
    per_host_delay_seconds: float = CrawlConfig.per_host_delay_seconds
    retries: int = CrawlConfig.retries
    max_page_age_hours: float = CrawlConfig.max_page_age_hours
    allowed_private_networks: str = CrawlConfig.allowed_private_networks

    @classmethod
    def from_config(cls, config: CrawlConfig) -> LaunchDefaults[WebClientResource]:
        return cls.configure_at_launch(**config_values(config))

    def allowed_networks(self) -> tuple[Network, ...]:
        return parse_networks(self.allowed_private_networks)

    def crawl_options(self) -> CrawlOptions:
        return CrawlOptions.from_config(to_config(self, CrawlConfig))
