"""What every `enrich` command module shares: the consoles and the warehouse."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from enrichment_pipelines.core.settings import warehouse_path
from enrichment_pipelines.core.warehouse import Warehouse

err = Console(stderr=True)
out = Console()


def open_warehouse(home: Path | None = None) -> Warehouse:
    warehouse = Warehouse(warehouse_path(home))
    warehouse.migrate()
    return warehouse


def print_table(
    title: str | None, columns: Sequence[str], rows: Iterable[Sequence[object]]
) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if value is None else str(value) for value in row))
    out.print(table)
