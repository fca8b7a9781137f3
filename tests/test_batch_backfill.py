"""Batch enrichment as a partitioned backfill.

End to end on a production-shaped instance: PostgreSQL storage from deploy/dagster.yaml (in a
database of its own), `dagster-webserver` and `dagster-daemon` as real processes, the backfill
launched through GraphQL with the mutation the UI sends, local websites that answer slowly.
Also the in-process fallback of `enrich batch` when no instance answers."""

from __future__ import annotations

import csv
import json
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from enrichment_pipelines.cli import main
from enrichment_pipelines.core.credits import top_up
from enrichment_pipelines.core.customers import import_customers
from enrichment_pipelines.core.segments.compiler import parse_segment
from enrichment_pipelines.core.segments.store import save_segment
from enrichment_pipelines.core.shards import SHARD_COUNT, customer_shard, shard_key
from enrichment_pipelines.core.warehouse import Warehouse
from enrichment_pipelines.core.websites import parse_networks
from enrichment_pipelines.demo import DemoSites, start_demo_sites
from enrichment_pipelines.runs import BackfillProgress, BatchPolicy, DagsterGraphQL, run_pipeline
from tests.support.config import loopback_config
from tests.support.instance import (
    free_port,
    production_instance,
)

LOOPBACK = "127.0.0.0/8"
TERMINAL_RUN_STATUSES = ("SUCCESS", "FAILURE", "CANCELED")


@dataclass
class Instance:
    client: DagsterGraphQL
    warehouse: Warehouse
    sites: DemoSites


@pytest.fixture(scope="module")
def instance(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instance]:
    """Webserver and daemon on deploy/dagster.yaml, sharing one warehouse, and slow sites."""
    folder = tmp_path_factory.mktemp("production")
    enrich_home = folder / "enrich"
    warehouse = Warehouse(enrich_home / "warehouse.duckdb")
    warehouse.migrate()
    with warehouse.transaction() as connection:
        top_up(connection, 1000, note="tests")
    # Every response takes a second, so that runs last long enough to overlap and be cancelled.
    sites = start_demo_sites(80, seed=5, latency_seconds=1.0)
    environment = {"ENRICH_HOME": str(enrich_home), "ENRICH_ALLOW_PRIVATE_NETWORKS": LOOPBACK}
    try:
        with production_instance(folder, postgres_url, environment) as running:
            yield Instance(running.client, warehouse, sites)
    finally:
        sites.server.stop()


def _import(instance: Instance, source: str, indexes: Sequence[int], path: Path) -> list[str]:
    """Import healthy demo companies (by position among the healthy ones) as `source`."""
    sites = instance.sites
    healthy = [company for company in sites.companies if company.fault is None]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name", "website"])
        for index in indexes:
            company = healthy[index]
            writer.writerow([f"c{index:02d}", company.name, sites.website(company)])
    import_customers(
        instance.warehouse, path, source=source, allowed_networks=parse_networks(LOOPBACK)
    )
    return [f"{source}:c{index:02d}" for index in indexes]


def _wait(instance: Instance, backfill_id: str, timeout: float = 300) -> BackfillProgress:
    deadline = time.monotonic() + timeout
    while not (progress := instance.client.progress(backfill_id)).finished:
        assert time.monotonic() < deadline, f"backfill {backfill_id} still {progress.status}"
        time.sleep(1)
    return progress


RUN_FAILURES = """
query Failures($runId: ID!) {
  logsForRun(runId: $runId) {
    ... on EventConnection {
      events {
        __typename
        ... on ExecutionStepFailureEvent { stepKey error { message } }
        ... on MessageEvent { message }
        ... on ErrorEvent { error { message stack cause { message stack } } }
      }
    }
  }
}"""


