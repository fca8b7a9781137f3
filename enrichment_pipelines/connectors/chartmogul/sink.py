"""Enrichments to ChartMogul: each enabled data point as a typed custom attribute under its
configured name, and the summary note of the enrichment in force (`enrich push chartmogul`, the
`chartmogul_sync` asset).

What to send comes from the warehouse: the customer's current custom attributes and note,
against the push ledger (`chartmogul_pushed`), which says what was last sent to which ChartMogul
customer. Only what differs is sent: a second push sends nothing. A value that became unknown is
removed; a data point that was disabled is left as it was last sent.

Exactly once, also when a push is killed half way: before writing to a customer, its
attributes and notes are read back from ChartMogul, and what is already there (sent by a push
that died before writing its ledger) is only entered in the ledger. A write whose outcome is
unknown (a time-out on a POST) is followed by reading back, never by a blind second send. The
ledger is written after each request, in its own short transaction.

One push at a time (`chartmogul_push_lease`): two at once would both find a note missing and
both send it. A second push is refused, saying who holds the lease; a killed push's lease
lapses, and on the machine it ran on is taken over at once.

A 4xx about one customer is that customer's error (kept in `chartmogul_push_errors`, shown by
`enrich push` and counted by `enrich status`); the others go on. Customers without a ChartMogul
id are not sent, and counted with that reason.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import duckdb

from enrichment_pipelines.connectors.chartmogul.client import (
    ChartMogulClient,
    ChartMogulError,
    ChartMogulRecordError,
    ChartMogulUnavailable,
    ChartMogulUnsure,
)
from enrichment_pipelines.core.datapoints import DATA_POINTS_BY_KEY
from enrichment_pipelines.core.segments.compiler import compile_segment
from enrichment_pipelines.core.segments.store import load_segment
from enrichment_pipelines.core.settings import EnrichmentSettings
from enrichment_pipelines.core.warehouse import Warehouse, insert_rows

# The `source` ChartMogul shows for the attributes this engine writes.
ATTRIBUTE_SOURCE = "enrichment-pipelines"
STRING_LIMIT = 255  # characters of a ChartMogul String attribute
_READ_BACK_ATTEMPTS = 3  # rounds of read back and write for a customer whose write was unsure
_UNAVAILABLE_IN_A_ROW = 5  # customers failing on an unavailable API before the push stops
_LEASE = timedelta(minutes=15)  # how long a push holds the lease without renewing it

Connection = duckdb.DuckDBPyConnection


class PushBusyError(ChartMogulError):
    """Another push holds the lease."""


@dataclass(frozen=True)
class Change:
    """One item ChartMogul should hold and was not last sent: an attribute's value (None:
    remove it), or the summary note (`value` its note id, `text` what it says)."""

    kind: Literal["attribute", "note"]
    name: str
    type: str | None
    value: str | None
    text: str | None = None


@dataclass
class CustomerPush:
    customer_id: str
    chartmogul_uuid: str
    failed_before: bool  # its last push failed (the error is cleared once it goes through)
    changes: list[Change] = field(default_factory=list)  # what is left to send


@dataclass
class PushReport:
    customers: int = 0  # with something to send
    pushed: int = 0  # of them, now up to date
    added: int = 0  # attributes new to the customer in ChartMogul
    updated: int = 0
    removed: int = 0
    notes: int = 0
    already_there: int = 0  # found in ChartMogul already (an interrupted push's), not sent
    requests: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (customer id, error)

    def figures(self, not_linked: int) -> dict[str, int]:
        """The counts `enrich push` prints and the asset records (`not_linked`: enriched
        customers skipped for want of a ChartMogul id)."""
        return {
            "customers": self.customers,
            "pushed": self.pushed,
            "failed": len(self.failed),
            "attributes_added": self.added,
            "attributes_updated": self.updated,
            "attributes_removed": self.removed,
            "notes": self.notes,
            "already_in_chartmogul": self.already_there,
            "requests": self.requests,
            "skipped_no_chartmogul_id": not_linked,
        }


@dataclass(frozen=True)
class PushCounts:
    """Where pushing stands, customer by customer (for `enrich status`)."""

    pushed: int  # everything sent
    pending: int  # something to send
    failed: int  # something to send, and the last push of it failed
    not_linked: int  # enriched, but no ChartMogul id


def _changes_sql(in_segment: str) -> str:
    """Per customer with a ChartMogul id (and in the segment): each item whose wanted value
    differs from the one last sent there. `$names`: the attribute names of the enabled data
    points."""
    return f"""
        WITH wanted AS (
            SELECT a.customer_id, 'attribute' AS kind, a.name,
                   coalesce(a.value_string, CAST(a.value_boolean AS VARCHAR),
                            CAST(a.value_integer AS VARCHAR)) AS value,
                   NULL AS text
            FROM custom_attributes AS a
            WHERE a.source = 'enrichment' AND list_contains($names, a.name)
            UNION ALL
            SELECT n.customer_id, 'note', 'summary', n.note_id, n.body
            FROM notes AS n
            JOIN current_enrichments AS e USING (customer_id, enrichment_id)
            WHERE n.source = 'enrichment'
        ),
        paired AS (
            SELECT coalesce(w.customer_id, s.customer_id) AS customer_id,
                   coalesce(w.kind, s.kind) AS kind, coalesce(w.name, s.name) AS name,
                   w.value, w.text, w.kind IS NOT NULL AS is_wanted,
                   s.value AS sent_value, s.chartmogul_uuid AS sent_to
            FROM wanted AS w
            FULL JOIN chartmogul_pushed AS s
              ON s.customer_id = w.customer_id AND s.kind = w.kind AND s.name = w.name
        )
        SELECT c.customer_id, c.chartmogul_uuid, f.customer_id IS NOT NULL AS failed_before,
               p.kind, p.name, p.value, p.text
        FROM paired AS p
        JOIN customers AS c USING (customer_id)
        LEFT JOIN chartmogul_push_errors AS f USING (customer_id)
        WHERE c.chartmogul_uuid IS NOT NULL
          AND {in_segment}
          AND (p.value IS DISTINCT FROM p.sent_value OR p.sent_to <> c.chartmogul_uuid)
          -- A removal: only of an enabled data point's value sent earlier; notes stay.
          AND (p.is_wanted OR (p.kind = 'attribute' AND p.sent_value IS NOT NULL
                               AND list_contains($names, p.name)))
        ORDER BY c.customer_id, p.kind, p.name
    """


def pending_pushes(
    connection: Connection, settings: EnrichmentSettings, *, segment: str | None = None
) -> list[CustomerPush]:
    """What each customer with a ChartMogul id (in `segment`, if named) has to send."""
    in_segment, parameters = "true", {}
    if segment is not None:
        compiled = compile_segment(connection, load_segment(connection, segment))
        in_segment, parameters = compiled.where, compiled.parameters
    types = {  # the type of each enabled data point's attribute, by its name
        settings.data_points[key].attribute_name: DATA_POINTS_BY_KEY[key].type
        for key in settings.enabled_keys
    }
    rows = connection.execute(
        _changes_sql(in_segment), {**parameters, "names": list(types)}
    ).fetchall()
    pushes: dict[str, CustomerPush] = {}
    for customer_id, chartmogul_uuid, failed_before, kind, name, value, text in rows:
        push = pushes.setdefault(
            customer_id, CustomerPush(customer_id, chartmogul_uuid, failed_before)
        )
        push.changes.append(Change(kind, name, types.get(name), value, text))
    return list(pushes.values())


def not_linked_count(connection: Connection) -> int:
    """Enriched customers that cannot be pushed: no ChartMogul id."""
    row = connection.execute(
        "SELECT count(*) FROM current_enrichments AS e JOIN customers AS c USING (customer_id) "
        "WHERE c.chartmogul_uuid IS NULL"
    ).fetchone()
    return int(row[0]) if row else 0


def push_counts(connection: Connection, settings: EnrichmentSettings) -> PushCounts:
    """An error counts while its customer has something to send: one whose value became
    unknown before it was sent, or that lost its ChartMogul id, has nothing left to fail."""
    pushes = pending_pushes(connection, settings)
    pending = {push.customer_id for push in pushes}
    failed = {push.customer_id for push in pushes if push.failed_before}
    row = connection.execute(
        "SELECT count(DISTINCT customer_id) FROM chartmogul_pushed "
        "WHERE NOT list_contains($pending, customer_id)",
        {"pending": sorted(pending)},
    ).fetchone()
    return PushCounts(
        pushed=int(row[0]) if row else 0,
        pending=len(pending - failed),
        failed=len(failed),
        not_linked=not_linked_count(connection),
    )


def shared_chartmogul_ids(connection: Connection) -> list[tuple[str, list[str]]]:
    """ChartMogul ids given to several customers (a file's row and the same company imported
    from ChartMogul, say): each of them is pushed to the one ChartMogul record."""
    return [
        (str(uuid), list(customer_ids))
        for uuid, customer_ids in connection.execute(
            "SELECT chartmogul_uuid, list(customer_id ORDER BY customer_id) FROM customers "
            "WHERE chartmogul_uuid IS NOT NULL GROUP BY 1 HAVING count(*) > 1 ORDER BY 1"
        ).fetchall()
    ]


# Sending ---------------------------------------------------------------------------------------


def push(
    warehouse: Warehouse,
    client: ChartMogulClient,
    pushes: Iterable[CustomerPush],
    *,
    on_customer: Callable[[CustomerPush], None] = lambda push: None,
) -> PushReport:
    """Send `pushes` (from `pending_pushes`), customer by customer, holding the push lease;
    see the module docstring."""
    with _push_lease(warehouse) as renew:
        return _push_all(warehouse, client, pushes, on_customer, renew)


def _push_all(
    warehouse: Warehouse,
    client: ChartMogulClient,
    pushes: Iterable[CustomerPush],
    on_customer: Callable[[CustomerPush], None],
    renew: Callable[[], None],
) -> PushReport:
    report = PushReport()
    unavailable_in_a_row = 0
    for customer in pushes:
        renew()
        report.customers += 1
        try:
            _push_customer(warehouse, client, customer, report)
        except (ChartMogulRecordError, ChartMogulUnavailable) as error:
            message = f"{customer.customer_id} (ChartMogul {customer.chartmogul_uuid}): {error}"
            report.failed.append((customer.customer_id, message))
            _record_error(warehouse, customer, message)
            unavailable_in_a_row = (
                unavailable_in_a_row + 1 if isinstance(error, ChartMogulUnavailable) else 0
            )
            if unavailable_in_a_row >= _UNAVAILABLE_IN_A_ROW:
                raise ChartMogulUnavailable(
                    f"ChartMogul did not answer for {unavailable_in_a_row} customers in a row, "
                    f"so the push stopped (the rest stay pending; run it again later): {error}"
                ) from error
        else:
            unavailable_in_a_row = 0
            report.pushed += 1
        finally:
            on_customer(customer)
    report.requests = client.requests
    return report


def _push_customer(
    warehouse: Warehouse, client: ChartMogulClient, customer: CustomerPush, report: PushReport
) -> None:
    for attempt in range(1, _READ_BACK_ATTEMPTS + 1):
        try:
            _send(warehouse, client, customer, report)
        except ChartMogulUnsure:
            if attempt == _READ_BACK_ATTEMPTS:
                raise
            continue  # read back what arrived, then send the rest
        if customer.failed_before:
            _clear_error(warehouse, customer.customer_id)
        return


def _send(
    warehouse: Warehouse, client: ChartMogulClient, customer: CustomerPush, report: PushReport
) -> None:
    """Bring `customer` in ChartMogul to its changes, entering each in the ledger, and taking
    it off `customer.changes`, once it is there (so a round after an unsure write reads back
    and sends only what is left)."""
    uuid = customer.chartmogul_uuid
    attributes = [change for change in customer.changes if change.kind == "attribute"]
    notes = [change for change in customer.changes if change.kind == "note"]
    present = client.custom_attributes(uuid) if attributes else {}
    there, add, update, remove = [], [], [], []
    for change in attributes:
        if change.value is None:
            (remove if change.name in present else there).append(change)
        elif change.name not in present:
            add.append(change)
        elif is_held(present[change.name], change):
            there.append(change)
        else:
            update.append(change)
    if notes:
        texts = {note.get("text") for note in client.notes(uuid)}
        for note in notes:
            (there if note.text in texts else add).append(note)
    _sent(warehouse, customer, there)
    report.already_there += len(there)
    new_attributes = [change for change in add if change.kind == "attribute"]
    if new_attributes:
        client.add_custom_attributes(uuid, [_attribute(change) for change in new_attributes])
        _sent(warehouse, customer, new_attributes)
        report.added += len(new_attributes)
    if update:
        values = {change.name: typed_value(change) for change in update}
        client.update_custom_attributes(uuid, values)
        _sent(warehouse, customer, update)
        report.updated += len(update)
    if remove:
        client.remove_custom_attributes(uuid, [change.name for change in remove])
        _sent(warehouse, customer, remove)
        report.removed += len(remove)
    for note in (change for change in add if change.kind == "note"):
        client.add_note(uuid, note.text or "")
        _sent(warehouse, customer, [note])
        report.notes += 1


def _sent(warehouse: Warehouse, customer: CustomerPush, done: list[Change]) -> None:
    """`done` is in ChartMogul: into the ledger, and off what is left to send."""
    _record_sent(warehouse, customer, done)
    customer.changes = [change for change in customer.changes if change not in done]


def typed_value(change: Change) -> Any:
    """A stored value (text) as ChartMogul takes it for the attribute's type."""
    text = change.value
    if text is None:
        return None
    if change.type == "Boolean":
        return text == "true"
    if change.type == "Integer":
        return int(text)
    if change.type == "Decimal":
        return float(text)
    if change.type == "String":
        return text[:STRING_LIMIT]
    return text  # Timestamp: ISO 8601, as stored


