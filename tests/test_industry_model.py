"""The shipped industry model: it loads from the package and reads a company's own words
offline; a user's taxonomy is matched to its classes by the taxonomy's own words."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import yaml

from enrichment_pipelines.core.crawl import Page
from enrichment_pipelines.core.datapoints import DATA_POINT_KEYS
from enrichment_pipelines.core.extractors.industry_model import (
    categories_for,
    load_industry_model,
)
from enrichment_pipelines.core.extractors.rules import RulesExtractor
from enrichment_pipelines.core.taxonomy import DEFAULT_TAXONOMY_PATH, load_taxonomy, parse_taxonomy


@pytest.mark.parametrize(
    ("description", "category"),
    [
        ("Harbor Savings is a community bank holding company. Through its subsidiary bank it "
         "takes deposits and makes residential mortgage, commercial real estate and consumer "
         "loans in twelve branches.", "Financial Services"),
        ("We are a clinical-stage biopharmaceutical company developing antibody therapies for "
         "patients with solid tumors; our lead candidate is in a Phase 2 trial.",
         "Healthcare & Life Sciences"),
        ("The Company designs and manufactures hydraulic pumps, valves and motion-control "
         "components for agricultural, construction and mining equipment makers.",
         "Manufacturing & Industrial"),
    ],
)  # fmt: skip
def test_the_model_reads_a_company_s_own_words_offline(description: str, category: str) -> None:
    probabilities = load_industry_model().probabilities(description)
    assert max(probabilities, key=probabilities.__getitem__) == category
    assert abs(sum(probabilities.values()) - 1) < 1e-6
    assert set(probabilities) <= set(load_taxonomy().categories)


def _about(text: str) -> Page:
    url = "https://harbor.example/about"
    return Page(url=url, final_url=url, fetched_at=datetime.now(UTC), title="About us",
                text=text, kind="about")  # fmt: skip


FILING = (
    "The Company underwrites property and casualty policies for homeowners and small "
    "businesses through independent agents in nine states. Claims are handled by our own "
    "adjusters."
)


def test_the_extractor_takes_the_model_s_category_where_the_keywords_read_none() -> None:
    # a heading first: the quote is the first statement the model read, not "Harbor Mutual"
    page = _about(f"Harbor Mutual\n{FILING}")
    result = RulesExtractor().extract("https://harbor.example", [page], DATA_POINT_KEYS)
    assert result.data.get("industry_category") == "Financial Services"
    assert result.evidence["industry_category"].quote == FILING.split(". ")[0] + "."


def test_the_keywords_keep_a_reading_they_are_sure_of() -> None:
    """A small site that says plainly what it is keeps the taxonomy's reading of it."""
    text = (
        "Payflow lets merchants accept card payments online and at the point of sale. "
        "Payment processing, wallets and payouts in one place. Card payments, point of sale "
        "terminals and payment links for every merchant."
    )
    result = RulesExtractor().extract("https://payflow.example", [_about(text)], DATA_POINT_KEYS)
    assert result.data.get("industry_category") == "Financial Services"


def _renamed_default() -> tuple[dict[str, object], dict[str, str]]:
    """The default taxonomy's document with its categories in reverse order, each named by a
    code that means nothing; with each old category name's code."""
    document = yaml.safe_load(DEFAULT_TAXONOMY_PATH.read_text(encoding="utf-8"))
    codes: dict[str, str] = {}
    document["categories"].reverse()
    for number, category in enumerate(document["categories"], start=1):
        codes[category["name"]] = category["name"] = f"Sector {number:02d}"
        for position, sub in enumerate(reversed(category["subcategories"]), start=1):
            sub["name"] = f"Sector {number:02d} segment {position}"
    return document, codes


def test_a_renamed_and_reshuffled_taxonomy_keeps_the_model() -> None:
    document, codes = _renamed_default()
    renamed = parse_taxonomy(document, "renamed")
    model = load_industry_model()
    taken = categories_for(model, renamed)
    # Matched by the categories' own words, never wrongly; a class the model reads weakly
    # (Education: its words read as retail) may go unused, and the keywords decide there.
    assert all(taken[name] == codes[name] for name in taken)
    assert len(taken) >= len(model.classes) - 1
    result = RulesExtractor(renamed).extract("https://harbor.example", [_about(FILING)],
                                             DATA_POINT_KEYS)  # fmt: skip
    assert result.data.get("industry_category") == codes["Financial Services"]


def test_a_class_no_category_of_the_taxonomy_reads_as_is_not_used() -> None:
    own = parse_taxonomy(
        {"categories": [{"name": "Bakery Trade", "subcategories": [
            {"name": "Sourdough", "description": "Bakeries baking bread.",
             "keywords": ["sourdough", "levain", "bakery"]}]}]},
        "test",
    )  # fmt: skip
    assert "Financial Services" not in categories_for(load_industry_model(), own)
    result = RulesExtractor(own).extract("https://harbor.example", [_about(FILING)],
                                         DATA_POINT_KEYS)  # fmt: skip
    assert result.data.get("industry_category") is None  # an insurer is no bakery
