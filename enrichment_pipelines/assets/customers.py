from pathlib import Path

import dagster as dg

from enrichment_pipelines.core.customers import customer_count, import_customers
from enrichment_pipelines.core.reports import markdown_table, without_particulars
from enrichment_pipelines.resources import (
    CustomerFileResource,
    WarehouseResource,
    WebClientResource,
)


class CustomerSourceConfig(dg.Config):
    """Where customers come from: a CSV, Parquet or JSONL file (default: the `customer_file`
    resource, ENRICH_CUSTOMERS_PATH). Leave both empty to use the customers already in the
    warehouse."""

    path: str | None = None
    source: str = "import"


@dg.asset(group_name="sources", kinds={"duckdb"})
def customers(
    context: dg.AssetExecutionContext,
    config: CustomerSourceConfig,
    warehouse: WarehouseResource,
    web: WebClientResource,
    customer_file: CustomerFileResource,
) -> dg.MaterializeResult:
    """Customer records to enrich, upserted by (source, external_id) from the configured file.

    Bad rows are reported with their line number and left out; good rows are written in one
    transaction.
    """
    store = warehouse.get_warehouse()
    path = config.path or customer_file.path
    metadata: dict[str, dg.MetadataValue | int | str] = {}
    if path:
        report = import_customers(
            store,
            Path(path),
            source=config.source,
            allowed_networks=web.allowed_networks(),
        )
        for problem in report.problems:
            context.log.warning(f"{path}: {without_particulars(str(problem))}")
        metadata |= {
            "source_file": path,
            "rows_read": report.rows_read,
            "inserted": report.inserted,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "rejected_rows": report.rejected,
            "problems": dg.MetadataValue.md(
                markdown_table(
                    [
                        {"line": p.line, "problem": without_particulars(p.reason)}
                        for p in report.problems[:50]
                    ]
                )
            ),
        }
    else:
        context.log.info("no customer source configured: using the customers in the warehouse")
    with store.connect() as connection:
        metadata["customers_total"] = customer_count(connection)
    return dg.MaterializeResult(metadata=metadata)
