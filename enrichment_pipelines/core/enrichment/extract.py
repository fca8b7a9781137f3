"""Extracting data points from a site's pages, once per change of pages, extractor or data points.

Each site's extraction is stored under a key hashed from what it depends on; a site whose key
is unchanged (and whose last extraction did not fail) is not extracted again, so a rerun costs
no LLM calls for sites that have not changed. Extraction runs in a pool (`extraction_pool`):
worker processes for a CPU-bound extractor (the offline rules), threads for one that waits on
the network (an LLM).
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb

from enrichment_pipelines.core.crawl import Page
from enrichment_pipelines.core.enrichment.policy import websites_in_use
from enrichment_pipelines.core.extractors import Extraction, Extractor, Usage
from enrichment_pipelines.core.warehouse import insert_rows

EXTRACT_BATCH_SIZE = 50
# Fewer sites than this are extracted in this process: a worker process takes about a second
# to start, more than extracting a few sites costs (a live run of one customer, say).
PROCESS_POOL_MIN_SITES = 50

EXTRACTION_COLUMNS = (
    "website_url", "extraction_key", "extractor", "extracted_at", "result", "error",
    "llm_calls", "prompt_tokens", "completion_tokens", "cost_usd",
)  # fmt: skip


TECHNOLOGY_COLUMNS = (
    "website_url", "technology", "categories", "version", "confidence", "evidence_url",
    "evidence_quote", "implied_by", "detected_at",
)  # fmt: skip


def extraction_key(content_key: str, extractor: str, keys: Sequence[str]) -> str:
    material = "\n".join([content_key, extractor, ",".join(sorted(keys))])
    return hashlib.sha256(material.encode()).hexdigest()[:32]


@dataclass
class ExtractSummary:
    extracted: int = 0
    unchanged: int = 0
    failed: int = 0
    values_found: int = 0
    usage: Usage = field(default_factory=Usage)  # LLM calls, tokens and cost, summed
    problems: Counter[str] = field(default_factory=Counter)

    def add(self, extraction: Extraction) -> None:
        self.extracted += 1
        self.failed += extraction.error is not None
        self.values_found += len(extraction.data)
        self.usage.add(extraction.usage)
        self.problems.update(problem.split(":")[0] for problem in extraction.problems)
        if extraction.error:
            self.problems[extraction.error.split(":")[0]] += 1


def extract_one(
    extractor: Extractor, website_url: str, pages: Sequence[Page], keys: Sequence[str]
) -> Extraction:
    """`extractor.extract`, with any exception it raises made the site's error."""
    try:
        return extractor.extract(website_url, pages, keys)
    except Exception as error:  # one site's bad pages must not stop the others
        return Extraction(error=f"extractor error: {type(error).__name__}: {error}")


class ExtractionPool:
    """Extracts sites concurrently: `submit` returns a future of the site's `Extraction`.

    A CPU-bound extractor (`cpu_bound`, the offline rules) runs in `processes` worker
    processes, so extraction uses the cores the crawler and the writer leave idle instead of
    contending with them for this process's GIL; any other (an LLM, waiting on the network)
    runs on `extractor.concurrency` threads. `slots` is how many sites it works on at once.
    """

    def __init__(self, extractor: Extractor, keys: Sequence[str], processes: int) -> None:
        self.keys = tuple(keys)
        self._executor: Executor
        if extractor.cpu_bound and processes > 0:
            self.slots = processes
            self._executor = ProcessPoolExecutor(
                processes,
                # spawn, not fork: this process runs threads (crawler, writer, Dagster's), and
                # a forked child would inherit their locks in whatever state they were.
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(extractor,),
            )
            self._extract: Callable[[str, Sequence[Page], Sequence[str]], Extraction] = (
                _extract_in_worker
            )
        else:
            self.slots = max(1, extractor.concurrency)
            self._executor = ThreadPoolExecutor(self.slots, thread_name_prefix="extract")
            self._extract = lambda url, pages, keys: extract_one(extractor, url, pages, keys)

    def submit(self, website_url: str, pages: Sequence[Page]) -> Future[Extraction]:
        return self._executor.submit(self._extract, website_url, list(pages), self.keys)

    def close(self) -> None:
        """Stop at once: extractions not started are dropped (a rerun redoes them)."""
        self._executor.shutdown(wait=True, cancel_futures=True)


