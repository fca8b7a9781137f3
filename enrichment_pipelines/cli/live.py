"""`enrich live on|off`: live enrichment of new customers and segment entrants."""

from __future__ import annotations

import click

from enrichment_pipelines.cli.common import counted, err, pass_config, who, write_warehouse
from enrichment_pipelines.core.config import EnrichConfig
from enrichment_pipelines.core.live import turn_live_off, turn_live_on


@click.group(name="live")
def live_group() -> None:
    """Live enrichment: new customers within minutes, segment entrants every six hours."""


@live_group.command(name="on")
@click.option("--target", default="all", show_default=True,
              help="'all' customers or a saved segment's name.")  # fmt: skip
@pass_config
def live_on(config: EnrichConfig, target: str) -> None:
    """Turn live enrichment on (the Dagster daemon's sensors do the work)."""
    with write_warehouse(config) as connection:
        turned = turn_live_on(connection, target, by=who("live on"))
    click.echo(f"live enrichment on, target: {target}")
    if turned.baseline is not None:
        members = turned.baseline.members
        click.echo(f"{counted(members, 'customer')} {'is' if members == 1 else 'are'} in "
                   f"{target} now; those who enter it from now on are picked up by the "
                   "six-hourly check")  # fmt: skip
    click.echo("new customers in the target are picked up within a minute of their import")
    if turned.not_enriched:
        batch = "enrich batch" + ("" if target == "all" else f" --segment {target}")
        err.print(
            f"{turned.not_enriched} of the {counted(turned.in_target, 'customer')} in the target "
            f"now {'was' if turned.not_enriched == 1 else 'were'} never enriched: live leaves "
            f"them alone; `{batch}` enriches them"
        )


@live_group.command(name="off")
@pass_config
def live_off(config: EnrichConfig) -> None:
    """Turn live enrichment off (runs already requested still finish)."""
    with write_warehouse(config) as connection:
        turn_live_off(connection, by=who("live off"))
    click.echo("live enrichment off")
