"""`enrich demo`: bundled company websites on loopback, and the whole pipeline over them."""

from __future__ import annotations

import dataclasses
import os
import shutil
import sys
import time
from pathlib import Path

import click

from enrichment_pipelines.cli.common import (
    err,
    open_warehouse,
    pass_config,
    print_outcomes,
    print_table,
)
from enrichment_pipelines.cli.workspace import status
from enrichment_pipelines.core.config import EnrichConfig
from enrichment_pipelines.core.warehouse import Warehouse

LOOPBACK = "127.0.0.0/8"  # the demo sites, and nothing else private

# The demo's own Dagster instance: without a dagster.yaml, Dagster warns (when DAGSTER_HOME is
# set) and greets a new instance with its telemetry banner, in the middle of the demo's output.
INSTANCE_YAML = "telemetry:\n  enabled: false\n"


@click.command()
@click.option("--sites", default=220, show_default=True, help="How many demo websites to serve.")
@click.option("--home", type=click.Path(path_type=Path), default=None,
              help="Demo warehouse folder (default: ENRICH_HOME/demo, wiped first).")  # fmt: skip
@click.pass_context
@pass_config
def demo(config: EnrichConfig, context: click.Context, sites: int, home: Path | None) -> None:
    """Serve bundled company websites on loopback and run the whole pipeline over them."""
    from enrichment_pipelines.core.credits import top_up
    from enrichment_pipelines.demo import start_demo_sites
    from enrichment_pipelines.runs import run_pipeline

    home = (home or config.home / "demo").resolve()
    shutil.rmtree(home, ignore_errors=True)
    (home / "dagster").mkdir(parents=True)
    (home / "dagster" / "dagster.yaml").write_text(INSTANCE_YAML, encoding="utf-8")
    # Run history goes to an embedded SQLite instance, so the UI can show the demo run later.
    config = dataclasses.replace(
        config,
        home=home,
        dagster_home=home / "dagster",
        crawl=dataclasses.replace(config.crawl, allowed_private_networks=LOOPBACK),
    )
    context.obj = config  # `status` below reports on the demo's warehouse
    started = time.monotonic()
    demo_sites = start_demo_sites(sites)
    try:
        count, port = len(demo_sites.companies), demo_sites.server.port
        err.print(f"serving {count} demo websites on 127.0.1.x:{port}")
        customers_csv = demo_sites.write_customers(home / "customers.csv")
        demo_sites.write_expected(home / "expected.json")
        warehouse = open_warehouse(config)
        with warehouse.transaction() as connection:
            balance = top_up(connection, sites, note="demo: enough for every demo customer")
        err.print(
            f"demo workspace topped up to {balance} credits (a new workspace starts with 100)"
        )
        result = run_pipeline(config, customers_path=customers_csv, source="demo")
    finally:
        demo_sites.server.stop()
    print_outcomes(config, [result.run_id], "Outcomes by record")
    _print_summary(warehouse)
    context.invoke(status)
    # Beside the `enrich` the user typed (`.venv/bin/enrich`, or the full path from PATH).
    duckdb_cli = Path(sys.argv[0]).with_name("duckdb")
    click.echo(
        f"demo finished in {time.monotonic() - started:.1f}s\n"
        f"  query it:        {duckdb_cli} -readonly {os.path.relpath(config.analytics_path)}\n"
        f"  browse the run:  DAGSTER_HOME={home / 'dagster'} ENRICH_HOME={home} make dev"
    )
    sys.exit(0 if result.success else 1)


def _print_summary(warehouse: Warehouse) -> None:
    from enrichment_pipelines.core.reports import customer_360_preview
    from enrichment_pipelines.demo import EXAMPLE_QUERY

    with warehouse.connect(read_only=True) as connection:
        sample = customer_360_preview(connection, 8)
        query = connection.execute(EXAMPLE_QUERY)
        query_columns = [column[0] for column in query.description]
        query_rows = query.fetchall()
    if sample:
        print_table(
            "Sample of enriched customers (customer_360)",
            list(sample[0]),
            [list(row.values()) for row in sample],
        )
    click.echo(f"\nThe README's first DuckDB query, over customer_360:\n{EXAMPLE_QUERY}")
    print_table(None, query_columns, query_rows)
