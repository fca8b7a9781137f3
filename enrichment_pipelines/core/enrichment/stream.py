"""A shard run's work as one stream: crawl -> extract -> write, the three stages overlapping.

Sites are crawled concurrently on a thread of their own (`crawl_each`); each finished crawl
comes through a bounded queue to the writer (the calling thread). The writer saves it, hands
its pages to the extraction pool (processes for the offline extractor, threads for an LLM:
see `ExtractionPool`), and once a site's extraction is saved writes its customers' records,
each with its credit. Sites crawled earlier and still fresh join at the extraction stage.

Each round of writing is one short transaction holding whatever became ready meanwhile: rounds
grow when the warehouse is the slower stage and stay small (so progress shows) when it is not.
Memory is bounded by the queue and the extractions in flight, not by the number of sites, and
the network, the cores and the warehouse are busy at once.

Exactly once: a record and its credit are written in one transaction, and a record already
brought up to date is not written again (`still_due`, read inside that transaction), so a run
killed at any point and run again charges nobody twice and loses nothing it committed.
"""

from __future__ import annotations

import contextlib
import gc
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from datetime import timedelta

import duckdb

from enrichment_pipelines.core.crawl import CrawlOptions, Page, SiteCrawl, crawl_each
from enrichment_pipelines.core.enrichment.apply import ApplySummary, apply_batch
from enrichment_pipelines.core.enrichment.extract import (
    EXTRACT_BATCH_SIZE,
    ExtractionPool,
    ExtractSummary,
    extraction_key,
    extraction_pool,
    extraction_row,
    save_extractions,
    stored_extractions,
)
from enrichment_pipelines.core.enrichment.pages import (
    claim_websites,
    load_pages,
    release_claims,
    save_crawls,
    sites_with_pages,
    websites_to_crawl,
)
from enrichment_pipelines.core.enrichment.policy import (
    CustomerToEnrich,
    EnrichmentPolicy,
    count_in_scope,
    select_customers,
)
from enrichment_pipelines.core.enrichment.reasons import reason_group
from enrichment_pipelines.core.extractors import Extraction, Extractor
from enrichment_pipelines.core.settings import EnrichmentSettings
from enrichment_pipelines.core.warehouse import ROUND_MEMORY_LIMIT, Warehouse

# Finished crawls waiting for the writer; a full queue pauses the crawl (back-pressure). Room
# for a few seconds of crawling, so that a writer waiting its turn for the warehouse (other
# runs write it too) does not stall the crawl at once; a site's pages are tens of kB.
CRAWL_QUEUE_SITES = 256
# Sites handed to the extraction pool and not yet back, per slot of the pool.
IN_FLIGHT_PER_SLOT = 4
# Records written in one round at most: a round is one transaction, which must stay short.
RECORDS_PER_ROUND = 500
# A round gathers what finishes for this long, then writes it in one transaction: opening
# and closing the warehouse costs tens of milliseconds (a checkpoint), so fewer, larger rounds.
ROUND_SECONDS = 0.5
# How long the writer waits for more work before it looks again (a poll, not a delay).
POLL_SECONDS = 0.05
# Sites whose stored pages are read in one go when a re-crawl reaches them.
PREVIOUS_PAGES_CHUNK = 200


@dataclass(frozen=True)
class Stages:
    """Which stages a run does: a run of one stage uses what the warehouse holds from the
    others (re-extract stored pages after a settings change, say, without crawling)."""

    crawl: bool = True
    extract: bool = True
    apply: bool = True


@dataclass(frozen=True)
class CrawlPlan:
    options: CrawlOptions
    max_page_age: timedelta  # pages younger than this are not fetched again


@dataclass
class CrawlSummary:
    crawled: int = 0
    pages: int = 0
    unchanged: int = 0
    crawling_elsewhere: int = 0  # websites another run was crawling: left to it
    failed: Counter[str] = field(default_factory=Counter)  # reason group -> websites

    def add(self, crawl: SiteCrawl) -> None:
        self.crawled += 1
        self.pages += len(crawl.pages)
        self.unchanged += crawl.unchanged
        if crawl.status != "ok":
            self.failed[reason_group(crawl.reason)] += 1


@dataclass
class ShardSummary:
    records: int = 0  # records the policy selected: to bring up to date
    in_scope: int = 0  # records in the policy's scope, up to date or not
    crawl: CrawlSummary = field(default_factory=CrawlSummary)
    extract: ExtractSummary = field(default_factory=ExtractSummary)
    apply: ApplySummary = field(default_factory=ApplySummary)


