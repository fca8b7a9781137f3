"""`enrich credits`: the balance and its ledger (one credit = one record enriched once)."""

from __future__ import annotations

import click

from enrichment_pipelines.cli.common import (
    CliError,
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


# CREDITS is read as text and checked here: click would take "-5" for an unknown option and
# "ten" for a bad value, and answer either with a usage trace instead of one line saying what
# a top-up must be.
@credits_group.command(name="top-up", context_settings={"ignore_unknown_options": True})
@click.argument("credits")
@click.option("--note", default=None, help="Why (kept in the ledger).")
@pass_config
def credits_top_up(config: EnrichConfig, credits: str, note: str | None) -> None:
    """Add CREDITS (a positive whole number) to the balance."""
    try:
        amount = int(credits)
    except ValueError:
        raise CliError(
            f"a top-up must be a positive whole number of credits, not {credits!r}"
        ) from None
    with write_warehouse(config) as connection:
        new_balance = top_up(connection, amount, note=note)  # refuses 0 and negative amounts
    click.echo(f"topped up {amount} credits; balance: {new_balance}")
