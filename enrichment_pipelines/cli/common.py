"""What every `enrich` command module shares: the configuration, the warehouse, one error type
and one way to print tables or JSON."""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
import duckdb
from rich.console import Console
from rich.table import Table

from enrichment_pipelines.core.config import EnrichConfig
from enrichment_pipelines.core.warehouse import Warehouse

if TYPE_CHECKING:
    from enrichment_pipelines.core.status import OutcomeCount

F = TypeVar("F", bound=Callable[..., Any])

err = Console(stderr=True)
out = Console()

# Commands receive the configuration `main` read once at the entry point.
pass_config = click.make_pass_decorator(EnrichConfig)


class CliError(click.ClickException):
    """A problem the user can fix: printed as `error: <message>` on stderr, exit status 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


class DefaultCommandGroup(click.Group):
    """A command group that runs its `default` command when given none: `enrich settings`
    is `enrich settings show`, and `enrich settings --json` is `enrich settings show --json`."""

    def __init__(self, *args: Any, default: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.default = default

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0].startswith("-") and args[0] not in ctx.help_option_names):
            args = [self.default, *args]
        return super().parse_args(ctx, args)


def reporting(function: F) -> F:
    """A command that reports: it gets the configuration, and `--json` to print JSON instead
    of a table."""
    flag = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
    return flag(pass_config(function))


def open_warehouse(config: EnrichConfig) -> Warehouse:
    """The configured warehouse, created on first use so that a new workspace can be read."""
    warehouse = Warehouse(
        config.warehouse_path, lock_timeout_seconds=config.warehouse_lock_timeout_seconds
    )
    if not warehouse.path.exists():
        warehouse.migrate()
    return warehouse


@contextmanager
def read_warehouse(config: EnrichConfig) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the configured warehouse: it never takes the write lock."""
    with open_warehouse(config).connect(read_only=True) as connection:
        yield connection


@contextmanager
def write_warehouse(config: EnrichConfig) -> Iterator[duckdb.DuckDBPyConnection]:
    """One short write transaction on the configured warehouse."""
    with open_warehouse(config).transaction() as connection:
        yield connection


def counted(count: int, noun: str) -> str:
    """ "1 customer", "2 customers": a count with its noun in the right number."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def who(command: str) -> str:
    """The audit trail's name for a change made with this command."""
    return f"enrich {command} ({getpass.getuser()})"


def _plain(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return value


def print_json(document: object) -> None:
    click.echo(json.dumps(document, default=_plain, ensure_ascii=False))


def _shown(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M:%S}"
    return str(value)


def print_table(
    title: str | None,
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    as_json: bool = False,
) -> None:
    """Rows as a table, or with `as_json` as one JSON list of objects keyed by column."""
    if as_json:
        print_json([dict(zip(columns, row, strict=True)) for row in rows])
        return
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(_shown(value) for value in row))
    out.print(table)


def print_outcomes(
    config: EnrichConfig, run_ids: list[str], title: str, *, as_json: bool = False
) -> list[OutcomeCount]:
    """The runs' records by outcome and reason group, printed; returned for exit statuses."""
    from enrichment_pipelines.core.status import batch_outcomes

    with read_warehouse(config) as connection:
        outcomes = batch_outcomes(connection, run_ids)
    print_table(
        title,
        ("outcome", "reason", "records", "credits", "example"),
        [(o.outcome, o.reason, o.records, o.credits, o.example) for o in outcomes],
        as_json=as_json,
    )
    return outcomes


def print_record(title: str, fields: dict[str, object], *, as_json: bool = False) -> None:
    """One object: a two-column table of its fields, or a JSON object."""
    if as_json:
        print_json(fields)
        return
    table = Table(title=title, show_header=False)
    for name, value in fields.items():
        table.add_row(name, _shown(value))
    out.print(table)
