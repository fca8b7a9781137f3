"""`enrich push ...`: enrichments out of the warehouse, into the system customers live in."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from enrichment_pipelines.cli.common import (
    counted,
    err,
    open_warehouse,
    print_json,
    print_record,
    print_table,
    read_warehouse,
    reporting,
)
from enrichment_pipelines.cli.progress import CliProgress
from enrichment_pipelines.core.config import EnrichConfig

if TYPE_CHECKING:
    from enrichment_pipelines.connectors.chartmogul.sink import Change


@click.group(name="push")
def push_group() -> None:
    """Send enriched attributes and notes to another system."""


@push_group.command(name="chartmogul")
@click.option("--dry-run", is_flag=True, help="Print what would be written; write nothing.")
@click.option("--segment", metavar="NAME", help="Only the customers of this saved segment.")
@reporting
def push_chartmogul(
    config: EnrichConfig, dry_run: bool, segment: str | None, as_json: bool
) -> None:
    """Push each enabled data point as a custom attribute, and the summary note, to the
    customers' ChartMogul records (CHARTMOGUL_API_KEY). Only what changed since the last push
    is sent, each change once; customers without a ChartMogul id are skipped."""
    from enrichment_pipelines.connectors.chartmogul.client import ChartMogulClient
    from enrichment_pipelines.connectors.chartmogul.sink import (
        not_linked_count,
        pending_pushes,
        push,
        shared_chartmogul_ids,
    )
    from enrichment_pipelines.core.settings import settings_in_force

    warehouse = open_warehouse(config)
    with read_warehouse(config) as connection:
        pushes = pending_pushes(connection, settings_in_force(connection), segment=segment)
        not_linked = not_linked_count(connection)
        shared = shared_chartmogul_ids(connection)
    for uuid, customer_ids in shared:
        err.print(
            f"warning: {', '.join(customer_ids)} share ChartMogul id {uuid}: each is pushed to "
            "that one record (give each customer its own id, or forget the duplicate)"
        )
    if not_linked and not as_json:
        err.print(
            f"{counted(not_linked, 'enriched customer')} skipped: no ChartMogul id (import "
            "them with `enrich import chartmogul`, or give the file a chartmogul_uuid column)"
        )
    if dry_run:
        print_table(
            f"Would write to {counted(len(pushes), 'customer')} in ChartMogul (dry run)",
            ("customer", "chartmogul_uuid", "kind", "name", "type", "value"),
            [
                (p.customer_id, p.chartmogul_uuid, c.kind, c.name, c.type, _written(c))
                for p in pushes
                for c in p.changes
            ],
            as_json=as_json,
        )
        return
    with (
        ChartMogulClient(config.chartmogul) as client,
        CliProgress("pushed", len(pushes), shown=not as_json) as progress,
    ):
        report = push(warehouse, client, pushes, on_customer=lambda _: progress.advance())
    for _, message in report.failed:
        click.echo(f"error: {message}", err=True)
    figures = report.figures(not_linked)
    if as_json:
        print_json({**figures, "errors": [message for _, message in report.failed]})
    else:
        print_record("Pushed to ChartMogul", figures)
    if report.failed:
        sys.exit(1)


def _written(change: Change) -> str | None:
    """What a dry run shows will be written: the value, or the note's text."""
    if change.kind == "note":
        return change.text
    return "(remove)" if change.value is None else change.value
