"""`enrich import ...`: records into the warehouse."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from enrichment_pipelines.cli.common import open_warehouse, print_json, reporting
from enrichment_pipelines.core.config import EnrichConfig
from enrichment_pipelines.core.customers import import_customers
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
    for problem in report.problems:
        outcome = "rejected" if problem.rejected else "imported with a warning"
        click.echo(f"{path}: {problem} ({outcome})", err=True)
    if as_json:
        print_json(
            {
                "file": path,
                "imported": report.imported,
                "inserted": report.inserted,
                "updated": report.updated,
                "rejected": report.rejected,
                "problems": [
                    {"line": p.line, "problem": p.reason, "rejected": p.rejected}
                    for p in report.problems
                ],
            }
        )
    else:
        click.echo(
            f"{report.imported} customers imported from {path} ({report.inserted} new, "
            f"{report.updated} updated); {report.rejected} rows rejected"
        )
    if report.rejected:
        sys.exit(1)
