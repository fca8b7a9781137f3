"""Extraction accuracy: the development sets beside the frozen blind sets.

Usage: .venv/bin/python bench/accuracy.py [--llm] [--errors] [--development-only]
                                           [--renamed-taxonomy]

Development sets, tuned on: tests/fixtures/labelled_sites, sites written for this project;
tests/fixtures/dev_pages, real saved pages labelled for the Customer-360 points under the
blind pages' rules, from sites the blind set does not hold; tests/fixtures/dev_companies,
other companies' 10-K descriptions labelled under the blind companies' rules. Blind sets
(tests/fixtures/blind, see its README): real pages and companies, frozen before tuning and
never tuned against; only their aggregate figures are printed, never their misses, so that
nobody tunes to them by reading this output.

Every site is served at its own loopback address and crawled with the production crawler; a
saved page is the contact (or about) page of a one-link home page. The offline extractor is
used, or with --llm the one configured by OPENAI_API_KEY / OPENAI_BASE_URL / ENRICH_LLM_MODEL.
Printed: per data point, accuracy on each set (a right null counts as right) and the gap
between the lower development and the lower blind figure (more than 5 points: the method was
fitted to the fixtures);
then, per set, how often values given each confidence were right (the reliability table).
--errors lists the development sets' misses. --development-only leaves the blind sets out, for
trying a change: a change is chosen on the development figures alone. --renamed-taxonomy
extracts and scores under the default taxonomy with every name replaced by a meaningless code
and the order shuffled (`renamed_taxonomy`): how a user's own taxonomy fares without
retraining.
"""

from __future__ import annotations

import argparse
import html
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import _project  # noqa: F401  (the project root on the import path, for tests.support)
import yaml
from rich.console import Console
from rich.table import Table

from enrichment_pipelines.core import geography
from enrichment_pipelines.core.config import EnrichConfig, LLMConfig
from enrichment_pipelines.core.crawl import CrawlOptions, crawl_sites
from enrichment_pipelines.core.datapoints import DATA_POINT_KEYS, DATA_POINTS_BY_KEY
from enrichment_pipelines.core.enrichment.extract import extract_one
from enrichment_pipelines.core.extractors import Extraction, build_extractor
from enrichment_pipelines.core.websites import parse_networks
from enrichment_pipelines.demo.server import SiteMap, SiteServer, site_address
from enrichment_pipelines.demo.sites import Response
from tests.support.blind import BlindCompany, BlindPage, load_blind_companies, load_blind_pages
from tests.support.labelled import (
    LIST_FIELDS,
    list_items,
    load_development_address_pages,
    load_development_companies,
    load_development_pages,
    load_labelled_sites,
    matches,
    site_map,
)
from tests.support.taxonomies import renamed_default_taxonomy

CLAIM = 0.90
_INDUSTRY_KEYS = ("industry_category", "industry_subcategory")
MAX_GAP = 0.05  # development minus blind: more means the rules learnt the fixtures' wording
CONFIDENCE_BANDS = ((0.8, 1.01, ">= 0.8"), (0.6, 0.8, "0.6-0.8"), (0.0, 0.6, "< 0.6"))


@dataclass(frozen=True)
class Case:
    """One site to score: its pages and what each scored data point should be (None: the
    site does not state it; the value must stay unknown)."""

    id: str
    pages: Mapping[str, bytes]
    expected: Mapping[str, object]
    also_accept: Mapping[str, tuple[object, ...]] = field(default_factory=dict)


