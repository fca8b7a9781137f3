"""Crawl throughput against local sites whose every response takes a fixed latency.

Usage: .venv/bin/python bench/crawl.py [--sites 1000] [--latency-ms 100] [--concurrency 32]

A server process (so that it does not share the crawler's interpreter) serves the generated
demo company sites, one loopback address per site, answering every request (pages and
robots.txt) after `--latency-ms`. The crawler runs with its default options otherwise,
politeness included. The ideal bound is concurrency / latency responses per second: every
request slot busy all the time. Prints the measured rates, their share of the bound, and the
crawler's peak memory.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from enrichment_pipelines.core.crawl import CrawlOptions, crawl_sites
from enrichment_pipelines.core.websites import parse_networks


def serve(sites: int, latency: float) -> None:
    """Child process: serve the sites, print the port, run until stdin closes."""
    from enrichment_pipelines.demo.companies import generate_companies
    from enrichment_pipelines.demo.server import SiteServer, site_address
    from enrichment_pipelines.demo.sites import Response, render_site

    site_map = {}
    for company in generate_companies(sites, seed=3):
        company.fault = None  # every site healthy: this measures throughput, not faults
        pages = {
            path: replace(response, delay_seconds=latency)
            for path, response in render_site(company).items()
        }
        pages["/robots.txt"] = Response(404, b"", "text/plain", delay_seconds=latency)
        site_map[site_address(company.index)] = pages
    server = SiteServer(site_map).start()
    print(server.port, flush=True)
    sys.stdin.read()
    server.stop()


def raise_open_files_limit() -> None:
    """Thousands of sites in flight need more sockets than the usual soft limit of 1,024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 65536)), hard))


@contextmanager
def slow_sites(sites: int, latency_ms: float) -> Iterator[int]:
    """Serve `sites` generated sites from a child process (so that it does not share the
    measured interpreter), every response after `latency_ms`; yields the port."""
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--sites", str(sites),
         "--latency-ms", str(latency_ms)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        yield int(server.stdout.readline())
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--concurrency", type=int, default=CrawlOptions().concurrency)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    latency = args.latency_ms / 1000
    raise_open_files_limit()
    if args.serve:
        serve(args.sites, latency)
        return

    from enrichment_pipelines.demo.server import site_address

    with slow_sites(args.sites, args.latency_ms) as port:
        urls = [f"http://{site_address(index)}:{port}" for index in range(args.sites)]
        options = CrawlOptions(
            concurrency=args.concurrency,
            allowed_networks=parse_networks("127.0.0.0/8"),
        )
        started = time.monotonic()
        crawls = crawl_sites(urls, options)
        elapsed = time.monotonic() - started
    ok = sum(crawl.status == "ok" for crawl in crawls)
    pages = sum(1 for crawl in crawls for page in crawl.pages if not page.error)
    responses = pages + len({crawl.website_url for crawl in crawls})  # + one robots.txt each
    bound = args.concurrency / latency
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"sites:                {args.sites} ({ok} crawled ok)")
    print(f"latency per response: {args.latency_ms:.0f} ms; concurrency: {args.concurrency}")
    print(f"pages fetched:        {pages} in {elapsed:.1f} s")
    print(f"pages per second:     {pages / elapsed:.1f}")
    print(f"responses per second: {responses / elapsed:.1f} (pages + robots.txt)")
    print(f"ideal bound:          {bound:.1f} responses/s (concurrency / latency)")
    print(f"share of the bound:   {responses / elapsed / bound:.0%}")
    print(f"peak memory (RSS):    {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