def _attribute(change: Change) -> dict[str, Any]:
    return {
        "type": change.type,
        "key": change.name,
        "value": typed_value(change),
        "source": ATTRIBUTE_SOURCE,
    }


def is_held(present: object, change: Change) -> bool:
    """Whether ChartMogul already holds `change`'s value (as it answers it: typed JSON)."""
    wanted = typed_value(change)
    if change.type == "Timestamp" and isinstance(present, str) and isinstance(wanted, str):
        try:
            return _instant(present) == _instant(wanted)
        except ValueError:
            return False
    return bool(present == wanted and type(present) is type(wanted))


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# The ledger ------------------------------------------------------------------------------------


def _record_sent(warehouse: Warehouse, customer: CustomerPush, done: list[Change]) -> None:
    if not done:
        return
    sent_to, now = customer.chartmogul_uuid, datetime.now(UTC)
    with warehouse.transaction() as connection:
        insert_rows(
            connection,
            "chartmogul_pushed",
            ("customer_id", "kind", "name", "value", "chartmogul_uuid", "pushed_at"),
            [
                [customer.customer_id, change.kind, change.name, change.value, sent_to, now]
                for change in done
            ],
            conflict="ON CONFLICT (customer_id, kind, name) DO UPDATE SET value = excluded.value, "
            "chartmogul_uuid = excluded.chartmogul_uuid, pushed_at = excluded.pushed_at",
        )


