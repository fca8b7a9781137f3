"""`enrich extract URL ...`: read websites and print what they say, with no warehouse."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import click

from enrichment_pipelines.cli.common import pass_config, print_json
from enrichment_pipelines.cli.progress import CliProgress
from enrichment_pipelines.core.config import EnrichConfig, LLMConfig
from enrichment_pipelines.core.crawl import CrawlOptions, crawl_sites
from enrichment_pipelines.core.datapoints import DATA_POINT_KEYS
from enrichment_pipelines.core.enrichment.extract import extract_one
from enrichment_pipelines.core.extractors import Extraction, build_extractor
from enrichment_pipelines.core.websites import WebsiteError, normalise_website


@click.command()
@click.argument("urls", nargs=-1, required=True)
@click.option("--llm", "use_llm", is_flag=True,
              help="Use the LLM extractor (needs OPENAI_API_KEY; OPENAI_BASE_URL, "
                   "ENRICH_LLM_MODEL) instead of the offline one.")  # fmt: skip
@pass_config
def extract(config: EnrichConfig, urls: tuple[str, ...], use_llm: bool) -> None:
    """Read websites and print one JSON object per site (no warehouse, no API key)."""
    if use_llm and not config.llm.enabled:
        raise click.UsageError(
            "--llm needs OPENAI_API_KEY (and OPENAI_BASE_URL for a server other than OpenAI)"
        )
    extractor = build_extractor(
        config.llm if use_llm else LLMConfig(), config.taxonomy_path, config.fingerprints_path
    )
    normalised: dict[str, str] = {}
    results: dict[str, dict[str, Any]] = {}
    for url in urls:
        try:
            normalised[url] = normalise_website(url).url
        except WebsiteError as error:
            results[url] = _result(url, "skipped", str(error))
    show_progress = len(normalised) > 1  # one site: its JSON line is the progress
    options = CrawlOptions.from_config(config.crawl)
    with CliProgress("crawled", len(normalised), shown=show_progress) as crawling:
        crawls = {
            crawl.website_url: crawl
            for crawl in crawl_sites(
                list(normalised.values()), options, lambda _crawl: crawling.advance()
            )
        }
    readable = sorted({site for site, crawl in crawls.items() if crawl.status == "ok"})
    extractions: dict[str, Extraction] = {}
    with (
        ThreadPoolExecutor(max_workers=max(1, extractor.concurrency)) as pool,
        CliProgress("extracted", len(readable), shown=show_progress) as extracting,
    ):
        pending = pool.map(
            lambda site: extract_one(extractor, site, crawls[site].pages, DATA_POINT_KEYS),
            readable,
        )
        for site, extraction in zip(readable, pending, strict=True):
            extractions[site] = extraction
            extracting.advance()
    for url, website_url in normalised.items():
        crawl = crawls[website_url]
        if crawl.status != "ok":
            results[url] = _result(website_url, "failed", crawl.reason)
            continue
        extraction = extractions[website_url]
        found = any(value is not None for value in extraction.data.values())
        reason = extraction.error or (None if found else "no data points found on the site")
        results[url] = _result(website_url, "enriched" if found else "failed", reason, extraction)
    for url in urls:
        print_json(results[url])


def _result(
    website: str, status: str, reason: str | None, extraction: Extraction | None = None
) -> dict[str, Any]:
    extraction = extraction or Extraction()
    return {
        "website": website,
        "status": status,
        "reason": reason,
        "data": {key: extraction.data.get(key) for key in DATA_POINT_KEYS},
        "evidence": {
            key: {"url": ev.url, "quote": ev.quote} for key, ev in extraction.evidence.items()
        },
        "confidence": dict(extraction.confidence),
    }
