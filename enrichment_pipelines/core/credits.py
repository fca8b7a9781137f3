"""The credit ledger: one credit = one customer record enriched once.

The balance is the sum of the ledger. A charge is written in the same transaction as the
enrichment it pays for, and `enrichment_id` is unique in the ledger, so a record can never be
charged twice for one enrichment, whatever retries or crashes happen around it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import duckdb

from enrichment_pipelines.core.errors import EnrichError
from enrichment_pipelines.core.warehouse import insert_rows

INITIAL_CREDITS = 100


class CreditsError(EnrichError, ValueError):
    """A credit operation a person asked for that cannot be done (e.g. a non-positive top-up)."""


def balance(connection: duckdb.DuckDBPyConnection) -> int:
    row = connection.execute("SELECT coalesce(sum(delta), 0) FROM credit_ledger").fetchone()
    return int(row[0]) if row else 0


def recent_entries(
    connection: duckdb.DuckDBPyConnection, limit: int = 10
) -> list[tuple[object, int, str, str]]:
    """The latest ledger entries, newest first: (when, credits, kind, note or customer)."""
    return connection.execute(
        "SELECT created_at, delta, kind, coalesce(note, customer_id, '') FROM credit_ledger "
        "ORDER BY created_at DESC LIMIT ?",
        [limit],
    ).fetchall()


def charge_enrichments(
    connection: duckdb.DuckDBPyConnection,
    charges: Sequence[tuple[str, str]],
    run_id: str | None,
    at: datetime,
) -> None:
    """Spend one credit for each (customer, enrichment) pair (call inside the transaction that
    writes those enrichments)."""
    insert_rows(
        connection,
        "credit_ledger",
        ("entry_id", "created_at", "delta", "kind", "customer_id", "enrichment_id", "run_id"),
        [
            [uuid.uuid4().hex, at, -1, "enrichment", customer_id, enrichment_id, run_id]
            for customer_id, enrichment_id in charges
        ],
    )


def top_up(connection: duckdb.DuckDBPyConnection, credits: int, note: str | None = None) -> int:
    """Add credits; returns the new balance."""
    if credits <= 0:
        raise CreditsError(f"a top-up must be a positive number of credits, not {credits}")
    connection.execute(
        "INSERT INTO credit_ledger (entry_id, created_at, delta, kind, note) "
        "VALUES (?, now(), ?, 'top-up', ?)",
        [uuid.uuid4().hex, credits, note],
    )
    return balance(connection)
