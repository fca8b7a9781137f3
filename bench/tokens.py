"""Prompt size per site for the LLM extractor, against sending the raw HTML, and what hybrid
extraction saves against one call per site.

Usage: .venv/bin/python bench/tokens.py [--sites 200] [--budget 2500] [--trust-offline-at 0.8]

Crawls generated demo sites on loopback and the labelled development set, builds the exact
messages the LLM extractor would send (system prompt, structured-data facts, page excerpts
within the token budget) and compares their size with the raw HTML of the same pages. Then,
as the hybrid extractor decides (`fields_to_ask`: the offline extractor's result first), the
share of sites that need no call, the fields asked per site, and the prompt tokens per site
against asking every field of every site.
Tokens are estimated at 4 characters each (OpenAI's rule of thumb for English): no tokenizer
file can be fetched offline, and the ratio is what this measures.
"""

from __future__ import annotations

import argparse
import statistics
from collections import Counter
from urllib.parse import urlsplit

import _project  # noqa: F401  (the project root on the import path, for tests.support)

from enrichment_pipelines.core.config import LLMConfig
from enrichment_pipelines.core.crawl import CrawlOptions, Page, SiteCrawl, crawl_sites, site_pages
from enrichment_pipelines.core.datapoints import DATA_POINT_KEYS
from enrichment_pipelines.core.extractors.llm import (
    askable,
    estimate_tokens,
    fields_to_ask,
    prompt_for,
)
from enrichment_pipelines.core.extractors.rules import RulesExtractor
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


def _prompt_tokens(
    crawl: SiteCrawl, pages: list[Page], keys: list[str], full_budget: int
) -> tuple[int, int]:
    """(tokens of the whole prompt, of its page excerpts) asking for `keys`, as the extractor
    builds it."""
    messages, _ = prompt_for(
        crawl.website_url, pages, keys, DATA_POINT_KEYS, load_taxonomy(), full_budget
    )
    return sum(estimate_tokens(m["content"]) for m in messages), estimate_tokens(
        messages[-1]["content"]
    )


def measure(
    crawls: list[SiteCrawl],
    served: dict[str, dict[str, Response]],
    budget: int,
    trust_offline_at: float,
) -> None:
    prompt_tokens, page_tokens, raw_tokens = [], [], []
    hybrid_tokens, asked_per_site, no_call = [], [], 0
    asked_count: Counter[str] = Counter()
    offline = RulesExtractor()
    every = askable(DATA_POINT_KEYS)  # every field the model answers
    for crawl in crawls:
        if crawl.status != "ok":
            continue
        # What the extractor sends: the site's own readable pages, not a job board's listing.
        pages = site_pages([page for page in crawl.pages if not page.error])
        prompt, excerpts = _prompt_tokens(crawl, pages, every, budget)
        prompt_tokens.append(prompt)
        page_tokens.append(excerpts)
        found = offline.extract(crawl.website_url, pages, DATA_POINT_KEYS)
        asked = fields_to_ask(found, DATA_POINT_KEYS, trust_offline_at)
        asked_per_site.append(len(asked))
        asked_count.update(asked)
        no_call += not asked
        hybrid_tokens.append(_prompt_tokens(crawl, pages, asked, budget)[0] if asked else 0)
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
    sites = max(len(hybrid_tokens), 1)
    print(f"  hybrid (offline values at confidence >= {trust_offline_at:g} kept, the rest asked):")
    print(f"    sites needing no LLM call:     {no_call}/{sites} ({no_call / sites:.0%})")
    print(f"    fields asked per site (mean):  {statistics.mean(asked_per_site):.1f} "
          f"of {len(every)}")  # fmt: skip
    print(f"    prompt tokens per site (mean): {statistics.mean(hybrid_tokens):,.0f} against "
          f"{mean_prompt:,.0f} for one call per site asking every field "
          f"({statistics.mean(hybrid_tokens) / mean_prompt:.0%})")  # fmt: skip
    common = ", ".join(f"{key} {count / sites:.0%}" for key, count in asked_count.most_common(6))
    print(f"    most asked:                    {common}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", type=int, default=200, help="generated demo sites")
    parser.add_argument("--budget", type=int, default=2500, help="page excerpt token budget")
    parser.add_argument(
        "--trust-offline-at", type=float, default=LLMConfig.trust_offline_at,
        help="hybrid: offline values at this confidence or more are kept",
    )  # fmt: skip
    args = parser.parse_args()
    print(f"token budget for page excerpts: {args.budget}; 4 characters per token")

    demo = start_demo_sites(args.sites, seed=5)
    try:
        crawls = crawl_sites([demo.website(c) for c in demo.companies], OPTIONS)
        print("generated demo sites:")
        measure(crawls, demo.server.sites, args.budget, args.trust_offline_at)  # type: ignore[arg-type]
    finally:
        demo.server.stop()

    labelled = load_labelled_sites()
    served = site_map(labelled)
    with SiteServer(served) as server:
        urls = [server.url(site_address(i)) for i in range(len(labelled))]
        crawls = crawl_sites(urls, OPTIONS)
    print("labelled development set:")
    measure(crawls, served, args.budget, args.trust_offline_at)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
