"""Live enrichment: which customers the sensors should ask to enrich.

Live enrichment targets all customers or one saved segment. Two checks find work:
- new customers: imported after the cursor (a high-water mark on `imported_at`, starting when
  live was turned on), in the target, never enriched;
- segment entrants: members of the target segment who were not members at the previous check
  (read from the membership history), never enriched.
Both only read the warehouse; the runs they request do the writing.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from enrichment_pipelines.core.segments.compiler import compile_segment
from enrichment_pipelines.core.segments.store import (
    MembershipChange,
    load_segment,
    refresh_memberships,
)
from enrichment_pipelines.core.settings import (
    LiveSettings,
    load_live_settings,
    save_live_settings,
)
from enrichment_pipelines.core.shards import customer_shard

ALL_CUSTOMERS = "all"


@dataclass(frozen=True)
class LiveTurnedOn:
    live: LiveSettings
    in_target: int
    not_enriched: int
    baseline: MembershipChange | None


def turn_live_on(connection: duckdb.DuckDBPyConnection, target: str, *, by: str) -> LiveTurnedOn:
    """Turn live enrichment on for `target` (call inside a transaction).

    For a segment, today's members are recorded as the baseline, so the six-hourly check picks
    up only those who enter from now on; customers already in the target and not enriched are
    counted, for a one-off batch to take care of."""
    baseline = None
    if target != ALL_CUSTOMERS:
        load_segment(connection, target)  # refuses an unknown segment
        baseline = refresh_memberships(connection, target)
    now = datetime.now(UTC)
    live = LiveSettings(enabled=True, target=target, since=now.isoformat())
    save_live_settings(connection, live, updated_by=by)
    in_target, not_enriched = _target_counts(connection, target)
    return LiveTurnedOn(live, in_target, not_enriched, baseline)


def turn_live_off(connection: duckdb.DuckDBPyConnection, *, by: str) -> LiveSettings:
    current = load_live_settings(connection)
    live = LiveSettings(enabled=False, target=current.target, since=None)
    save_live_settings(connection, live, updated_by=by)
    return live


def _target_where(connection: duckdb.DuckDBPyConnection, target: str) -> tuple[str, dict]:
    if target == ALL_CUSTOMERS:
        return "true", {}
    compiled = compile_segment(connection, load_segment(connection, target))
    return compiled.where, compiled.parameters


def _target_counts(connection: duckdb.DuckDBPyConnection, target: str) -> tuple[int, int]:
    where, parameters = _target_where(connection, target)
    row = connection.execute(
        f"""
        SELECT count(*), count(*) FILTER (WHERE NOT EXISTS (
            SELECT 1 FROM enrichments AS e
            WHERE e.customer_id = c.customer_id AND e.status = 'enriched'))
        FROM customers AS c WHERE {where}
        """,
        parameters,
    ).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


@dataclass(frozen=True)
class NewCustomers:
    customer_ids: list[str]
    high_water: datetime | None  # the latest `imported_at` seen, wanted or not


def new_customers(
    connection: duckdb.DuckDBPyConnection, target: str, since: datetime
) -> NewCustomers:
    """Customers imported after `since`, in the target and never enriched.

    Imports commit one at a time (DuckDB has one writer), so a high-water mark on
    `imported_at` misses nothing."""
    where, parameters = _target_where(connection, target)
    rows = connection.execute(
        f"""
        SELECT c.customer_id, c.imported_at,
               ({where}) AND NOT EXISTS (
                   SELECT 1 FROM enrichments AS e
                   WHERE e.customer_id = c.customer_id AND e.status = 'enriched') AS wanted
        FROM customers AS c
        WHERE c.imported_at > $since
        ORDER BY c.customer_id
        """,
        {**parameters, "since": since},
    ).fetchall()
    return NewCustomers(
        customer_ids=[customer_id for customer_id, _, wanted in rows if wanted],
        high_water=max((imported_at for _, imported_at, _ in rows), default=None),
    )


def by_shard(customer_ids: Iterable[str]) -> dict[int, list[str]]:
    """Customer ids grouped by shard, each group sorted."""
    groups: dict[int, list[str]] = defaultdict(list)
    for customer_id in sorted(customer_ids):
        groups[customer_shard(customer_id)].append(customer_id)
    return dict(sorted(groups.items()))


def work_key(customer_ids: Iterable[str]) -> str:
    """A short digest of a set of customer ids: the same work always gets the same key."""
    digest = hashlib.sha256("\n".join(sorted(customer_ids)).encode())
    return digest.hexdigest()[:16]
