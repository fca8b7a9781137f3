"""Extraction accuracy on the labelled development set (tests/fixtures/labelled_sites).

Usage: .venv/bin/python bench/accuracy.py [--llm] [--errors]

Serves every labelled site at its own loopback address, crawls them with the production
crawler, extracts with the offline extractor (or, with --llm, the LLM extractor configured by
OPENAI_API_KEY / OPENAI_BASE_URL / ENRICH_LLM_MODEL) and prints, per data point: accuracy over
all sites (a right null counts as right), the share of expected nulls left null, and whether
the field reaches the 90% claim line. --errors lists every miss.
"""

from __future__ import annotations

import argparse
import sys
import time

import _project  # noqa: F401  (the project root on the import path, for tests.support)
from rich.console import Console
from rich.table import Table

from enrichment_pipelines.core.config import EnrichConfig, LLMConfig
from enrichment_pipelines.core.crawl import CrawlOptions, crawl_sites
from enrichment_pipelines.core.datapoints import DATA_POINT_KEYS
from enrichment_pipelines.core.enrichment.extract import extract_one
from enrichment_pipelines.core.extractors import build_extractor
from enrichment_pipelines.core.websites import parse_networks
from enrichment_pipelines.demo.server import SiteServer, site_address
from tests.support.labelled import load_labelled_sites, score, site_map

CLAIM = 0.90


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--llm", action="store_true", help="use the configured LLM extractor")
    parser.add_argument("--errors", action="store_true", help="list every miss")
    args = parser.parse_args()
    llm = EnrichConfig.load().llm
    if args.llm and not llm.enabled:
        sys.exit("--llm needs OPENAI_API_KEY (and OPENAI_BASE_URL)")
    extractor = build_extractor(llm if args.llm else LLMConfig())

    sites = load_labelled_sites()
    started = time.monotonic()
    with SiteServer(site_map(sites)) as server:
        urls = {site.id: server.url(site_address(i)) for i, site in enumerate(sites)}
        options = CrawlOptions(allowed_networks=parse_networks("127.0.0.0/8"))
        crawls = {crawl.website_url: crawl for crawl in crawl_sites(list(urls.values()), options)}
    found = {}
    for site in sites:
        crawl = crawls[urls[site.id]]
        extraction = extract_one(extractor, crawl.website_url, crawl.pages, DATA_POINT_KEYS)
        found[site.id] = extraction.data
    elapsed = time.monotonic() - started
    scores = score(sites, found)

    table = Table(title=f"{extractor.name} on {len(sites)} labelled sites ({elapsed:.1f} s)")
    for column in ("data point", "accuracy", "right / sites", "nulls kept null", "claimed"):
        table.add_column(column, justify="left" if column == "data point" else "right")
    for key in DATA_POINT_KEYS:
        entry = scores[key]
        nulls = f"{entry.nulls_correct}/{entry.nulls_expected}"
        claimed = "yes" if entry.accuracy >= CLAIM else "no"
        table.add_row(
            key, f"{entry.accuracy:.0%}", f"{entry.correct}/{entry.total}", nulls, claimed
        )
    right = sum(entry.correct for entry in scores.values())
    total = sum(entry.total for entry in scores.values())
    null_right = sum(entry.nulls_correct for entry in scores.values())
    null_total = sum(entry.nulls_expected for entry in scores.values())
    table.add_section()
    overall_nulls = f"{null_right}/{null_total} ({null_right / null_total:.0%})"
    table.add_row("overall", f"{right / total:.1%}", f"{right}/{total}", overall_nulls, "")
    console = Console()
    console.print(table)
    if args.errors:
        for key in DATA_POINT_KEYS:
            for error in scores[key].errors:
                console.print(f"{key}: {error}", markup=False, highlight=False)


if __name__ == "__main__":
    main()