@dataclass
class ShardEvents:
    """Progress hooks: `started` once the work is chosen (records, websites); the others
    each time what they report is committed to the warehouse."""

    started: Callable[[int, int], None] | None = None
    crawled: Callable[[SiteCrawl], None] | None = None
    extracted: Callable[[str], None] | None = None  # website URL
    applied: Callable[[str, str, str | None], None] | None = None  # customer, status, reason


def enrich_shard(
    warehouse: Warehouse,
    policy: EnrichmentPolicy,
    extractor: Extractor,
    settings: EnrichmentSettings,
    run_id: str | None,
    *,
    crawl: CrawlPlan | None = None,
    stages: Stages = Stages(),
    events: ShardEvents | None = None,
    processes: int | None = None,
) -> ShardSummary:
    """Bring the records `policy` selects up to date through the `stages` asked for (crawling
    needs a `crawl` plan). `processes` overrides the extraction pool's worker processes."""
    stream = _ShardStream(warehouse, policy, extractor, settings, run_id, stages, events)
    return stream.run(crawl if stages.crawl else None, processes)


class _StoredPages(Mapping[str, Mapping[str, Page]]):
    """The stored pages of the sites being crawled again (for conditional requests), read a
    chunk of sites at a time as the crawl reaches them and dropped once handed out, rather than
    every site's pages held from the start. Sites are crawled about in the order given."""

    def __init__(self, warehouse: Warehouse, websites: Sequence[str], stored: set[str]) -> None:
        self.warehouse = warehouse
        self.order = [site for site in websites if site in stored]
        self.position = {site: index for index, site in enumerate(self.order)}
        self.loaded: dict[str, dict[str, Page]] = {}

    def __getitem__(self, website_url: str) -> Mapping[str, Page]:
        index = self.position.get(website_url)
        if index is None:
            raise KeyError(website_url)
        if website_url not in self.loaded:
            chunk = self.order[index : index + PREVIOUS_PAGES_CHUNK]
            with self.warehouse.connect() as connection:
                self.loaded.update(load_pages(connection, chunk))
        return self.loaded.pop(website_url, {})

    def __iter__(self) -> Iterator[str]:
        return iter(self.order)

    def __len__(self) -> int:
        return len(self.order)


