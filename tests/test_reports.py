"""The figures and tables put in Dagster metadata and printed by the CLI."""

from __future__ import annotations

from pathlib import Path

from enrichment_pipelines.core.reports import (
    counts_table,
    customer_360_counts,
    customer_360_preview,
    markdown_table,
    settings_table,
)
from enrichment_pipelines.core.settings import EnrichmentSettings, ensure_settings
from enrichment_pipelines.core.warehouse import Warehouse
from tests.support.records import enriched, import_csv


def test_customer_360_counts_and_preview(warehouse: Warehouse, tmp_path: Path) -> None:
    with warehouse.transaction() as connection:
        ensure_settings(connection)  # registers the attributes: customer_360 gets their columns
    enriched(warehouse, tmp_path, 2)
    import_csv(warehouse, tmp_path, [("9", "")])  # no website: skipped, never enriched
    with warehouse.connect(read_only=True) as connection:
        counts = customer_360_counts(connection)
        preview = customer_360_preview(connection, limit=1)
    assert counts == {"customers": 3, "enriched": 2, "skipped": 0, "failed": 0}
    [row] = preview  # enriched customers only, first by id, limited
    assert (row["customer_id"], row["name"], row["last_outcome"]) == (
        "import:1",
        "Company 1",
        "enriched",
    )


def test_markdown_tables_escape_cells_and_order_counts() -> None:
    assert markdown_table([]) == "_(none)_"
    assert markdown_table([{"a": "x|y", "b": None}]) == "| a | b |\n|---|---|\n| x\\|y |  |"
    assert counts_table({"rare": 1, "common": 5}).splitlines()[2:] == [
        "| common | 5 |",
        "| rare | 1 |",
    ]
    table = settings_table(EnrichmentSettings.defaults())
    assert "| is_saas | yes | is_saas_enriched |" in table


def test_reasons_leave_the_warehouse_without_customer_particulars() -> None:
    from enrichment_pipelines.core.reports import without_particulars

    assert without_particulars("home page: HTTP 503") == "home page: HTTP 503"
    assert (
        without_particulars(
            "customer cus_7: unsupported URL scheme 'javascript' (only http and https)"
        )
        == "customer …: unsupported URL scheme … (only http and https)"
    )
    assert without_particulars("redirects to another site (shop.example.com)") == (
        "redirects to another site …"
    )
    assert without_particulars("refused URL https://a.example/x?y=1: private") == (
        "refused URL … private"
    )
    assert counts_table({"a 'x'": 1, "a 'y'": 2}).splitlines()[2:] == ["| a … | 3 |"]
