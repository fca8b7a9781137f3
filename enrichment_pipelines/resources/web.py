from __future__ import annotations

import dagster as dg

from enrichment_pipelines.core.crawl import CrawlOptions
from enrichment_pipelines.core.settings import allow_private_networks


class WebClientResource(dg.ConfigurableResource):
    """How websites are fetched. Private networks stay refused unless allowed here or by
    ENRICH_ALLOW_PRIVATE_NETWORKS=1."""

    concurrency: int = 32
    max_fact_pages: int = 5
    request_timeout_seconds: float = 10.0
    site_budget_seconds: float = 60.0
    max_page_age_hours: float = 24.0
    allow_private_networks: bool = False

    def crawl_options(self) -> CrawlOptions:
        return CrawlOptions(
            max_fact_pages=self.max_fact_pages,
            concurrency=self.concurrency,
            request_timeout_seconds=self.request_timeout_seconds,
            site_budget_seconds=self.site_budget_seconds,
            allow_private=self.allow_private_networks or allow_private_networks(),
        )