def _failures(instance: Instance, progress: BackfillProgress) -> str:
    """What went wrong in the backfill's failed runs, for assertion messages."""
    messages = []
    for run in progress.runs:
        if run.status != "SUCCESS":
            events = instance.client._call(RUN_FAILURES, {"runId": run.run_id})["logsForRun"]
            messages.append(f"run {run.run_id}: {run.status}")
            for event in events.get("events", []):
                if event["__typename"] == "ExecutionStepFailureEvent":
                    messages.append(f"{event['stepKey']}: {event['error']['message']}")
                elif "Failure" in event["__typename"] or "Engine" in event["__typename"]:
                    messages.append(f"{event['__typename']}: {event.get('message')}")
                    if event.get("error"):
                        messages.append(str(event["error"]))
    return "\n".join(messages) or "no step failures"


def _query(warehouse: Warehouse, sql: str, parameters: object = None) -> list[tuple]:
    with warehouse.connect(read_only=True) as connection:
        return connection.execute(sql, parameters).fetchall()


def _most_runs_at_once(progress: BackfillProgress) -> int:
    edges = sorted(
        edge
        for run in progress.runs
        if run.start_time is not None
        for edge in ((run.start_time, 1), (run.end_time or time.time(), -1))
    )
    most = current = 0
    for _, step in edges:
        current += step
        most = max(most, current)
    return most


def _runs_wrote(instance: Instance, progress: BackfillProgress) -> list[tuple]:
    return _query(
        instance.warehouse,
        "SELECT customer_id, status, credits_charged FROM enrichments "
        "WHERE list_contains(?, run_id) ORDER BY customer_id",
        [progress.run_ids],
    )


def _enriched_and_charged(instance: Instance, customers: list[str]) -> tuple[list, list]:
    enriched = _query(
        instance.warehouse,
        "SELECT customer_id, count(*) FROM enrichments WHERE status = 'enriched' "
        "AND list_contains(?, customer_id) GROUP BY ALL ORDER BY 1",
        [customers],
    )
    charged = _query(
        instance.warehouse,
        "SELECT customer_id, count(*) FROM credit_ledger WHERE list_contains(?, customer_id) "
        "GROUP BY ALL ORDER BY 1",
        [customers],
    )
    return enriched, charged


def _save_segment(instance: Instance, name: str, sources: list[str]) -> None:
    segment = parse_segment(name, json.dumps({"match": {"field": "source", "op": "in",
                                                        "value": sources}}))  # fmt: skip
    with instance.warehouse.transaction() as connection:
        save_segment(connection, segment, by="test", create=True)


