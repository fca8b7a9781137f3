"""The analytics copy opens in the tools the README sends analysts to: the DuckDB CLI that
`make install` puts into .venv/bin (the current stable 1.5 line, older than the 2.x library that
writes the copy) and Python's duckdb, both read-only, running the README's example queries."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from enrichment_pipelines.core import warehouse as warehouse_module
from enrichment_pipelines.core.customers import import_customers
from enrichment_pipelines.core.enrichment.policy import EnrichmentPolicy
from enrichment_pipelines.core.settings import EnrichmentSettings, ensure_settings
from enrichment_pipelines.core.warehouse import NOT_FOR_ANALYSTS, Warehouse, fetch_dicts
from tests.support.records import (
    FakeExtractor,
    apply_enrichments,
    crawl_of,
    extract_sites,
    extraction_of,
    site,
    store_crawls,
)

README = Path(__file__).resolve().parents[1] / "README.md"

# Installed by `make install` (the `duckdb-cli` dependency) next to the venv's python. Looked up
# there, not on PATH, so the test exercises the CLI the project pins, and fails (never skips)
# when it is missing: a missing CLI is the bug this test guards against.
DUCKDB_CLI = Path(sys.executable).with_name("duckdb")


def readme_queries() -> list[str]:
    """The SQL statements of the README's "Query the results in DuckDB" section, as written:
    read from the README so that what analysts are told to run is what is tested."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Query the results in DuckDB", 1)
    assert len(section) == 2, "README has no 'Query the results in DuckDB' section"
    block = re.search(r"```sql\n(.*?)```", section[1], re.DOTALL)
    assert block, "README's 'Query the results in DuckDB' section has no ```sql block"
    statements = [statement.strip() for statement in block.group(1).split(";")]
    return [statement for statement in statements if statement]


def analytics_copy(tmp_path: Path) -> tuple[Warehouse, Path]:
    """A warehouse of four CRM customers (crm:42 is the one the README's evidence query names):
    three enriched in two industries, one skipped for having no website; and its published
    analytics copy."""
    store = Warehouse(tmp_path / "warehouse.duckdb")
    store.migrate()
    with store.transaction() as connection:
        ensure_settings(connection)  # registers the attributes: customer_360 gets their columns
    csv = tmp_path / "crm.csv"
    csv.write_text(
        "id,name,website\n"
        f"41,Alpha,{site(41)}\n42,Beta,{site(42)}\n43,Gamma,{site(43)}\n44,No Site,\n",
        encoding="utf-8",
    )
    report = import_customers(store, csv, source="crm")
    assert report.rejected == 0, report.problems
    sites = [site(41), site(42), site(43)]
    store_crawls(store, [crawl_of(url) for url in sites])
    industries = {41: ("Software & IT", True), 42: ("Software & IT", True)}
    industries[43] = ("Marketing & Advertising", False)
    extractor = FakeExtractor(
        results={
            site(n): extraction_of(site(n) + "/", industry_category=category, is_saas=saas)
            for n, (category, saas) in industries.items()
        }
    )
    settings = EnrichmentSettings.defaults()
    extract_sites(store, EnrichmentPolicy(), extractor, settings.enabled_keys)
    apply_enrichments(store, EnrichmentPolicy(), settings, extractor.name, "run-1")
    return store, store.publish_snapshot(tmp_path / "analytics.duckdb")


