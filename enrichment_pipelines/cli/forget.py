"""`enrich forget`: the right to deletion."""

from __future__ import annotations

import click

from enrichment_pipelines.cli.common import open_warehouse, pass_config, who
from enrichment_pipelines.cli.quality import write_quality_report
from enrichment_pipelines.core.config import EnrichConfig
from enrichment_pipelines.core.customers import resolve_customer_id
from enrichment_pipelines.core.forget import forget_customer


@click.command()
@click.argument("customer_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_config
def forget(config: EnrichConfig, customer_id: str, yes: bool) -> None:
    """Delete everything held about CUSTOMER_ID (right to deletion): its rows, and every copy
    the project wrote (the warehouse file is rewritten, the analysts' copy and the quality
    report are rebuilt from what is left)."""
    warehouse = open_warehouse(config)
    with warehouse.connect(read_only=True) as connection:
        customer_id = resolve_customer_id(connection, customer_id)  # before asking
    if not yes:
        click.confirm(
            f"Delete every record, page, enrichment, attribute and note of {customer_id}?",
            abort=True,
        )
    with warehouse.transaction() as connection:
        removed = forget_customer(connection, customer_id, by=who("forget"))
    # Deleted rows can stay as bytes in free blocks: rewrite the file from the live rows.
    warehouse.compact()
    warehouse.publish_snapshot(config.analytics_path)
    if config.quality_report_path.exists():
        write_quality_report(config)
    click.echo(f"forgot {customer_id}: {removed} rows deleted; the ledger keeps anonymous entries")
