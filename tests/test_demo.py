"""`enrich demo` as a new user sees it, the demo data generator, and the demo's labels against
what the extractor reads."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from enrichment_pipelines.core.crawl import CrawlOptions, crawl_sites
from enrichment_pipelines.core.datapoints import DATA_POINT_KEYS
from enrichment_pipelines.core.extractors.rules import RulesExtractor
from enrichment_pipelines.core.websites import parse_networks
from enrichment_pipelines.demo import start_demo_sites
from enrichment_pipelines.demo.companies import generate_companies

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture(scope="module")
def demo_output(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Everything `enrich demo` prints (stdout then stderr), run as a new user whose
    DAGSTER_HOME is set: a fresh home folder, so Dagster has never greeted this user."""
    folder = tmp_path_factory.mktemp("demo")
    (folder / "user").mkdir()
    (folder / "dagster").mkdir()
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("ENRICH_", "DAGSTER_"))},
        "HOME": str(folder / "user"),
        "DAGSTER_HOME": str(folder / "dagster"),
        "COLUMNS": "200",  # tables unwrapped, to be read back
    }
    enrich = str(Path(sys.executable).with_name("enrich"))
    done = subprocess.run(
        [enrich, "demo", "--sites", "40", "--home", str(folder / "demo")],
        env=environment, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


@pytest.mark.e2e
def test_the_demo_shows_neither_dagster_s_banner_nor_its_instance_warning(
    demo_output: str,
) -> None:
    assert "Telemetry" not in demo_output
    assert "Welcome to Dagster" not in demo_output
    assert "No dagster instance configuration file" not in demo_output


@pytest.mark.e2e
def test_the_demo_prints_the_readme_s_query_and_what_it_returns(demo_output: str) -> None:
    lines = demo_output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.endswith("over customer_360:")) + 1
    table = next(i for i in range(start, len(lines)) if lines[i].startswith("┏"))
    query = "\n".join(lines[start:table])
    assert query in README.read_text(encoding="utf-8")
    shown = []
    for line in lines[table:]:
        if line.startswith("└"):
            break
        if line.startswith("│"):
            shown.append([cell.strip() for cell in line.strip("│").split("│")])
    # The same query over the analytics copy the demo tells the user to open.
    analytics = re.search(r"duckdb -readonly (\S+)", demo_output)
    assert analytics is not None
    with duckdb.connect(analytics.group(1), read_only=True) as connection:
        rows = connection.execute(query).fetchall()
    assert shown == [["" if value is None else str(value) for value in row] for row in rows]


def test_demo_generates_more_companies_than_there_are_word_pairs() -> None:
    companies = generate_companies(1500, seed=3)
    assert len({company.slug for company in companies}) == 1500


def test_the_demo_labels_and_the_extractor_agree_on_is_saas() -> None:
    # The sites `make demo` serves: its figures are only as good as these labels.
    demo = start_demo_sites()
    try:
        healthy = [company for company in demo.companies if company.fault is None]
        options = CrawlOptions(allowed_networks=parse_networks("127.0.0.0/8"))
        urls = [demo.website(company) for company in healthy]
        pages = {crawl.website_url: crawl.pages for crawl in crawl_sites(urls, options)}
    finally:
        demo.server.stop()
    extractor = RulesExtractor()
    disagreements = {
        f"{company.index} {company.archetype.subcategory} ({company.template})": (
            company.expected["is_saas"],
            # Every data point, as a run extracts them: is_saas may stand on the industry's quote.
            extractor.extract(url, pages[url], DATA_POINT_KEYS).data.get("is_saas"),
        )
        for company, url in zip(healthy, urls, strict=True)
    }
    disagreements = {site: pair for site, pair in disagreements.items() if pair[0] != pair[1]}
    assert not disagreements, f"{len(disagreements)} sites (expected, extracted): {disagreements}"
