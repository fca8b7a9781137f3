"""Batch enrichment of many customers over local sites that answer after a fixed latency.

Usage: .venv/bin/python bench/batch.py [--customers 10000] [--latency-ms 100]
                                        [--instance | --one-run]

A server process (bench/crawl.py's) serves one generated company site per customer, every
response (pages and robots.txt) after `--latency-ms`. The customers are imported into a fresh
warehouse and `enrich batch` runs the batch exactly as a user would: in process (one run per
shard, one after the other, then the whole-warehouse assets once), or with `--instance` on a
production-shaped Dagster instance (deploy/dagster.yaml on a scratch PostgreSQL database,
webserver and daemon processes) as a backfill launched through GraphQL; `--one-run` runs
`enrich run` instead, every shard in one run (one crawl of all the sites, not sixteen). Prints
records enriched per minute, the ideal bound for the crawl concurrency (every request slot
busy all the time: concurrency / (requests per site x latency), times the `web` pool limit on
an instance), and peak memory (this process; on an instance, every instance process
together).
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import tempfile
import threading
import time
from collections.abc import Callable
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument(
        "--instance", action="store_true",
        help="run the batch as a backfill on a Dagster instance backed by the local PostgreSQL",
    )  # fmt: skip
    parser.add_argument(
        "--one-run", action="store_true",
        help="`enrich run`: every shard in one run, in this process, instead of a run per shard",
    )  # fmt: skip
    args = parser.parse_args()
    raise_open_files_limit()

    from enrichment_pipelines.cli import main as enrich
    from enrichment_pipelines.core.credits import top_up
    from enrichment_pipelines.core.customers import import_customers
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
        if args.instance:
            import yaml

            from tests.support.instance import (
                PROJECT_ROOT,
                production_instance,
                scratch_database,
            )

            deploy = yaml.safe_load((PROJECT_ROOT / "deploy" / "dagster.yaml").read_text())
            pool_limit = deploy["concurrency"]["pools"]["default_limit"]  # "web" among them

            with (
                scratch_database() as postgres_url,
                production_instance(home, postgres_url, {}) as instance,
                PeakMemory(instance.process_ids) as memory,
            ):
                started = time.monotonic()
                result = CliRunner().invoke(enrich, ["batch", "--dagster-url", instance.client.url])
                elapsed = time.monotonic() - started
            peak_mib = memory.peak_kib / 1024
        else:
            started = time.monotonic()
            command = ["run"] if args.one_run else ["batch", "--in-process"]
            result = CliRunner().invoke(enrich, command)
            elapsed = time.monotonic() - started
            peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            pool_limit = 1
        with warehouse.connect() as connection:
            enriched, pages, sites = connection.execute(
                "SELECT (SELECT count(*) FROM enrichments WHERE status = 'enriched'), "
                "(SELECT count(*) FROM scraped_pages WHERE error IS NULL), "
                "(SELECT count(*) FROM site_crawls)"
            ).fetchone()
    if result.exit_code != 0:
        print(result.output[-3000:])
        raise SystemExit(result.exit_code)
    concurrency = WebClientResource().concurrency
    requests_per_site = (pages + sites) / max(sites, 1)  # pages + one robots.txt each
    bound = 60 * concurrency * pool_limit / (requests_per_site * args.latency_ms / 1000)
    rate = 60 * enriched / elapsed
    print(f"customers:            {args.customers} ({enriched} enriched) in {elapsed:.0f} s")
    print(f"latency per response: {args.latency_ms:.0f} ms; crawl concurrency {concurrency}; "
          f"{requests_per_site:.1f} requests per site")  # fmt: skip
    print(f"records per minute:   {rate:,.0f}")
    formula = "concurrency / (requests x latency)" + (" x web pool limit" if args.instance else "")
    print(f"ideal bound:          {bound:,.0f} records/min ({formula})")
    print(f"share of the bound:   {rate / bound:.0%}")
    print(f"peak memory (RSS):    {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
