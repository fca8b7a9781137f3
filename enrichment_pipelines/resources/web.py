from __future__ import annotations

import dagster as dg

from enrichment_pipelines.core.crawl import CrawlOptions
from enrichment_pipelines.core.settings import allowed_private_networks
from enrichment_pipelines.core.websites import Network, parse_networks


class WebClientResource(dg.ConfigurableResource):
    """How websites are fetched. Private networks stay refused unless allowed here
    (`allowed_private_networks`: "1" for all, or CIDR ranges) or by
    ENRICH_ALLOW_PRIVATE_NETWORKS."""

    concurrency: int = 32
    max_fact_pages: int = 5
    request_timeout_seconds: float = 10.0
    site_budget_seconds: float = 60.0
    per_host_delay_seconds: float = 0.1
    retries: int = 2
    max_page_age_hours: float = 24.0
    allowed_private_networks: str = ""

    def allowed_networks(self) -> tuple[Network, ...]:
        return parse_networks(self.allowed_private_networks) + allowed_private_networks()

    def crawl_options(self) -> CrawlOptions:
        return CrawlOptions(
            max_fact_pages=self.max_fact_pages,
            concurrency=self.concurrency,
            request_timeout_seconds=self.request_timeout_seconds,
            site_budget_seconds=self.site_budget_seconds,
            per_host_delay_seconds=self.per_host_delay_seconds,
            retries=self.retries,
            allowed_networks=self.allowed_networks(),
        )
