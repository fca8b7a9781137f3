"""Enrichments out to the systems customers live in (group `sinks`)."""

from collections.abc import Iterator

import dagster as dg

from enrichment_pipelines.connectors.chartmogul.sink import not_linked_count, pending_pushes, push
from enrichment_pipelines.core.settings import settings_in_force
from enrichment_pipelines.resources import ChartMogulResource, WarehouseResource

SINK_GROUP = "sinks"


@dg.asset(
    group_name=SINK_GROUP,
    deps=["customer_attributes"],
    kinds={"chartmogul"},
    # Without a key there is nothing to push to: the step ends without a materialization,
    # so "materialize all" works on a workspace that does not use ChartMogul.
    output_required=False,
)
def chartmogul_sync(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    chartmogul: ChartMogulResource,
) -> Iterator[dg.MaterializeResult]:
    """Each enabled data point as a typed custom attribute, and the summary note of the
    enrichment in force, on the customer's ChartMogul record. Only what changed since the last
    push is sent, each change once (the push ledger, `chartmogul_pushed`). Customers without a
    ChartMogul id are skipped; a customer ChartMogul refuses keeps its error
    (`chartmogul_push_errors`, `enrich status`) and the others go on. Without
    CHARTMOGUL_API_KEY it pushes nothing and materializes nothing."""
    if not chartmogul.api_key:
        context.log.info("CHARTMOGUL_API_KEY is not set: nothing pushed to ChartMogul")
        return
    store = warehouse.get_warehouse()
    with store.connect(read_only=True) as connection:
        pushes = pending_pushes(connection, settings_in_force(connection))
        not_linked = not_linked_count(connection)
    with chartmogul.get_client() as client:
        report = push(store, client, pushes)
    if report.failed:
        # Counts only, here and in the metadata: customer ids would outlive `enrich forget`.
        context.log.warning(
            f"{len(report.failed)} customers were not pushed: see `enrich push chartmogul "
            "--dry-run` and chartmogul_push_errors"
        )
    yield dg.MaterializeResult(metadata=report.figures(not_linked))
