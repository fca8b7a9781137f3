"""The industry taxonomy: the shipped default, a user's replacement, and bad files."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from enrichment_pipelines.cli import main
from enrichment_pipelines.core.crawl import Page
from enrichment_pipelines.core.datapoints import DATA_POINT_KEYS
from enrichment_pipelines.core.extractors.rules import RulesExtractor
from enrichment_pipelines.core.taxonomy import TaxonomyError, load_taxonomy, parse_taxonomy

USER_TAXONOMY = """
categories:
  - name: Bakery Trade
    subcategories:
      - name: Sourdough
        description: Bakeries that live on sourdough.
        keywords: [sourdough, levain, crust]
        market: B2C
"""


def test_default_taxonomy_is_valid_and_documented() -> None:
    taxonomy = load_taxonomy()
    assert len(taxonomy.categories) >= 12
    assert all(sub.description and sub.keywords for sub in taxonomy.subcategories)
    assert RulesExtractor(taxonomy).name == "rules-v45"


def test_a_user_taxonomy_replaces_the_default_and_the_cache_key(tmp_path: Path) -> None:
    path = tmp_path / "taxonomy.yaml"
    path.write_text(USER_TAXONOMY)
    extractor = RulesExtractor(load_taxonomy(path))
    assert extractor.name.startswith("rules-v45+taxonomy-")
    page = Page(
        url="https://crumb.example/",
        final_url="https://crumb.example/",
        fetched_at=datetime.now(UTC),
        title="Crumb & Levain",
        text="Crumb & Levain bakes sourdough with a dark crust from a 20-year-old levain.",
    )
    result = extractor.extract("https://crumb.example", [page], DATA_POINT_KEYS)
    assert result.data["industry_category"] == "Bakery Trade"
    assert result.data["industry_subcategory"] == "Sourdough"
    assert result.data["target_market"] == "B2C"  # the subcategory's usual market


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("categories: nope", "expected a mapping with a 'categories' list"),
        ("categories:\n  - name: A\n", "category #1 (A): needs a non-empty 'subcategories'"),
        (
            "categories:\n  - name: A\n    subcategories:\n      - name: B\n        market: B2X\n",
            "subcategory #1: 'market' must be B2B or B2C",
        ),
        (
            "categories:\n  - name: A\n    subcategories:\n      - name: B\n"
            "        keywords: [bread, ' ']\n",
            "category #1 (A), subcategory #1: a keyword is empty",
        ),
        ("categories: []\n", "needs at least one category"),
    ],
)
def test_a_bad_taxonomy_names_the_file_and_entry(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(TaxonomyError, match=re.escape(message)) as raised:
        load_taxonomy(path)
    assert str(raised.value).startswith(str(path))


def test_extract_refuses_a_bad_taxonomy_file_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("categories: nope")
    monkeypatch.setenv("ENRICH_TAXONOMY", str(path))
    result = CliRunner().invoke(main, ["extract", "https://example.com"])
    assert result.exit_code == 2
    assert f"{path}: expected a mapping with a 'categories' list" in result.output


def test_a_taxonomy_without_keywords_leaves_the_industry_to_the_model() -> None:
    own = parse_taxonomy(
        {"categories": [
            {"name": "Money", "subcategories": [
                {"name": "Banks", "description": "Retail and commercial banks, mortgage "
                 "lenders, credit unions and insurance companies."}]},
            {"name": "Making things", "subcategories": [
                {"name": "Factories", "description": "Manufacturers of machines, tools and "
                 "industrial parts."}]},
        ]},
        "test",
    )  # fmt: skip
    page = Page(
        url="https://harbor.example/about",
        final_url="https://harbor.example/about",
        fetched_at=datetime.now(UTC),
        title="About us",
        text="Harbor Savings is a community bank. It takes deposits and makes residential "
        "mortgage and consumer loans through twelve branches.",
        kind="about",
    )
    result = RulesExtractor(own).extract("https://harbor.example", [page], DATA_POINT_KEYS)
    assert result.error is None
    assert result.data.get("industry_category") == "Money"
    assert result.data.get("industry_subcategory") is None  # keywords pick subcategories
