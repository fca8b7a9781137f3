"""The whole asset graph materialised in-process on a real Dagster instance, against real local
websites and a real DuckDB file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from enrichment_pipelines.assets import ASSETS
from enrichment_pipelines.core.credits import balance
from enrichment_pipelines.core.datapoints import DATA_POINTS_BY_KEY
from enrichment_pipelines.core.warehouse import Warehouse
from enrichment_pipelines.definitions import default_resources, defs
from enrichment_pipelines.demo import DemoSites
from enrichment_pipelines.partitions import all_shards_tags
from enrichment_pipelines.resources import (
    EnrichmentRunResource,
    WarehouseResource,
    WebClientResource,
)
from tests.support.materializations import metadata


def _materialize(
    home: Path,
    customers: Path | None,
    instance: dg.DagsterInstance,
    max_page_age_hours: float = 24.0,
    **policy: Any,
) -> dg.ExecuteInProcessResult:
    resources: dict[str, Any] = default_resources()
    resources["warehouse"] = WarehouseResource(home=str(home))
    resources["web"] = WebClientResource(
        allowed_private_networks="127.0.0.0/8",
        request_timeout_seconds=5,
        max_page_age_hours=max_page_age_hours,
    )
    resources["enrichment_run"] = EnrichmentRunResource(**policy)
    config: dict[str, Any] = {"source": "demo"}
    if customers is not None:
        config["path"] = str(customers)
    return dg.materialize(
        ASSETS,
        resources=resources,
        run_config={"ops": {"customers": {"config": config}}},
        instance=instance,
        tags=all_shards_tags(),
    )


def _query(store: Warehouse, sql: str, params: list[Any] | None = None) -> list[tuple]:
    with store.connect() as connection:
        return connection.execute(sql, params or []).fetchall()


@pytest.fixture
def customers_csv(demo_sites: DemoSites, tmp_path: Path) -> Path:
    return demo_sites.write_customers(tmp_path / "customers.csv")


def test_definitions_load() -> None:
    repository = defs.get_repository_def()
    assert repository.get_job("enrich_customers") is not None
    keys = {key.to_user_string() for key in repository.asset_graph.get_all_asset_keys()}
    assert keys == {
        "customers", "scraped_pages", "enriched_attributes", "customer_attributes", "customer_360",
        "segment_memberships", "analytics_snapshot", "data_quality_report", "chartmogul_sync",
    }  # fmt: skip
    # A sink needs its own credentials: no enrichment run includes it, its own job does.
    for job in ("enrich_customers", "enrich_customer", "live_enrichment"):
        selected = repository.get_job(job).asset_layer.selected_asset_keys
        assert dg.AssetKey("chartmogul_sync") not in selected, job
    push_job = repository.get_job("push_to_chartmogul").asset_layer.selected_asset_keys
    assert push_job == {dg.AssetKey("chartmogul_sync")}
    checks = {key.name for key in repository.asset_graph.asset_check_keys}
    assert checks == {"validity", "uniqueness", "completeness", "freshness", "consistency"}


@pytest.mark.e2e
def test_whole_graph_enriches_local_sites(
    home: Path, demo_sites: DemoSites, customers_csv: Path
) -> None:
    store = Warehouse(home / "warehouse.duckdb")
    healthy = [c for c in demo_sites.companies if c.fault is None]
    faulty = [c for c in demo_sites.companies if c.fault is not None]
    assert len(healthy) >= 30 and {c.fault for c in faulty} >= {"http_error", "unreachable"}
    with dg.instance_for_test() as instance:
        result = _materialize(home, customers_csv, instance)
        assert result.success
        assert metadata(result, "customers")["inserted"] == len(demo_sites.companies) + 4
        pages = metadata(result, "scraped_pages")
        assert pages["websites_crawled"] == len(demo_sites.companies)
        crawl_failures = [c for c in faulty if c.fault in ("http_error", "unreachable", "parked")]
        assert pages["websites_failed"] == len(crawl_failures)

        outcomes = dict(
            _query(store, "SELECT last_outcome, count(*) FROM customer_360 GROUP BY ALL")
        )
        enriched = outcomes["enriched"]
        applied = metadata(result, "customer_attributes")
        assert applied["records_enriched"] == enriched
        assert applied["credits_spent"] == enriched
        assert (
            "| industry_category | yes | industry_category_enriched | yes |"
            in (applied["settings_in_force"])
        )  # the settings in force, readable in the Dagster UI
        assert enriched >= len(healthy) - 2  # script-rendered sites may carry too little
        assert outcomes["skipped"] == 4  # two without a website, two with refused ones

        # Every enriched record paid exactly one credit, in the same transaction.
        with store.connect() as connection:
            assert balance(connection) == 100 - enriched
        assert _query(
            store,
            "SELECT count(*) FROM enrichments e JOIN credit_ledger l USING (enrichment_id) "
            "WHERE e.status = 'enriched' AND l.delta = -1",
        ) == [(enriched,)]

        # Failed and skipped records say why and cost nothing.
        reasons = dict(
            _query(
                store,
                "SELECT c.external_id, o.reason FROM enrichment_outcomes o JOIN customers c "
                "USING (customer_id) WHERE o.status != 'enriched'",
            )
        )
        for company in faulty:
            reason = reasons[f"cus_{company.index:04d}"]
            expected = {
                "http_error": "HTTP 503",
                "unreachable": "connection refused",
                "empty": "no data points found",
                "parked": "parked or for-sale domain",
            }[company.fault or ""]
            assert expected in reason
        assert reasons["no-site-1"] == "no website"
        assert "unsupported URL scheme 'ftp'" in reasons["bad-site-2"]

        # Values are typed, evidenced, and visible in customer_360.
        company = next(c for c in healthy if c.template == "jsonld")
        row = _query(
            store,
            "SELECT location_city_enriched, location_country_code_enriched, "
            "employee_count_enriched, is_saas_enriched FROM customer_360 WHERE external_id = ?",
            [f"cus_{company.index:04d}"],
        )[0]
        assert row[:3] == (
            company.city,
            company.country_code,
            company.expected["employee_count"],
        )
        assert isinstance(row[3], bool | None)
        assert _query(
            store,
            "SELECT count(*) FROM enrichment_values WHERE value IS NOT NULL "
            "AND (evidence_url IS NULL OR evidence_quote IS NULL OR confidence IS NULL)",
        ) == [(0,)]
        notes = _query(store, "SELECT count(*), min(body) FROM notes")
        assert notes[0][0] == enriched and notes[0][1].startswith("Enrichment summary from http")

        # A second run finds everything up to date: no new enrichment, no charge, no re-crawl.
        again = _materialize(home, None, instance)
        assert metadata(again, "scraped_pages")["websites_crawled"] == len(crawl_failures)
        assert metadata(again, "enriched_attributes")["sites_extracted"] == 0
        assert metadata(again, "customer_attributes")["records_enriched"] == 0
        with store.connect() as connection:
            assert balance(connection) == 100 - enriched


@pytest.mark.e2e
def test_reenrich_cutoff_replaces_values_keeps_history_and_charges_once(
    home: Path, demo_sites: DemoSites, tmp_path: Path
) -> None:
    store = Warehouse(home / "warehouse.duckdb")
    company = next(c for c in demo_sites.companies if c.fault is None and c.template == "jsonld")
    path = tmp_path / "one.csv"
    path.write_text(f"id,website\nc1,{demo_sites.website(company)}\nc2,\n")
    with dg.instance_for_test() as instance:
        _materialize(home, path, instance)
        first = _query(store, "SELECT enrichment_id FROM current_enrichments")
        # Pretend the customer's attributes were edited since, so re-enrichment changes them:
        # the city to another value, and a data point the site does not state set to one (the
        # re-enrichment clears it).
        [(data_point,)] = _query(
            store, "SELECT min(data_point) FROM enrichment_values WHERE value IS NULL"
        )
        unstated = DATA_POINTS_BY_KEY[data_point].attribute_name
        with store.transaction() as connection:
            connection.execute(
                "UPDATE custom_attributes SET value_string = 'Old City' "
                "WHERE name = 'location_city_enriched'"
            )
            connection.execute(
                "INSERT INTO custom_attributes (customer_id, name, value_string, source, "
                "updated_at) SELECT customer_id, ?, 'Stale', 'user', now() FROM customers "
                "WHERE website_url IS NOT NULL",
                [unstated],
            )
        cutoff = datetime.now(UTC).isoformat()
        for _ in range(2):  # the retry of the same request must not charge again
            result = _materialize(home, None, instance, reenrich_before=cutoff)
            assert result.success
        assert metadata(result, "customer_attributes")["records_enriched"] == 0
        assert _query(store, "SELECT count(*) FROM enrichments WHERE status = 'enriched'") == [(2,)]
        assert _query(store, "SELECT enrichment_id FROM current_enrichments") != first
        with store.connect() as connection:
            assert balance(connection) == 98
        history = _query(
            store,
            "SELECT old_value, new_value, reason FROM custom_attribute_history "
            "WHERE name = 'location_city_enriched' ORDER BY changed_at",
        )
        assert history == [
            (None, company.city, "enrichment"),
            ("Old City", company.city, "re-enrichment"),
        ]
        assert _query(
            store,
            "SELECT old_value, new_value, reason FROM custom_attribute_history WHERE name = ?",
            [unstated],
        ) == [("Stale", None, "re-enrichment")]
        remaining = "SELECT count(*) FROM custom_attributes WHERE name = ?"
        assert _query(store, remaining, [unstated]) == [(0,)]


@pytest.mark.e2e
def test_out_of_credits_skips_the_rest_with_that_reason(
    home: Path, demo_sites: DemoSites, customers_csv: Path
) -> None:
    store = Warehouse(home / "warehouse.duckdb")
    store.migrate()
    with store.transaction() as connection:
        connection.execute(
            "INSERT INTO credit_ledger (entry_id, created_at, delta, kind, note) "
            "VALUES ('spent-elsewhere', now(), -95, 'top-up', 'test: leave 5 credits')"
        )
    with dg.instance_for_test() as instance:
        result = _materialize(home, customers_csv, instance)
    applied = metadata(result, "customer_attributes")
    assert applied["records_enriched"] == 5
    assert applied["credit_balance"] == 0
    out_of_credits = _query(
        store, "SELECT count(*) FROM enrichment_outcomes WHERE reason = 'out of credits'"
    )[0][0]
    assert out_of_credits >= 25
    assert "out of credits" in applied["skipped_by_reason"]


@pytest.mark.e2e
def test_recrawl_of_unchanged_sites_skips_extraction(
    home: Path, demo_sites: DemoSites, tmp_path: Path
) -> None:
    store = Warehouse(home / "warehouse.duckdb")
    companies = [c for c in demo_sites.companies if c.fault is None][:5]
    path = tmp_path / "five.csv"
    path.write_text(
        "id,website\n" + "".join(f"c{c.index},{demo_sites.website(c)}\n" for c in companies)
    )
    with dg.instance_for_test() as instance:
        _materialize(home, path, instance)
        extracted_at = _query(store, "SELECT website_url, extracted_at FROM extractions")
        # Pages older than the maximum age are fetched again, with conditional requests.
        cutoff = datetime.now(UTC).isoformat()
        again = _materialize(home, None, instance, max_page_age_hours=0, reenrich_before=cutoff)
    pages = metadata(again, "scraped_pages")
    assert pages["websites_crawled"] == 5
    assert pages["websites_unchanged"] == 5
    assert metadata(again, "enriched_attributes")["sites_extracted"] == 0
    assert _query(store, "SELECT website_url, extracted_at FROM extractions") == extracted_at
    # The records were still re-enriched (the policy asked for it), from the stored extraction.
    assert metadata(again, "customer_attributes")["records_enriched"] == 5
    # Every page that was readable is marked unchanged.
    assert _query(
        store, "SELECT count(*) FROM scraped_pages WHERE error IS NULL AND NOT unchanged"
    ) == [(0,)]