def cli_rows(database: Path, sql: str) -> list[dict[str, object]]:
    """Run `sql` in the DuckDB CLI against `database`, read-only as the README says; its rows."""
    assert DUCKDB_CLI.exists(), (
        f"no DuckDB CLI at {DUCKDB_CLI}: `make install` installs it (the duckdb-cli dependency)"
    )
    # -no-init: a developer's ~/.duckdbrc (say `.mode box`) must not change the output format.
    done = subprocess.run(
        [str(DUCKDB_CLI), "-readonly", "-no-init", "-json", str(database), "-c", sql],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"duckdb CLI failed on {database.name}: {done.stderr.strip()}"
    rows: list[dict[str, object]] = json.loads(done.stdout or "[]")
    return rows


def test_the_duckdb_cli_runs_the_readme_queries_on_the_analytics_copy(tmp_path: Path) -> None:
    store, copy = analytics_copy(tmp_path)
    queries = readme_queries()
    assert len(queries) == 3, queries
    by_industry, not_enriched, evidence = (cli_rows(copy, sql) for sql in queries)
    assert by_industry == [
        {"industry": "Software & IT", "customers": 2, "saas_share": 1.0},
        {"industry": "Marketing & Advertising", "customers": 1, "saas_share": 0.0},
    ]
    # The reason's wording belongs to the enrichment code (compared with the live file below).
    [(outcome, reason, count)] = [tuple(row.values()) for row in not_enriched]
    assert (outcome, count) == ("skipped", 1) and reason
    known = sorted(
        (row for row in evidence if row["value"] is not None),
        key=lambda row: str(row["data_point"]),
    )
    assert known == [
        {
            "data_point": "industry_category",
            "value": "Software & IT",
            "confidence": 0.9,
            "evidence_url": site(42) + "/",
            "evidence_quote": "quote for industry_category",
        },
        {
            "data_point": "is_saas",
            "value": "true",
            "confidence": 0.9,
            "evidence_url": site(42) + "/",
            "evidence_quote": "quote for is_saas",
        },
    ]
    # The copy has every table and view of the live warehouse but the users' token hashes,
    # customer_360 included, and each README query gives the CLI on the copy what the
    # project's duckdb gives on the live file.
    tables = "SELECT table_name, table_type FROM information_schema.tables ORDER BY table_name"
    copied_tables = cli_rows(copy, tables)
    assert {"table_name": "customer_360", "table_type": "VIEW"} in copied_tables
    with store.connect(read_only=True) as live:
        assert copied_tables == [
            row for row in fetch_dicts(live, tables) if row["table_name"] not in NOT_FOR_ANALYSTS
        ]
        for sql, rows in zip(queries, (by_industry, not_enriched, evidence), strict=True):
            assert _sorted(rows) == _sorted(fetch_dicts(live, sql)), sql


def test_python_duckdb_opens_the_analytics_copy_read_only(tmp_path: Path) -> None:
    store, copy = analytics_copy(tmp_path)
    everything = "SELECT * FROM customer_360 ORDER BY customer_id"
    tables = "SELECT table_name, table_type FROM information_schema.tables ORDER BY table_name"
    with store.connect(read_only=True) as live:
        expected = fetch_dicts(live, everything)
        expected_tables = fetch_dicts(live, tables)
        expected_answers = [_sorted(fetch_dicts(live, sql)) for sql in readme_queries()]
    with duckdb.connect(str(copy), read_only=True) as analyst:
        assert fetch_dicts(analyst, everything) == expected  # typed columns, tags, timestamps
        # Every table and view but the users' token hashes, which are not analysts' data.
        assert fetch_dicts(analyst, tables) == [
            row for row in expected_tables if row["table_name"] not in NOT_FOR_ANALYSTS
        ]
        assert any(row["table_name"] == "users" for row in expected_tables)
        answers = [_sorted(fetch_dicts(analyst, sql)) for sql in readme_queries()]
    assert answers == expected_answers
    assert len(expected) == 4


def _sorted(rows: list[dict[str, object]]) -> list[str]:
    """Rows in a comparable order (the evidence query has no ORDER BY)."""
    return sorted(json.dumps(row, sort_keys=True, default=str) for row in rows)


def test_copies_of_a_large_warehouse_fit_in_memory_and_leave_the_pages_raw_documents_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, _ = analytics_copy(tmp_path)
    with store.transaction() as connection:  # a warehouse of about 20,000 customers' values
        connection.execute(
            "INSERT INTO enrichment_values (enrichment_id, data_point, value) "
            "SELECT 'e' || (i // 20), 'point ' || (i % 20), 'value ' || i FROM range(400000) t(i)"
        )
    monkeypatch.setattr(warehouse_module, "MEMORY_LIMIT", "16MB")
    monkeypatch.setattr(warehouse_module, "COPY_MEMORY_LIMIT", "16MB")
    with store.connect() as connection:  # a copy with its keys outgrows that memory...
        connection.execute(f"ATTACH '{tmp_path / 'keyed.duckdb'}' AS keyed")
        with pytest.raises(duckdb.Error, match=r"(could not|failed to) allocate"):
            connection.execute("COPY FROM DATABASE warehouse TO keyed")
        values = connection.execute("SELECT count(*) FROM enrichment_values").fetchone()
    copy = store.publish_snapshot(tmp_path / "analytics.duckdb")  # ...the analysts' does not
    with duckdb.connect(str(copy), read_only=True) as analyst:
        assert analyst.execute("SELECT count(*) FROM enrichment_values").fetchone() == values
        columns = {row[0] for row in analyst.execute("DESCRIBE scraped_pages").fetchall()}
    with store.connect(read_only=True) as live:
        live_columns = {row[0] for row in live.execute("DESCRIBE scraped_pages").fetchall()}
    assert live_columns - columns == {"assets"}
    store.compact()  # keeps its keys, so it lifts the limit (a deletion must not fail)
    with store.connect(read_only=True) as live:
        assert live.execute("SELECT count(*) FROM enrichment_values").fetchone() == values
