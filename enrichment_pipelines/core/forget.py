"""The right to deletion: remove everything held about one customer.

The customer's record, tags, enrichments and their values, custom attributes and their
history, notes, segment memberships and what was pushed to ChartMogul are deleted (ChartMogul,
the system of record, keeps its own copy: delete the customer there too); so are the crawled
pages and extraction of their website unless another customer shares it. The credit ledger
keeps each charge (so a credit is never charged or refunded twice) with the customer's id
removed, and `deletions` records that a deletion happened, without saying whose.
"""

from __future__ import annotations

import duckdb

from enrichment_pipelines.core.errors import EnrichError

# (table, the column that names the customer), children before parents.
_CUSTOMER_ROWS = (
    ("custom_attribute_history", "customer_id"),
    ("custom_attributes", "customer_id"),
    ("notes", "customer_id"),
    ("chartmogul_pushed", "customer_id"),
    ("chartmogul_push_errors", "customer_id"),
    ("customer_tags", "customer_id"),
    ("segment_memberships", "customer_id"),
    ("enrichments", "customer_id"),
    ("customers", "customer_id"),
)
_WEBSITE_ROWS = ("scraped_pages", "site_crawls", "extractions", "site_technologies")


class ForgetError(EnrichError, ValueError):
    """A deletion that cannot be done, e.g. an unknown customer id."""


def forget_customer(connection: duckdb.DuckDBPyConnection, customer_id: str, by: str) -> int:
    """Delete everything about `customer_id` (call inside a transaction); rows removed."""
    row = connection.execute(
        "SELECT website_url FROM customers WHERE customer_id = ?", [customer_id]
    ).fetchone()
    if row is None:
        raise ForgetError(f"no customer with id {customer_id!r}")
    website_url = row[0]
    removed = _delete(
        connection,
        "DELETE FROM enrichment_values WHERE enrichment_id IN "
        "(SELECT enrichment_id FROM enrichments WHERE customer_id = ?)",
        [customer_id],
    )
    for table, column in _CUSTOMER_ROWS:
        removed += _delete(connection, f"DELETE FROM {table} WHERE {column} = ?", [customer_id])
    shared = connection.execute(
        "SELECT count(*) FROM customers WHERE website_url = ?", [website_url]
    ).fetchone()
    if website_url is not None and shared is not None and shared[0] == 0:
        for table in _WEBSITE_ROWS:
            removed += _delete(
                connection, f"DELETE FROM {table} WHERE website_url = ?", [website_url]
            )
    # The audit trail keeps that something was done, not to whom.
    connection.execute(
        "UPDATE audit_log SET target = NULL, detail = NULL WHERE target = ?", [customer_id]
    )
    connection.execute(
        "UPDATE credit_ledger SET customer_id = NULL, note = 'customer forgotten' "
        "WHERE customer_id = ?",
        [customer_id],
    )
    connection.execute(
        "INSERT INTO deletions (deleted_at, deleted_by, rows_removed) VALUES (now(), ?, ?)",
        [by, removed],
    )
    return removed


def _delete(connection: duckdb.DuckDBPyConnection, sql: str, parameters: list[object]) -> int:
    row = connection.execute(sql, parameters).fetchone()
    return int(row[0]) if row else 0
