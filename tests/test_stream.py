"""The streaming shard run (`core.enrichment.stream`) over real sites on loopback: the stages
overlap, worker processes extract what threads would, a failing writer stops the crawl, and
the crawl waits for a writer that falls behind instead of piling sites up in memory."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from enrichment_pipelines.core.crawl import Crawler, CrawlOptions, SiteCrawl
from enrichment_pipelines.core.customers import import_customers
from enrichment_pipelines.core.enrichment import stream as stream_module
from enrichment_pipelines.core.enrichment.policy import EnrichmentPolicy
from enrichment_pipelines.core.enrichment.stream import (
    CrawlPlan,
    ShardEvents,
    Stages,
    enrich_shard,
)
from enrichment_pipelines.core.extractors.rules import RulesExtractor
from enrichment_pipelines.core.settings import EnrichmentSettings
from enrichment_pipelines.core.warehouse import Warehouse
from enrichment_pipelines.core.websites import parse_networks
from enrichment_pipelines.demo import DemoSites, start_demo_sites

LOOPBACK = parse_networks("127.0.0.0/8")
SETTINGS = EnrichmentSettings.defaults()


@pytest.fixture(scope="module")
def slow_sites() -> Iterator[DemoSites]:
    """Sites answering after 0.2 s: crawled a few at a time, the crawl lasts seconds."""
    sites = start_demo_sites(24, seed=21, latency_seconds=0.2)
    yield sites
    sites.server.stop()


def _import(warehouse: Warehouse, sites: DemoSites, folder: Path) -> tuple[int, int]:
    """Import the sites' customers (a few with no usable website among them): the number of
    records, and of distinct websites."""
    report = import_customers(
        warehouse, sites.write_customers(folder / "customers.csv"), allowed_networks=LOOPBACK
    )
    [(websites,)] = _table(warehouse, "SELECT count(DISTINCT website_url) FROM customers")
    return report.imported, websites


def _plan(concurrency: int = 4) -> CrawlPlan:
    options = replace(CrawlOptions(), allowed_networks=LOOPBACK, concurrency=concurrency)
    return CrawlPlan(options, max_page_age=timedelta(hours=1))


def _table(warehouse: Warehouse, sql: str) -> list[tuple[object, ...]]:
    with warehouse.connect() as connection:
        return connection.execute(sql).fetchall()


def test_records_are_written_while_the_crawl_goes_on(
    warehouse: Warehouse, slow_sites: DemoSites, tmp_path: Path
) -> None:
    records, total = _import(warehouse, slow_sites, tmp_path)
    crawled: list[str] = []
    crawled_when_first_written: list[int] = []

    def applied(customer_id: str, status: str, reason: str | None) -> None:
        if not crawled_when_first_written:
            crawled_when_first_written.append(len(crawled))

    summary = enrich_shard(
        warehouse, EnrichmentPolicy(), RulesExtractor(), SETTINGS, "run-1",
        crawl=_plan(concurrency=2),
        events=ShardEvents(crawled=lambda crawl: crawled.append(crawl.website_url),
                           applied=applied),
    )  # fmt: skip

    assert summary.crawl.crawled == len(crawled) == total
    # The first records were committed when most sites were still to be crawled.
    assert crawled_when_first_written[0] < total / 2
    applied = summary.apply
    assert (
        applied.enriched + sum(applied.failed.values()) + sum(applied.skipped.values()) == records
    )
    [(enriched, charged)] = _table(
        warehouse,
        "SELECT count(*) FILTER (status = 'enriched'), sum(credits_charged) FROM enrichments",
    )
    assert enriched == charged == summary.apply.enriched > total * 0.7


def test_worker_processes_extract_what_threads_extract(
    warehouse: Warehouse, slow_sites: DemoSites, tmp_path: Path
) -> None:
    _import(warehouse, slow_sites, tmp_path)
    crawl_only = Stages(extract=False, apply=False)
    enrich_shard(
        warehouse, EnrichmentPolicy(), RulesExtractor(), SETTINGS, "run-1",
        crawl=_plan(concurrency=8), stages=crawl_only,
    )  # fmt: skip
    extract_only = Stages(crawl=False, apply=False)
    results = {}
    for processes in (0, 1):  # in this process's threads, then in a worker process
        renamed = RulesExtractor()
        renamed.name = f"{renamed.name}-{processes}"  # a new extractor: extract everything
        summary = enrich_shard(
            warehouse, EnrichmentPolicy(), renamed, SETTINGS, None,
            stages=extract_only, processes=processes,
        )  # fmt: skip
        assert summary.extract.extracted > 0 and summary.extract.failed == 0
        results[processes] = _table(
            warehouse, "SELECT website_url, result FROM extractions ORDER BY 1"
        )
    assert results[0] == results[1]


def test_a_failing_writer_stops_the_crawl_and_hands_back_its_claims(
    warehouse: Warehouse, slow_sites: DemoSites, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, total = _import(warehouse, slow_sites, tmp_path)

    def disk_full(*_: object) -> None:
        raise OSError("No space left on device")

    monkeypatch.setattr(stream_module, "save_extractions", disk_full)
    started = time.monotonic()
    with pytest.raises(OSError, match="No space left"):
        enrich_shard(
            warehouse, EnrichmentPolicy(), RulesExtractor(), SETTINGS, "run-1",
            crawl=_plan(concurrency=2),
        )  # fmt: skip
    # It stopped at the first failed round instead of crawling every site first.
    assert time.monotonic() - started < 20
    [(saved,)] = _table(warehouse, "SELECT count(*) FROM site_crawls")
    assert 0 < saved < total
    [(saved_ok,)] = _table(warehouse, "SELECT count(*) FROM site_crawls WHERE status = 'ok'")
    assert _table(warehouse, "SELECT count(*) FROM website_claims") == [(0,)]
    assert not [t for t in threading.enumerate() if t.name in ("crawl", "crawl-handoff_0")]
    # The objects frozen for the stream are the garbage collector's again.
    assert gc.get_freeze_count() == 0
    # Nothing written is lost: a run that can write picks up from the saved crawls.
    monkeypatch.undo()
    summary = enrich_shard(
        warehouse, EnrichmentPolicy(), RulesExtractor(), SETTINGS, "run-2", crawl=_plan(8)
    )
    assert summary.crawl.crawled == total - saved_ok


def test_the_crawl_waits_for_a_writer_that_falls_behind(
    warehouse: Warehouse, demo_sites: DemoSites, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Back-pressure: with the writer stalled, the crawl pauses once the queue and the
    extractions in flight are full, so memory does not grow with the number of sites."""
    _, total = _import(warehouse, demo_sites, tmp_path)
    monkeypatch.setattr(stream_module, "CRAWL_QUEUE_SITES", 2)
    monkeypatch.setattr(stream_module, "IN_FLIGHT_PER_SLOT", 1)
    release = threading.Event()
    real_save = stream_module.save_crawls

    def stalled_save(connection: object, crawls: list[SiteCrawl], run_id: str | None) -> None:
        release.wait(timeout=30)
        real_save(connection, crawls, run_id)  # type: ignore[arg-type]

    finished: list[str] = []
    real_crawl_site = Crawler.crawl_site_within_budget

    async def counted(self: Crawler, url: str, previous: object = None) -> SiteCrawl:
        result = await real_crawl_site(self, url, previous)  # type: ignore[arg-type]
        finished.append(url)
        return result

    monkeypatch.setattr(stream_module, "save_crawls", stalled_save)
    monkeypatch.setattr(Crawler, "crawl_site_within_budget", counted)
    run = threading.Thread(
        target=enrich_shard,
        args=(warehouse, EnrichmentPolicy(), RulesExtractor(), SETTINGS, "run-1"),
        kwargs={"crawl": _plan(concurrency=2), "processes": 0},
    )
    run.start()
    time.sleep(4)  # long enough to crawl most of the sites, were the crawl not held back
    held_back = len(finished)
    release.set()
    run.join(timeout=120)
    # At most: the round being written (2), the queue (2) and the sites in progress when the
    # queue filled (twice the 2 requests in flight), one of them blocked handing over.
    assert held_back <= 2 + 2 + 4
    assert _table(warehouse, "SELECT count(*) FROM site_crawls") == [(total,)]
