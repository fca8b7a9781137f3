"""Read-only summaries of the warehouse for people: counts, previews and small tables."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import duckdb

from enrichment_pipelines.core.settings import EnrichmentSettings

PREVIEW_COLUMNS = (
    "customer_id", "name", "last_outcome", "industry_category_enriched",
    "target_market_enriched", "employee_count_enriched", "location_country_code_enriched",
)  # fmt: skip


def customer_360_counts(connection: duckdb.DuckDBPyConnection) -> dict[str, int]:
    row = connection.execute(
        "SELECT count(*), count(current_enrichment_id), count(*) FILTER (WHERE last_outcome = "
        "'skipped'), count(*) FILTER (WHERE last_outcome = 'failed') FROM customer_360"
    ).fetchone()
    assert row is not None
    return {"customers": row[0], "enriched": row[1], "skipped": row[2], "failed": row[3]}


def customer_360_preview(
    connection: duckdb.DuckDBPyConnection, limit: int = 10
) -> list[dict[str, Any]]:
    """A few enriched customers with the columns people look at first."""
    available = {row[0] for row in connection.execute("DESCRIBE customer_360").fetchall()}
    columns = [column for column in PREVIEW_COLUMNS if column in available]
    relation = connection.sql("SELECT * FROM customer_360").filter(
        "current_enrichment_id IS NOT NULL"
    )
    rows = relation.order("customer_id").limit(limit).select(*columns).fetchall()
    return [dict(zip(columns, row, strict=True)) for row in rows]


def markdown_table(rows: Sequence[Mapping[str, Any]]) -> str:
    if not rows:
        return "_(none)_"
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = ("" if row[c] is None else str(row[c]).replace("|", "\\|") for c in columns)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# Quoted values, URLs and host names in parentheses: what in a reason can name a customer.
_PARTICULARS = re.compile(
    r"'[^']*'"  # 'quoted'
    r'|"[^"]*"'  # "quoted"
    r"|\b[a-z][a-z0-9+.-]*://\S+"  # scheme://anything
    r"|\([^()\s]+\.[^()\s]+\)"  # (host.name)
    r"|(?<=customer )[^\s:]+",  # customer <id>: (an importer's warning)
    re.IGNORECASE,
)


def without_particulars(text: str) -> str:
    """A reason or problem with its particulars (quoted values, URLs, hosts) replaced by "…",
    for what leaves the warehouse: Dagster metadata and logs hold counts and kinds of problem,
    never a customer's data (which `enrich forget` could not reach there)."""
    return _PARTICULARS.sub("…", text)


def counts_table(counts: Mapping[str, int], label: str = "reason") -> str:
    """Counts by reason as a markdown table, the reasons without their particulars."""
    merged: Counter[str] = Counter()
    for key, value in counts.items():
        merged[without_particulars(key)] += value
    return markdown_table([{label: key, "records": value} for key, value in merged.most_common()])


def settings_table(settings: EnrichmentSettings) -> str:
    """The settings in force, as a markdown table (for Dagster metadata)."""
    return markdown_table(
        [
            {
                "data point": key,
                "enabled": "yes" if setting.enabled else "no",
                "attribute": setting.attribute_name,
                "in note": "yes" if setting.in_notes else "no",
            }
            for key, setting in settings.data_points.items()
        ]
    )
