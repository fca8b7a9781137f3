"""The demo data generator."""

from __future__ import annotations

from enrichment_pipelines.demo.companies import generate_companies


def test_demo_generates_more_companies_than_there_are_word_pairs() -> None:
    companies = generate_companies(1500, seed=3)
    assert len({company.slug for company in companies}) == 1500
