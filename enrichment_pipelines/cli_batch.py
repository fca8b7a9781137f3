"""`enrich batch`: one-off batch enrichment as a backfill over every customer shard."""

from __future__ import annotations

import os
import sys
import time
from datetime import datetime
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from enrichment_pipelines.cli_support import err, open_warehouse, print_table
from enrichment_pipelines.core.segments import SegmentError, load_segment
from enrichment_pipelines.core.shards import SHARD_COUNT
from enrichment_pipelines.core.status import batch_outcomes

POLL_SECONDS = 2.0


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=err,
    )


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
def batch(segment: str | None, reenrich_before: str | None, skip_enriched: bool,
          dagster_url: str | None, in_process: bool, no_wait: bool) -> None:  # fmt: skip
    """One-off batch: enrich all customers (or a segment) as a backfill over every shard.

    Stopping (Ctrl-C) cancels the backfill; records not reached are not charged, and running
    the same command again continues where it stopped."""
    from enrichment_pipelines.batch import BatchPolicy, DagsterGraphQL

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
    warehouse = open_warehouse()
    if segment is not None:
        try:
            with warehouse.connect() as connection:
                load_segment(connection, segment)
        except SegmentError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(2)
    policy = BatchPolicy(segment=segment, reenrich_before=reenrich_before)
    client = DagsterGraphQL(dagster_url)
    if not in_process and client.available():
        run_ids, ok = _on_instance(client, policy, no_wait)
        if no_wait:
            return
    else:
        if not in_process:
            err.print(f"no Dagster webserver at {client.url}: running the batch in this process")
        run_ids, ok = _in_process(policy)
    with warehouse.connect() as connection:
        outcomes = batch_outcomes(connection, run_ids)
    print_table(
        "Batch outcome by record",
        ("outcome", "reason", "records", "credits"),
        [(status, reason or "", records, credits) for status, reason, records, credits in outcomes],
    )
    sys.exit(0 if ok else 1)


def _on_instance(client: Any, policy: Any, no_wait: bool) -> tuple[list[str], bool]:
    from enrichment_pipelines.batch import BatchError

    try:
        backfill_id = client.launch_backfill(policy)
    except BatchError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    err.print(f"backfill {backfill_id} launched on {client.url} ({policy.describe()})")
    err.print(f"follow it in the UI: {client.backfill_url(backfill_id)}")
    if no_wait:
        return [], True
    progress = None
    try:
        with _progress() as bar:
            task = bar.add_task("shards", total=SHARD_COUNT, detail="")
            while True:
                progress = client.progress(backfill_id)
                bar.update(
                    task,
                    total=progress.shards_total,
                    completed=progress.shards_done + progress.shards_failed,
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
    except BatchError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    assert progress is not None
    return progress.run_ids, progress.status == "COMPLETED_SUCCESS" or (
        progress.status == "COMPLETED" and not progress.shards_failed
    )


def _in_process(policy: Any) -> tuple[list[str], bool]:
    import dagster as dg

    from enrichment_pipelines.batch import run_batch_in_process
    from enrichment_pipelines.definitions import default_resources

    instance = (
        dg.DagsterInstance.get()
        if os.environ.get("DAGSTER_HOME")
        else dg.DagsterInstance.ephemeral()
    )
    failed = 0
    with _progress() as bar:
        task = bar.add_task("shards", total=SHARD_COUNT, detail="")

        def shard_done(key: str, success: bool) -> None:
            nonlocal failed
            failed += not success
            bar.update(task, advance=1, detail=f"shard {key} done, {failed} failed")

        try:
            run_ids, ok = run_batch_in_process(policy, default_resources(), instance, shard_done)
        except KeyboardInterrupt:
            bar.stop()
            err.print("stopped: records not reached were not charged; run the same command again "
                      "to continue")  # fmt: skip
            sys.exit(130)
    return run_ids, ok
