"""Outcome reasons counted by group: the reasons written outside the crawler."""

from __future__ import annotations

import pytest

from enrichment_pipelines.core.enrichment.reasons import OTHER, reason_group


@pytest.mark.parametrize(
    ("reason", "group"),
    [
        ("no website", "no website"),
        ("out of credits", "out of credits"),
        ("unsupported URL scheme 'ftp' (only http and https)", "unusable website address"),
        ("website 'exa mple.com' contains spaces", "unusable website address"),
        ("website URL is too long: 5020 characters, at most 2048", "unusable website address"),
        ("website URL must not contain credentials", "unusable website address"),
        (
            "home page: TLS certificate not valid for host shop.example",
            "TLS certificate",
        ),
        ("LLM call failed: HTTP 429 after 3 retries", "LLM unavailable"),
        (
            "LLM skipped: endpoint failed 5 times in a row; offline result attached",
            "LLM unavailable",
        ),
        ("extractor error: KeyError: 'x'", "extractor error"),
        ("no data points found on the site", "nothing found on the site"),
        ("pages not extracted yet", "waiting for an earlier step"),
        ("website not crawled yet", "waiting for an earlier step"),
        ("site took longer than 60s", "unreachable"),
        ("unexpected error: RuntimeError: boom", "unexpected error"),
    ],
)
def test_reasons_fall_in_their_group(reason: str, group: str) -> None:
    assert reason_group(reason) == group


def test_an_unknown_reason_is_other() -> None:
    assert reason_group("something new happened") == OTHER
    assert reason_group(None) == OTHER
