"""Saved segments and their history: create, edit, delete (audited, and refused for the
target of live enrichment), and who entered or left each segment when.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from enrichment_pipelines.core.segments.compiler import (
    Segment,
    SegmentError,
    compile_segment,
    validate_segment,
)
from enrichment_pipelines.core.settings import describe_change, load_live_settings

# Storage ------------------------------------------------------------------------------------


def load_segment(connection: duckdb.DuckDBPyConnection, name: str) -> Segment:
    row = connection.execute("SELECT definition FROM segments WHERE name = ?", [name]).fetchone()
    if row is None:
        known = ", ".join(segment_names(connection)) or "none saved"
        raise SegmentError(f"no segment named {name!r} (saved: {known})")
    document = json.loads(row[0])
    return Segment(name=name, description=document.get("description", ""), match=document["match"])


def segment_names(connection: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        name for (name,) in connection.execute("SELECT name FROM segments ORDER BY name").fetchall()
    ]


@dataclass(frozen=True)
class SegmentListing:
    name: str
    description: str
    matching_now: int | None  # None: the definition no longer evaluates (see `problem`)
    updated_at: datetime
    problem: str | None = None


def list_segments(connection: duckdb.DuckDBPyConnection) -> list[SegmentListing]:
    """Every saved segment with how many customers match it now: the count `save_segment`
    reports, by the same function. (The membership history lags until its next refresh.)"""
    listings = []
    for name, updated_at in connection.execute(
        "SELECT name, updated_at FROM segments ORDER BY name"
    ).fetchall():
        segment = load_segment(connection, name)
        try:
            matching, problem = validate_segment(connection, segment), None
        except SegmentError as error:  # e.g. an attribute it filters on was removed
            matching, problem = None, str(error)
        listings.append(SegmentListing(name, segment.description, matching, updated_at, problem))
    return listings


def save_segment(
    connection: duckdb.DuckDBPyConnection, segment: Segment, *, by: str, create: bool
) -> int:
    """Validate and store (create or replace) a segment; returns its current match count.

    Call inside a transaction. Editing the target of live enrichment is refused."""
    stored = connection.execute(
        "SELECT definition FROM segments WHERE name = ?", [segment.name]
    ).fetchone()
    if create and stored is not None:
        raise SegmentError(f"segment {segment.name} exists already: use `enrich segments edit`")
    if not create and stored is None:
        raise SegmentError(f"no segment named {segment.name!r}: use `enrich segments create`")
    if not create:
        refuse_if_live_target(connection, segment.name, "edited")
    members = validate_segment(connection, segment)
    connection.execute(
        "INSERT INTO segments (name, definition, created_at, updated_at) "
        "VALUES (?, ?, now(), now()) ON CONFLICT (name) DO UPDATE "
        "SET definition = excluded.definition, updated_at = excluded.updated_at",
        [segment.name, segment.to_json()],
    )
    after = json.loads(segment.to_json())
    change = "created" if stored is None else describe_change(json.loads(stored[0]), after)
    _audit(connection, segment.name, segment.to_json(), by, change)
    return members


def delete_segment(connection: duckdb.DuckDBPyConnection, name: str, *, by: str) -> None:
    """Delete a segment and its membership history (call inside a transaction)."""
    load_segment(connection, name)  # refuses an unknown name
    refuse_if_live_target(connection, name, "deleted")
    connection.execute("DELETE FROM segment_memberships WHERE segment = ?", [name])
    connection.execute("DELETE FROM segments WHERE name = ?", [name])
    _audit(connection, name, json.dumps(None), by, "deleted")


def refuse_if_live_target(connection: duckdb.DuckDBPyConnection, name: str, action: str) -> None:
    live = load_live_settings(connection)
    if live.enabled and live.target == name:
        raise SegmentError(
            f"segment {name} is the target of live enrichment and cannot be {action} while live "
            "enrichment is on: turn it off first (`enrich live off`)"
        )


def _audit(
    connection: duckdb.DuckDBPyConnection, name: str, value: str, by: str, change: str
) -> None:
    """Append the change to the settings audit trail, where segment changes are kept too."""
    connection.execute(
        "INSERT INTO settings_history (key, value, changed_at, changed_by, change) "
        "VALUES (?, ?, now(), ?, ?)",
        [f"segment:{name}", value, by, change],
    )


# Membership history -------------------------------------------------------------------------


@dataclass(frozen=True)
class MembershipChange:
    segment: str
    members: int
    entered: int
    left: int


def refresh_memberships(
    connection: duckdb.DuckDBPyConnection, name: str, at: datetime | None = None
) -> MembershipChange:
    """Record who entered and who left `name` since the last refresh (call in a transaction).

    One row per stay in the segment: `entered_at`, and `left_at` once the customer leaves; a
    customer who comes back gets a new row. Set-based, so a million customers take seconds."""
    compiled = compile_segment(connection, load_segment(connection, name))
    moment = {"segment": name, "at": at or datetime.now(UTC)}
    connection.execute(
        f"CREATE OR REPLACE TEMP TABLE segment_now AS {compiled.members_sql()}", compiled.parameters
    )
    left = connection.execute(
        """
        UPDATE segment_memberships AS m SET left_at = $at
        WHERE m.segment = $segment AND m.left_at IS NULL
          AND m.customer_id NOT IN (SELECT customer_id FROM segment_now)
        """,
        moment,
    ).fetchone()
    entered = connection.execute(
        """
        INSERT INTO segment_memberships (segment, customer_id, entered_at, left_at)
        SELECT $segment, n.customer_id, $at, NULL FROM segment_now AS n
        WHERE n.customer_id NOT IN (
            SELECT customer_id FROM segment_memberships WHERE segment = $segment AND left_at IS NULL
        )
        """,
        moment,
    ).fetchone()
    members = connection.execute("SELECT count(*) FROM segment_now").fetchone()
    connection.execute("DROP TABLE segment_now")
    return MembershipChange(
        segment=name,
        members=int(members[0]) if members else 0,
        entered=int(entered[0]) if entered else 0,
        left=int(left[0]) if left else 0,
    )


def segment_entrants(
    connection: duckdb.DuckDBPyConnection, name: str, since: datetime
) -> list[str]:
    """Members of `name` now who were not members before `since` and were never enriched.

    "Before `since`" reads the membership history: a customer recorded as a member since
    before then is not new; one recorded later, or not recorded yet, is."""
    compiled = compile_segment(connection, load_segment(connection, name))
    rows = connection.execute(
        f"""
        SELECT n.customer_id FROM ({compiled.members_sql()}) AS n
        WHERE NOT EXISTS (
            SELECT 1 FROM segment_memberships AS m
            WHERE m.segment = $segment AND m.customer_id = n.customer_id
              AND m.left_at IS NULL AND m.entered_at <= $since)
          AND NOT EXISTS (
            SELECT 1 FROM enrichments AS e
            WHERE e.customer_id = n.customer_id AND e.status = 'enriched')
        ORDER BY n.customer_id
        """,
        {**compiled.parameters, "segment": name, "since": since},
    ).fetchall()
    return [customer_id for (customer_id,) in rows]


@dataclass(frozen=True)
class MembershipSummary:
    members: int
    entered_30_days: int
    left_30_days: int


def membership_summary(connection: duckdb.DuckDBPyConnection, name: str) -> MembershipSummary:
    row = connection.execute(
        """
        SELECT count(*) FILTER (WHERE left_at IS NULL),
               count(*) FILTER (WHERE entered_at >= now() - INTERVAL 30 DAY),
               count(*) FILTER (WHERE left_at >= now() - INTERVAL 30 DAY)
        FROM segment_memberships WHERE segment = ?
        """,
        [name],
    ).fetchone()
    return MembershipSummary(*(int(value) for value in row)) if row else MembershipSummary(0, 0, 0)


def sample_members(
    connection: duckdb.DuckDBPyConnection, segment: Segment, limit: int = 10
) -> list[tuple[str, str | None, str | None]]:
    """A few customers matching the segment now: (id, name, website)."""
    compiled = compile_segment(connection, segment)
    return connection.execute(
        f"SELECT c.customer_id, c.name, c.website_url FROM customers AS c WHERE {compiled.where} "
        f"ORDER BY c.customer_id LIMIT {int(limit)}",
        compiled.parameters,
    ).fetchall()
