"""ChartMogul as source and sink (connectors/chartmogul), against a local server that speaks
its API (tests/support/chartmogul_server.py): customers imported page by page and upserted,
enrichments pushed as typed custom attributes and one note per enrichment, only what changed,
each change once even when a push is killed half way; 429s waited out as Retry-After says, a
422 kept as that customer's error while the others go on; a dry run writes nothing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner, Result

from enrichment_pipelines.assets.sinks import chartmogul_sync
from enrichment_pipelines.cli import main
from enrichment_pipelines.connectors.chartmogul.client import (
    ChartMogulAuthError,
    ChartMogulClient,
    ChartMogulUnavailable,
    ChartMogulUnsure,
)
from enrichment_pipelines.connectors.chartmogul.sink import Change, is_held, typed_value
from enrichment_pipelines.core.config import ChartMogulConfig
from enrichment_pipelines.core.datapoints import DATA_POINTS_BY_KEY
from enrichment_pipelines.core.enrichment.policy import EnrichmentPolicy, customer_key
from enrichment_pipelines.core.live import turn_live_on
from enrichment_pipelines.core.retry import retry_after_seconds
from enrichment_pipelines.core.settings import EnrichmentSettings
from enrichment_pipelines.core.warehouse import Warehouse
from enrichment_pipelines.definitions import build_definitions
from enrichment_pipelines.demo import DemoSites
from enrichment_pipelines.resources import ChartMogulResource, WarehouseResource
from enrichment_pipelines.runs import run_pipeline
from enrichment_pipelines.sensors import new_customers_sensor
from tests.support.chartmogul_server import FakeChartMogul
from tests.support.config import loopback_config
from tests.support.records import (
    FakeExtractor,
    apply_enrichments,
    extraction_of,
    prepared,
    site,
)

CUSTOMERS = 4  # enriched ones, in the push tests


@pytest.fixture
def chartmogul(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeChartMogul]:
    with FakeChartMogul() as server:
        monkeypatch.setenv("CHARTMOGUL_API_KEY", server.api_key)
        monkeypatch.setenv("CHARTMOGUL_API_BASE", server.url)
        monkeypatch.setenv("ENRICH_CHARTMOGUL_REQUESTS_PER_SECOND", "1000")
        yield server
        server.release()


def enrich(*arguments: str) -> Result:
    return CliRunner().invoke(main, list(arguments))


def rows(warehouse: Warehouse, sql: str) -> list[tuple[object, ...]]:
    with warehouse.connect(read_only=True) as connection:
        return connection.execute(sql).fetchall()


@pytest.fixture
def linked(warehouse: Warehouse, tmp_path: Path, chartmogul: FakeChartMogul) -> list[str]:
    """CUSTOMERS enriched customers (import:1..), each with its ChartMogul customer cus_N: a
    SaaS company (a Boolean attribute) with a value proposition (a String, in the note)."""
    extractor = FakeExtractor()
    for number in range(1, CUSTOMERS + 1):
        url = site(number)
        extractor.results[url] = extraction_of(
            url + "/", is_saas=True, value_proposition=f"Software that helps team {number}."
        )
    prepared(warehouse, tmp_path, CUSTOMERS, extractor)
    settings = EnrichmentSettings.defaults()
    apply_enrichments(warehouse, EnrichmentPolicy(), settings, extractor.name, "run-1")
    with warehouse.transaction() as connection:
        connection.execute("UPDATE customers SET chartmogul_uuid = 'cus_' || external_id")
    uuids = [f"cus_{number}" for number in range(1, CUSTOMERS + 1)]
    for uuid in uuids:
        chartmogul.add_customer(uuid)
    return uuids


def attribute_writes(server: FakeChartMogul) -> Counter[tuple[str, str]]:
    """How often each (customer, attribute) was set."""
    counts: Counter[tuple[str, str]] = Counter()
    for write in server.writes:
        if write.method == "POST" and isinstance(write.body.get("custom"), list):
            counts.update((write.customer_uuid, item["key"]) for item in write.body["custom"])
        elif write.method == "PUT":
            counts.update((write.customer_uuid, key) for key in write.body["custom"])
    return counts


# Source -----------------------------------------------------------------------------------------


def test_import_follows_every_page_and_a_second_import_changes_nothing(
    warehouse: Warehouse, chartmogul: FakeChartMogul
) -> None:
    for number in range(1, 451):
        chartmogul.add_customer(
            f"cus_{number}",
            name=f"Company {number}",
            email=f"billing@company{number}.example",
            website_url=f"company{number}.example",
            country="DE",
            data_source_uuid="ds_a" if number <= 300 else "ds_b",
            attributes={"tags": ["vip"] if number == 1 else []},
            mrr=1000 + number,
        )
    chartmogul.add_customer("cus_bad", name="No Site", website_url="javascript:alert(1)")
    imported = enrich("import", "chartmogul", "--json")
    assert imported.exit_code == 0, imported.output
    report = json.loads(imported.stdout)
    assert (report["inserted"], report["updated"], report["unchanged"]) == (451, 0, 0)
    assert [p["problem"] for p in report["problems"]] == [
        "customer cus_bad: unsupported URL scheme 'javascript' (only http and https)"
    ]
    assert chartmogul.requests.count(("GET", "/v1/customers")) == 3  # 200 + 200 + 51
    assert rows(
        warehouse,
        "SELECT customer_id, chartmogul_uuid, website_url, billing_country_code, "
        "extra->>'mrr' FROM customers WHERE external_id = 'cus_1'",
    ) == [("chartmogul:cus_1", "cus_1", "https://company1.example", "DE", "1001")]
    assert rows(warehouse, "SELECT customer_id, tag FROM customer_tags") == [
        ("chartmogul:cus_1", "vip")
    ]

    again = json.loads(enrich("import", "chartmogul", "--json").stdout)
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 451)

    chartmogul.customers[1]["website_url"] = "company2-new.example"
    only = json.loads(enrich("import", "chartmogul", "--data-source", "ds_a", "--json").stdout)
    assert (only["inserted"], only["updated"], only["unchanged"]) == (0, 1, 299)


def test_live_enrichment_picks_up_new_customers_from_chartmogul(
    home: Path, warehouse: Warehouse, chartmogul: FakeChartMogul
) -> None:
    def tick(cursor: str | None) -> dg.SensorResult:
        with dg.instance_for_test() as instance:
            context = dg.build_sensor_context(
                instance=instance,
                cursor=cursor,
                resources={"warehouse": WarehouseResource(home=str(home))},
                definitions=build_definitions(loopback_config()),
            )
            result = new_customers_sensor(context)
        assert isinstance(result, dg.SensorResult)
        return result

    def requested(result: dg.SensorResult) -> list[str]:
        return sorted(
            key
            for request in result.run_requests or []
            for key in request.run_config["resources"]["enrichment_run"]["config"]["customer_keys"]
        )

    chartmogul.add_customer("cus_old", name="Old", website_url="old.example")
    assert enrich("import", "chartmogul").exit_code == 0
    with warehouse.transaction() as connection:
        turn_live_on(connection, "all", by="test")
    cursor = tick(None).cursor
    chartmogul.add_customer("cus_new", name="New", website_url="new.example")
    assert enrich("import", "chartmogul").exit_code == 0  # cus_old: unchanged
    picked = tick(cursor)
    assert requested(picked) == [customer_key("chartmogul:cus_new")]
    assert enrich("import", "chartmogul").exit_code == 0  # nothing new: nothing requested
    assert requested(tick(picked.cursor)) == []


def test_a_missing_or_wrong_key_is_one_clear_error(
    warehouse: Warehouse, chartmogul: FakeChartMogul, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHARTMOGUL_API_KEY", "not-the-key")
    refused = enrich("import", "chartmogul")
    assert refused.exit_code == 2
    assert refused.stderr.strip() == (
        "error: GET /v1/customers: HTTP 401: No valid API key provided"
    )
    monkeypatch.delenv("CHARTMOGUL_API_KEY")
    missing = enrich("push", "chartmogul")
    assert missing.exit_code == 2
    assert "no ChartMogul API key: set CHARTMOGUL_API_KEY" in missing.stderr


# Sink -------------------------------------------------------------------------------------------


def test_push_writes_each_attribute_and_one_note_then_nothing_more(
    warehouse: Warehouse, linked: list[str], chartmogul: FakeChartMogul
) -> None:
    pushed = enrich("push", "chartmogul", "--json")
    assert pushed.exit_code == 0, pushed.output
    figures = json.loads(pushed.stdout)
    assert (figures["customers"], figures["pushed"], figures["failed"]) == (CUSTOMERS, CUSTOMERS, 0)
    assert figures["notes"] == CUSTOMERS
    for uuid in linked:
        held = chartmogul.attributes[uuid]
        assert held["is_saas_enriched"] == {"type": "Boolean", "value": True}
        assert held["value_proposition_enriched"]["type"] == "String"
        (note,) = chartmogul.notes_of(uuid)
        assert note["type"] == "note"
        assert note["text"].startswith("Enrichment summary from https://site")
    assert set(attribute_writes(chartmogul).values()) == {1}
    status = json.loads(enrich("status", "--json").stdout)["sinks"]["chartmogul"]
    assert status == {"pushed": CUSTOMERS, "pending": 0, "failed": 0, "not_linked": 0}
    shown = enrich("status").stdout
    assert f"{CUSTOMERS} pushed, 0 pending, 0 failed;" in shown

    writes = len(chartmogul.writes)
    again = json.loads(enrich("push", "chartmogul", "--json").stdout)
    assert again["customers"] == 0 and again["requests"] == 0
    assert len(chartmogul.writes) == writes


def test_a_changed_value_is_updated_and_an_unknown_one_removed(
    warehouse: Warehouse, linked: list[str], chartmogul: FakeChartMogul
) -> None:
    assert enrich("push", "chartmogul").exit_code == 0
    before = len(chartmogul.writes)
    with warehouse.transaction() as connection:  # as a re-enrichment leaves them
        connection.execute(
            "UPDATE custom_attributes SET value_boolean = false "
            "WHERE customer_id = 'import:1' AND name = 'is_saas_enriched'"
        )
        connection.execute(
            "DELETE FROM custom_attributes "
            "WHERE customer_id = 'import:2' AND name = 'is_saas_enriched'"
        )
    assert enrich("push", "chartmogul").exit_code == 0
    changes = [(w.method, w.customer_uuid, w.body) for w in chartmogul.writes[before:]]
    assert changes == [
        ("PUT", "cus_1", {"custom": {"is_saas_enriched": False}}),
        ("DELETE", "cus_2", {"custom": ["is_saas_enriched"]}),
    ]
    assert "is_saas_enriched" not in chartmogul.attributes["cus_2"]


def test_dry_run_prints_what_would_be_written_and_writes_nothing(
    warehouse: Warehouse, linked: list[str], chartmogul: FakeChartMogul
) -> None:
    dry = enrich("push", "chartmogul", "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    planned = json.loads(dry.stdout)
    assert {(row["customer"], row["name"], row["value"]) for row in planned} >= {
        ("import:1", "is_saas_enriched", "true")
    }
    notes = [row for row in planned if row["kind"] == "note"]
    assert len(notes) == CUSTOMERS
    assert notes[0]["value"].startswith("Enrichment summary from")
    assert chartmogul.requests == []
    assert rows(warehouse, "SELECT count(*) FROM chartmogul_pushed") == [(0,)]


def test_customers_without_a_chartmogul_id_are_skipped_with_the_reason(
    warehouse: Warehouse, linked: list[str], chartmogul: FakeChartMogul
) -> None:
    with warehouse.transaction() as connection:
        connection.execute("UPDATE customers SET chartmogul_uuid = NULL WHERE external_id = '4'")
    pushed = enrich("push", "chartmogul")
    assert pushed.exit_code == 0, pushed.output
    assert "1 enriched customer skipped: no ChartMogul id" in pushed.stderr
    assert "cus_4" not in chartmogul.attributes
    assert json.loads(enrich("status", "--json").stdout)["sinks"]["chartmogul"]["not_linked"] == 1


def test_a_422_fails_that_customer_alone_and_a_429_is_waited_out(
    warehouse: Warehouse, linked: list[str], chartmogul: FakeChartMogul
) -> None:
    chartmogul.refuse["cus_2"] = "value is not allowed"
    chartmogul.script["POST"] = [429]
    pushed = enrich("push", "chartmogul")
    assert pushed.exit_code == 1
    assert (
        "error: import:2 (ChartMogul cus_2): POST /v1/customers/cus_2/attributes/custom: "
        "HTTP 422: custom: value is not allowed"
    ) in pushed.stderr
    assert ("POST", "/v1/customers/cus_1/attributes/custom") in chartmogul.requests
    assert set(chartmogul.attributes) == {"cus_1", "cus_3", "cus_4"}  # the 429 was retried
    status = json.loads(enrich("status", "--json").stdout)["sinks"]["chartmogul"]
    assert (status["pushed"], status["failed"]) == (3, 1)

    del chartmogul.refuse["cus_2"]
    assert enrich("push", "chartmogul").exit_code == 0
    assert "cus_2" in chartmogul.attributes
    assert rows(warehouse, "SELECT count(*) FROM chartmogul_push_errors") == [(0,)]
    assert set(attribute_writes(chartmogul).values()) == {1}


def test_the_client_waits_as_retry_after_says(chartmogul: FakeChartMogul) -> None:
    chartmogul.add_customer("cus_1")
    chartmogul.script["GET"] = [429, 429]
    chartmogul.retry_after = "7"
    slept: list[float] = []
    with client_of(chartmogul, slept) as client:
        assert [c["uuid"] for c in client.customers()] == ["cus_1"]
    assert slept == [7.0, 7.0]
    assert client.requests == 3
    with pytest.raises(ChartMogulAuthError, match="CHARTMOGUL_API_KEY"):
        ChartMogulClient(ChartMogulConfig(api_key=""))


def client_of(server: FakeChartMogul, slept: list[float]) -> ChartMogulClient:
    config = ChartMogulConfig(api_key=server.api_key, api_base=server.url, requests_per_second=0)
    return ChartMogulClient(config, sleep=slept.append)


def test_a_post_that_may_have_been_carried_out_is_not_sent_again_blindly(
    chartmogul: FakeChartMogul,
) -> None:
    chartmogul.add_customer("cus_1")
    chartmogul.script["POST"] = [500]
    slept: list[float] = []
    with client_of(chartmogul, slept) as client, pytest.raises(ChartMogulUnsure, match="500"):
        client.add_note("cus_1", "hello")
    assert client.requests == 1 and slept == []
    # A PUT or a DELETE says the same thing twice: retried after any 5xx.
    chartmogul.attributes["cus_1"] = {"plan": {"type": "String", "value": "a"}}
    chartmogul.script["PUT"] = [502, 503]
    with client_of(chartmogul, slept) as client:
        client.update_custom_attributes("cus_1", {"plan": "b"})
    assert client.requests == 3 and len(slept) == 2
    assert chartmogul.attributes["cus_1"]["plan"]["value"] == "b"


@pytest.mark.parametrize(
    ("kind", "stored", "sent", "as_chartmogul_answers"),
    [
        ("String", "x" * 300, "x" * 255, "x" * 255),
        ("Boolean", "true", True, True),
        ("Integer", "2016", 2016, 2016),
        ("Decimal", "1.5", 1.5, 1.5),
        ("Timestamp", "2024-01-02T03:04:05+00:00", "2024-01-02T03:04:05+00:00",
         "2024-01-02T03:04:05.000Z"),
    ],
)  # fmt: skip
def test_values_go_as_their_attribute_type_and_are_recognised_when_read_back(
    kind: str, stored: str, sent: object, as_chartmogul_answers: object
) -> None:
    change = Change("attribute", "key", kind, stored)
    assert typed_value(change) == sent and type(typed_value(change)) is type(sent)
    assert is_held(as_chartmogul_answers, change)
    assert not is_held("1" if kind != "String" else "y", change)


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert retry_after_seconds("7") == 7.0
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= (retry_after_seconds(soon) or 0) <= 30
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert retry_after_seconds("soon") is None


def test_a_retry_after_too_long_to_wait_gives_up_at_once(chartmogul: FakeChartMogul) -> None:
    chartmogul.script["GET"] = [429]
    chartmogul.retry_after = "3600"
    slept: list[float] = []
    with client_of(chartmogul, slept) as client, pytest.raises(
        ChartMogulUnavailable, match="HTTP 429"
    ):  # fmt: skip
        list(client.customers())
    assert slept == []


def test_a_customer_given_another_chartmogul_id_gets_everything_again(
    warehouse: Warehouse, linked: list[str], chartmogul: FakeChartMogul
) -> None:
    assert enrich("push", "chartmogul").exit_code == 0
    chartmogul.add_customer("cus_new")
    with warehouse.transaction() as connection:
        connection.execute(
            "UPDATE customers SET chartmogul_uuid = 'cus_new' WHERE customer_id = 'import:1'"
        )
    assert enrich("push", "chartmogul").exit_code == 0
    assert chartmogul.attributes["cus_new"] == chartmogul.attributes["cus_1"]
    assert len(chartmogul.notes_of("cus_new")) == 1


def test_a_disabled_data_point_is_left_as_it_was_last_sent(
    warehouse: Warehouse, linked: list[str], chartmogul: FakeChartMogul
) -> None:
    assert enrich("push", "chartmogul").exit_code == 0
    assert enrich("settings", "set", "is_saas", "--disable").exit_code == 0
    with warehouse.transaction() as connection:  # whatever happens to it locally now
        connection.execute("DELETE FROM custom_attributes WHERE name = 'is_saas_enriched'")
    writes = len(chartmogul.writes)
    again = json.loads(enrich("push", "chartmogul", "--json").stdout)
    assert again["customers"] == 0 and len(chartmogul.writes) == writes
    assert all("is_saas_enriched" in chartmogul.attributes[uuid] for uuid in linked)


@pytest.mark.parametrize("lost", [2, 3], ids=["a note", "attributes"])
def test_a_push_killed_half_way_sends_nothing_twice_when_run_again(
    warehouse: Warehouse, linked: list[str], chartmogul: FakeChartMogul, lost: int
) -> None:
    # Write `lost` is carried out, and its answer never comes: the push is killed waiting.
    chartmogul.hang_after_write = lost
    enrich_command = str(Path(sys.executable).with_name("enrich"))
    process = subprocess.Popen(
        [enrich_command, "push", "chartmogul"],
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while len(chartmogul.writes) < lost:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        assert time.monotonic() < deadline, f"the push never reached write {lost}"
        time.sleep(0.05)
    # Meanwhile it holds the push: a second one is refused, saying so.
    busy = enrich("push", "chartmogul")
    assert busy.exit_code == 2
    assert "another push to ChartMogul is running (process" in busy.stderr
    process.send_signal(signal.SIGKILL)
    process.wait()
    chartmogul.hang_after_write = None
    chartmogul.release()
    rerun = enrich("push", "chartmogul", "--json")
    assert rerun.exit_code == 0, rerun.output
    assert json.loads(rerun.stdout)["already_in_chartmogul"] >= 1  # the lost answer's write
    assert set(attribute_writes(chartmogul).values()) == {1}
    assert all(len(chartmogul.notes_of(uuid)) == 1 for uuid in linked)
    assert set(chartmogul.attributes) == set(linked)
    again = json.loads(enrich("push", "chartmogul", "--json").stdout)
    assert again["customers"] == 0


def test_a_write_whose_answer_times_out_is_read_back_not_sent_again(
    warehouse: Warehouse,
    linked: list[str],
    chartmogul: FakeChartMogul,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENRICH_CHARTMOGUL_TIMEOUT_SECONDS", "1")
    chartmogul.hang_after_write = 1  # cus_1's attributes: carried out, never answered
    pushed = enrich("push", "chartmogul", "--json")
    assert pushed.exit_code == 0, pushed.output
    assert json.loads(pushed.stdout)["already_in_chartmogul"] == 2  # read back
    assert set(attribute_writes(chartmogul).values()) == {1}
    assert set(chartmogul.attributes) == set(linked)


def test_push_to_one_segment_and_forget_removes_the_ledger(
    warehouse: Warehouse, linked: list[str], chartmogul: FakeChartMogul
) -> None:
    created = enrich(
        "segments", "create", "first", "--match", '{field: name, op: "=", value: Company 1}'
    )
    assert created.exit_code == 0, created.output
    assert enrich("push", "chartmogul", "--segment", "first").exit_code == 0
    assert set(chartmogul.attributes) == {"cus_1"}
    assert rows(warehouse, "SELECT DISTINCT customer_id FROM chartmogul_pushed") == [("import:1",)]
    assert enrich("forget", "import:1", "--yes").exit_code == 0
    assert rows(warehouse, "SELECT count(*) FROM chartmogul_pushed") == [(0,)]


@pytest.mark.e2e
def test_import_run_push_and_the_sync_asset(
    home: Path,
    warehouse: Warehouse,
    demo_sites: DemoSites,
    chartmogul: FakeChartMogul,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The whole road: customers from ChartMogul, enriched from their sites, pushed back; then
    the `chartmogul_sync` asset, with nothing new to send, sends nothing."""
    for company in demo_sites.companies:
        chartmogul.add_customer(
            f"cus_{company.index:04d}", name=company.name, website_url=demo_sites.website(company)
        )
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert enrich("import", "chartmogul").exit_code == 0
    assert run_pipeline(loopback_config()).success
    pushed = enrich("push", "chartmogul", "--json")
    assert pushed.exit_code == 0, pushed.output
    defaults = EnrichmentSettings.defaults()
    names = {defaults.data_points[key].attribute_name: key for key in defaults.enabled_keys}
    enriched_ids = rows(
        warehouse,
        "SELECT c.chartmogul_uuid FROM current_enrichments JOIN customers AS c "
        "USING (customer_id) ORDER BY 1",
    )
    assert len(enriched_ids) >= len(demo_sites.companies) // 2
    for (uuid,) in enriched_ids:
        held = chartmogul.attributes[uuid]
        assert held and set(held) <= set(names), uuid  # default names only
        for name, item in held.items():
            assert item["type"] == DATA_POINTS_BY_KEY[names[name]].type
        assert len(chartmogul.notes_of(uuid)) == 1
    written = len(chartmogul.writes)

    resources = {
        "warehouse": WarehouseResource(home=str(home)),
        "chartmogul": ChartMogulResource(api_key=chartmogul.api_key, api_base=chartmogul.url),
    }
    with dg.instance_for_test() as instance:
        result = dg.materialize([chartmogul_sync], resources=resources, instance=instance)
        assert result.success
        (materialization,) = result.asset_materializations_for_node("chartmogul_sync")
    assert materialization.metadata["customers"].value == 0
    assert len(chartmogul.writes) == written

    # Without a key (a workspace that does not use ChartMogul), "materialize all" still works.
    resources["chartmogul"] = ChartMogulResource(api_key="", api_base=chartmogul.url)
    with dg.instance_for_test() as instance:
        result = dg.materialize([chartmogul_sync], resources=resources, instance=instance)
        assert result.success
        assert result.asset_materializations_for_node("chartmogul_sync") == []
