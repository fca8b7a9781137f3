"""`enrich run`, `enrich customer` and `enrich batch`: the commands that start runs (through
`enrichment_pipelines.runs`, shared with `bench/` and the tests)."""

from __future__ import annotations

import sys
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from enrichment_pipelines.cli.common import (
    err,
    open_warehouse,
    print_json,
    print_outcomes,
    print_table,
    reporting,
)
from enrichment_pipelines.cli.progress import CliProgress
from enrichment_pipelines.core.config import EnrichConfig
from enrichment_pipelines.core.shards import SHARD_COUNT

if TYPE_CHECKING:
    from enrichment_pipelines.core.customer_pages import EnrichedValue
    from enrichment_pipelines.runs import BatchPolicy, DagsterGraphQL

POLL_SECONDS = 2.0


@click.command()
@click.option("--customers", "customers_path", type=click.Path(path_type=Path), default=None,
              help="Import this file first (CSV, Parquet or JSONL).")  # fmt: skip
@click.option("--source", default="import", show_default=True)
@click.option("--reenrich-before", default=None, help="Re-enrich records enriched before DATE.")
@reporting
def run(
    config: EnrichConfig,
    customers_path: Path | None,
    source: str,
    reenrich_before: str | None,
    as_json: bool,
) -> None:
    """Run the enrichment pipeline once, in this process, and print what happened to the
    records it looked at. Exits 1 when the run failed or every record it tried failed."""
    from enrichment_pipelines.runs import run_pipeline

    result = run_pipeline(
        config, customers_path=customers_path, source=source, reenrich_before=reenrich_before
    )
    outcomes = print_outcomes(config, [result.run_id], "Outcome by record", as_json=as_json)
    all_failed = bool(outcomes) and all(count.outcome == "failed" for count in outcomes)
    if all_failed:
        err.print("every record this run tried failed: see the reasons above")
    sys.exit(0 if result.success and not all_failed else 1)


@click.command(name="customer")
@click.argument("customer_id")
@reporting
def customer(config: EnrichConfig, customer_id: str, as_json: bool) -> None:
    """Enrich one customer now (one-off): shows its last enrichment and the settings in force,
    then enriches it whatever its last enrichment, for one credit, and shows the values with
    their evidence (a value held back below its min_confidence too, for review)."""
    from enrichment_pipelines.core.customer_pages import customer_detail
    from enrichment_pipelines.core.customers import resolve_customer_id
    from enrichment_pipelines.core.settings import ensure_settings
    from enrichment_pipelines.core.status import customer_website, last_outcome
    from enrichment_pipelines.runs import run_pipeline

    warehouse = open_warehouse(config)
    with warehouse.transaction() as connection:
        customer_id = resolve_customer_id(connection, customer_id)
        known = customer_website(connection, customer_id)
        settings, created = ensure_settings(connection)
        last = last_outcome(connection, customer_id)
    assert known is not None  # resolved just now, in the same transaction
    if created:
        err.print("no enrichment settings were saved: saved the defaults (all data points on)")
    err.print(f"{customer_id}: website {known[0] or '(none: ' + str(known[1]) + ')'}")
    err.print(f"last enriched: {last[0]:%Y-%m-%d %H:%M} ({last[1]})" if last else "never enriched")
    enabled = ", ".join(
        f"{key} -> {setting.attribute_name}" for key, setting in settings.data_points.items()
        if setting.enabled
    )  # fmt: skip
    err.print(f"settings in force: {enabled}")
    result = run_pipeline(config, customer_ids=(customer_id,), enrich_now=True)
    with warehouse.connect(read_only=True) as connection:
        outcome = last_outcome(connection, customer_id)
        detail = customer_detail(connection, customer_id, settings)
    if outcome is None or not result.success:
        click.echo(f"{customer_id}: the run failed; see the log above", err=True)
        sys.exit(1)
    at, state, reason = outcome
    values = detail.values if detail is not None and state == "enriched" else []
    if as_json:
        print_json({"customer_id": customer_id, "status": state, "reason": reason, "at": at,
                    "values": [value.document() for value in values]})  # fmt: skip
    else:
        click.echo(f"{customer_id}: {state}" + (f" ({reason})" if reason else ""))
        if values:
            print_table(
                "Values and their evidence",
                ("data point", "value", "confidence", "evidence"),
                [(value.data_point, _shown_value(value), value.confidence, value.evidence_quote)
                 for value in values],
            )  # fmt: skip
    sys.exit(0 if state == "enriched" else 1)


