"""The blind evaluation sets are frozen and well formed (they are never scored here)."""

from __future__ import annotations

import pycountry

from enrichment_pipelines.core.datapoints import EMPLOYEE_RANGES
from tests.support.blind import PAGE_KINDS, PAGES_DIR, load_blind_pages, verify_manifest


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
