"""Customers, crawls and extractions made in memory, for tests of the core steps without HTTP,
an LLM or Dagster. `FakeExtractor` has the `Extractor` protocol's name, concurrency and
extract."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from enrichment_pipelines.core.crawl import Page, SiteCrawl
from enrichment_pipelines.core.customers import import_customers
from enrichment_pipelines.core.enrichment.apply import ApplySummary
from enrichment_pipelines.core.enrichment.extract import ExtractSummary
from enrichment_pipelines.core.enrichment.pages import save_crawls
from enrichment_pipelines.core.enrichment.policy import EnrichmentPolicy
from enrichment_pipelines.core.enrichment.stream import ShardEvents, Stages, enrich_shard
from enrichment_pipelines.core.extractors import Evidence, Extraction, Extractor
from enrichment_pipelines.core.settings import EnrichmentSettings
from enrichment_pipelines.core.warehouse import Warehouse


def site(number: int) -> str:
    return f"https://site{number:03d}.example"


def extraction_of(url: str, **data: object) -> Extraction:
    """An extraction of `data`, each value quoted from the page at `url`."""
    extraction = Extraction()
    for key, value in data.items():
        extraction.set(key, value, Evidence(url, f"quote for {key}"), 0.9)
    assert extraction.problems == []
    return extraction


@dataclass
class FakeExtractor:
    """An Extractor: every site is a SaaS company, unless told to fail or to return more."""

    name: str = "fake-1"
    concurrency: int = 4
    cpu_bound: bool = False  # `calls` is read back: it must run in this process
    failing: set[str] = field(default_factory=set)
    results: dict[str, Extraction] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def extract(self, website_url: str, pages: Sequence[Page], keys: Sequence[str]) -> Extraction:
        self.calls.append(website_url)
        if website_url in self.failing:
            raise RuntimeError("bad markup")
        if website_url in self.results:
            return self.results[website_url]
        return extraction_of(pages[0].url, is_saas=True)


def import_csv(warehouse: Warehouse, tmp_path: Path, rows: Sequence[tuple[str, str]]) -> None:
    """Import customers `import:<id>` with these (id, website) from a CSV in `tmp_path`."""
    path = tmp_path / "customers.csv"
    lines = ["id,name,website"] + [f"{cid},Company {cid},{website}" for cid, website in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = import_customers(warehouse, path)
    assert report.rejected == 0, report.problems


def import_sites(warehouse: Warehouse, tmp_path: Path, count: int) -> list[str]:
    """Customers import:1..count with websites site001..; returns the websites."""
    sites = [site(n) for n in range(1, count + 1)]
    import_csv(warehouse, tmp_path, [(str(n), url) for n, url in enumerate(sites, start=1)])
    return sites


def crawl_of(
    website_url: str, text: str = "We sell software.", *, at: datetime | None = None
) -> SiteCrawl:
    """A successful crawl of one home page with `text`."""
    at = at or datetime.now(UTC)
    page = Page(
        url=website_url + "/",
        fetched_at=at,
        status_code=200,
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
        text=text,
    )
    return SiteCrawl(website_url, at, "ok", pages=[page])


def store_crawls(warehouse: Warehouse, crawls: Sequence[SiteCrawl], run_id: str = "run-1") -> None:
    with warehouse.transaction() as connection:
        save_crawls(connection, crawls, run_id)


def extract_sites(
    warehouse: Warehouse,
    policy: EnrichmentPolicy,
    extractor: Extractor,
    keys: Sequence[str],
    on_done: Callable[[str], None] | None = None,
) -> ExtractSummary:
    """The extraction stage alone, over the stored crawls, for the data points in `keys`."""
    defaults = EnrichmentSettings.defaults()
    settings = EnrichmentSettings(
        {key: replace(point, enabled=key in keys) for key, point in defaults.data_points.items()}
    )
    stages = Stages(crawl=False, apply=False)
    events = ShardEvents(extracted=on_done)
    return enrich_shard(
        warehouse, policy, extractor, settings, None, stages=stages, events=events
    ).extract


def apply_enrichments(
    warehouse: Warehouse,
    policy: EnrichmentPolicy,
    settings: EnrichmentSettings,
    extractor_name: str,
    run_id: str | None,
    on_done: Callable[[str, str, str | None], None] | None = None,
) -> ApplySummary:
    """The writing stage alone, over the stored crawls and extractions of `extractor_name`."""
    extractor = FakeExtractor(name=extractor_name)  # names the extractions to use; not called
    stages = Stages(crawl=False, extract=False)
    events = ShardEvents(applied=on_done)
    return enrich_shard(
        warehouse, policy, extractor, settings, run_id, stages=stages, events=events
    ).apply


def prepared(
    warehouse: Warehouse, tmp_path: Path, count: int, extractor: FakeExtractor
) -> list[str]:
    """`count` customers whose sites are crawled and extracted, ready to apply."""
    sites = import_sites(warehouse, tmp_path, count)
    store_crawls(warehouse, [crawl_of(url) for url in sites])
    extract_sites(
        warehouse, EnrichmentPolicy(), extractor, EnrichmentSettings.defaults().enabled_keys
    )
    return sites


def enriched(warehouse: Warehouse, tmp_path: Path, count: int) -> list[str]:
    """`count` customers (import:1..) crawled, extracted and enriched: one credit each."""
    extractor = FakeExtractor()
    sites = prepared(warehouse, tmp_path, count, extractor)
    settings = EnrichmentSettings.defaults()
    apply_enrichments(warehouse, EnrichmentPolicy(), settings, extractor.name, "run-1")
    return sites
