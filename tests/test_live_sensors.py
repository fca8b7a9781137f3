"""Live enrichment sensors on a real Dagster instance (`instance_for_test`,
`build_sensor_context`), a real DuckDB warehouse and real local websites."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from enrichment_pipelines.core.customers import import_customers
from enrichment_pipelines.core.enrichment.policy import customer_key
from enrichment_pipelines.core.live import turn_live_off, turn_live_on
from enrichment_pipelines.core.segments.compiler import parse_segment
from enrichment_pipelines.core.segments.store import save_segment
from enrichment_pipelines.core.shards import customer_shard, shard_key
from enrichment_pipelines.core.warehouse import Warehouse, WarehouseError
from enrichment_pipelines.core.websites import parse_networks
from enrichment_pipelines.definitions import build_definitions
from enrichment_pipelines.demo import DemoSites
from enrichment_pipelines.resources import WarehouseResource
from enrichment_pipelines.sensors import (
    SEGMENT_CHECK_SECONDS,
    new_customers_sensor,
    segment_entrants_sensor,
)
from tests.support.config import loopback_config
from tests.support.processes import other_process_holding


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as test_instance:
        yield test_instance


@pytest.fixture
def live_home(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ENRICH_ALLOW_PRIVATE_NETWORKS", "127.0.0.0/8")
    return home


def _import(
    store: Warehouse, demo_sites: DemoSites, path: Path, indexes: Sequence[int], tags: str = ""
) -> list[str]:
    """Import the healthy demo companies at `indexes` (into the healthy list); their ids."""
    healthy = [company for company in demo_sites.companies if company.fault is None]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name", "website", "tags"])
        for index in indexes:
            company = healthy[index]
            writer.writerow([f"c{index:02d}", company.name, demo_sites.website(company), tags])
    import_customers(store, path, source="crm", allowed_networks=parse_networks("127.0.0.0/8"))
    return [f"crm:c{index:02d}" for index in indexes]


def _tick(
    sensor: dg.SensorDefinition, instance: dg.DagsterInstance, home: Path, cursor: str | None
) -> dg.SensorResult | dg.SkipReason:
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={"warehouse": WarehouseResource(home=str(home))},
        definitions=build_definitions(loopback_config()),
    )
    return sensor(context)


def _requested(result: dg.SensorResult | dg.SkipReason) -> list[str]:
    """The customers the tick asks runs for (sorted keys: run config names no customer)."""
    if isinstance(result, dg.SkipReason):
        return []
    return sorted(
        key
        for request in result.run_requests or []
        for key in request.run_config["resources"]["enrichment_run"]["config"]["customer_keys"]
    )


def _keys(customer_ids: Sequence[str]) -> list[str]:
    return sorted(customer_key(customer_id) for customer_id in customer_ids)


def _skip_reason(result: dg.SensorResult | dg.SkipReason) -> str:
    if isinstance(result, dg.SkipReason):
        return result.skip_message or ""
    assert not result.run_requests
    return (result.skip_reason.skip_message if result.skip_reason else "") or ""


def _run(requests: Sequence[dg.RunRequest], instance: dg.DagsterInstance) -> None:
    job = build_definitions(loopback_config()).resolve_job_def("live_enrichment")
    for request in requests:
        result = job.execute_in_process(
            run_config=request.run_config,
            partition_key=request.partition_key,
            tags=request.tags,
            instance=instance,
        )
        assert result.success


def _enriched(store: Warehouse) -> list[str]:
    with store.connect() as connection:
        rows = connection.execute(
            "SELECT DISTINCT customer_id FROM enrichments WHERE status = 'enriched' ORDER BY 1"
        ).fetchall()
    return [customer_id for (customer_id,) in rows]


@pytest.mark.e2e
def test_new_customers_after_live_on_are_requested_once_and_enriched(
    live_home: Path, warehouse: Warehouse, demo_sites: DemoSites, instance: dg.DagsterInstance
) -> None:
    before = _import(warehouse, demo_sites, live_home / "a.csv", [0, 1])
    off = _tick(new_customers_sensor, instance, live_home, None)
    assert _skip_reason(off) == "live enrichment is off (`enrich live on` turns it on)"

    with warehouse.transaction() as connection:
        turn_live_on(connection, "all", by="test")
    idle = _tick(new_customers_sensor, instance, live_home, None)
    assert _requested(idle) == []  # customers from before live was on are left to a batch
    assert "no new customers in target all" in _skip_reason(idle)
    assert isinstance(idle, dg.SensorResult)
    cursor = idle.cursor

    new = _import(warehouse, demo_sites, live_home / "b.csv", [2, 3, 4])
    result = _tick(new_customers_sensor, instance, live_home, cursor)
    assert isinstance(result, dg.SensorResult)
    assert _requested(result) == _keys(new)
    assert not any(customer_id in str(result.run_requests) for customer_id in new)
    requests = result.run_requests or []
    assert sorted(r.partition_key for r in requests) == sorted(
        {shard_key(customer_shard(customer_id)) for customer_id in new}
    )
    assert all(r.run_key and r.run_key.startswith("new-customers:all:") for r in requests)

    # A repeated tick: from the new cursor nothing is new; from the old one, the same work
    # gets the same run keys, which Dagster launches once.
    assert _requested(_tick(new_customers_sensor, instance, live_home, result.cursor)) == []
    repeated = _tick(new_customers_sensor, instance, live_home, cursor)
    assert isinstance(repeated, dg.SensorResult)
    assert [r.run_key for r in repeated.run_requests or []] == [r.run_key for r in requests]

    _run(requests, instance)
    assert _enriched(warehouse) == new  # and not the customers from before live
    assert not set(before) & set(_enriched(warehouse))

    # Imported and enriched (by a one-off, say) before the next tick: not requested again.
    [late] = _import(warehouse, demo_sites, live_home / "c.csv", [5])
    _run(
        [dg.RunRequest(partition_key=shard_key(customer_shard(late)), run_config={
            "resources": {"enrichment_run": {"config": {"customer_ids": [late]}}}})],
        instance,
    )  # fmt: skip
    assert _requested(_tick(new_customers_sensor, instance, live_home, result.cursor)) == []

    with warehouse.transaction() as connection:
        turn_live_off(connection, by="test")
    _import(warehouse, demo_sites, live_home / "d.csv", [6])
    stopped = _tick(new_customers_sensor, instance, live_home, result.cursor)
    assert _requested(stopped) == []
    assert "live enrichment is off" in _skip_reason(stopped)


def _check_cursor(result: dg.SensorResult | dg.SkipReason, hours_ago: float) -> str:
    """The sensor's cursor, as if its check had happened `hours_ago`."""
    assert isinstance(result, dg.SensorResult) and result.cursor
    cursor = json.loads(result.cursor)
    checked = datetime.fromisoformat(cursor["checked_at"]) - timedelta(hours=hours_ago)
    return json.dumps({**cursor, "checked_at": checked.isoformat()})


