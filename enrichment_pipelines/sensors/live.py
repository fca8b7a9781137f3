"""Live enrichment: two sensors that request runs of the shards with work to do.

Both read the warehouse only (the runs they request write), skip with a reason while live
enrichment is off, keep a cursor, and give each request a run key derived from the exact set of
customers it covers, so a repeated tick never launches the same work twice.
"""

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import dagster as dg

from enrichment_pipelines.core.enrichment.policy import customer_key
from enrichment_pipelines.core.live import ALL_CUSTOMERS, by_shard, new_customers, work_key
from enrichment_pipelines.core.segments.compiler import SegmentError
from enrichment_pipelines.core.segments.store import segment_entrants
from enrichment_pipelines.core.settings import LiveSettings, load_live_settings
from enrichment_pipelines.core.shards import shard_key
from enrichment_pipelines.core.warehouse import Warehouse, WarehouseError
from enrichment_pipelines.jobs import live_enrichment_job
from enrichment_pipelines.resources import WarehouseResource

NEW_CUSTOMERS_SECONDS = 60
SEGMENT_CHECK_SECONDS = 6 * 60 * 60
TRIGGER_TAG = "enrich/trigger"


def _live_warehouse(
    warehouse: WarehouseResource,
) -> tuple[Warehouse, LiveSettings, datetime] | dg.SkipReason:
    """The warehouse, live settings and when live was turned on; or why there is no work."""
    try:
        store = warehouse.get_warehouse()
        with store.connect(read_only=True) as connection:
            live = load_live_settings(connection)
    except WarehouseError as error:
        return dg.SkipReason(f"warehouse not readable: {error}")
    if not live.enabled or live.since_time is None:
        return dg.SkipReason("live enrichment is off (`enrich live on` turns it on)")
    return store, live, live.since_time


def _run_requests(customer_ids: list[str], trigger: str, scope: str) -> list[dg.RunRequest]:
    """One run per shard with work, for exactly these customers."""
    return [
        dg.RunRequest(
            run_key=f"{trigger}:{scope}:{shard_key(shard)}:{work_key(ids)}",
            partition_key=shard_key(shard),
            # Keys, not ids: run history outlives `enrich forget`.
            run_config={
                "resources": {
                    "enrichment_run": {"config": {"customer_keys": list(map(customer_key, ids))}}
                }
            },
            tags={TRIGGER_TAG: trigger},
        )
        for shard, ids in by_shard(customer_ids).items()
    ]


def _cursor(context: dg.SensorEvaluationContext) -> dict[str, str]:
    try:
        value = json.loads(context.cursor) if context.cursor else {}
    except json.JSONDecodeError:
        value = {}
    return value if isinstance(value, dict) else {}


def live_sensor(interval_seconds: int) -> Callable[..., dg.SensorDefinition]:
    """A live enrichment sensor: on by default, requesting `live_enrichment` runs."""
    return dg.sensor(
        job=live_enrichment_job,
        minimum_interval_seconds=interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )


def _not_before(moment: datetime | None, since: datetime) -> datetime:
    return since if moment is None or moment < since else moment


@live_sensor(NEW_CUSTOMERS_SECONDS)
def new_customers_sensor(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource
) -> dg.SensorResult | dg.SkipReason:
    """Live enrichment of new customers: every minute, requests the shards holding customers
    imported since the last tick that are in the live target and were never enriched."""
    opened = _live_warehouse(warehouse)
    if isinstance(opened, dg.SkipReason):
        return opened
    store, live, since_live = opened
    cursor = _cursor(context)
    last = cursor.get("imported_after")
    since = _not_before(datetime.fromisoformat(last) if last else None, since_live)
    try:
        with store.connect(read_only=True) as connection:
            found = new_customers(connection, live.target, since)
    except SegmentError as error:
        return dg.SkipReason(f"live target cannot be evaluated: {error}")
    next_cursor = json.dumps(
        {"imported_after": (found.high_water or since).isoformat(), "target": live.target}
    )
    if not found.customer_ids:
        return dg.SensorResult(
            skip_reason=f"no new customers in target {live.target} since {since:%Y-%m-%d %H:%M:%S}",
            cursor=next_cursor,
        )
    context.log.info(f"{len(found.customer_ids)} new customers to enrich in {live.target}")
    return dg.SensorResult(
        run_requests=_run_requests(found.customer_ids, "new-customers", live.target),
        cursor=next_cursor,
    )


@live_sensor(SEGMENT_CHECK_SECONDS)
def segment_entrants_sensor(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource
) -> dg.SensorResult | dg.SkipReason:
    """Live enrichment of segment entrants: every six hours, requests the shards holding
    customers who entered the live target segment since the last check and were never
    enriched. The membership history says who was in the segment at the last check."""
    opened = _live_warehouse(warehouse)
    if isinstance(opened, dg.SkipReason):
        return opened
    store, live, since_live = opened
    if live.target == ALL_CUSTOMERS:
        return dg.SkipReason("live target is all customers: the new-customer sensor covers it")
    now = datetime.now(UTC)
    cursor = _cursor(context)
    checked = cursor.get("checked_at") if cursor.get("target") == live.target else None
    last_check = datetime.fromisoformat(checked) if checked else None
    # The daemon keeps the interval; this keeps it too when ticks are evaluated by hand.
    if last_check is not None and now - last_check < timedelta(seconds=SEGMENT_CHECK_SECONDS):
        next_check = last_check + timedelta(seconds=SEGMENT_CHECK_SECONDS)
        return dg.SkipReason(f"segment {live.target} checked; next check after {next_check:%c}")
    since = _not_before(last_check, since_live)
    try:
        with store.connect(read_only=True) as connection:
            entrants = segment_entrants(connection, live.target, since)
    except SegmentError as error:
        return dg.SkipReason(f"live target cannot be evaluated: {error}")
    next_cursor = json.dumps({"checked_at": now.isoformat(), "target": live.target})
    if not entrants:
        return dg.SensorResult(
            skip_reason=f"no customers entered {live.target} since {since:%Y-%m-%d %H:%M:%S}",
            cursor=next_cursor,
        )
    context.log.info(f"{len(entrants)} customers entered {live.target} and need enriching")
    return dg.SensorResult(
        run_requests=_run_requests(entrants, "segment-entrants", live.target),
        cursor=next_cursor,
    )
