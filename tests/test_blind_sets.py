"""The blind evaluation sets are frozen and well formed (they are never scored here)."""

from __future__ import annotations

import pycountry

from enrichment_pipelines.core.datapoints import EMPLOYEE_RANGES
from tests.support.blind import (
    COMPANIES_DIR,
    PAGE_KINDS,
    PAGES_DIR,
    STATEMENT_GAP,
    load_blind_companies,
    load_blind_pages,
    verify_manifest,
)


def test_blind_pages_are_frozen() -> None:
    verify_manifest(PAGES_DIR)
    pages = load_blind_pages()
    assert len(pages) >= 100
    html_files = {path.name for path in PAGES_DIR.glob("*.html")}
    assert {page.file.name for page in pages} == html_files
    for page in pages:
        where = page.file.name
        assert page.page_kind in PAGE_KINDS, where
        assert page.file.stat().st_size > 0, where
        country = page.expected.get("location_country_code")
        if country is not None:
            assert pycountry.countries.get(alpha_2=country) is not None, where
        headcount = page.expected.get("employee_count")
        if headcount is not None:
            assert headcount in EMPLOYEE_RANGES, where
        city = page.expected.get("location_city")
        if city is not None:
            assert city == city.strip() and city, where
        for name, values in page.also_accept.items():
            assert all(value.strip() for value in values), (where, name)


def _collapsed(text: str) -> str:
    return " ".join(text.split())


def test_blind_companies_are_frozen() -> None:
    verify_manifest(COMPANIES_DIR)
    companies = load_blind_companies()
    assert len(companies) >= 100
    assert {path.name for path in COMPANIES_DIR.iterdir()} == {
        "companies.yaml",
        "MANIFEST.sha256",
    }
    for company in companies:
        where = company.id
        description = _collapsed(company.description)
        assert len(description) > 500, where
        headcount = company.expected.get("employee_count")
        if headcount is not None:
            assert headcount in EMPLOYEE_RANGES, where
        country = company.expected.get("location_country_code")
        if country is not None:
            assert pycountry.countries.get(alpha_2=country) is not None, where
        city = company.expected.get("location_city")
        if city is not None:
            assert city == city.strip() and city, where
            assert country is not None, where
        for name, values in company.also_accept.items():
            assert all(value.strip() for value in values), (where, name)
        # every label can be checked against the words it came from, and the extractor
        # sees those words: each piece of the statement is in the description
        for name, value in company.expected.items():
            statement = company.statements.get(name)
            if value is not None:
                assert statement, (where, name)
            if statement:
                for piece in statement.split(STATEMENT_GAP):
                    assert _collapsed(piece) in description, (where, name, piece)
