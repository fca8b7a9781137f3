"""Writing each record's outcome: enrichment, values with evidence, custom attributes with
history, summary note and the credit charge.

Records are decided and written a batch at a time, each batch in one transaction with its
charges. What a batch needs is read in a few queries inside that transaction (`_BatchInputs`)
and what it adds is written with one statement per table (`_BatchWrites`): DuckDB's cost is per
statement, so this is what makes applying a million records take minutes, not hours.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb

from enrichment_pipelines.core.credits import balance, charge_enrichments
from enrichment_pipelines.core.datapoints import DATA_POINTS_BY_KEY, VALUE_COLUMN_BY_TYPE
from enrichment_pipelines.core.enrichment.extract import extraction_key
from enrichment_pipelines.core.enrichment.pages import claimed_elsewhere
from enrichment_pipelines.core.enrichment.policy import (
    CustomerToEnrich,
    EnrichmentPolicy,
    still_due,
)
from enrichment_pipelines.core.enrichment.reasons import reason_group
from enrichment_pipelines.core.extractors import Extraction
from enrichment_pipelines.core.settings import EnrichmentSettings
from enrichment_pipelines.core.warehouse import insert_rows

ENRICHMENT_COLUMNS = (
    "enrichment_id", "customer_id", "run_id", "status", "reason", "website_url", "extractor",
    "extraction_key", "credits_charged", "created_at", "prompt_tokens", "completion_tokens",
    "cost_usd",
)  # fmt: skip
VALUE_COLUMNS = (
    "enrichment_id", "data_point", "value", "evidence_url", "evidence_quote", "confidence",
    "held_value", "reason",
)  # fmt: skip
HISTORY_COLUMNS = (
    "customer_id", "name", "old_value", "new_value", "changed_at", "enrichment_id", "reason",
)  # fmt: skip
ATTRIBUTE_COLUMNS = (
    "customer_id", "name", *VALUE_COLUMN_BY_TYPE.values(), "source", "enrichment_id",
    "updated_at",
)  # fmt: skip
NOTE_COLUMNS = ("note_id", "customer_id", "body", "source", "enrichment_id", "created_at")


@dataclass
class ApplySummary:
    enriched: int = 0
    credits_spent: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)

    def add(self, status: str, reason: str | None) -> None:
        if status == "enriched":
            self.enriched += 1
            self.credits_spent += 1
        elif status == "skipped":
            self.skipped[reason_group(reason)] += 1
        elif status == "failed":
            self.failed[reason_group(reason)] += 1


def apply_batch(
    connection: duckdb.DuckDBPyConnection,
    batch: Sequence[CustomerToEnrich],
    policy: EnrichmentPolicy,
    settings: EnrichmentSettings,
    extractor_name: str,
    run_id: str | None,
) -> list[tuple[str, str | None]]:
    """Decide and write a batch of records with their charges (call inside a transaction, so
    a record and its credit are written together or not at all); one (status, reason) each,
    status "done" for a record brought up to date meanwhile (nothing written for it)."""
    inputs = _read_batch_inputs(connection, batch, policy, settings, run_id)
    writes = _BatchWrites(run_id=run_id, at=datetime.now(UTC))
    outcomes = [
        _apply_one(customer, inputs, writes, settings, extractor_name) for customer in batch
    ]
    writes.write(connection)
    return outcomes


@dataclass
class _BatchInputs:
    """What deciding a batch of records needs from the warehouse, read in a few queries
    inside the batch's transaction."""

    due: set[str]
    crawls: dict[str, tuple[str, str | None, str | None]]  # url -> status, reason, content key
    extractions: dict[str, tuple[str, str]]  # url -> extraction key, result
    attributes: dict[str, dict[str, str | None]]  # customer -> attribute name -> value text
    credits_left: int
    crawling_elsewhere: set[str]  # websites another run is crawling now


