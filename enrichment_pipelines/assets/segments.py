import dagster as dg

from enrichment_pipelines.core.reports import markdown_table
from enrichment_pipelines.core.segments.compiler import SegmentError
from enrichment_pipelines.core.segments.store import refresh_memberships, segment_names
from enrichment_pipelines.resources import WarehouseResource


@dg.asset(group_name="segments", deps=["customer_attributes"], kinds={"duckdb"})
def segment_memberships(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Who is in each saved segment, with history: when each customer entered and left.
    Refreshed after enrichment, since enriched attributes move customers in and out."""
    store = warehouse.get_warehouse()
    with store.connect() as connection:
        names = segment_names(connection)
    changes, problems = [], []
    for name in names:
        try:
            with store.transaction() as connection:  # one short write per segment
                changes.append(refresh_memberships(connection, name))
        except SegmentError as error:  # e.g. an attribute it filters on was removed
            context.log.warning(str(error))
            problems.append({"segment": name, "problem": str(error)})
    return dg.MaterializeResult(
        metadata={
            "segments": len(names),
            "members": sum(change.members for change in changes),
            "entered": sum(change.entered for change in changes),
            "left": sum(change.left for change in changes),
            "by_segment": dg.MetadataValue.md(
                markdown_table(
                    [
                        {
                            "segment": c.segment,
                            "members": c.members,
                            "entered": c.entered,
                            "left": c.left,
                        }
                        for c in changes
                    ]
                )
            ),
            "problems": dg.MetadataValue.md(markdown_table(problems)),
        }
    )