def _shown_value(value: EnrichedValue) -> str | None:
    if value.held_value is not None:
        return f"unknown (held back: {value.held_value}; {value.reason})"
    return value.value


@click.command(name="batch")
@click.option("--segment", default=None, help="Enrich this saved segment's members only.")
@click.option(
    "--reenrich-before",
    default=None,
    metavar="DATE",
    help="Re-enrich records last enriched before DATE (ISO date or date-time).",
)
@click.option(
    "--skip-enriched",
    is_flag=True,
    help="Don't re-enrich: only records never enriched (the default).",
)
@click.option(
    "--dagster-url",
    default=None,
    help="Dagster webserver to launch the backfill on (default: DAGSTER_WEBSERVER_URL "
    "or http://127.0.0.1:3000); without one answering, the batch runs here.",
)
@click.option("--in-process", is_flag=True, help="Run here even if a Dagster webserver answers.")
@click.option("--no-wait", is_flag=True, help="Launch the backfill and return at once.")
@reporting
def batch(config: EnrichConfig, segment: str | None, reenrich_before: str | None,
          skip_enriched: bool, dagster_url: str | None, in_process: bool, no_wait: bool,
          as_json: bool) -> None:  # fmt: skip
    """One-off batch: enrich all customers (or a segment) as a backfill over every shard.

    Stopping (Ctrl-C) cancels the backfill; records not reached are not charged, and running
    the same command again continues where it stopped."""
    from enrichment_pipelines.core.segments.store import load_segment
    from enrichment_pipelines.runs import BatchPolicy, DagsterGraphQL

    if reenrich_before and skip_enriched:
        raise click.UsageError("--reenrich-before and --skip-enriched exclude each other")
    if reenrich_before:
        try:
            datetime.fromisoformat(reenrich_before)
        except ValueError:
            raise click.UsageError(
                f"--reenrich-before {reenrich_before!r}: expected an ISO date or date-time, "
                "e.g. 2026-11-01 or 2026-11-01T12:00:00Z"
            ) from None
    warehouse = open_warehouse(config)
    if segment is not None:
        with warehouse.connect(read_only=True) as connection:
            load_segment(connection, segment)
    policy = BatchPolicy(segment=segment, reenrich_before=reenrich_before)
    client = DagsterGraphQL(dagster_url or config.dagster_webserver_url)
    if not in_process and client.available():
        run_ids, ok = _on_instance(client, policy, no_wait)
        if no_wait:
            return
    else:
        if not in_process:
            err.print(f"no Dagster webserver at {client.url}: running the batch in this process")
        run_ids, ok = _in_process(config, policy)
    print_outcomes(config, run_ids, "Batch outcome by record", as_json=as_json)
    sys.exit(0 if ok else 1)


def _on_instance(
    client: DagsterGraphQL, policy: BatchPolicy, no_wait: bool
) -> tuple[list[str], bool]:
    backfill_id = client.launch_backfill(policy)
    err.print(f"backfill {backfill_id} launched on {client.url} ({policy.describe()})")
    err.print(f"follow it in the UI: {client.backfill_url(backfill_id)}")
    if no_wait:
        return [], True
    progress = None
    try:
        with CliProgress("shards", SHARD_COUNT) as bar:
            while True:
                progress = client.progress(backfill_id)
                bar.update(
                    progress.shards_done + progress.shards_failed,
                    total=progress.shards_total,
                    detail=f"{progress.shards_running} running, {progress.shards_failed} failed "
                    f"({progress.status.lower()})",
                )
                if progress.finished:
                    break
                time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        err.print(f"stopping: cancelling backfill {backfill_id}...")
        client.cancel(backfill_id)
        while not (progress := client.progress(backfill_id)).finished:
            time.sleep(POLL_SECONDS)
        err.print("cancelled: records not reached were not charged; run the same command "
                  "again to continue")  # fmt: skip
    assert progress is not None
    return progress.run_ids, progress.status == "COMPLETED_SUCCESS" or (
        progress.status == "COMPLETED" and not progress.shards_failed
    )


def _in_process(config: EnrichConfig, policy: BatchPolicy) -> tuple[list[str], bool]:
    from enrichment_pipelines.runs import run_batch_in_process

    err.print("one run over every shard; its steps log their progress")
    try:
        return run_batch_in_process(config, policy)
    except KeyboardInterrupt:
        err.print("stopped: records not reached were not charged; run the same command again "
                  "to continue")  # fmt: skip
        sys.exit(130)
