"""`enrich quality`: the data quality checks and their report."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from enrichment_pipelines.cli.common import (
    err,
    out,
    print_json,
    read_warehouse,
    reporting,
)
from enrichment_pipelines.core.config import EnrichConfig
from enrichment_pipelines.core.settings import settings_in_force

if TYPE_CHECKING:
    from enrichment_pipelines.data_quality.report import QualityReport


@click.command()
@reporting
def quality(config: EnrichConfig, as_json: bool) -> None:
    """Run the data quality checks and write the report (Markdown here, HTML on disk).
    Reads the warehouse only; targets come from the configuration (ENRICH_QUALITY_*)."""
    from rich.markdown import Markdown

    from enrichment_pipelines.data_quality.report import to_markdown

    err.print("running the data quality suites (Great Expectations)...")
    report = write_quality_report(config)
    path = config.quality_report_path
    if as_json:
        print_json(report.to_dict() | {"html_report": path})
        return
    out.print(Markdown(to_markdown(report)))
    click.echo(f"\nHTML report: {path}")


def write_quality_report(config: EnrichConfig) -> QualityReport:
    """Build the quality report from the warehouse (read-only) and write its HTML file."""
    from enrichment_pipelines.data_quality.report import build_report, write_html

    with read_warehouse(config) as connection:
        settings = settings_in_force(connection)
        report = build_report(connection, settings.enabled_keys, config.quality)
    write_html(report, config.quality_report_path)
    return report
