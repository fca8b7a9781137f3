"""Right to deletion: `enrich forget` removes everything of one customer and nothing else."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from enrichment_pipelines.cli import main
from enrichment_pipelines.core.config import EnrichConfig
from enrichment_pipelines.core.forget import ForgetError, forget_customer
from enrichment_pipelines.core.warehouse import Warehouse
from enrichment_pipelines.demo import DemoSites
from enrichment_pipelines.runs import run_pipeline
from tests.support.config import loopback_config
from tests.support.records import enriched

# Every table that can hold something about a customer, and how to count one customer's rows.
_PER_CUSTOMER = {
    "customers": "customer_id = $id",
    "customer_tags": "customer_id = $id",
    "custom_attributes": "customer_id = $id",
    "custom_attribute_history": "customer_id = $id",
    "notes": "customer_id = $id",
    "segment_memberships": "customer_id = $id",
    "enrichments": "customer_id = $id",
    "enrichment_values": "enrichment_id IN (SELECT enrichment_id FROM enrichments "
    "WHERE customer_id = $id)",
    "credit_ledger": "customer_id = $id",
    "scraped_pages": "website_url = $site",
    "site_crawls": "website_url = $site",
    "extractions": "website_url = $site",
    "site_technologies": "website_url = $site",
}


def _counts(connection: duckdb.DuckDBPyConnection, customer_id: str, site: str) -> dict[str, int]:
    counts = {}
    for table, where in _PER_CUSTOMER.items():
        parameters = {"site": site} if "$site" in where else {"id": customer_id}
        row = connection.execute(f"SELECT count(*) FROM {table} WHERE {where}", parameters)
        row = row.fetchone()
        counts[table] = row[0] if row else 0
    return counts


def _totals(connection: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return {
        table: (connection.execute(f"SELECT count(*) FROM {table}").fetchone() or (0,))[0]
        for table in _PER_CUSTOMER
    }


@pytest.mark.e2e
def test_forget_removes_one_customer_entirely_and_nothing_else(
    home: Path, demo_sites: DemoSites, monkeypatch: pytest.MonkeyPatch
) -> None:
    customers = demo_sites.write_customers(home / "customers.csv")
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    created = CliRunner().invoke(
        main, ["segments", "create", "demo", "--match", "{field: tags, op: contains, value: demo}"]
    )
    assert created.exit_code == 0, created.output
    assert run_pipeline(loopback_config(), customers_path=customers, source="demo").success
    store = Warehouse(home / "warehouse.duckdb")
    with store.connect() as connection:
        target, site = connection.execute(
            "SELECT customer_id, website_url FROM customers c WHERE EXISTS "
            "(SELECT 1 FROM notes n WHERE n.customer_id = c.customer_id) ORDER BY 1 LIMIT 1"
        ).fetchone()
        before = _counts(connection, target, site)
        totals_before = _totals(connection)
        balance_before = connection.execute("SELECT sum(delta) FROM credit_ledger").fetchone()
    assert all(before[table] > 0 for table in ("customers", "custom_attributes", "notes",
                                               "enrichment_values", "credit_ledger",
                                               "scraped_pages", "segment_memberships"))  # fmt: skip

    refused = CliRunner().invoke(main, ["forget", target], input="n\n")
    assert refused.exit_code == 1  # aborted at the prompt: nothing deleted
    result = CliRunner().invoke(main, ["forget", target, "--yes"])
    assert result.exit_code == 0, result.output
    assert f"forgot {target}" in result.output

    with store.connect() as connection:
        after = _counts(connection, target, site)
        totals_after = _totals(connection)
        balance_after = connection.execute("SELECT sum(delta) FROM credit_ledger").fetchone()
        anonymous = connection.execute(
            "SELECT count(*) FROM credit_ledger WHERE note = 'customer forgotten' "
            "AND customer_id IS NULL AND kind = 'enrichment'"
        ).fetchone()
        deletions = connection.execute("SELECT deleted_by, rows_removed FROM deletions").fetchall()
    assert all(count == 0 for count in after.values()), after
    for table in _PER_CUSTOMER:  # only that customer's rows went
        expected = totals_before[table] - (0 if table == "credit_ledger" else before[table])
        assert totals_after[table] == expected, table
    assert balance_after == balance_before  # no refund, no second charge
    assert anonymous == (before["credit_ledger"],)
    [(deleted_by, removed)] = deletions
    assert deleted_by.startswith("enrich forget (") and removed > 0
    assert target not in str(deletions)

    with duckdb.connect(str(EnrichConfig(home=home).analytics_path), read_only=True) as analytics:
        seen = analytics.execute(
            "SELECT count(*) FROM customer_360 WHERE customer_id = ?", [target]
        ).fetchone()
    assert seen == (0,)  # the analysts' copy was republished without them

    unknown = CliRunner().invoke(main, ["forget", "demo:nobody", "--yes"])
    assert unknown.exit_code == 2 and "no customer with id 'demo:nobody'" in unknown.output


def test_forget_customer_deletes_every_row_of_one_customer(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    sites = enriched(warehouse, tmp_path, 2)
    with warehouse.transaction() as connection:
        connection.execute(
            "INSERT INTO notes (note_id, customer_id, body, source, created_at) "
            "VALUES ('n1', 'import:1', 'hand-written', 'user', now())"
        )
        before = _counts(connection, "import:1", sites[0])
        other = _counts(connection, "import:2", sites[1])
        removed = forget_customer(connection, "import:1", by="test")
    assert before["enrichments"] and before["custom_attributes"] and before["scraped_pages"]
    with warehouse.connect(read_only=True) as connection:
        assert set(_counts(connection, "import:1", sites[0]).values()) == {0}
        assert _counts(connection, "import:2", sites[1]) == other  # nothing else touched
        ledger = connection.execute(
            "SELECT count(*) FROM credit_ledger WHERE note = 'customer forgotten'"
        ).fetchone()
        deletions = connection.execute("SELECT deleted_by, rows_removed FROM deletions").fetchall()
    assert removed == sum(before.values()) - before["credit_ledger"]
    assert ledger == (1,)  # the charge stays, anonymous: never refunded nor charged again
    assert deletions == [("test", removed)]
    with warehouse.transaction() as connection, pytest.raises(ForgetError, match="import:1"):
        forget_customer(connection, "import:1", by="test")


def _files_holding(folders: list[Path], needles: dict[str, str]) -> list[str]:
    """Each (file, what) where a file under `folders` holds one of the needles' bytes."""
    found = []
    for folder in folders:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            data = path.read_bytes()
            found += [f"{path}: {what}" for what, text in needles.items() if text.encode() in data]
    return found