@dataclass
class _BatchWrites:
    """The rows a batch of records adds, written with one statement per table: DuckDB's cost
    is per statement, so this is what makes a batch fast."""

    run_id: str | None
    at: datetime
    enrichments: list[list[object]] = field(default_factory=list)  # ENRICHMENT_COLUMNS
    values: list[list[object]] = field(default_factory=list)  # VALUE_COLUMNS
    history: list[list[object]] = field(default_factory=list)  # HISTORY_COLUMNS
    attributes: list[list[object]] = field(default_factory=list)  # ATTRIBUTE_COLUMNS
    cleared: list[tuple[str, str]] = field(default_factory=list)  # customer, attribute name
    notes: list[list[object]] = field(default_factory=list)  # NOTE_COLUMNS
    charges: list[tuple[str, str]] = field(default_factory=list)  # customer, enrichment

    def outcome(
        self, customer: CustomerToEnrich, status: str, reason: str | None
    ) -> tuple[str, str | None]:
        """A record looked at and not enriched: skipped or failed, with the reason."""
        self.enrichments.append(
            [uuid.uuid4().hex, customer.customer_id, self.run_id, status, reason,
             customer.website_url, None, None, 0, self.at, 0, 0, 0.0]
        )  # fmt: skip
        return status, reason

    def write(self, connection: duckdb.DuckDBPyConnection) -> None:
        insert_rows(connection, "enrichments", ENRICHMENT_COLUMNS, self.enrichments)
        insert_rows(connection, "enrichment_values", VALUE_COLUMNS, self.values)
        insert_rows(connection, "custom_attribute_history", HISTORY_COLUMNS, self.history)
        if self.cleared:
            _clear_attributes(connection, self.cleared)
        insert_rows(
            connection,
            "custom_attributes",
            ATTRIBUTE_COLUMNS,
            self.attributes,
            conflict="ON CONFLICT (customer_id, name) DO UPDATE SET "
            + ", ".join(f"{column} = excluded.{column}" for column in ATTRIBUTE_COLUMNS[2:]),
        )
        insert_rows(connection, "notes", NOTE_COLUMNS, self.notes)
        charge_enrichments(connection, self.charges, self.run_id, self.at)


def _clear_attributes(
    connection: duckdb.DuckDBPyConnection, cleared: Sequence[tuple[str, str]]
) -> None:
    """Delete the current value of each (customer, attribute name): it became unknown."""
    customers, names = zip(*cleared, strict=True)
    connection.execute(
        "DELETE FROM custom_attributes USING "
        "(SELECT unnest($customers) AS customer_id, unnest($names) AS name) AS gone "
        "WHERE custom_attributes.customer_id = gone.customer_id "
        "AND custom_attributes.name = gone.name",
        {"customers": list(customers), "names": list(names)},
    )


def _read_batch_inputs(
    connection: duckdb.DuckDBPyConnection,
    batch: Sequence[CustomerToEnrich],
    policy: EnrichmentPolicy,
    settings: EnrichmentSettings,
    run_id: str | None,
) -> _BatchInputs:
    ids = [customer.customer_id for customer in batch]
    urls = sorted({customer.website_url for customer in batch if customer.website_url})
    names = [settings.data_points[key].attribute_name for key in settings.enabled_keys]
    return _BatchInputs(
        due=still_due(connection, ids, policy),
        crawls=_crawl_outcomes(connection, urls),
        extractions=_stored_results(connection, urls),
        attributes=_current_attributes(connection, ids, names),
        credits_left=balance(connection),
        crawling_elsewhere=claimed_elsewhere(connection, urls, run_id),
    )


def _crawl_outcomes(
    connection: duckdb.DuckDBPyConnection, urls: Sequence[str]
) -> dict[str, tuple[str, str | None, str | None]]:
    """Website -> (crawl status, reason, content key) of its latest crawl."""
    return {
        url: (status, reason, content_key)
        for url, status, reason, content_key in connection.execute(
            "SELECT website_url, status, reason, content_key FROM site_crawls "
            "WHERE list_contains(?, website_url)",
            [list(urls)],
        ).fetchall()
    }


def _stored_results(
    connection: duckdb.DuckDBPyConnection, urls: Sequence[str]
) -> dict[str, tuple[str, str]]:
    """Website -> (extraction key, result JSON) of its latest extraction."""
    return {
        url: (key, result)
        for url, key, result in connection.execute(
            "SELECT website_url, extraction_key, result FROM extractions "
            "WHERE list_contains(?, website_url)",
            [list(urls)],
        ).fetchall()
    }


def _current_attributes(
    connection: duckdb.DuckDBPyConnection, ids: Sequence[str], names: Sequence[str]
) -> dict[str, dict[str, str | None]]:
    """Customer -> attribute name -> current value as text, for the attributes in `names`."""
    attributes: dict[str, dict[str, str | None]] = {}
    columns = ", ".join(VALUE_COLUMN_BY_TYPE.values())
    for customer_id, name, *values in connection.execute(
        f"SELECT customer_id, name, {columns} FROM custom_attributes "
        "WHERE list_contains($ids, customer_id) AND list_contains($names, name)",
        {"ids": list(ids), "names": list(names)},
    ).fetchall():
        value = next((value for value in values if value is not None), None)
        attributes.setdefault(customer_id, {})[name] = _as_text(value)
    return attributes


