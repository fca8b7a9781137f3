import dagster as dg

from enrichment_pipelines.core.reports import (
    customer_360_counts,
    customer_360_preview,
    markdown_table,
)
from enrichment_pipelines.core.warehouse.views import refresh_customer_360
from enrichment_pipelines.resources import WarehouseResource


@dg.asset(group_name="analytics", deps=["customer_attributes"], kinds={"duckdb"})
def customer_360(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """The wide view analysts query: one row per customer with tags, the latest enrichment
    outcome and every custom attribute as a typed column. Also published, with every table, as
    the read-only copy `analytics.duckdb` that analysts can open while runs write."""
    store = warehouse.get_warehouse()
    with store.transaction() as connection:
        refresh_customer_360(connection)
    with store.connect() as connection:
        counts = customer_360_counts(connection)
        preview = customer_360_preview(connection)
    snapshot = warehouse.publish_analytics_snapshot()
    return dg.MaterializeResult(
        metadata={
            **counts,
            "preview": dg.MetadataValue.md(markdown_table(preview)),
            "analytics_snapshot": dg.MetadataValue.path(str(snapshot)),
        }
    )