@pytest.mark.e2e
def test_after_forget_no_file_the_project_wrote_holds_a_byte_of_the_customer(
    home: Path, demo_sites: DemoSites, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The warehouse, the analysts' copy, the quality report and the Dagster home (run
    history on SQLite) keep nothing of a forgotten customer: not its name, website, id or
    e-mail."""
    dagster_home = tmp_path / "dagster"
    dagster_home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))
    monkeypatch.setenv("ENRICH_ALLOW_PRIVATE_NETWORKS", "127.0.0.0/8")
    customers = demo_sites.write_customers(tmp_path / "customers.csv")  # the user's own file
    config = loopback_config(dagster_home=dagster_home)
    assert run_pipeline(config, customers_path=customers, source="demo").success
    assert CliRunner().invoke(main, ["quality"]).exit_code == 0
    store = Warehouse(home / "warehouse.duckdb")
    with store.connect(read_only=True) as connection:
        customer_id, external_id, name, email, website = connection.execute(
            "SELECT customer_id, external_id, name, email, website_url FROM customers c "
            "WHERE EXISTS (SELECT 1 FROM notes n WHERE n.customer_id = c.customer_id) "
            "ORDER BY 1 LIMIT 1"
        ).fetchone()
    needles = {
        "id": customer_id, "external id": external_id, "name": name, "email": email,
        "website": website,
    }  # fmt: skip
    # A one-off run for this very customer: its run record names it by key only.
    assert CliRunner().invoke(main, ["customer", customer_id]).exit_code == 0
    folders = [home, dagster_home]
    assert _files_holding(folders, needles), "the search finds nothing even before the forget"

    result = CliRunner().invoke(main, ["forget", customer_id, "--yes"])
    assert result.exit_code == 0, result.output
    assert _files_holding(folders, needles) == []
