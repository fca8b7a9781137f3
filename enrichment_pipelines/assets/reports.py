import dagster as dg

from enrichment_pipelines.core.reports import (
    customer_360_counts,
)
from enrichment_pipelines.core.settings import ensure_settings
from enrichment_pipelines.core.warehouse.views import refresh_customer_360
from enrichment_pipelines.data_quality.report import build_report, to_markdown, write_html
from enrichment_pipelines.resources import DataQualityResource, WarehouseResource


@dg.asset(
    group_name="analytics", deps=["customer_attributes", "segment_memberships"], kinds={"duckdb"}
)
def customer_360(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """The wide view analysts query: one row per customer with tags, the latest enrichment
    outcome and every custom attribute as a typed column."""
    store = warehouse.get_warehouse()
    with store.transaction() as connection:
        refresh_customer_360(connection)
    with store.connect(read_only=True) as connection:
        counts = customer_360_counts(connection)
    # Counts only: customer rows in run history would outlive `enrich forget`.
    return dg.MaterializeResult(metadata=counts)


@dg.asset(group_name="analytics", deps=["customer_360"], kinds={"duckdb"})
def analytics_snapshot(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """The read-only copy `analytics.duckdb` of every table and `customer_360`, which analysts
    open while runs write the warehouse. Not published when a blocking quality check fails."""
    snapshot = warehouse.publish_analytics_snapshot()
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(snapshot)),
            "size_mib": round(snapshot.stat().st_size / 2**20, 1),
        }
    )


@dg.asset(group_name="analytics", deps=["customer_attributes"], kinds={"duckdb", "html"})
def data_quality_report(
    warehouse: WarehouseResource, data_quality: DataQualityResource
) -> dg.MaterializeResult:
    """How good the enriched data is: an overall score, completeness per data point, freshness
    buckets, and the issues to fix (records without a website, failed crawls by reason, invalid
    values, duplicates). Also written as a self-contained HTML file with charts."""
    store = warehouse.get_warehouse()
    with store.transaction() as connection:
        settings, _ = ensure_settings(connection)
        report = build_report(connection, settings.enabled_keys, data_quality.targets())
    path = write_html(report, warehouse.paths.quality_report_path)
    return dg.MaterializeResult(
        metadata={
            "score": dg.MetadataValue.float(report.score),
            "records": report.records,
            "enriched": report.enriched,
            "report": dg.MetadataValue.md(to_markdown(report, examples=False)),
            "html_report": dg.MetadataValue.path(str(path)),
        }
    )