@contextmanager
def _push_lease(warehouse: Warehouse) -> Iterator[Callable[[], None]]:
    """Hold the push lease while the block runs; yields `renew`, to call often (it writes only
    once the lease is half spent)."""
    host, pid = socket.gethostname(), os.getpid()
    held_until = _take_lease(warehouse, host, pid)

    def renew() -> None:
        nonlocal held_until
        if held_until - datetime.now(UTC) < _LEASE / 2:
            held_until = _take_lease(warehouse, host, pid)

    try:
        yield renew
    finally:
        with warehouse.transaction() as connection:
            connection.execute(
                "DELETE FROM chartmogul_push_lease WHERE host = ? AND pid = ?", [host, pid]
            )


def _take_lease(warehouse: Warehouse, host: str, pid: int) -> datetime:
    """Take or renew the lease; a PushBusyError while another live push holds it."""
    now = datetime.now(UTC)
    with warehouse.transaction() as connection:
        holder = connection.execute(
            "SELECT host, pid, started_at, held_until FROM chartmogul_push_lease"
        ).fetchone()
        ours = holder is not None and (holder[0], holder[1]) == (host, pid)
        if holder is not None and not ours:
            other_host, other_pid, started_at, until = holder
            gone = other_host == host and not _process_alive(other_pid)
            if until > now and not gone:
                raise PushBusyError(
                    f"another push to ChartMogul is running (process {other_pid} on "
                    f"{other_host}, since {started_at:%Y-%m-%d %H:%M:%S} UTC): wait for it to "
                    f"end; if it was killed, its lease lapses at {until:%H:%M:%S} UTC"
                )
        connection.execute(
            "INSERT OR REPLACE INTO chartmogul_push_lease (host, pid, started_at, held_until) "
            "VALUES (?, ?, ?, ?)",
            [host, pid, holder[2] if ours and holder else now, now + _LEASE],
        )
    return now + _LEASE


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _record_error(warehouse: Warehouse, customer: CustomerPush, message: str) -> None:
    with warehouse.transaction() as connection:
        insert_rows(
            connection,
            "chartmogul_push_errors",
            ("customer_id", "chartmogul_uuid", "error", "failed_at"),
            [[customer.customer_id, customer.chartmogul_uuid, message, datetime.now(UTC)]],
            conflict="ON CONFLICT (customer_id) DO UPDATE SET "
            "chartmogul_uuid = excluded.chartmogul_uuid, error = excluded.error, "
            "failed_at = excluded.failed_at",
        )


def _clear_error(warehouse: Warehouse, customer_id: str) -> None:
    with warehouse.transaction() as connection:
        connection.execute(
            "DELETE FROM chartmogul_push_errors WHERE customer_id = ?", [customer_id]
        )


def push_errors(connection: Connection) -> list[tuple[str, str, datetime]]:
    """(customer id, error, when) of every customer whose last push failed."""
    return [
        (str(customer_id), str(error), failed_at)
        for customer_id, error, failed_at in connection.execute(
            "SELECT customer_id, error, failed_at FROM chartmogul_push_errors ORDER BY 1"
        ).fetchall()
    ]
