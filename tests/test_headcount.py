"""Head counts as sites state them (`core/extractors/headcount.py`): the shapes the extractor
must read, and the numbers that are not the company's people."""

from __future__ import annotations

import pytest

from enrichment_pipelines.core.datapoints import employee_range
from enrichment_pipelines.core.extractors.evidence import states_count
from enrichment_pipelines.core.extractors.headcount import stated_counts


def _found(text: str) -> str | None:
    counts = stated_counts(text, strict=True)
    return employee_range(counts[0].estimate) if counts else None


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Our 40+ person team builds everything in house.", "11-50"),
        ("A crew of 12 runs the workshop.", "11-50"),
        ("We are 230 people across two offices.", "201-500"),
        ("We're 9 friends who love maps.", "1-10"),
        ("Today a team of more than 1,200 works on it.", "1001-5000"),
        ("Acme employs approximately 6,600 full-time employees.", "5001-10000"),
        ("As of December 31, 2023, we had approximately 2,900 full-time employees.", "1001-5000"),
        ("Our studio of over 150 artists ships art for games.", "51-200"),
        ("A 95-person company since 1998.", "51-200"),
        ("Headcount: 45", "11-50"),
        ("Between 50-100 employees work at our plant.", "51-200"),
        ("We employ nearly 50 engineers and designers.", "11-50"),
        ("We have 3.5k staff worldwide.", "1001-5000"),
        # a date before the count is not one ("December 31", "2024")
        ("As of December 31, 2024, we employed approximately 35,300 persons.", "10001+"),
        ("As of May 3, 2000, the Company employed 612 persons.", "501-1000"),
        ("At the end of fiscal 2024, we employed approximately 470,100 associates.", "10001+"),
        ("As of December 31, 2024, our employee headcount worldwide was 125,665.", "10001+"),
        # a number in words, as the company's staff
        ("At year end we had thirty-seven full-time employees.", "11-50"),
        ("Twelve staff bake every loaf by hand.", "11-50"),
        ("We are a team of nine.", "1-10"),
        ("We are twenty-one people.", "11-50"),
        # full-time and part-time people given apart are added up
        ("At March 31 the bank had 31 full-time and 6 part-time employees.", "11-50"),
        ("We had 4,100 full-time employees and 1,300 part-time employees.", "5001-10000"),
        # "employs" takes the number after it, not the one before
        ("Acme operates in 14 countries and employs about 2,300 people.", "1001-5000"),
    ],
)
def test_a_stated_head_count_is_read(text: str, label: str) -> None:
    assert _found(text) == label
    assert states_count(text, label)  # and the evidence check accepts what was found


@pytest.mark.parametrize(
    "text",
    [
        "Founded in 2019 by two freelance designers.",
        "The three partners still answer every call.",  # a narrative's people, in words
        "At year end, our workforce was 58 percent women.",  # a share, not a count
        "We had 25 full-time and 3 part-time students.",  # not staff, summed or not
        "Trusted by 1,500 companies worldwide.",
        "Scheduling for companies with 10 to 500 employees.",
        "Running a group of more than 20 sites?",
        "A festival with 60 artists and 40,000 fans every July.",
        "Clean water for 1.2 million people.",
        "We are 10 years old this spring.",
        "Pro: £3 per employee per month.",
        "Rated 4.9 by 300 customers.",
        "In 2008, the personal auto insurance market shrank.",
        "During fiscal 2009, unemployment in the state rose.",
        "Named among the Top 100 Employers of Choice.",
    ],
)
def test_numbers_that_are_not_our_people_are_not_head_counts(text: str) -> None:
    assert _found(text) is None


def test_a_count_in_words_supports_a_range_but_does_not_choose_one() -> None:
    assert _found("Hundreds of employees across Europe.") is None
    assert states_count("Hundreds of employees across Europe.", "201-500")
