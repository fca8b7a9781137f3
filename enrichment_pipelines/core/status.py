"""Workspace status: credits, live enrichment, and how much has been enriched."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import duckdb

from enrichment_pipelines.core.credits import balance
from enrichment_pipelines.core.enrichment.reasons import reason_group
from enrichment_pipelines.core.settings import load_live_settings


@dataclass(frozen=True)
class Status:
    credit_balance: int
    live_enabled: bool
    live_target: str
    customers: int
    enriched_last_7_days: int
    enriched_total: int
    last_enriched_at: datetime | None
    # Where pushing to each outside system stands (see `connectors.status`): by sink, counts.
    sinks: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        document = asdict(self)
        document["last_enriched_at"] = (
            self.last_enriched_at.isoformat() if self.last_enriched_at else None
        )
        return document


def workspace_status(connection: duckdb.DuckDBPyConnection) -> Status:
    """Computed from the ledgers and the enrichments (records, not runs, are counted)."""
    live = load_live_settings(connection)
    row = connection.execute(
        """
        SELECT
            (SELECT count(*) FROM customers),
            count(DISTINCT customer_id) FILTER (WHERE created_at >= now() - INTERVAL 7 DAY),
            count(DISTINCT customer_id),
            max(created_at)
        FROM enrichments
        WHERE status = 'enriched'
        """
    ).fetchone()
    assert row is not None
    return Status(
        credit_balance=balance(connection),
        live_enabled=live.enabled,
        live_target=live.target,
        customers=int(row[0]),
        enriched_last_7_days=int(row[1]),
        enriched_total=int(row[2]),
        last_enriched_at=row[3],
    )


def customer_website(
    connection: duckdb.DuckDBPyConnection, customer_id: str
) -> tuple[str | None, str | None] | None:
    """(website URL, why it is missing) of a customer; None for an unknown id."""
    return connection.execute(
        "SELECT website_url, website_error FROM customers WHERE customer_id = ?", [customer_id]
    ).fetchone()


def last_outcome(
    connection: duckdb.DuckDBPyConnection, customer_id: str
) -> tuple[datetime, str, str | None] | None:
    """(when, status, reason) of the customer's latest enrichment attempt, if any."""
    return connection.execute(
        "SELECT created_at, status, reason FROM enrichments WHERE customer_id = ? "
        "ORDER BY created_at DESC LIMIT 1",
        [customer_id],
    ).fetchone()


@dataclass(frozen=True)
class OutcomeCount:
    """Records of one outcome and reason group, with one of their reasons in full."""

    outcome: str
    reason: str | None
    records: int
    credits: int
    example: str | None


def batch_outcomes(connection: duckdb.DuckDBPyConnection, run_ids: list[str]) -> list[OutcomeCount]:
    """The records the given runs wrote, by outcome and reason group, most records first."""
    groups: dict[tuple[str, str | None], list[Any]] = {}
    for status, reason, records, credits in connection.execute(
        """
        SELECT status, reason, count(*), sum(credits_charged)
        FROM enrichments WHERE list_contains($runs, run_id)
        GROUP BY ALL ORDER BY 3 DESC, 2
        """,
        {"runs": run_ids},
    ).fetchall():
        group = None if status == "enriched" else reason_group(reason)
        counts = groups.setdefault((status, group), [0, 0, reason])
        counts[0] += records
        counts[1] += int(credits or 0)
    return sorted(
        (
            OutcomeCount(status, group, records, credits, None if status == "enriched" else reason)
            for (status, group), (records, credits, reason) in groups.items()
        ),
        key=lambda count: -count.records,
    )