@dataclass
class SetScore:
    right: dict[str, int] = field(default_factory=dict)
    total: dict[str, int] = field(default_factory=dict)
    # (data point, confidence, right) of every value given
    given: list[tuple[str, float, bool]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    nulls: list[bool] = field(default_factory=list)  # per expected null: was it kept null?
    extract_seconds: float = 0.0  # extraction alone (the crawl excluded)
    # list data point -> [items found, of them labelled, items labelled, of them found]
    items: dict[str, list[int]] = field(default_factory=dict)
    # yes/no data point -> [yes found, of them labelled yes, yes labelled, of them found]
    yes: dict[str, list[int]] = field(default_factory=dict)

    def accuracy(self, key: str) -> float | None:
        return self.right.get(key, 0) / self.total[key] if self.total.get(key) else None


def development_cases() -> list[Case]:
    sites = load_labelled_sites()
    served = site_map(sites)
    return [
        Case(site.id, {path: r.body for path, r in served[site_address(i)].items()}, site.expected)
        for i, site in enumerate(sites)
    ]


def _page_case(file: Path, kind: str, expected: Mapping[str, object],
               also_accept: Mapping[str, tuple[object, ...]]) -> Case:  # fmt: skip
    """A saved page as the contact (or about) page of a one-link home page."""
    path = "/about" if kind == "about" else "/contact"
    label = "About us" if path == "/about" else "Contact us"
    home = f'<!doctype html><title>Home</title><a href="{path}">{label}</a>'.encode()
    return Case(file.name, {"/": home, path: file.read_bytes()}, expected, also_accept)


def development_page_cases() -> list[Case]:
    return [
        _page_case(page.file, "contact", page.expected, page.also_accept)
        for page in load_development_pages()
    ]


def page_cases(pages: Sequence[BlindPage]) -> list[Case]:
    """Saved pages labelled for their address, each as the page of its kind."""
    return [
        _page_case(page.file, page.page_kind, page.expected, page.also_accept) for page in pages
    ]


def company_cases(companies: Sequence[BlindCompany]) -> list[Case]:
    """Each company's own description served as its site: a home page with its opening
    paragraph and an about page with the whole text, as a small company site would be."""
    cases = []
    for company in companies:
        paragraphs = [part.strip() for part in company.description.split("\n") if part.strip()]
        body = "".join(f"<p>{html.escape(part)}</p>" for part in paragraphs)
        name = html.escape(company.name)
        home = (f"<!doctype html><title>{name}</title><h1>{name}</h1>"
                f"<p>{html.escape(paragraphs[0] if paragraphs else '')}</p>"
                '<a href="/about">About us</a>')  # fmt: skip
        about = f"<!doctype html><title>About {name}</title><h1>About {name}</h1>{body}"
        cases.append(
            Case(company.id, {"/": home.encode(), "/about": about.encode()}, company.expected,
                 company.also_accept)
        )  # fmt: skip
    return cases


def evaluate(cases: Sequence[Case], extract: Callable[..., Extraction]) -> SetScore:
    served: SiteMap = {
        site_address(i): {path: Response(200, body) for path, body in case.pages.items()}
        for i, case in enumerate(cases)
    }
    with SiteServer(served) as server:
        urls = [server.url(site_address(i)) for i in range(len(cases))]
        options = CrawlOptions(allowed_networks=parse_networks("127.0.0.0/8"))
        crawls = {crawl.website_url: crawl for crawl in crawl_sites(urls, options)}
    result = SetScore()
    for case, url in zip(cases, urls, strict=True):
        crawl = crawls[url]
        started = time.perf_counter()
        extraction = extract(crawl.website_url, crawl.pages, DATA_POINT_KEYS)
        result.extract_seconds += time.perf_counter() - started
        for key, expected in case.expected.items():
            found = extraction.data.get(key)
            right = matches(key, expected, found) or any(
                matches(key, other, found) for other in case.also_accept.get(key, ())
            )
            result.total[key] = result.total.get(key, 0) + 1
            result.right[key] = result.right.get(key, 0) + right
            if expected is None:
                result.nulls.append(found is None)
            if found is not None:
                result.given.append((key, extraction.confidence.get(key, 0.0), right))
            if not right:
                result.errors.append(f"{key}: {case.id}: expected {expected!r}, got {found!r}")
            if key in LIST_FIELDS:
                _count(result.items, key, list_items(key, expected), list_items(key, found))
            elif DATA_POINTS_BY_KEY[key].type == "Boolean":
                _count(result.yes, key, {True} & {expected}, {True} & {found})
    return result


def _count(counts: dict[str, list[int]], key: str, wanted: set[Any], got: set[Any]) -> None:
    """Add what was found (`got`) against what was labelled (`wanted`) to `key`'s counts:
    [found, of them labelled, labelled, of them found]."""
    tally = counts.setdefault(key, [0, 0, 0, 0])
    tally[0] += len(got)
    tally[1] += len(got & wanted)
    tally[2] += len(wanted)
    tally[3] += len(wanted & got)


def _precision_recall(tally: Sequence[int]) -> str:
    found, right, wanted, hit = tally
    if not (found and wanted):
        return ""
    precision, recall = _percent(right / found), _percent(hit / wanted)
    return f"P {right}/{found} ({precision}), R {hit}/{wanted} ({recall})"


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.0%}"


