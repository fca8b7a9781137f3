"""`enrich forget`: the right to deletion."""

from __future__ import annotations

import click

from enrichment_pipelines.cli.common import open_warehouse, pass_config, who
from enrichment_pipelines.core.config import EnrichConfig
from enrichment_pipelines.core.forget import forget_customer


@click.command()
@click.argument("customer_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_config
def forget(config: EnrichConfig, customer_id: str, yes: bool) -> None:
    """Delete everything held about CUSTOMER_ID (right to deletion)."""
    if not yes:
        click.confirm(
            f"Delete every record, page, enrichment, attribute and note of {customer_id}?",
            abort=True,
        )
    warehouse = open_warehouse(config)
    with warehouse.transaction() as connection:
        removed = forget_customer(connection, customer_id, by=who("forget"))
    # The analysts' copy must not keep what was deleted.
    warehouse.publish_snapshot(config.analytics_path)
    click.echo(f"forgot {customer_id}: {removed} rows deleted; the ledger keeps anonymous entries")
