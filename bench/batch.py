"""Batch enrichment of many customers over local sites that answer after a fixed latency.

Usage: .venv/bin/python bench/batch.py [--customers 10000] [--latency-ms 100]
                                        [--instance [postgres|default]]

A server process (bench/crawl.py's) serves one generated company site per customer, every
response (pages and robots.txt) after `--latency-ms`. The customers are imported into a fresh
warehouse and `enrich batch` runs the batch exactly as a user would: in process (one run over
every shard, its step streaming crawl, extraction and writes), or with `--instance` on a
production-shaped Dagster instance (deploy/dagster.yaml on a scratch PostgreSQL database,
webserver and daemon processes; `--instance default`: Dagster's default instance, SQLite
files and no limits) as a backfill launched through GraphQL. Prints
records enriched per minute against one run's ideal bound (every request slot busy all the
time: concurrency / (requests per site x latency); on an instance also against the bound of
as many runs crawling at once as it allows), when the last record was written, requests per
second, LLM calls, CPU per record (in process), and peak memory (this process and its
extraction workers; on an instance, every instance process together).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import resource
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import _project  # noqa: F401  (the project root on the import path, for tests.support)
from click.testing import CliRunner
from crawl import raise_open_files_limit, slow_sites  # bench/ is the script's folder


class PeakMemory:
    """Samples the summed RSS of a changing set of processes twice a second."""

    def __init__(self, process_ids: Callable[[], list[int]]) -> None:
        self.process_ids = process_ids
        self.peak_kib = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self.stopped.wait(0.5):
            total = 0
            for pid in self.process_ids():
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue  # ended meanwhile
                total += next(
                    (int(line.split()[1]) for line in status.splitlines()
                     if line.startswith("VmRSS:")), 0,
                )  # fmt: skip
            self.peak_kib = max(self.peak_kib, total)

    def __enter__(self) -> PeakMemory:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopped.set()
        self.thread.join()


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and of its children that have ended (the
    extraction workers, once their run ends; not the sites' server, which is still running)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _children(workers: bool) -> list[int]:
    """This process's children that are extraction workers, or those that are not (the
    sites' server)."""
    me = os.getpid()
    found = []
    for child in Path(f"/proc/{me}/task/{me}/children").read_text().split():
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue  # ended meanwhile
        if (b"multiprocessing" in command) == workers:
            found.append(int(child))
    return found


def this_process_and_workers() -> list[int]:
    """This process and its extraction workers (not the sites' server, also a child)."""
    return [os.getpid(), *_children(workers=True)]


