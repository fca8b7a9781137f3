"""`enrich import ...`: records into the warehouse."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from enrichment_pipelines.cli.common import open_warehouse, print_json, reporting
from enrichment_pipelines.cli.progress import CliProgress
from enrichment_pipelines.core.config import EnrichConfig
from enrichment_pipelines.core.customers import ImportReport, import_customers
from enrichment_pipelines.core.websites import parse_networks


@click.group(name="import")
def import_group() -> None:
    """Import records into the warehouse."""


@import_group.command(name="customers")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--source", default="import", show_default=True, help="Name of the record source.")
@reporting
def import_customers_command(config: EnrichConfig, path: Path, source: str, as_json: bool) -> None:
    """Import customers from a CSV, Parquet or JSONL file (upsert by source and id)."""
    report = import_customers(
        open_warehouse(config),
        path,
        source=source,
        allowed_networks=parse_networks(config.crawl.allowed_private_networks),
    )
    _show(report, as_json)


@import_group.command(name="chartmogul")
@click.option("--data-source", "data_source_uuid", metavar="UUID",
              help="Only the customers of this ChartMogul data source.")  # fmt: skip
@reporting
def import_chartmogul_command(
    config: EnrichConfig, data_source_uuid: str | None, as_json: bool
) -> None:
    """Import customers from ChartMogul (CHARTMOGUL_API_KEY): their `website_url` is the
    website, their uuid the id; upsert, so a second import changes only what changed."""
    from enrichment_pipelines.connectors.chartmogul.client import PAGE_SIZE, ChartMogulClient
    from enrichment_pipelines.connectors.chartmogul.source import import_chartmogul_customers

    warehouse = open_warehouse(config)
    with ChartMogulClient(config.chartmogul) as client, CliProgress(
        "listed", 0, shown=not as_json
    ) as listing:  # fmt: skip
        report = import_chartmogul_customers(
            warehouse,
            client,
            data_source_uuid=data_source_uuid,
            allowed_networks=parse_networks(config.crawl.allowed_private_networks),
            on_listed=lambda listed: (
                listing.update(listed, total=listed)
                if listed % PAGE_SIZE == 0  # a line per page, not per customer, off a terminal
                else None
            ),
        )
        listing.update(report.rows_read, total=report.rows_read)  # the last page's count
    _show(report, as_json)


def _show(report: ImportReport, as_json: bool) -> None:
    """An import's problems (stderr) and figures; exit status 1 when rows were rejected."""
    for problem in report.problems:
        outcome = "rejected" if problem.rejected else "imported with a warning"
        click.echo(f"{report.path}: {problem} ({outcome})", err=True)
    if as_json:
        print_json(
            {
                "file": report.path,
                "imported": report.imported,
                "inserted": report.inserted,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "rejected": report.rejected,
                "problems": [
                    {"line": p.line, "problem": p.reason, "rejected": p.rejected}
                    for p in report.problems
                ],
            }
        )
    else:
        click.echo(
            f"{report.imported} customers imported from {report.path} ({report.inserted} new, "
            f"{report.updated} updated, {report.unchanged} unchanged); "
            f"{report.rejected} rows rejected"
        )
    if report.rejected:
        sys.exit(1)