def _apply_one(
    customer: CustomerToEnrich,
    inputs: _BatchInputs,
    writes: _BatchWrites,
    settings: EnrichmentSettings,
    extractor_name: str,
) -> tuple[str, str | None]:
    if customer.customer_id not in inputs.due:
        return "done", None  # brought up to date meanwhile (a retry, or a concurrent run)
    if customer.website_url is None:
        return writes.outcome(customer, "skipped", customer.website_error or "no website")
    crawl = inputs.crawls.get(customer.website_url)
    if crawl is None and customer.website_url in inputs.crawling_elsewhere:
        return "done", None  # another run is crawling it now: that run writes the outcome
    if crawl is None:
        return writes.outcome(customer, "failed", "website not crawled yet")
    status, reason, content_key = crawl
    if status != "ok":
        return writes.outcome(customer, "failed", reason)
    keys = settings.enabled_keys
    key = extraction_key(content_key or "", extractor_name, keys)
    stored = inputs.extractions.get(customer.website_url)
    if stored is None or stored[0] != key:
        return writes.outcome(customer, "failed", "pages not extracted yet")
    found = Extraction.from_json(stored[1])
    if found.error:
        return writes.outcome(customer, "failed", found.error)
    held = held_back(found, settings)
    extraction = found.subset([k for k in keys if k not in held])  # what the record shows
    if not any(extraction.data.get(k) is not None for k in keys):
        details = found.problems[:2] + ([f"{len(held)} held back: low confidence"] if held else [])
        reason = "no data points found on the site" + (
            f" ({'; '.join(details)})" if details else ""
        )
        return writes.outcome(customer, "failed", reason)
    if inputs.credits_left <= 0:
        return writes.outcome(customer, "skipped", "out of credits")
    inputs.credits_left -= 1
    enrichment_id = uuid.uuid4().hex
    usage = found.usage
    writes.enrichments.append(
        [enrichment_id, customer.customer_id, writes.run_id, "enriched", None,
         customer.website_url, extractor_name, key, 1, writes.at, usage.prompt_tokens,
         usage.completion_tokens, usage.cost_usd]
    )  # fmt: skip
    writes.values.extend(
        [
            enrichment_id,
            data_point,
            _as_text(extraction.data.get(data_point)),
            ev.url if (ev := found.evidence.get(data_point)) else None,
            ev.quote if ev else None,
            found.confidence.get(data_point),
            _as_text(found.data.get(data_point)) if data_point in held else None,
            held.get(data_point),
        ]
        for data_point in keys
    )
    current = inputs.attributes.get(customer.customer_id, {})
    _write_attributes(writes, customer.customer_id, enrichment_id, extraction, settings, current)
    _write_note(writes, customer, enrichment_id, extraction, settings)
    writes.charges.append((customer.customer_id, enrichment_id))
    return "enriched", None


def held_back(extraction: Extraction, settings: EnrichmentSettings) -> dict[str, str]:
    """The values found with less confidence than their data point's `min_confidence`, each
    with its reason: written as unknown, and kept with their evidence for review."""
    held: dict[str, str] = {}
    for key in settings.enabled_keys:
        minimum = settings.data_points[key].min_confidence
        confidence = extraction.confidence.get(key, 0.0)
        if extraction.data.get(key) is not None and confidence < minimum:
            held[key] = f"low confidence: {confidence:.2f}, below min_confidence {minimum:.2f}"
    return held


def _as_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _write_attributes(
    writes: _BatchWrites,
    customer_id: str,
    enrichment_id: str,
    extraction: Extraction,
    settings: EnrichmentSettings,
    current: dict[str, str | None],
) -> None:
    """Replace current attribute values, keeping every change in the history."""
    for key in settings.enabled_keys:
        name = settings.data_points[key].attribute_name
        value = extraction.data.get(key)
        new_text, old_text = _as_text(value), current.get(name)
        if new_text == old_text:
            continue
        reason = "enrichment" if name not in current else "re-enrichment"
        writes.history.append(
            [customer_id, name, old_text, new_text, writes.at, enrichment_id, reason]
        )
        if value is None:
            writes.cleared.append((customer_id, name))
            continue
        value_type = DATA_POINTS_BY_KEY[key].type
        typed = [value if type_ == value_type else None for type_ in VALUE_COLUMN_BY_TYPE]
        writes.attributes.append(
            [customer_id, name, *typed, "enrichment", enrichment_id, writes.at]
        )


def summary_note(extraction: Extraction, settings: EnrichmentSettings) -> str | None:
    """The note body built from the data points flagged "add to notes summary"."""
    lines = []
    for key in settings.enabled_keys:
        if not settings.data_points[key].in_notes:
            continue
        value = extraction.data.get(key)
        if value is None:
            continue
        label = key.replace("_", " ").capitalize()
        shown = ("yes" if value else "no") if isinstance(value, bool) else value
        lines.append(f"- {label}: {shown}")
    return "\n".join(lines) if lines else None


def _write_note(
    writes: _BatchWrites,
    customer: CustomerToEnrich,
    enrichment_id: str,
    extraction: Extraction,
    settings: EnrichmentSettings,
) -> None:
    if not settings.summary_note:
        return
    body = summary_note(extraction, settings)
    if body is None:
        return
    heading = f"Enrichment summary from {customer.website_url}"
    writes.notes.append(
        [uuid.uuid4().hex, customer.customer_id, f"{heading}\n{body}", "enrichment",
         enrichment_id, writes.at]
    )  # fmt: skip