def sites_server_cpu() -> float:
    """CPU seconds the sites' server process has used so far: it shares this machine's cores
    with the batch, which sites across a real network would not."""
    ticks = 0
    for pid in _children(workers=False):
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument(
        "--instance", nargs="?", const="postgres", choices=("postgres", "default"),
        help="run the batch as a backfill on a Dagster instance: deploy/dagster.yaml on the "
        "local PostgreSQL (the default), or Dagster's default instance (SQLite, no limits)",
    )  # fmt: skip
    args = parser.parse_args()
    raise_open_files_limit()

    from enrichment_pipelines.cli import main as enrich
    from enrichment_pipelines.core.credits import top_up
    from enrichment_pipelines.core.customers import import_customers
    from enrichment_pipelines.core.shards import SHARD_COUNT
    from enrichment_pipelines.core.warehouse import Warehouse
    from enrichment_pipelines.core.websites import parse_networks
    from enrichment_pipelines.demo.server import site_address
    from enrichment_pipelines.resources import WebClientResource

    with (
        slow_sites(args.customers, args.latency_ms) as port,
        tempfile.TemporaryDirectory() as folder,
    ):
        home = Path(folder)
        os.environ.update(ENRICH_HOME=str(home), ENRICH_ALLOW_PRIVATE_NETWORKS="127.0.0.0/8")
        os.environ.pop("DAGSTER_HOME", None)
        customers = home / "customers.csv"
        with customers.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id", "name", "website"])
            for index in range(args.customers):
                address = site_address(index)
                writer.writerow([index, f"Company {index}", f"http://{address}:{port}"])
        warehouse = Warehouse(home / "warehouse.duckdb")
        warehouse.migrate()
        import_customers(
            warehouse, customers, source="bench", allowed_networks=parse_networks("127.0.0.0/8")
        )
        with warehouse.transaction() as connection:
            top_up(connection, args.customers, note="bench")
        cpu = 0.0  # measured in process only
        if args.instance:
            import yaml

            from tests.support.instance import (
                PROJECT_ROOT,
                production_instance,
                scratch_database,
            )

            deploy = yaml.safe_load((PROJECT_ROOT / "deploy" / "dagster.yaml").read_text())
            # At most this many crawling runs at once ("web" pool); the default instance has
            # no limit, and a backfill's 16 runs may all crawl.
            pool_limit = (
                deploy["concurrency"]["pools"]["default_limit"]
                if args.instance == "postgres"
                else SHARD_COUNT
            )
            with contextlib.ExitStack() as stack:
                postgres_url = (
                    stack.enter_context(scratch_database()) if args.instance == "postgres" else None
                )
                instance = stack.enter_context(production_instance(home, postgres_url, {}))
                memory = stack.enter_context(PeakMemory(instance.process_ids))
                started, started_at = time.monotonic(), datetime.now(UTC)
                result = CliRunner().invoke(enrich, ["batch", "--dagster-url", instance.client.url])
                elapsed = time.monotonic() - started
            peak_mib = memory.peak_kib / 1024
        else:
            with PeakMemory(this_process_and_workers) as memory:
                cpu_before, server_before = cpu_seconds(), sites_server_cpu()
                started, started_at = time.monotonic(), datetime.now(UTC)
                result = CliRunner().invoke(enrich, ["batch", "--in-process"])
                elapsed = time.monotonic() - started
                cpu = cpu_seconds() - cpu_before
                server_cpu = sites_server_cpu() - server_before
            peak_mib = memory.peak_kib / 1024
            pool_limit = 1
        with warehouse.connect() as connection:
            enriched, pages, sites, llm_calls, first_request, last_request, last_record = (
                connection.execute(
                    "SELECT (SELECT count(*) FROM enrichments WHERE status = 'enriched'), "
                    "(SELECT count(*) FROM scraped_pages WHERE error IS NULL), "
                    "(SELECT count(*) FROM site_crawls), "
                    "(SELECT coalesce(sum(llm_calls), 0) FROM extractions), "
                    "(SELECT min(crawled_at) FROM site_crawls), "
                    "(SELECT max(fetched_at) FROM scraped_pages), "
                    "(SELECT max(created_at) FROM enrichments)"
                ).fetchone()
            )
    if result.exit_code != 0:
        print(result.output[-3000:])
        raise SystemExit(result.exit_code)
    concurrency = WebClientResource().concurrency
    requests_per_site = (pages + sites) / max(sites, 1)  # pages + one robots.txt each
    # One run's bound: its `concurrency` requests always in flight. Runs at once on an instance
    # could crawl up to `pool_limit` times as much, were the cores not the limit.
    bound = 60 * concurrency / (requests_per_site * args.latency_ms / 1000)
    rate = 60 * enriched / elapsed
    print(f"customers:            {args.customers} ({enriched} enriched) in {elapsed:.0f} s")
    print(f"latency per response: {args.latency_ms:.0f} ms; crawl concurrency {concurrency}; "
          f"{requests_per_site:.1f} requests per site")  # fmt: skip
    print(f"records per minute:   {rate:,.0f}")
    print(f"ideal bound:          {bound:,.0f} records/min (concurrency / (requests x latency))")
    print(f"share of the bound:   {rate / bound:.0%}")
    if pool_limit > 1:
        print(f"of {pool_limit} runs' bound:     {rate / bound / pool_limit:.0%} "
              f"({pool_limit} runs crawling at once)")  # fmt: skip
    # The enrichment itself (import -> crawl -> extract -> records, notes and credits) ends
    # with the last record written; the batch's whole-warehouse assets (customer_360 and its
    # quality checks, the analysts' copy, the quality report) follow it.
    writing = (last_record - started_at).total_seconds()
    share = 60 * enriched / writing / bound
    print(f"records written in:   {writing:.0f} s = {share:.0%} of the bound; the "
          f"whole-warehouse assets after them took {elapsed - writing:.0f} s")  # fmt: skip
    # From the first site's start to the last request's answer: the crawl's own share of the
    # bound, before the run's start and the last writes are counted.
    first = (first_request - started_at).total_seconds()
    crawling = (last_request - first_request).total_seconds() + args.latency_ms / 1000
    print(f"crawl:                first request after {first:.1f} s, {crawling:.0f} s of "
          f"crawling at {60 * sites / crawling / bound:.0%} of the bound")  # fmt: skip
    requests_per_second = (pages + sites) / elapsed
    request_bound = concurrency / (args.latency_ms / 1000)
    print(f"requests per second:  {requests_per_second:,.0f} of {request_bound:,.0f}")
    print(f"LLM calls:            {llm_calls}")
    if not args.instance:
        print(f"CPU per record:       {1000 * cpu / max(enriched, 1):.0f} ms "
              f"({cpu:.0f} s of CPU in {elapsed:.0f} s: this process and its workers)")  # fmt: skip
        cores = len(os.sched_getaffinity(0))
        print(f"sites' server CPU:    {server_cpu:.0f} s of the {cores} cores' "
              f"{cores * elapsed:.0f} s (on this machine; across a network, nothing)")  # fmt: skip
    print(f"peak memory (RSS):    {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
