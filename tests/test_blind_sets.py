"""The blind evaluation sets are frozen and well formed (they are never scored here)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pycountry
import yaml

from enrichment_pipelines.core.datapoints import EMPLOYEE_RANGES
from tests.support.blind import (
    CLASSIFICATION_FIELDS,
    COMPANIES_DIR,
    COMPANY_FIELDS,
    PAGE_KINDS,
    PAGES_DIR,
    STATEMENT_GAP,
    BlindCompany,
    BlindPage,
    company_name_key,
    load_blind_companies,
    load_blind_pages,
    verify_manifest,
)
from tests.support.labelled import (
    DEVELOPMENT_ADDRESS_PAGES_DIR,
    DEVELOPMENT_COMPANIES_DIR,
    load_development_address_pages,
    load_development_companies,
)


def test_blind_pages_are_frozen() -> None:
    verify_manifest(PAGES_DIR)
    pages = load_blind_pages()
    assert len(pages) >= 100
    html_files = {path.name for path in PAGES_DIR.glob("*.html")}
    assert {page.file.name for page in pages} == html_files
    _assert_pages_well_formed(pages)


def test_the_development_address_pages_are_well_formed_and_none_is_of_a_blind_site() -> None:
    pages = load_development_address_pages()
    assert len(pages) >= 60
    assert {page.file.name for page in pages} >= {
        path.name for path in DEVELOPMENT_ADDRESS_PAGES_DIR.glob("*.html")
    }
    _assert_pages_well_formed(pages)
    blind = load_blind_pages()
    assert not {page.file.name for page in pages} & {page.file.name for page in blind}
    assert not {_host(page.url) for page in pages if page.url} & {
        _host(page.url) for page in blind if page.url
    }


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").removeprefix("www.")


def _assert_pages_well_formed(pages: list[BlindPage]) -> None:
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
            assert all(str(value).strip() for value in values), (where, name)


def _collapsed(text: str) -> str:
    return " ".join(text.split())


def test_blind_companies_are_frozen() -> None:
    verify_manifest(COMPANIES_DIR)
    companies = load_blind_companies()
    assert len(companies) >= 100
    assert {path.name for path in COMPANIES_DIR.iterdir()} == {
        "companies.yaml",
        "founded.yaml",
        "labels_classification.yaml",
        "MANIFEST.sha256",
    }
    _assert_well_formed(companies, COMPANIES_DIR)


def test_the_development_companies_are_well_formed_and_none_is_in_the_blind_set() -> None:
    companies = load_development_companies()
    assert len(companies) >= 40
    _assert_well_formed(companies, DEVELOPMENT_COMPANIES_DIR)
    blind = load_blind_companies()
    assert not {company.cik for company in companies if company.cik} & {
        company.cik for company in blind if company.cik
    }
    assert not {company_name_key(company.name) for company in companies} & {
        company_name_key(company.name) for company in blind
    }


def _assert_well_formed(companies: list[BlindCompany], folder: Path) -> None:
    """Each label is a valid value that stands on words of the description the extractor
    sees, and so does each founding year (`founded.yaml`)."""
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
            assert all(str(value).strip() for value in values), (where, name)
        # every label can be checked against the words it came from, and the extractor
        # sees those words: each piece of the statement is in the description
        for name in COMPANY_FIELDS:
            value, statement = company.expected.get(name), company.statements.get(name)
            if value is not None:
                assert statement, (where, name)
            if statement:
                for piece in statement.split(STATEMENT_GAP):
                    assert _collapsed(piece) in description, (where, name, piece)

    descriptions = {company.id: _collapsed(company.description) for company in companies}
    labels = yaml.safe_load((folder / "founded.yaml").read_text(encoding="utf-8"))
    for entry in labels:
        where, year, statement = entry["id"], entry["founded_year"], entry.get("founded_statement")
        if year is None:
            continue
        assert statement and _collapsed(statement) in descriptions[where], where
        years = {year, *(entry.get("also_accept") or {}).get("founded_year", [])}
        assert any(str(candidate) in statement for candidate in years), where

    # the classification labels (read and checked by the loader) each cite the description
    labels = yaml.safe_load((folder / "labels_classification.yaml").read_text(encoding="utf-8"))
    for entry in labels:
        statement = entry.get("classification_statement")
        if any(entry.get(name) is not None for name in CLASSIFICATION_FIELDS):
            assert statement, entry["id"]
        for piece in (statement or "").split(STATEMENT_GAP):
            assert _collapsed(piece) in descriptions[entry["id"]], (entry["id"], piece)