@contextmanager
def extraction_pool(
    extractor: Extractor, keys: Sequence[str], sites: int, processes: int | None = None
) -> Iterator[ExtractionPool]:
    """An `ExtractionPool` for about `sites` sites; `processes` overrides the number of
    worker processes (default: one per core but one, left to the crawler and writer, and none
    for fewer than PROCESS_POOL_MIN_SITES sites)."""
    if processes is None:
        cores = len(os.sched_getaffinity(0))
        processes = max(1, cores - 1) if sites >= PROCESS_POOL_MIN_SITES else 0
    pool = ExtractionPool(extractor, keys, processes)
    try:
        yield pool
    finally:
        pool.close()


_worker_extractor: Extractor | None = None  # the extractor of this worker process


def _start_worker(extractor: Extractor) -> None:
    global _worker_extractor
    _worker_extractor = extractor
    threading.Thread(target=_end_with_parent, args=(os.getppid(),), daemon=True).start()


def _end_with_parent(parent: int) -> None:
    """Exit once the run's process is gone (killed with SIGKILL, say, when nothing could shut
    the pool down): a worker would otherwise wait for work forever, since it holds its own
    end of the queue the work comes on."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _extract_in_worker(website_url: str, pages: Sequence[Page], keys: Sequence[str]) -> Extraction:
    assert _worker_extractor is not None, "worker started without its extractor"
    return extract_one(_worker_extractor, website_url, pages, keys)


def stored_extractions(
    connection: duckdb.DuckDBPyConnection, urls: Sequence[str]
) -> list[tuple[str, str | None, str | None, str | None]]:
    """(website, content key, stored extraction key, stored error) of each successfully
    crawled site among `urls`; the extraction fields are None when it was never extracted."""
    return connection.execute(
        """
        SELECT s.website_url, s.content_key, x.extraction_key, x.error
        FROM site_crawls AS s LEFT JOIN extractions AS x USING (website_url)
        WHERE list_contains($urls, s.website_url) AND s.status = 'ok'
        """,
        {"urls": list(urls)},
    ).fetchall()


def save_extractions(
    connection: duckdb.DuckDBPyConnection, rows: Sequence[Sequence[object]]
) -> None:
    """Store each site's latest extraction, replacing the one before (not for a site no
    customer has any more: forgotten while it was being extracted)."""
    in_use = websites_in_use(connection, [row[0] for row in rows])
    rows = [row for row in rows if row[0] in in_use]
    insert_rows(
        connection,
        "extractions",
        EXTRACTION_COLUMNS,
        rows,
        conflict="ON CONFLICT (website_url) DO UPDATE SET "
        + ", ".join(f"{c} = excluded.{c}" for c in EXTRACTION_COLUMNS[1:]),
    )
    _save_technologies(connection, rows)


def _save_technologies(
    connection: duckdb.DuckDBPyConnection, rows: Sequence[Sequence[object]]
) -> None:
    """Replace each site's detected technologies with those of its new extraction. A failed
    extraction (retried next run; its values are not applied) leaves the list as it was."""
    error = EXTRACTION_COLUMNS.index("error")
    rows = [row for row in rows if row[error] is None]
    websites = [row[0] for row in rows]
    connection.execute(
        "DELETE FROM site_technologies WHERE list_contains(?, website_url)", [websites]
    )
    technology_rows = []
    for row in rows:
        website_url, extracted_at = row[0], row[3]
        details = json.loads(str(row[4])).get("details", {})
        for found in details.get("tech_stack", []):
            technology_rows.append([
                website_url, found["name"], found["categories"], found["version"] or None,
                found["confidence"], found["url"], found["quote"], found["implied_by"],
                extracted_at,
            ])  # fmt: skip
    insert_rows(connection, "site_technologies", TECHNOLOGY_COLUMNS, technology_rows)


def extraction_row(
    website_url: str, key: str, extractor_name: str, extraction: Extraction
) -> list[object]:
    usage = extraction.usage
    return [
        website_url, key, extractor_name, datetime.now(UTC), extraction.to_json(),
        extraction.error, usage.calls, usage.prompt_tokens, usage.completion_tokens,
        usage.cost_usd,
    ]  # fmt: skip
