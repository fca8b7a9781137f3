"""Batch enrichment of many customers over local sites that answer after a fixed latency.

Usage: .venv/bin/python bench/batch.py [--customers 10000] [--latency-ms 100]

A server process (bench/crawl.py's) serves one generated company site per customer, every
response (pages and robots.txt) after `--latency-ms`. The customers are imported into a fresh
warehouse and `enrich batch --in-process` runs the batch exactly as a user would (one run per
shard, then the whole-warehouse assets once). Prints records enriched per minute, the ideal
bound for the configured crawl concurrency (every request slot busy all the time:
concurrency / (requests per site x latency)), and the batch process's peak memory.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import tempfile
import time
from pathlib import Path

from click.testing import CliRunner
from crawl import raise_open_files_limit, slow_sites  # bench/ is the script's folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=float, default=100.0)
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
        started = time.monotonic()
        result = CliRunner().invoke(enrich, ["batch", "--in-process"])
        elapsed = time.monotonic() - started
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
    bound = 60 * concurrency / (requests_per_site * args.latency_ms / 1000)
    rate = 60 * enriched / elapsed
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"customers:            {args.customers} ({enriched} enriched) in {elapsed:.0f} s")
    print(f"latency per response: {args.latency_ms:.0f} ms; crawl concurrency {concurrency}; "
          f"{requests_per_site:.1f} requests per site")  # fmt: skip
    print(f"records per minute:   {rate:,.0f}")
    print(f"ideal bound:          {bound:,.0f} records/min (concurrency / (requests x latency))")
    print(f"share of the bound:   {rate / bound:.0%}")
    print(f"peak memory (RSS):    {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
