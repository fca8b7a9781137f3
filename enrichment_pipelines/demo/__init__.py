"""The bundled demo: fictional company websites served on loopback, and matching customers."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, replace
from pathlib import Path

from enrichment_pipelines.demo.companies import Company, generate_companies
from enrichment_pipelines.demo.server import SiteServer, site_address
from enrichment_pipelines.demo.sites import render_site

# The example query the demo runs and prints: the README's first query, word for word (a test
# holds them together), so the figure a new user sees is the one the README's query gives.
EXAMPLE_QUERY = Path(__file__).with_name("example_query.sql").read_text(encoding="utf-8").strip()

# Customers that cannot be enriched, so the demo shows skips with reasons.
_CUSTOMERS_WITHOUT_SITES = (
    ("no-site-1", "Corner Bakery Ltd", ""),
    ("no-site-2", "Hilltop Plumbing", ""),
    ("bad-site-1", "Scriptkid Inc", "javascript:alert(1)"),
    ("bad-site-2", "Old FTP Corp", "ftp://files.oldftp.example"),
)


@dataclass
class DemoSites:
    """Generated companies, their sites on a running server, and the customer file."""

    companies: list[Company]
    server: SiteServer

    def website(self, company: Company) -> str:
        return self.server.url(site_address(company.index))

    def write_customers(self, path: Path) -> Path:
        """A CSV of customers: one per company plus a few that cannot be enriched."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id", "name", "website", "email", "country", "tags"])
            for company in self.companies:
                writer.writerow(
                    [
                        f"cus_{company.index:04d}",
                        company.name,
                        self.website(company),
                        f"billing@{company.slug}.example",
                        company.billing_country,
                        "demo;" + company.archetype.market.lower(),
                    ]
                )
            for external_id, name, website in _CUSTOMERS_WITHOUT_SITES:
                writer.writerow([external_id, name, website, "", "", "demo"])
        return path

    def write_expected(self, path: Path) -> Path:
        """What each healthy site says, by website URL (for scoring extraction)."""
        expected = {
            self.website(company): company.expected
            for company in self.companies
            if company.fault is None
        }
        path.write_text(json.dumps(expected, indent=1, sort_keys=True), encoding="utf-8")
        return path


def start_demo_sites(count: int = 220, seed: int = 7, latency_seconds: float = 0.0) -> DemoSites:
    """Generate `count` companies and serve their sites (unreachable ones get no socket);
    every response waits at least `latency_seconds`, like a distant server."""
    companies = generate_companies(count, seed)
    sites = {
        site_address(company.index): {
            path: replace(response, delay_seconds=max(response.delay_seconds, latency_seconds))
            for path, response in render_site(company).items()
        }
        for company in companies
        if company.fault != "unreachable"
    }
    return DemoSites(companies, SiteServer(sites).start())
