"""`enrich init`, `enrich status` and `enrich config`: the workspace itself."""

from __future__ import annotations

import click

from enrichment_pipelines.cli.common import (
    DefaultCommandGroup,
    open_warehouse,
    pass_config,
    print_json,
    print_record,
    read_warehouse,
    reporting,
)
from enrichment_pipelines.core.config import EnrichConfig, variables_markdown


@click.command()
@pass_config
def init(config: EnrichConfig) -> None:
    """Create the warehouse, or bring its schema up to date after an upgrade."""
    warehouse = open_warehouse(config)
    applied = warehouse.migrate()
    version = warehouse.schema_version()
    done = f"applied migrations {', '.join(map(str, applied))}" if applied else "up to date"
    click.echo(f"warehouse {warehouse.path}: schema version {version} ({done})")


@click.command()
@reporting
def status(config: EnrichConfig, as_json: bool) -> None:
    """Credit balance, live enrichment, and how many records have been enriched."""
    from enrichment_pipelines.connectors.status import status_with_sinks

    with read_warehouse(config) as connection:
        current = status_with_sinks(connection)
    if as_json:
        print_json(current.to_dict())
        return
    live = f"on (target: {current.live_target})" if current.live_enabled else "off"
    fields: dict[str, object] = {
        "Credit balance": current.credit_balance,
        "Live enrichment": live,
        "Customers": current.customers,
        "Enriched in the last 7 days": current.enriched_last_7_days,
        "Enriched in total": current.enriched_total,
        "Last enrichment": current.last_enriched_at or "never",
    }
    pushed = current.sinks["chartmogul"]
    if pushed["pushed"] or pushed["pending"] or pushed["failed"]:  # a workspace that uses it
        fields["ChartMogul push"] = (
            f"{pushed['pushed']} pushed, {pushed['pending']} pending, {pushed['failed']} "
            f"failed; {pushed['not_linked']} enriched without a ChartMogul id"
        )
    print_record("Enrichment status", fields)


@click.group(name="config", cls=DefaultCommandGroup, default="show")
def config_group() -> None:
    """The configuration in force (environment and settings file)."""


@config_group.command(name="show")
@reporting
def config_show(config: EnrichConfig, as_json: bool) -> None:
    """Every configuration value in force, secrets masked."""
    print_record("Configuration", config.redacted(), as_json=as_json)


@config_group.command(name="variables")
def config_variables() -> None:
    """The table of environment variables and settings-file keys (Markdown, as in the README)."""
    click.echo(variables_markdown())
