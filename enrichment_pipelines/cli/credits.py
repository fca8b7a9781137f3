"""`enrich credits`: the balance and its ledger (one credit = one record enriched once)."""

from __future__ import annotations

import click

from enrichment_pipelines.cli.common import (
    DefaultCommandGroup,
    pass_config,
    print_json,
    print_table,
    read_warehouse,
    reporting,
    write_warehouse,
)
from enrichment_pipelines.core.config import EnrichConfig
from enrichment_pipelines.core.credits import balance, recent_entries, top_up

LEDGER_COLUMNS = ("when", "credits", "kind", "detail")


@click.group(name="credits", cls=DefaultCommandGroup, default="show")
def credits_group() -> None:
    """The credit balance and its ledger (one credit = one record enriched once)."""


@credits_group.command(name="show")
@reporting
def credits_show(config: EnrichConfig, as_json: bool) -> None:
    """The balance and the latest ledger entries."""
    with read_warehouse(config) as connection:
        current = balance(connection)
        entries = recent_entries(connection)
    if as_json:
        print_json(
            {
                "balance": current,
                "entries": [dict(zip(LEDGER_COLUMNS, e, strict=True)) for e in entries],
            }
        )
        return
    click.echo(f"credit balance: {current}")
    print_table(
        "Latest ledger entries",
        LEDGER_COLUMNS,
        [(at, f"{delta:+d}", kind, detail) for at, delta, kind, detail in entries],
    )


@credits_group.command(name="top-up")
@click.argument("credits", type=int)
@click.option("--note", default=None, help="Why (kept in the ledger).")
@pass_config
def credits_top_up(config: EnrichConfig, credits: int, note: str | None) -> None:
    """Add CREDITS to the balance."""
    with write_warehouse(config) as connection:
        new_balance = top_up(connection, credits, note=note)
    click.echo(f"topped up {credits} credits; balance: {new_balance}")