@contextlib.contextmanager
def _long_lived_objects_frozen() -> Iterator[None]:
    """Keep the objects alive when the stream starts (modules, Dagster's definitions: millions
    in a run's process) out of the cyclic garbage collector's reach while it runs. The crawl's
    many short-lived objects trigger full collections, and each walked them all: over a second of
    pauses per 1,000 records, with the crawl's event loop stalled meanwhile. They are still
    freed as usual when unreferenced; only cycles among them wait for the unfreeze."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class _CrawlFeed:
    """Runs the crawl on a thread of its own and hands finished sites over a bounded queue."""

    _END = None

    def __init__(self, urls: Sequence[str], options: CrawlOptions, previous: _StoredPages):
        self.queue: queue.Queue[SiteCrawl | None] = queue.Queue(CRAWL_QUEUE_SITES)
        self.finished = not urls
        self.error: BaseException | None = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._crawl, args=(urls, options, previous), name="crawl", daemon=True
        )
        if urls:
            self._thread.start()

    def _crawl(self, urls: Sequence[str], options: CrawlOptions, previous: _StoredPages) -> None:
        try:
            crawl_each(urls, options, self._hand_over, previous)
        except BaseException as error:  # raised in the writer's thread when it sees the end
            self.error = error
        finally:
            self.queue.put(self._END)

    def _hand_over(self, crawl: SiteCrawl) -> None:
        while not self._stopping.is_set():
            try:
                self.queue.put(crawl, timeout=POLL_SECONDS)
                return
            except queue.Full:
                continue
        raise _Stopped

    def take(self, limit: int) -> list[SiteCrawl]:
        """The crawls finished so far, up to `limit`, waiting a moment for the first."""
        crawls: list[SiteCrawl] = []
        while not self.finished and len(crawls) < limit:
            try:
                item = self.queue.get(timeout=POLL_SECONDS if not crawls else 0)
            except queue.Empty:
                break
            if item is self._END:
                self.finished = True
                if self.error is not None and not isinstance(self.error, _Stopped):
                    raise self.error
            else:
                crawls.append(item)
        return crawls

    def stop(self) -> None:
        """End the crawl early (the writer failed): sites not handed over are not saved."""
        self._stopping.set()
        while self._thread.is_alive():
            with contextlib.suppress(queue.Empty):
                self.queue.get(timeout=POLL_SECONDS)


class _Stopped(Exception):
    """The writer stopped: the crawl ends without handing over more sites."""


class _ShardStream:
    def __init__(
        self,
        warehouse: Warehouse,
        policy: EnrichmentPolicy,
        extractor: Extractor,
        settings: EnrichmentSettings,
        run_id: str | None,
        stages: Stages,
        events: ShardEvents | None,
    ) -> None:
        self.warehouse, self.policy, self.extractor = warehouse, policy, extractor
        self.settings, self.run_id, self.stages = settings, run_id, stages
        self.events = events or ShardEvents()
        self.summary = ShardSummary()
        self.customers_by_site: dict[str, list[CustomerToEnrich]] = {}
        self.ready: list[CustomerToEnrich] = []  # records whose site is settled: to write
        self.in_flight: dict[Future[Extraction], tuple[str, str]] = {}  # -> website, key

    def run(self, plan: CrawlPlan | None, processes: int | None) -> ShardSummary:
        with self.warehouse.transaction() as connection:
            customers = select_customers(connection, self.policy)
            self.summary.records = len(customers)
            self.summary.in_scope = count_in_scope(connection, self.policy)
            websites = {customer.website_url for customer in customers if customer.website_url}
            to_crawl, elsewhere, previous = (
                self._claim(connection, websites, plan) if plan else ([], [], set())
            )
        if self.events.started is not None:
            self.events.started(len(customers), len(websites))
        for customer in customers:
            if customer.website_url is None:
                if self.stages.apply:
                    self.ready.append(customer)  # skipped, with the website's problem
            else:
                self.customers_by_site.setdefault(customer.website_url, []).append(customer)
        crawling = set(to_crawl) | set(elsewhere)
        # Sites not crawled by this run: their stored crawl is extracted or used as it is.
        stored = [site for site in self.customers_by_site if site not in crawling]
        sites = len(to_crawl) + len(stored) if self.stages.extract else 0
        try:
            with (
                _long_lived_objects_frozen(),
                extraction_pool(
                    self.extractor, self.settings.enabled_keys, sites, processes
                ) as pool,
            ):
                feed = _CrawlFeed(
                    to_crawl,
                    plan.options if plan else CrawlOptions(),
                    _StoredPages(self.warehouse, to_crawl, previous),
                )
                try:
                    self._stream(feed, pool, stored)
                finally:
                    feed.stop()
            # Sites another run is crawling: their records are that run's to write, unless it
            # has finished meanwhile (`apply_batch` tells which).
            for site in elsewhere:
                self._settle(site)
            while self.ready:
                self._write_round([], [])
        finally:  # stopped or failed: hand the unsaved sites back (a killed run's are void)
            if plan is not None:
                with self.warehouse.transaction() as connection:
                    release_claims(connection, self.run_id or "")
        return self.summary

    def _claim(
        self, connection: duckdb.DuckDBPyConnection, websites: set[str], plan: CrawlPlan
    ) -> tuple[list[str], list[str], set[str]]:
        """Of `websites`: (sites this run crawls, sites another run is crawling, sites with
        stored pages)."""
        wanted = websites_to_crawl(connection, websites, self.policy, plan.max_page_age)
        # The lease outlasts the slowest crawl these sites can take; a killed run's claims
        # are void at once on its host (`claimed_elsewhere`), and lapse with the lease elsewhere.
        rounds = len(wanted) // plan.options.concurrency + 2
        lease = timedelta(seconds=plan.options.site_budget_seconds * rounds)
        mine = claim_websites(connection, wanted, self.run_id or "", lease)
        elsewhere = sorted(set(wanted) - set(mine))
        self.summary.crawl.crawling_elsewhere = len(elsewhere)
        return mine, elsewhere, sites_with_pages(connection, mine)

    def _stream(self, feed: _CrawlFeed, pool: ExtractionPool, stored: list[str]) -> None:
        # Crawled sites waiting for extraction or being extracted, at most: a full pool takes
        # no more crawls, so the crawl queue fills and the crawl pauses (back-pressure).
        capacity = max(pool.slots * IN_FLIGHT_PER_SLOT, CRAWL_QUEUE_SITES)
        while not feed.finished or stored or self.in_flight or self.ready:
            crawls = self._gather_round(feed, pool, stored, capacity)
            done = [future for future in self.in_flight if future.done()]
            if crawls or done or self.ready:
                self._write_round(crawls, done, pool)

    def _gather_round(
        self, feed: _CrawlFeed, pool: ExtractionPool, stored: list[str], capacity: int
    ) -> list[SiteCrawl]:
        """The crawls that finish within one round (ROUND_SECONDS, less when nothing is left
        to wait for), starting the extraction of stored sites meanwhile."""
        crawls: list[SiteCrawl] = []
        ends = time.monotonic() + ROUND_SECONDS
        while time.monotonic() < ends:
            if stored and len(self.in_flight) + len(crawls) < capacity:
                self._start_stored(pool, stored[:EXTRACT_BATCH_SIZE])
                del stored[:EXTRACT_BATCH_SIZE]
            room = capacity - len(self.in_flight) - len(crawls)
            taken = feed.take(room) if room > 0 else []  # waits a moment for the first
            crawls.extend(taken)
            running = [future for future in self.in_flight if not future.done()]
            if not running and (room <= 0 or (feed.finished and not stored)):
                break  # nothing more will come this round
            if not taken and running:
                wait(running, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
        return crawls

    def _start_stored(self, pool: ExtractionPool, sites: list[str]) -> None:
        """Extract the stored crawls among `sites` that need it; the rest are settled."""
        with self.warehouse.connect() as connection:
            keys = self._pending_keys(connection, sites)
            pages = load_pages(connection, list(keys)) if keys else {}
        for site in sites:
            if site in keys:
                self._submit(pool, site, keys[site], list(pages[site].values()))
            else:
                self._settle(site)

    def _pending_keys(
        self, connection: duckdb.DuckDBPyConnection, sites: Sequence[str]
    ) -> dict[str, str]:
        """Website -> extraction key, for those of `sites` (successfully crawled) whose stored
        extraction is missing, failed or made from other pages, extractor or data points."""
        if not self.stages.extract:
            return {}
        pending = {}
        for site, content_key, stored_key, stored_error in stored_extractions(connection, sites):
            key = extraction_key(content_key or "", self.extractor.name, self.settings.enabled_keys)
            if key == stored_key and stored_error is None:
                self.summary.extract.unchanged += 1
            else:
                pending[site] = key
        return pending

    def _submit(self, pool: ExtractionPool, site: str, key: str, pages: Sequence[Page]) -> None:
        self.in_flight[pool.submit(site, pages)] = (site, key)

    def _settle(self, site: str) -> None:
        """The site's crawl and extraction are final: its records can be written."""
        if self.stages.apply:
            self.ready.extend(self.customers_by_site.get(site, []))

    def _write_round(
        self,
        crawls: list[SiteCrawl],
        done: list[Future[Extraction]],
        pool: ExtractionPool | None = None,
    ) -> None:
        """Write in one transaction the crawls, the extractions and the records now ready."""
        extracted = [(*self.in_flight.pop(future), future.result()) for future in done]
        for site, _, _ in extracted:  # saved below, before the records that use them
            self._settle(site)
        records = self.ready[:RECORDS_PER_ROUND]
        to_extract: dict[str, str] = {}
        with self.warehouse.transaction(limit=ROUND_MEMORY_LIMIT) as connection:
            if crawls:
                save_crawls(connection, crawls, self.run_id)
                ok = [crawl.website_url for crawl in crawls if crawl.status == "ok"]
                to_extract = self._pending_keys(connection, ok)
            if extracted:
                save_extractions(
                    connection,
                    [
                        extraction_row(site, key, self.extractor.name, extraction)
                        for site, key, extraction in extracted
                    ],
                )
            outcomes = []
            if records:
                outcomes = apply_batch(
                    connection,
                    records,
                    self.policy,
                    self.settings,
                    self.extractor.name,
                    self.run_id,
                )
        del self.ready[: len(records)]
        self._report(crawls, extracted, records, outcomes)
        for crawl in crawls:
            if crawl.website_url in to_extract and pool is not None:
                self._submit(pool, crawl.website_url, to_extract[crawl.website_url], crawl.pages)
            else:
                self._settle(crawl.website_url)

    def _report(
        self,
        crawls: list[SiteCrawl],
        extracted: list[tuple[str, str, Extraction]],
        records: list[CustomerToEnrich],
        outcomes: list[tuple[str, str | None]],
    ) -> None:
        """Count what a round committed, and tell the progress hooks."""
        for crawl in crawls:
            self.summary.crawl.add(crawl)
            if self.events.crawled is not None:
                self.events.crawled(crawl)
        for site, _, extraction in extracted:
            self.summary.extract.add(extraction)
            if self.events.extracted is not None:
                self.events.extracted(site)
        for customer, (status, reason) in zip(records, outcomes, strict=True):
            self.summary.apply.add(status, reason)
            if self.events.applied is not None and status != "done":
                self.events.applied(customer.customer_id, status, reason)
