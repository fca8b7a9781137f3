"""Outcome reasons in groups a person can act on: "private address", "unreachable",
"robots.txt", ... A record's reason keeps its particulars ("home page: refused: 127.0.2.5 is a
private address; set ..."); counts are made by group, so ten sites refused for the same cause
are one line, not ten.

Every reason is written by this project (the crawler, the import's website check, the
extractors, the writer), so the groups are read from the words those places use; a test runs
each known reason through `reason_group` and finds none left as "other".
"""

from __future__ import annotations

import re

OTHER = "other"

# (group, pattern searched in the reason), first match wins: the order puts the specific
# causes ("refused: ... private address") before the general ones ("refused").
_GROUPS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (group, re.compile(pattern, re.IGNORECASE))
    for group, pattern in (
        ("no website", r"^no website$"),
        # The extractors' own reasons may quote an endpoint's HTTP status: before "HTTP error".
        ("LLM unavailable", r"^LLM\b"),
        ("extractor error", r"^extractor error"),
        ("out of credits", r"^out of credits$"),
        ("private address", r"private address|private host name|not a public domain name|"
                            r"private, loopback"),
        ("unusable website address", r"^(unsupported URL scheme|website (URL|'|\"))"),
        ("DNS lookup failed", r"DNS lookup"),
        ("TLS certificate", r"\bTLS\b"),
        ("robots.txt", r"robots\.txt"),
        ("unreachable", r"connection|could not connect|unreachable|timed out|took longer than"),
        ("HTTP error", r"\bHTTP \d{3}\b"),
        ("parked or for-sale domain", r"parked"),
        ("redirects elsewhere", r"redirect"),
        ("not a readable web page", r"page larger than|not an HTML page|binary content|"
                                    r"refused URL"),
        ("nothing found on the site", r"no data points found"),
        ("waiting for an earlier step", r"not crawled yet|not extracted yet"),
        ("unexpected error", r"unexpected error"),
    )
)  # fmt: skip


def reason_group(reason: str | None) -> str:
    """The group of an outcome's reason; "other" for a reason no group names."""
    if not reason:
        return OTHER
    for group, pattern in _GROUPS:
        if pattern.search(reason):
            return group
    return OTHER
