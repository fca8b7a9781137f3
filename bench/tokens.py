"""Prompt size per site for the LLM extractor, against sending the raw HTML.

Usage: .venv/bin/python bench/tokens.py [--sites 200] [--budget 2500]

Crawls generated demo sites on loopback and the labelled development set, builds the exact
messages the LLM extractor would send (system prompt, structured-data facts, page excerpts
within the token budget) and compares their size with the raw HTML of the same pages.
Tokens are estimated at 4 characters each (OpenAI's rule of thumb for English): no tokenizer
file can be fetched offline, and the ratio is what this measures.
"""

from __future__ import annotations

import argparse
import statistics
from urllib.parse import urlsplit

import _project  # noqa: F401  (the project root on the import path, for tests.support)

from enrichment_pipelines.core.crawl import CrawlOptions, SiteCrawl, crawl_sites
from enrichment_pipelines.core.datapoints import DATA_POINT_KEYS
from enrichment_pipelines.core.extractors.llm import build_messages, estimate_tokens
from enrichment_pipelines.core.extractors.rules import structured_facts
from enrichment_pipelines.core.taxonomy import load_taxonomy
from enrichment_pipelines.core.websites import parse_networks
from enrichment_pipelines.demo import start_demo_sites
from enrichment_pipelines.demo.server import SiteServer, site_address
from enrichment_pipelines.demo.sites import Response
from tests.support.labelled import load_labelled_sites, site_map

OPTIONS = CrawlOptions(allowed_networks=parse_networks("127.0.0.0/8"))


def _raw_html_tokens(crawl: SiteCrawl, served: dict[str, Response]) -> int:
    """The raw HTML of the pages the crawl read (what a naive prompt would send)."""
    total = 0
    for page in crawl.pages:
        response = served.get(urlsplit(page.final_url or page.url).path or "/")
        if response is not None and not page.error:
            total += estimate_tokens(response.body.decode("utf-8", errors="replace"))
    return total


def measure(crawls: list[SiteCrawl], served: dict[str, dict[str, Response]], budget: int) -> None:
    taxonomy = load_taxonomy()
    prompt_tokens, page_tokens, raw_tokens = [], [], []
    for crawl in crawls:
        if crawl.status != "ok":
            continue
        pages = [page for page in crawl.pages if not page.error]
        facts = structured_facts(pages, DATA_POINT_KEYS)
        messages = build_messages(
            crawl.website_url, pages, DATA_POINT_KEYS, facts, taxonomy, budget
        )
        prompt_tokens.append(sum(estimate_tokens(m["content"]) for m in messages))
        page_tokens.append(estimate_tokens(messages[-1]["content"]))
        address = urlsplit(crawl.website_url).hostname or ""
        raw_tokens.append(_raw_html_tokens(crawl, dict(served[address])))
    mean_prompt, mean_raw = statistics.mean(prompt_tokens), statistics.mean(raw_tokens)
    print(f"  sites:                           {len(prompt_tokens)}")
    print(
        f"  prompt tokens per site (mean):   {mean_prompt:,.0f} "
        f"(page excerpts {statistics.mean(page_tokens):,.0f}, max {max(prompt_tokens):,})"
    )
    print(f"  raw HTML tokens per site (mean): {mean_raw:,.0f}")
    mean_pages = statistics.mean(page_tokens)
    print(f"  prompt / raw HTML:               {mean_prompt / mean_raw:.0%}")
    print(f"  page excerpts / raw HTML:        {mean_pages / mean_raw:.0%} "
          f"(the rest is the fixed system prompt: field guide and taxonomy)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", type=int, default=200, help="generated demo sites")
    parser.add_argument("--budget", type=int, default=2500, help="page excerpt token budget")
    args = parser.parse_args()
    print(f"token budget for page excerpts: {args.budget}; 4 characters per token")

    demo = start_demo_sites(args.sites, seed=5)
    try:
        crawls = crawl_sites([demo.website(c) for c in demo.companies], OPTIONS)
        print("generated demo sites:")
        measure(crawls, demo.server.sites, args.budget)  # type: ignore[arg-type]
    finally:
        demo.server.stop()

    labelled = load_labelled_sites()
    served = site_map(labelled)
    with SiteServer(served) as server:
        urls = [server.url(site_address(i)) for i in range(len(labelled))]
        crawls = crawl_sites(urls, OPTIONS)
    print("labelled development set:")
    measure(crawls, served, args.budget)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
