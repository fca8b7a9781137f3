"""Which records a run brings up to date: the policy, and the SQL that applies it.

The same policy is read twice: once to choose the work (`select_customers`), and again inside
each writing transaction (`still_due`), so that a record brought up to date meanwhile, by a
retry or a concurrent run, is left alone and never charged twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb

from enrichment_pipelines.core.segments.compiler import compile_segment
from enrichment_pipelines.core.segments.store import load_segment
from enrichment_pipelines.core.shards import shard_sql

KEY_LENGTH = 24


def customer_key(customer_id: str) -> str:
    """A customer's key: names one customer in run config and run keys without its id, so
    that Dagster's run history (which `enrich forget` cannot rewrite) holds no customer data."""
    return hashlib.sha256(customer_id.encode()).hexdigest()[:KEY_LENGTH]


def customer_key_sql(column: str) -> str:
    """The SQL expression of `customer_key` over `column` (a column name from code)."""
    return f"substr(sha256({column}), 1, {KEY_LENGTH})"


@dataclass(frozen=True)
class EnrichmentPolicy:
    """Which records a run brings up to date.

    `reenrich_before=None` never re-enriches an enriched record; a timestamp re-enriches
    records last enriched before it (a one-off "enrich now" uses the moment it was asked for,
    so a retry of the same request finds the record already done). `customer_ids` or
    `customer_keys` (see `customer_key`), `shards` and `segment` (a saved segment's name)
    restrict the run to those records; empty means all.
    """

    reenrich_before: datetime | None = None
    customer_ids: tuple[str, ...] = ()
    customer_keys: tuple[str, ...] = ()
    shards: tuple[int, ...] = ()
    segment: str | None = None


@dataclass(frozen=True)
class CustomerToEnrich:
    customer_id: str
    website_url: str | None
    website_error: str | None


def select_customers(
    connection: duckdb.DuckDBPyConnection, policy: EnrichmentPolicy
) -> list[CustomerToEnrich]:
    """Customers in the policy's scope that still need enriching (a SegmentError for a
    segment that does not exist or no longer compiles)."""
    in_scope, parameters = _scope(connection, policy)
    rows = connection.execute(
        f"""
        SELECT c.customer_id, c.website_url, c.website_error
        FROM customers AS c
        LEFT JOIN current_enrichments AS e USING (customer_id)
        WHERE (e.customer_id IS NULL OR e.created_at < $cutoff) AND {in_scope}
        ORDER BY c.customer_id
        """,
        {**parameters, "cutoff": policy.reenrich_before},
    ).fetchall()
    return [CustomerToEnrich(*row) for row in rows]


def count_in_scope(connection: duckdb.DuckDBPyConnection, policy: EnrichmentPolicy) -> int:
    """Customers in the policy's scope, whether they need enriching or not."""
    in_scope, parameters = _scope(connection, policy)
    (count,) = connection.execute(
        f"SELECT count(*) FROM customers AS c WHERE {in_scope}", parameters
    ).fetchone() or (0,)
    return int(count)


def _scope(
    connection: duckdb.DuckDBPyConnection, policy: EnrichmentPolicy
) -> tuple[str, dict[str, object]]:
    """The SQL condition on `customers AS c` of the policy's scope (ids, keys, shards,
    segment), and its parameters."""
    in_segment, parameters = "true", {}
    if policy.segment is not None:
        compiled = compile_segment(connection, load_segment(connection, policy.segment))
        in_segment, parameters = compiled.where, compiled.parameters
    condition = f"""
        ((len($ids) = 0 AND len($keys) = 0) OR list_contains($ids, c.customer_id)
         OR list_contains($keys, {customer_key_sql("c.customer_id")}))
        AND (len($shards) = 0 OR list_contains($shards, {shard_sql("c.customer_id")}))
        AND {in_segment}
    """
    return condition, {
        **parameters,
        "ids": list(policy.customer_ids),
        "keys": list(policy.customer_keys),
        "shards": list(policy.shards),
    }


def still_due(
    connection: duckdb.DuckDBPyConnection, customer_ids: Sequence[str], policy: EnrichmentPolicy
) -> set[str]:
    """The policy check of `select_customers` again, read inside the writing transaction: a
    record brought up to date meanwhile (a retry, or a concurrent run), or forgotten meanwhile
    (`enrich forget`), is left alone."""
    rows = connection.execute(
        """
        SELECT id FROM unnest($ids) AS wanted(id)
        JOIN customers ON customers.customer_id = wanted.id  -- not forgotten meanwhile
        LEFT JOIN (
            SELECT customer_id, max(created_at) AS last_enriched FROM enrichments
            WHERE status = 'enriched' AND list_contains($ids, customer_id)
            GROUP BY customer_id
        ) AS enriched ON enriched.customer_id = wanted.id
        WHERE last_enriched IS NULL OR last_enriched < $cutoff
        """,
        {"ids": list(customer_ids), "cutoff": policy.reenrich_before},
    ).fetchall()
    return {customer_id for (customer_id,) in rows}


def websites_in_use(connection: duckdb.DuckDBPyConnection, urls: Sequence[str]) -> set[str]:
    """Those of `urls` that some customer still has. Read inside a writing transaction, so a
    run never writes back the pages or extraction of a customer forgotten while it worked."""
    return {
        url
        for (url,) in connection.execute(
            "SELECT DISTINCT website_url FROM customers WHERE list_contains(?, website_url)",
            [list(urls)],
        ).fetchall()
    }