@pytest.mark.daemon  # a real webserver, daemon and PostgreSQL
def test_backfills_reenrich_by_cutoff_and_resume_after_cancel_charging_once(
    instance: Instance, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two batches at once, each on its own segment: A re-enriches records enriched before a
    cutoff; B is cancelled after its first shard, then launched again."""
    old = _import(instance, "old", range(0, 8), tmp_path / "old.csv")
    recent = _import(instance, "recent", range(8, 16), tmp_path / "recent.csv")
    # Enrich them first (one run in this process), then make the first group's enrichment old.
    monkeypatch.setenv("ENRICH_HOME", str(instance.warehouse.path.parent))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert run_pipeline(loopback_config()).success
    with instance.warehouse.transaction() as connection:
        connection.execute(
            "UPDATE enrichments SET created_at = created_at - INTERVAL 10 DAY "
            "WHERE customer_id LIKE 'old:%'"
        )
    new = _import(instance, "new", range(16, 32), tmp_path / "new.csv")
    resume = _import(instance, "resume", range(32, 56), tmp_path / "resume.csv")
    _save_segment(instance, "cutoff-batch", ["old", "recent", "new"])
    _save_segment(instance, "resume-batch", ["resume"])
    cutoff = (datetime.now(UTC) - timedelta(days=5)).isoformat()
    resume_policy = BatchPolicy(segment="resume-batch")  # don't re-enrich

    batch_a = instance.client.launch_backfill(
        BatchPolicy(segment="cutoff-batch", reenrich_before=cutoff)
    )
    batch_b = instance.client.launch_backfill(resume_policy)

    # B: cancel once its first record is written (a shard may hold none of B's customers, so
    # not after its first shard); its runs stop at once (the backfill itself is marked
    # cancelled at the daemon's next turn).
    deadline = time.monotonic() + 240
    while not _enriched_and_charged(instance, resume)[0]:
        progress = instance.client.progress(batch_b)
        assert not progress.finished and time.monotonic() < deadline, progress
        time.sleep(0.5)
    instance.client.cancel(batch_b)
    deadline = time.monotonic() + 60
    while True:
        cancelled = instance.client.progress(batch_b)
        if all(run.status in TERMINAL_RUN_STATUSES for run in cancelled.runs):
            break
        assert time.monotonic() < deadline, cancelled.runs
        time.sleep(0.5)
    assert cancelled.status in ("CANCELING", "CANCELED")
    assert cancelled.shards_done < SHARD_COUNT
    assert any(run.status == "CANCELED" for run in cancelled.runs)
    enriched, charged = _enriched_and_charged(instance, resume)
    assert 0 < len(enriched) < len(resume)
    assert charged == enriched  # a charge for each record enriched, and none for the others
    assert all(count == 1 for _, count in enriched)

    # Relaunched with the CLI, which follows the backfill to its end and prints the outcome.
    relaunch = CliRunner().invoke(
        main, ["batch", "--segment", "resume-batch", "--dagster-url", instance.client.url]
    )
    assert relaunch.exit_code == 0, relaunch.output
    assert "launched on" in relaunch.output and "Batch outcome by record" in relaunch.output
    # The link is the backfill's own page (the UI's route /runs/b/<id>, no tab that it lacks).
    link = re.search(r"follow it in the UI: (\S+)", relaunch.output)
    assert link is not None and re.fullmatch(
        re.escape(instance.client.url) + r"/runs/b/[a-z0-9]+", link.group(1)
    ), relaunch.output
    finished_a = _wait(instance, batch_a)

    # A: exactly the records enriched before the cutoff and the new ones, one credit each, in
    # 16 shard runs that all succeeded (no lock errors), several of them writing at once (how
    # many depends on how fast the daemon starts runs against how fast a streaming run ends).
    assert finished_a.status in ("COMPLETED", "COMPLETED_SUCCESS"), _failures(instance, finished_a)
    assert (finished_a.shards_done, finished_a.shards_failed) == (SHARD_COUNT, 0)
    assert all(run.status == "SUCCESS" for run in finished_a.runs), finished_a.runs
    assert _most_runs_at_once(finished_a) >= 2
    assert _runs_wrote(instance, finished_a) == [(c, "enriched", 1) for c in sorted(new + old)]
    charges = _query(
        instance.warehouse,
        "SELECT customer_id, count(*) FROM credit_ledger WHERE list_contains(?, run_id) "
        "GROUP BY ALL ORDER BY 1",
        [finished_a.run_ids],
    )
    assert charges == [(customer_id, 1) for customer_id in sorted(new + old)]
    untouched = _query(
        instance.warehouse, "SELECT count(*) FROM enrichments WHERE customer_id LIKE 'recent:%'"
    )
    assert untouched == [(len(recent),)]  # enriched after the cutoff: skipped, not charged

    # B, relaunched: finishes what the cancelled batch left, charging nothing twice.
    enriched, charged = _enriched_and_charged(instance, resume)
    assert enriched == [(customer_id, 1) for customer_id in sorted(resume)]
    assert charged == enriched


LAUNCH_RUN = """
mutation LaunchRun($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}"""

RUNS = """
query Runs($filter: RunsFilter) {
  runsOrError(filter: $filter) { ... on Runs { results { runId status } } }
}"""


def _runs(instance: Instance, **run_filter: object) -> list[tuple[str, str]]:
    found = instance.client._call(RUNS, {"filter": run_filter})["runsOrError"]["results"]
    return [(run["runId"], run["status"]) for run in found]


def _finished_run(instance: Instance, run_id: str, timeout: float = 300) -> str:
    # A bound on a run's whole life, not a speed target: with three daemon tests side by side
    # on a slow two-core machine, a one-off run took over two minutes (CI, 2026-12-01).
    deadline = time.monotonic() + timeout
    while (status := _runs(instance, runIds=[run_id])[0][1]) not in TERMINAL_RUN_STATUSES:
        assert time.monotonic() < deadline, f"run {run_id} still {status}"
        time.sleep(0.5)
    return status


@pytest.mark.daemon  # a real webserver, daemon and PostgreSQL
def test_a_failed_run_is_retried_by_the_instance_and_charges_once(
    instance: Instance, tmp_path: Path
) -> None:
    """deploy/dagster.yaml retries failed runs: a one-off run that finds the warehouse locked
    past its timeout fails with that reason; its retry (same config) enriches the records, and
    each is charged once."""
    customers = _import(instance, "retry", range(56, 58), tmp_path / "retry.csv")
    run_config = {
        "resources": {
            "enrichment_run": {"config": {"customer_ids": customers, "enrich_now": True}},
            "warehouse": {"config": {"lock_timeout_seconds": 2}},
        }
    }
    params = {
        "selector": {
            "repositoryLocationName": "enrichment_pipelines",
            "repositoryName": "__repository__",
            "jobName": "enrich_customer",
        },
        "runConfigData": run_config,
        "executionMetadata": {
            "tags": [{"key": "dagster/partition", "value": shard_key(customer_shard(customers[0]))}]
        },
    }
    with instance.warehouse.connect():  # this process holds DuckDB's write lock meanwhile
        launched = instance.client._call(LAUNCH_RUN, {"params": params})["launchRun"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        first = launched["run"]["runId"]
        assert _finished_run(instance, first) == "FAILURE"
    failures = instance.client._call(RUN_FAILURES, {"runId": first})["logsForRun"]["events"]
    assert any("stayed locked by another process" in str(event) for event in failures)

    deadline = time.monotonic() + 120
    while not (retries := _runs(instance, tags=[{"key": "dagster/parent_run_id", "value": first}])):
        assert time.monotonic() < deadline, "the failed run was not retried"
        time.sleep(0.5)
    [(retry, _)] = retries
    assert _finished_run(instance, retry) == "SUCCESS"
    enriched, charged = _enriched_and_charged(instance, customers)
    assert enriched == [(customer_id, 1) for customer_id in sorted(customers)]
    assert charged == enriched


@pytest.mark.e2e
def test_enrich_batch_runs_in_process_without_an_instance(
    home: Path, demo_sites: DemoSites, warehouse: Warehouse, tmp_path: Path
) -> None:
    customers = demo_sites.write_customers(tmp_path / "customers.csv")
    import_customers(warehouse, customers, source="demo", allowed_networks=parse_networks(LOOPBACK))
    runner = CliRunner()
    environment = {"ENRICH_ALLOW_PRIVATE_NETWORKS": LOOPBACK, "DAGSTER_HOME": ""}
    bad = runner.invoke(main, ["batch", "--reenrich-before", "yesterday"], env=environment)
    assert bad.exit_code == 2 and "expected an ISO date" in bad.output
    missing = runner.invoke(main, ["batch", "--segment", "nope"], env=environment)
    assert missing.exit_code == 2 and "no segment named 'nope'" in missing.output

    dead_url = f"http://127.0.0.1:{free_port()}"
    result = runner.invoke(main, ["batch", "--dagster-url", dead_url], env=environment)
    assert result.exit_code == 0, result.output  # failed sites fail records, not runs
    assert f"no Dagster webserver at {dead_url}: running the batch in this process" in " ".join(
        result.output.split()
    )
    assert "Batch outcome by record" in result.output
    # One run over every shard, its step's progress in whole lines, and no DEBUG flood.
    assert "one run over every shard" in result.stderr
    total = _query(warehouse, "SELECT count(*) FROM customers")[0][0]
    assert f"wrote {total}/{total} records" in result.stderr and "\r" not in result.stderr
    assert " - DEBUG - " not in result.stderr
    rows = _query(warehouse, "SELECT status, count(*) FROM enrichments GROUP BY ALL ORDER BY 1")
    enriched = dict(rows)["enriched"]
    assert enriched > 20
    again = runner.invoke(main, ["batch", "--dagster-url", dead_url], env=environment)
    assert again.exit_code == 0, again.output
    assert _query(warehouse, "SELECT count(*) FROM enrichments WHERE status = 'enriched'") == [
        (enriched,)
    ]  # nothing redone under the same policy