def _share(outcomes: Sequence[bool]) -> str:
    """How many of `outcomes` are right, of how many, and the share; empty for none."""
    return (
        f"{sum(outcomes)}/{len(outcomes)} ({_percent(sum(outcomes) / len(outcomes))})"
        if outcomes
        else ""
    )


def renamed_taxonomy(folder: Path) -> tuple[Path, dict[str, str]]:
    """The renamed and reshuffled default taxonomy (`renamed_default_taxonomy`) written to
    `folder`, with each old name's new one."""
    document, names = renamed_default_taxonomy()
    path = folder / "renamed_taxonomy.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path, names


def _renamed(case: Case, names: Mapping[str, str]) -> Case:
    """`case` with its industry labels under the renamed taxonomy's names."""

    def rename(key: str, value: object) -> object:
        return names.get(str(value), value) if key in _INDUSTRY_KEYS and value else value

    return replace(
        case,
        expected={key: rename(key, value) for key, value in case.expected.items()},
        also_accept={
            key: tuple(rename(key, value) for value in values)
            for key, values in case.also_accept.items()
        },
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--llm", action="store_true", help="use the configured LLM extractor")
    parser.add_argument("--errors", action="store_true", help="list the development misses")
    parser.add_argument(
        "--development-only",
        action="store_true",
        help="leave the blind sets out: for trying a change, which is chosen on these alone",
    )
    parser.add_argument(
        "--renamed-taxonomy",
        action="store_true",
        help="extract and score under the default taxonomy renamed to meaningless codes and "
        "shuffled: does a user's own taxonomy work without retraining?",
    )
    args = parser.parse_args()
    llm = EnrichConfig.load().llm
    if args.llm and not llm.enabled:
        sys.exit("--llm needs OPENAI_API_KEY (and OPENAI_BASE_URL)")
    folder = Path(tempfile.mkdtemp())
    taxonomy_path, names = renamed_taxonomy(folder) if args.renamed_taxonomy else (None, {})
    extractor = build_extractor(llm if args.llm else LLMConfig(), taxonomy_path)

    def extract(url: str, pages: Sequence[object], keys: Sequence[str]) -> Extraction:
        return extract_one(extractor, url, pages, keys)  # type: ignore[arg-type]

    geography.city("London")  # build the city index now: a one-off, not a per-site cost
    sets: dict[str, tuple[list[Case], SetScore]] = {}
    started = time.monotonic()
    named_sets: list[tuple[str, Callable[[], list[Case]]]] = [
        ("development", development_cases),
        ("development pages", development_page_cases),
        ("development address pages", lambda: page_cases(load_development_address_pages())),
        ("development companies", lambda: company_cases(load_development_companies())),
    ]
    if not args.development_only:
        named_sets += [
            ("blind pages", lambda: page_cases(load_blind_pages())),
            ("blind companies", lambda: company_cases(load_blind_companies())),
        ]
    for name, cases_of in named_sets:
        cases = [_renamed(case, names) for case in cases_of()]
        sets[name] = (cases, evaluate(cases, extract))
    elapsed = time.monotonic() - started

    console = Console()
    sizes = ", ".join(f"{name} {len(cases)}" for name, (cases, _) in sets.items())
    table = Table(title=f"{extractor.name}: accuracy by set ({sizes} sites; {elapsed:.1f} s)")
    table.add_column("data point")
    for name in sets:
        table.add_column(name, justify="right")
    table.add_column("gap", justify="right")
    development = sets["development"][1]
    for key in DATA_POINT_KEYS:
        figures = [score.accuracy(key) for _, score in sets.values()]
        named = [(name, figure) for name, figure in zip(sets, figures, strict=True)
                 if figure is not None]  # fmt: skip
        tuned = [figure for name, figure in named if name.startswith("development")]
        blind = [figure for name, figure in named if name.startswith("blind")]
        gap = ""
        if blind and tuned:
            worst = min(tuned) - min(blind)
            gap = f"{worst * 100:+.0f} pts" + (" (fitted)" if worst > MAX_GAP else "")
        table.add_row(key, *(_percent(figure) for figure in figures), gap)
    table.add_section()
    table.add_row(
        "unknown stays null",
        *(_share(score.nulls) for _, score in sets.values()),
        "",
    )  # fmt: skip
    table.add_row(
        "every judged value",
        *(_percent(sum(score.right.values()) / sum(score.total.values()))
          for _, score in sets.values()),
        "",
    )  # fmt: skip
    console.print(table)

    reliability = Table(title="Reliability: values given, and the share right, by confidence")
    reliability.add_column("set")
    for _, _, band in CONFIDENCE_BANDS:
        reliability.add_column(f"confidence {band}", justify="right")
    for name, (_, score) in sets.items():
        cells = []
        for low, high, _ in CONFIDENCE_BANDS:
            cells.append(_share([right for _, confidence, right in score.given
                                 if low <= confidence < high]))  # fmt: skip
        reliability.add_row(name, *cells)
    console.print(reliability)
    # The promise is per data point: a value at confidence >= 0.8 is right 95 % of the time.
    confident = Table(title="Values given at confidence >= 0.8, and the share right, by data point")
    confident.add_column("data point")
    for name in sets:
        confident.add_column(name, justify="right")
    for key in DATA_POINT_KEYS:
        cells = []
        for _, score in sets.values():
            cells.append(_share([right for given, confidence, right in score.given
                                 if given == key and confidence >= 0.8]))  # fmt: skip
        if any(cells):
            confident.add_row(key, *cells)
    console.print(confident)
    items = Table(title="List data points item by item, and yes/no points' yes: precision "
                  "(found that are labelled) and recall (labelled that are found)")  # fmt: skip
    items.add_column("data point")
    for name in sets:
        items.add_column(name, justify="right")
    for key in LIST_FIELDS:
        items.add_row(key, *(_precision_recall(score.items.get(key, [0] * 4))
                             for _, score in sets.values()))  # fmt: skip
    items.add_section()
    # A yes/no point read as "is it yes?": a `true` given, and a `true` labelled.
    for key in DATA_POINT_KEYS:
        cells = [_precision_recall(score.yes.get(key, [0] * 4)) for _, score in sets.values()]
        if any(cells):
            items.add_row(f"{key} (yes)", *cells)
    console.print(items)
    if development.total:
        claimed = [key for key in DATA_POINT_KEYS if (development.accuracy(key) or 0) >= CLAIM]
        console.print(f"development: at least 90% on {len(claimed)} data points")
    for name, (cases, score) in sets.items():
        per_site = score.extract_seconds / len(cases) * 1000
        console.print(f"{name}: extraction {per_site:.1f} ms per site (crawl excluded)")
    if args.errors:
        for name, (_, score) in sets.items():
            if name.startswith("development"):
                for error in score.errors:
                    console.print(f"{name}: {error}", markup=False, highlight=False)


if __name__ == "__main__":
    main()
