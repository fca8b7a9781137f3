"""What people read about customers outside the CLI (the staff page, and the HTTP API):
a search over the customers, and one customer's enriched values with their evidence.

Read-only queries over a connection the caller opens (read-only, so that a reader never waits
on a run's write lock).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from enrichment_pipelines.core.datapoints import DATA_POINT_KEYS
from enrichment_pipelines.core.settings import EnrichmentSettings, load_settings

SEARCH_LIMIT = 50


@dataclass(frozen=True)
class Outcome:
    """A customer's latest enrichment attempt: enriched, skipped or failed, and why."""

    at: datetime
    status: str
    reason: str | None


@dataclass(frozen=True)
class CustomerMatch:
    customer_id: str
    name: str | None
    website: str | None  # normalised; as imported when it could not be used
    last_outcome: Outcome | None


@dataclass(frozen=True)
class SearchResult:
    matches: list[CustomerMatch]
    more: bool  # more customers match than were listed


@dataclass(frozen=True)
class EnrichedValue:
    """One data point of the enrichment in force: `value` None is unknown (a value below the
    data point's minimum confidence is unknown too, with its evidence kept for review)."""

    data_point: str
    attribute_name: str  # where the settings in force put it
    value: str | None
    confidence: float | None
    evidence_url: str | None
    evidence_quote: str | None


@dataclass(frozen=True)
class CustomerDetail:
    customer_id: str
    name: str | None
    email: str | None
    website: str | None
    website_error: str | None  # why the customer cannot be enriched, when it has no website
    billing_country_code: str | None
    last_outcome: Outcome | None
    last_enriched_at: datetime | None  # of the enrichment whose values are in force
    values: list[EnrichedValue]


def _outcome(at: datetime | None, status: str | None, reason: str | None) -> Outcome | None:
    return Outcome(at, str(status), reason) if at is not None else None


# The latest attempt of the named customers only: the `enrichment_outcomes` view ranks every
# customer's attempts, which a search of 50 customers need not pay for.
_LATEST_OUTCOMES = """
    latest AS (
        SELECT customer_id, created_at, status, reason
        FROM enrichments
        WHERE customer_id IN (SELECT customer_id FROM named)
        QUALIFY row_number() OVER (
            PARTITION BY customer_id ORDER BY created_at DESC, enrichment_id) = 1
    )
"""


def search_customers(
    connection: duckdb.DuckDBPyConnection, query: str, limit: int = SEARCH_LIMIT
) -> SearchResult:
    """Customers whose id, name, website or email contains `query` (any case), by name; an
    empty query lists the first customers by name."""
    needle = " ".join(query.split()).lower()
    rows = connection.execute(
        f"""
        WITH named AS (
            SELECT customer_id, name, coalesce(website_url, website_raw) AS website
            FROM customers
            WHERE $needle = ''
               OR contains(lower(customer_id), $needle)
               OR contains(lower(coalesce(name, '')), $needle)
               OR contains(lower(coalesce(website_url, website_raw, '')), $needle)
               OR contains(lower(coalesce(email, '')), $needle)
            ORDER BY name NULLS LAST, customer_id
            LIMIT $limit + 1
        ),
        {_LATEST_OUTCOMES}
        SELECT named.customer_id, name, website, created_at, status, reason
        FROM named LEFT JOIN latest USING (customer_id)
        ORDER BY name NULLS LAST, named.customer_id
        """,
        {"needle": needle, "limit": limit},
    ).fetchall()
    matches = [
        CustomerMatch(customer_id, name, website, _outcome(at, status, reason))
        for customer_id, name, website, at, status, reason in rows[:limit]
    ]
    return SearchResult(matches, more=len(rows) > limit)


def customer_detail(
    connection: duckdb.DuckDBPyConnection, customer_id: str
) -> CustomerDetail | None:
    """One customer (by its full id) with the values of its enrichment in force, in the data
    point registry's order; None for an unknown id."""
    row = connection.execute(
        f"""
        WITH named AS (SELECT * FROM customers WHERE customer_id = $id),
        {_LATEST_OUTCOMES}
        SELECT name, email, coalesce(website_url, website_raw), website_error,
               billing_country_code, created_at, status, reason
        FROM named LEFT JOIN latest USING (customer_id)
        """,
        {"id": customer_id},
    ).fetchone()
    if row is None:
        return None
    name, email, website, website_error, country, at, status, reason = row
    current = connection.execute(
        "SELECT enrichment_id, created_at FROM current_enrichments WHERE customer_id = ?",
        [customer_id],
    ).fetchone()
    return CustomerDetail(
        customer_id=customer_id,
        name=name,
        email=email,
        website=website,
        website_error=website_error,
        billing_country_code=country,
        last_outcome=_outcome(at, status, reason),
        last_enriched_at=current[1] if current else None,
        values=_values(connection, current[0]) if current else [],
    )


def _values(connection: duckdb.DuckDBPyConnection, enrichment_id: str) -> list[EnrichedValue]:
    """An enrichment's values in the data point registry's order, each under the attribute
    the settings in force name (the defaults until any are saved), as `enrich customer`
    shows them."""
    settings = load_settings(connection) or EnrichmentSettings.defaults()
    stored = {
        row[0]: row[1:]
        for row in connection.execute(
            "SELECT data_point, value, confidence, evidence_url, evidence_quote "
            "FROM enrichment_values WHERE enrichment_id = ?",
            [enrichment_id],
        ).fetchall()
    }
    return [
        EnrichedValue(key, settings.data_points[key].attribute_name, *stored[key])
        for key in DATA_POINT_KEYS
        if key in stored
    ]


def run_outcome(
    connection: duckdb.DuckDBPyConnection, customer_id: str, run_id: str
) -> Outcome | None:
    """What one run did to a customer; None when the run recorded nothing for it (it failed
    first), which the customer's latest outcome, from an earlier run, would hide."""
    row = connection.execute(
        "SELECT created_at, status, reason FROM enrichments WHERE customer_id = ? AND run_id = ? "
        "ORDER BY created_at DESC LIMIT 1",
        [customer_id, run_id],
    ).fetchone()
    return _outcome(*row) if row else None
