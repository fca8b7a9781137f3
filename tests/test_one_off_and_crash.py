"""One-off record enrichment (CLI and Dagster job), and exactly one credit per enriched record
when a run is killed half way and run again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner

from enrichment_pipelines.cli import main
from enrichment_pipelines.core.shards import customer_shard, shard_key
from enrichment_pipelines.core.warehouse import Warehouse
from enrichment_pipelines.definitions import build_definitions
from enrichment_pipelines.demo import DemoSites, start_demo_sites
from enrichment_pipelines.runs import run_pipeline
from tests.support.config import loopback_config
from tests.support.materializations import materialized


def _rows(home: Path, sql: str, parameters: list[object] | None = None) -> list[tuple]:
    with Warehouse(home / "warehouse.duckdb").connect() as connection:
        return connection.execute(sql, parameters or []).fetchall()


def _enriched_customer(home: Path) -> str:
    [(customer_id,)] = _rows(
        home,
        "SELECT customer_id FROM enrichments WHERE status = 'enriched' ORDER BY 1 LIMIT 1",
    )
    return customer_id


@pytest.fixture
def enriched_home(home: Path, demo_sites: DemoSites, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setenv("ENRICH_ALLOW_PRIVATE_NETWORKS", "127.0.0.0/8")
    customers = demo_sites.write_customers(home / "customers.csv")
    assert run_pipeline(loopback_config(), customers_path=customers, source="demo").success
    return home


@pytest.mark.e2e
def test_enrich_customer_shows_the_last_enrichment_and_enriches_now(enriched_home: Path) -> None:
    home = enriched_home
    customer_id = _enriched_customer(home)
    [(balance_before,)] = _rows(home, "SELECT sum(delta) FROM credit_ledger")
    result = CliRunner().invoke(main, ["customer", customer_id])
    assert result.exit_code == 0, result.output
    assert "last enriched: " in result.stderr and "(enriched)" in result.stderr
    assert "settings in force: value_proposition -> value_proposition_enriched" in result.stderr
    assert result.stdout.startswith(f"{customer_id}: enriched\n")
    assert "value_proposition" in result.stdout and "held back" not in result.stdout
    [(balance_after,)] = _rows(home, "SELECT sum(delta) FROM credit_ledger")
    assert balance_after == balance_before - 1
    enrichments = _rows(
        home, "SELECT count(*) FROM enrichments WHERE customer_id = ? AND status = 'enriched'",
        [customer_id],
    )  # fmt: skip
    assert enrichments == [(2,)]
    others = _rows(home, "SELECT count(*) FROM enrichments WHERE customer_id <> ?", [customer_id])
    [(before_others,)] = others
    CliRunner().invoke(main, ["customer", customer_id])
    assert _rows(home, "SELECT count(*) FROM enrichments WHERE customer_id <> ?",
                 [customer_id]) == [(before_others,)]  # fmt: skip
    unknown = CliRunner().invoke(main, ["customer", "demo:nobody"])
    assert unknown.exit_code == 2 and "no customer with id 'demo:nobody'" in unknown.output


@pytest.mark.e2e
def test_a_value_below_its_min_confidence_is_held_back_with_its_evidence(
    enriched_home: Path,
) -> None:
    home = enriched_home
    customer_id = _enriched_customer(home)
    [(found, confidence)] = _rows(
        home,
        "SELECT v.value, v.confidence FROM enrichment_values v JOIN enrichments e "
        "USING (enrichment_id) WHERE e.customer_id = ? AND v.data_point = 'location_city'",
        [customer_id],
    )
    assert found is not None and confidence < 1
    refused = CliRunner().invoke(
        main, ["settings", "set", "location_city", "--min-confidence", "2"]
    )
    assert refused.exit_code == 2
    assert "location_city: min_confidence must be between 0 and 1, not 2" in refused.output
    raised = CliRunner().invoke(main, ["settings", "set", "location_city", "--min-confidence", "1"])
    assert raised.exit_code == 0, raised.output

    shown = CliRunner().invoke(main, ["customer", customer_id])
    assert shown.exit_code == 0, shown.output
    assert "held back" in shown.stdout
    # The attribute is unknown; the value found stays, with its evidence, for review.
    [(value, held, reason, quote)] = _rows(
        home,
        "SELECT v.value, v.held_value, v.reason, v.evidence_quote FROM enrichment_values v "
        "JOIN enrichments e USING (enrichment_id) WHERE e.customer_id = ? "
        "AND v.data_point = 'location_city' ORDER BY e.created_at DESC LIMIT 1",
        [customer_id],
    )
    assert (value, held) == (None, found) and quote
    assert reason == f"low confidence: {confidence:.2f}, below min_confidence 1.00"
    assert _rows(
        home,
        "SELECT count(*) FROM custom_attributes WHERE customer_id = ? "
        "AND name = 'location_city_enriched'",
        [customer_id],
    ) == [(0,)]
    document = CliRunner().invoke(main, ["customer", customer_id, "--json"])
    [city] = [
        v for v in json.loads(document.stdout)["values"] if v["data_point"] == "location_city"
    ]
    assert (city["value"], city["held_value"]) == (None, found)
    # Other points are as before; lowering the bar shows the value again.
    assert (
        CliRunner()
        .invoke(main, ["settings", "set", "location_city", "--min-confidence", "0"])
        .exit_code
        == 0
    )
    assert CliRunner().invoke(main, ["customer", customer_id]).exit_code == 0
    assert _rows(
        home,
        "SELECT value_string FROM custom_attributes WHERE customer_id = ? "
        "AND name = 'location_city_enriched'",
        [customer_id],
    ) == [(found,)]


@pytest.mark.e2e
def test_enrich_customer_job_takes_the_id_as_config(enriched_home: Path) -> None:
    home = enriched_home
    customer_id = _enriched_customer(home)
    job = build_definitions(loopback_config()).resolve_job_def("enrich_customer")
    config = {"customer_ids": [customer_id], "enrich_now": True}
    with dg.instance_for_test() as instance:
        result = job.execute_in_process(
            run_config={"resources": {"enrichment_run": {"config": config}}},
            instance=instance,
            partition_key=shard_key(customer_shard(customer_id)),
        )
        assert result.success
        [event] = materialized(result, "customer_attributes")
        assert event.metadata["records_enriched"].value == 1
        everyone = job.execute_in_process(
            run_config={"resources": {"enrichment_run": {"config": {"enrich_now": True,
                                                                    "customer_ids": []}}}},
            instance=instance,
            partition_key="00",
            raise_on_error=False,
        )  # fmt: skip
    assert not everyone.success
    failure = str(everyone.get_step_failure_events()[0].event_specific_data.error)
    assert "give at least one customer id" in failure


def _enrich_run(home: Path, customers: Path, **environment: str) -> subprocess.Popen[str]:
    """`enrich run` over `customers` as its own process (to be killed), output on a pipe."""
    environment = {
        **os.environ,
        "ENRICH_HOME": str(home),
        "ENRICH_ALLOW_PRIVATE_NETWORKS": "127.0.0.0/8",
        **environment,
    }
    environment.pop("DAGSTER_HOME", None)
    return subprocess.Popen(
        [str(Path(sys.executable).with_name("enrich")), "run", "--customers", str(customers),
         "--source", "demo"],
        env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def _children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _assert_ended(pids: list[int], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = [pid for pid in pids if Path(f"/proc/{pid}").exists()]
        if not alive:
            return
        time.sleep(0.2)
    raise AssertionError(f"processes {alive} outlived the killed run")


@pytest.fixture(scope="module")
def many_sites() -> Iterator[DemoSites]:
    """Enough sites for several write rounds, so that a kill after the first lands half way,
    and for extraction in worker processes (80 leaves the new workspace's 100 credits enough
    for every healthy one)."""
    sites = start_demo_sites(80, seed=12)
    yield sites
    sites.server.stop()


@pytest.mark.e2e
def test_a_run_killed_half_way_then_run_again_charges_each_record_once(
    home: Path, many_sites: DemoSites
) -> None:
    customers = many_sites.write_customers(home / "customers.csv")
    process = _enrich_run(home, customers)
    assert process.stdout is not None
    deadline = time.monotonic() + 120
    for line in process.stdout:  # wait until records are being written, then kill
        if "wrote " in line and " records" in line:  # the first progress line of the writing
            break
        assert time.monotonic() < deadline, "the run never wrote a record"
    workers = _children(process.pid)  # the extraction processes, among others
    assert workers, "80 sites are extracted in worker processes"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    _assert_ended(workers)  # no orphaned extraction process left behind

    killed_enriched = _rows(home, "SELECT count(*) FROM enrichments WHERE status = 'enriched'")
    # Run again: picks up where the killed run stopped; and once more: nothing left to charge.
    assert run_pipeline(loopback_config(), source="demo").success
    assert run_pipeline(loopback_config(), source="demo").success
    per_record = _rows(
        home,
        "SELECT e.customer_id, count(DISTINCT e.enrichment_id), count(l.entry_id) "
        "FROM enrichments e LEFT JOIN credit_ledger l USING (enrichment_id) "
        "WHERE e.status = 'enriched' GROUP BY 1",
    )
    healthy = sum(company.fault is None for company in many_sites.companies)
    assert len(per_record) >= healthy - 3  # every reachable site enriched in the end
    assert all(enrichments == 1 and charges == 1 for _, enrichments, charges in per_record)
    [(spent,)] = _rows(home, "SELECT -sum(delta) FROM credit_ledger WHERE kind = 'enrichment'")
    assert spent == len(per_record)
    assert killed_enriched[0][0] < len(per_record)  # the kill really stopped it half way


@pytest.fixture(scope="module")
def slow_sites() -> Iterator[DemoSites]:
    """Sites that answer after a second: a crawl long enough to be killed half way."""
    sites = start_demo_sites(60, seed=13, latency_seconds=1.0)
    yield sites
    sites.server.stop()


@pytest.mark.e2e
def test_a_run_killed_during_the_crawl_keeps_the_sites_it_finished(
    home: Path, slow_sites: DemoSites, tmp_path: Path
) -> None:
    customers = slow_sites.write_customers(tmp_path / "customers.csv")
    # A few sites at a time: the crawl takes a while.
    process = _enrich_run(home, customers, ENRICH_CRAWL_CONCURRENCY="8")
    assert process.stdout is not None
    deadline = time.monotonic() + 120
    for line in process.stdout:  # wait for a third of the sites, give the writer time, kill
        if "crawled " in line and " websites" in line:
            done, total = map(int, line.split("crawled ")[1].split()[0].split("/"))
            if done * 3 >= total:
                break
        assert time.monotonic() < deadline, "the crawl never got a third of the way"
    time.sleep(3)  # the writer saves what finished within 2 s
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL

    [(saved,)] = _rows(home, "SELECT count(*) FROM site_crawls")
    [(total,)] = _rows(home, "SELECT count(DISTINCT website_url) FROM customers")
    assert 0 < saved < total  # kept what it finished; the rest is left to the next run