@pytest.mark.e2e
def test_segment_entrants_are_picked_up_after_the_interval_and_not_before(
    live_home: Path, warehouse: Warehouse, demo_sites: DemoSites, instance: dg.DagsterInstance
) -> None:
    assert SEGMENT_CHECK_SECONDS == 21600
    assert segment_entrants_sensor.minimum_interval_seconds == 21600
    _import(warehouse, demo_sites, live_home / "a.csv", [0, 1], tags="vip")
    _import(warehouse, demo_sites, live_home / "b.csv", [2, 3, 4], tags="trial")
    with warehouse.transaction() as connection:
        save_segment(
            connection,
            parse_segment("vip", "match: {field: tags, op: contains, value: vip}"),
            by="test",
            create=True,
        )
        turn_live_on(connection, "vip", by="test")

    first = _tick(segment_entrants_sensor, instance, live_home, None)
    assert _requested(first) == []  # the members when live was turned on are the baseline
    assert "no customers entered vip" in _skip_reason(first)

    # Two customers enter the segment (their tags change on re-import); one of them was
    # enriched already and is left alone.
    [entrant, enriched_entrant] = _import(
        warehouse, demo_sites, live_home / "c.csv", [2, 3], tags="vip"
    )
    _run(
        [dg.RunRequest(partition_key=shard_key(customer_shard(enriched_entrant)), run_config={
            "resources": {"enrichment_run": {"config": {"customer_ids": [enriched_entrant]}}}})],
        instance,
    )  # fmt: skip

    too_soon = _tick(segment_entrants_sensor, instance, live_home, _check_cursor(first, 5.9))
    assert _requested(too_soon) == []
    assert "next check after" in _skip_reason(too_soon)

    due = _tick(segment_entrants_sensor, instance, live_home, _check_cursor(first, 6.1))
    assert _requested(due) == _keys([entrant])
    assert isinstance(due, dg.SensorResult)
    _run(due.run_requests or [], instance)
    assert entrant in _enriched(warehouse)

    # The next check, six hours on, finds nothing new: the run recorded the memberships.
    later = _tick(segment_entrants_sensor, instance, live_home, _check_cursor(due, 6.1))
    assert _requested(later) == []
    with warehouse.connect() as connection:
        members = connection.execute(
            "SELECT customer_id FROM segment_memberships WHERE segment = 'vip' "
            "AND left_at IS NULL ORDER BY 1"
        ).fetchall()
    assert [m for (m,) in members] == ["crm:c00", "crm:c01", "crm:c02", "crm:c03"]

    # A new customer imported into the segment is the new-customer sensor's work, in minutes.
    new_cursor = json.dumps({"imported_after": datetime.now(UTC).isoformat()})
    _import(warehouse, demo_sites, live_home / "d.csv", [5], tags="trial")
    [vip] = _import(warehouse, demo_sites, live_home / "e.csv", [6], tags="vip")
    assert _requested(_tick(new_customers_sensor, instance, live_home, new_cursor)) == _keys([vip])

    with warehouse.transaction() as connection:
        turn_live_off(connection, by="test")
    off = _tick(segment_entrants_sensor, instance, live_home, _check_cursor(later, 7))
    assert "live enrichment is off" in _skip_reason(off)


def test_an_idle_tick_reads_without_taking_the_write_lock(
    live_home: Path, warehouse: Warehouse, instance: dg.DagsterInstance
) -> None:
    with warehouse.transaction() as connection:
        turn_live_on(connection, "all", by="test")
    impatient = WarehouseResource(home=str(live_home), lock_timeout_seconds=0.3)
    # An analyst's read-only connection in another process: no process can write meanwhile.
    with other_process_holding(warehouse.path, seconds=20, read_only=True):
        with (
            pytest.raises(WarehouseError, match="stayed locked"),
            impatient.get_warehouse().transaction(),
        ):
            pass
        context = dg.build_sensor_context(
            instance=instance,
            resources={"warehouse": impatient},
            definitions=build_definitions(loopback_config()),
        )
        idle = new_customers_sensor(context)
    assert "no new customers in target all" in _skip_reason(idle)
