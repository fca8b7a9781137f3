"""What people read about customers outside the CLI (the staff page, and the HTTP API):
a search over the customers, and one customer's enriched values with their evidence.

Read-only queries for the server's in-memory copy of the warehouse
(`core/warehouse/replica.py`), where the view `customer_cards` (a customer with its latest
attempt and its enrichment in force) is a table of its rows: a search is one query there, and a
customer two lookups. (On the live file they are correct too, only slower: the view ranks
every customer's enrichments at each query.)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

import duckdb

from enrichment_pipelines.core.datapoints import DATA_POINT_KEYS, DATA_POINTS_BY_KEY
from enrichment_pipelines.core.settings import EnrichmentSettings

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
    held_value: str | None = None  # the value found, when held back
    reason: str | None = None  # why it was held back ("low confidence: ...")

    def document(self) -> dict[str, object]:
        """As JSON, each value of its data point's type (the warehouse keeps text)."""
        document: dict[str, object] = asdict(self)
        for field in ("value", "held_value"):
            document[field] = _typed(self.data_point, document[field])
        return document


def _typed(data_point: str, text: object) -> object:
    value_type = DATA_POINTS_BY_KEY[data_point].type
    if value_type == "Boolean" and text:
        return text == "true"
    if value_type == "Integer" and text:
        return int(str(text))
    return text


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


def search_customers(
    connection: duckdb.DuckDBPyConnection, query: str, limit: int = SEARCH_LIMIT
) -> SearchResult:
    """Customers whose id, name, website or email contains `query` (any case), by name; an
    empty query lists the first customers by name."""
    needle = " ".join(query.split()).lower()
    rows = connection.execute(
        """
        SELECT customer_id, name, website, attempted_at, attempt_status, attempt_reason
        FROM customer_cards
        WHERE contains(search_text, $needle)
        ORDER BY name NULLS LAST, customer_id
        LIMIT $limit + 1
        """,
        {"needle": needle, "limit": limit},
    ).fetchall()
    matches = [
        CustomerMatch(customer_id, name, website, _outcome(at, status, reason))
        for customer_id, name, website, at, status, reason in rows[:limit]
    ]
    return SearchResult(matches, more=len(rows) > limit)


def _outcome(at: datetime | None, status: str | None, reason: str | None) -> Outcome | None:
    return Outcome(at, str(status), reason) if at is not None else None


def customer_detail(
    connection: duckdb.DuckDBPyConnection, customer_id: str, settings: EnrichmentSettings
) -> CustomerDetail | None:
    """One customer (by its full id) with the values of its enrichment in force, in the data
    point registry's order, each under the attribute `settings` (those in force) name, as
    `enrich customer` shows them; None for an unknown id."""
    card = connection.execute(
        "SELECT name, email, website, website_error, billing_country_code, attempted_at, "
        "attempt_status, attempt_reason, current_enrichment_id, enriched_at "
        "FROM customer_cards WHERE customer_id = ?",
        [customer_id],
    ).fetchone()
    if card is None:
        return None
    name, email, website, website_error, country, at, status, reason, current, enriched_at = card
    return CustomerDetail(
        customer_id=customer_id,
        name=name,
        email=email,
        website=website,
        website_error=website_error,
        billing_country_code=country,
        last_outcome=_outcome(at, status, reason),
        last_enriched_at=enriched_at,
        values=_values(connection, current, settings) if current else [],
    )


def _values(
    connection: duckdb.DuckDBPyConnection, enrichment_id: str, settings: EnrichmentSettings
) -> list[EnrichedValue]:
    stored = {
        row[0]: row[1:]
        for row in connection.execute(
            "SELECT data_point, value, confidence, evidence_url, evidence_quote, held_value, "
            "reason "
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
    return Outcome(*row) if row else None
