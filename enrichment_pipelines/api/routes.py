"""The JSON API under /api: the CLI's jobs for users with a role.

| method and path                       | who    |
|---------------------------------------|--------|
| GET  /api/status                      | staff+ |
| GET  /api/customers?query=...         | staff+ |
| GET  /api/customers/{id}              | staff+ |
| POST /api/customers/{id}/enrich       | staff+ |
| GET  /api/settings                    | admin+ |
| PUT  /api/settings/{data_point}       | admin+ |
| POST /api/live                        | admin+ |
| POST /api/batches                     | admin+ |
| GET  /api/batches/{id}                | admin+ |
| POST /api/batches/{id}/stop           | admin+ |
| POST /api/credits/top-up              | owner  |

Every write goes through the core functions the CLI uses and is recorded in the audit trail
(`core.users.record`) in the same transaction where it can be: a one-off enrichment and a
batch write in runs of their own, so theirs is recorded in a short transaction right after.
Reads and writes reach the warehouse through `store.py`. Batches run on the Dagster
instance only: a batch is hours of work that must survive this process.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import asdict
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from enrichment_pipelines.api.actions import enrich_customer_now
from enrichment_pipelines.api.auth import ApiError, config_of, requires
from enrichment_pipelines.api.store import Connection, read, replica_of, write
from enrichment_pipelines.connectors.status import status_with_sinks
from enrichment_pipelines.core.config import EnrichConfig
from enrichment_pipelines.core.credits import balance, top_up
from enrichment_pipelines.core.customer_pages import (
    CustomerDetail,
    customer_detail,
    search_customers,
)
from enrichment_pipelines.core.customers import UnknownCustomerError, resolve_customer_id
from enrichment_pipelines.core.datapoints import DATA_POINTS_BY_KEY
from enrichment_pipelines.core.live import turn_live_off, turn_live_on
from enrichment_pipelines.core.segments.compiler import SegmentError
from enrichment_pipelines.core.segments.store import load_segment
from enrichment_pipelines.core.settings import (
    EnrichmentSettings,
    SettingsError,
    change_data_point,
    ensure_settings,
    save_settings,
    settings_in_force,
    settings_saved,
)
from enrichment_pipelines.core.status import batch_outcomes, last_outcome
from enrichment_pipelines.core.users import User, record

if TYPE_CHECKING:
    # Dagster is imported by the requests that start runs, in the thread pool: importing it
    # takes seconds, which neither the event loop nor `build_app` should wait for.
    from enrichment_pipelines.runs import BackfillProgress, DagsterGraphQL

T = TypeVar("T")


class Json(JSONResponse):
    """JSON whose dates and times are ISO text."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, default=_plain, ensure_ascii=False).encode("utf-8")


def _plain(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


# Request bodies -------------------------------------------------------------------------------

_KIND_NAMES: dict[type, str] = {
    bool: "true or false", str: "a string", int: "a whole number", float: "a number",
}  # fmt: skip


def _of_kind(value: object, kind: type) -> bool:
    # bool is an int in Python, but `"credits": true` is no number of credits.
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, kind)


async def _body(
    request: Request, fields: Mapping[str, type], required: Collection[str] = ()
) -> dict[str, Any]:
    """The request's JSON object, each field of its type; null is the same as leaving a field
    out. Anything else is a 422 naming the field ("body" for the body as a whole)."""
    raw = await request.body()
    if not raw.strip():
        document: object = {}
    else:
        try:
            document = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ApiError(422, f"the body is not valid JSON: {error}", "body") from None
    if not isinstance(document, dict):
        raise ApiError(422, "the body must be a JSON object", "body")
    for name, value in document.items():
        if name not in fields:
            known = ", ".join(fields) or "none"
            raise ApiError(422, f"unknown field {name!r} (known: {known})", name)
        if value is not None and not _of_kind(value, fields[name]):
            raise ApiError(422, f"{name} must be {_KIND_NAMES[fields[name]]}", name)
    given = {name: value for name, value in document.items() if value is not None}
    for name in required:
        if name not in given:
            raise ApiError(422, f"{name} is required ({_KIND_NAMES[fields[name]]})", name)
    return given


# Status and customers --------------------------------------------------------------------------


@requires("staff")
async def status(request: Request, user: User) -> Response:
    """The figures of `enrich status --json`."""
    current = await read(request, status_with_sinks, key=status_with_sinks)
    return Json(current.to_dict())


@requires("staff")
async def customers(request: Request, user: User) -> Response:
    """Customers whose id, name, website or email contains `query`, by name (at most 50;
    `more` says whether others match too)."""
    query = request.query_params.get("query", "")
    found = await read(
        request, lambda connection: search_customers(connection, query), key=("search", query)
    )
    return Json(
        {"query": query, "customers": [asdict(m) for m in found.matches], "more": found.more}
    )


def _resolved(connection: Connection, typed: str) -> str:
    """The customer id a request means (`import:c0`, or `c0` when one source has it)."""
    try:
        return resolve_customer_id(connection, typed)
    except UnknownCustomerError as error:
        raise ApiError(404, str(error)) from None


def _customer_document(detail: CustomerDetail) -> dict[str, Any]:
    """A customer as JSON, each value of its data point's type (the warehouse keeps text)."""
    document = asdict(detail)
    document["values"] = [value.document() for value in detail.values]
    return document


@requires("staff")
async def customer(request: Request, user: User) -> Response:
    """One customer: its fields, current values with evidence, and last enrichment."""
    typed = request.path_params["customer_id"]

    def detail_of(connection: Connection) -> CustomerDetail:
        settings = settings_in_force(connection)
        found = customer_detail(connection, typed, settings)  # most ids are typed in full
        if found is None:
            found = customer_detail(connection, _resolved(connection, typed), settings)
            assert found is not None  # resolved on the same connection
        return found

    return Json(_customer_document(await read(request, detail_of, key=("customer", typed))))


@requires("staff")
async def enrich_customer(request: Request, user: User) -> Response:
    """One record now, for one credit, as `enrich customer` does it: whatever its last
    enrichment, with the settings in force."""
    typed = request.path_params["customer_id"]

    def known(connection: Connection) -> tuple[str, Any]:
        customer_id = _resolved(connection, typed)
        return customer_id, last_outcome(connection, customer_id)

    customer_id, previous = await read(request, known)
    outcome = await run_in_threadpool(
        enrich_customer_now, config_of(request), replica_of(request), customer_id, user
    )
    if outcome is None:
        raise ApiError(
            500,
            f"the enrichment run ended without an outcome for {customer_id}: see the server's log",
        )
    return Json(
        {
            "customer_id": customer_id,
            "status": outcome.status,
            "reason": outcome.reason,
            "at": outcome.at,
            # An enriched record is charged one credit in the transaction that writes it, and
            # only then (core/credits.py): this is what the run charged.
            "credits_charged": 1 if outcome.status == "enriched" else 0,
            "balance": await read(request, balance),
            "previous": (
                {"status": previous[1], "reason": previous[2], "at": previous[0]}
                if previous
                else None
            ),
        }
    )


# Settings and live enrichment -------------------------------------------------------------------


def _settings_document(
    settings: EnrichmentSettings, saved: tuple[object, str] | None
) -> dict[str, Any]:
    return {
        "saved_at": saved[0] if saved else None,
        "saved_by": saved[1] if saved else None,
        "summary_note": settings.summary_note,
        "data_points": {
            key: {
                "enabled": setting.enabled,
                "attribute": setting.attribute_name,
                "type": DATA_POINTS_BY_KEY[key].type,
                "in_notes": setting.in_notes,
                "min_confidence": setting.min_confidence,
            }
            for key, setting in settings.data_points.items()
        },
    }


@requires("admin")
async def settings(request: Request, user: User) -> Response:
    """The settings in force; the defaults, unsaved (`saved_at` null), before any are saved."""

    def document(connection: Connection) -> dict[str, Any]:
        current = settings_in_force(connection)
        return _settings_document(current, settings_saved(connection))

    return Json(await read(request, document))


SETTING_FIELDS: dict[str, type] = {
    "enabled": bool, "attribute": str, "in_notes": bool, "min_confidence": float,
}  # fmt: skip


@requires("admin")
async def update_setting(request: Request, user: User) -> Response:
    """Change one data point's settings, as `enrich settings set` does (validated, audited)."""
    key = request.path_params["data_point"]
    body = await _body(request, SETTING_FIELDS)
    if key not in DATA_POINTS_BY_KEY:
        raise ApiError(404, f"no data point named {key!r} (known: {', '.join(DATA_POINTS_BY_KEY)})")
    if not body:
        raise ApiError(422, f"nothing to change: give {', '.join(SETTING_FIELDS)}", "body")

    def change(connection: Connection) -> dict[str, Any]:
        current, _ = ensure_settings(connection)
        changed = change_data_point(
            current,
            key,
            enabled=body.get("enabled"),
            attribute_name=body.get("attribute"),
            in_notes=body.get("in_notes"),
            min_confidence=(float(body["min_confidence"]) if "min_confidence" in body else None),
        )
        save_settings(connection, changed, updated_by=user.actor)
        record(connection, actor=user.actor, action="settings.update", target=key, detail=body)
        return _settings_document(changed, settings_saved(connection))

    try:
        document = await write(request, change)
    except SettingsError as error:
        # Refusals are about the attribute a point writes (its name, its type, or another
        # point writing it too, which enabling a point can cause) or its min_confidence.
        field = (
            "min_confidence"
            if "min_confidence must be" in str(error)
            else ("attribute" if "attribute" in body else next(iter(body)))
        )
        raise ApiError(422, str(error), field) from None
    return Json(
        {"data_point": key, **document["data_points"][key], "saved_at": document["saved_at"]}
    )


@requires("admin")
async def live(request: Request, user: User) -> Response:
    """Turn live enrichment on for "all" or a saved segment, or off (the target is then kept)."""
    body = await _body(request, {"enabled": bool, "target": str}, required=("enabled",))
    target = body.get("target", "all")

    def change(connection: Connection) -> dict[str, Any]:
        if body["enabled"]:
            turned = turn_live_on(connection, target, by=user.actor)
            document = {
                "enabled": True,
                "target": target,
                "since": turned.live.since,
                "in_target": turned.in_target,
                "not_enriched": turned.not_enriched,
            }
        else:
            off = turn_live_off(connection, by=user.actor)
            document = {"enabled": False, "target": off.target}
        record(
            connection,
            actor=user.actor,
            action="live.update",
            target=document["target"],
            detail=body,
        )
        return document

    try:
        return Json(await write(request, change))
    except SegmentError as error:
        raise ApiError(422, f"target: {error}", "target") from None


# Batches --------------------------------------------------------------------------------------


def _on_dagster(
    config: EnrichConfig, call: Callable[[DagsterGraphQL], T], backfill_id: str | None = None
) -> T:
    """`call` on the configured Dagster webserver (in the thread pool: importing Dagster and the
    instance's answers take time). None answering: 503; an unknown batch: 404; any other
    refusal: 502 (the instance's, not the caller's)."""
    from enrichment_pipelines.runs import BatchError, DagsterGraphQL

    client = DagsterGraphQL(config.dagster_webserver_url)
    if not client.available():
        raise ApiError(
            503,
            f"no Dagster webserver answers at {client.url}: start it (`make dev`, or point "
            "DAGSTER_WEBSERVER_URL at yours); batches run on the Dagster instance, not in the API",
        )
    try:
        return call(client)
    except BatchError as error:
        # The client passes on Dagster's message alone; this is its BackfillNotFoundError's.
        if backfill_id is not None and f"Backfill {backfill_id} could not be found" in str(error):
            raise ApiError(404, f"no batch with id {backfill_id!r}") from None
        raise ApiError(502, str(error)) from None


def _progress_document(
    backfill_id: str, progress: BackfillProgress, url: str, connection: Connection
) -> dict[str, Any]:
    return {
        "id": backfill_id,
        "status": progress.status,
        "finished": progress.finished,
        "shards_total": progress.shards_total,
        "shards_done": progress.shards_done,
        "shards_failed": progress.shards_failed,
        "shards_running": progress.shards_running,
        "url": url,
        "outcomes": [
            {
                "outcome": count.outcome,
                "reason": count.reason,
                "records": count.records,
                "credits": count.credits,
                "example": count.example,
            }
            for count in batch_outcomes(connection, progress.run_ids)
        ],
    }


@requires("admin")
async def start_batch(request: Request, user: User) -> Response:
    """Launch a one-off batch as a Dagster backfill over every shard, as `enrich batch` does
    on an instance: all customers or a segment, re-enriching records enriched before a date
    or none."""
    body = await _body(request, {"segment": str, "reenrich_before": str})
    segment, reenrich_before = body.get("segment"), body.get("reenrich_before")
    if reenrich_before is not None:
        try:
            datetime.fromisoformat(reenrich_before)
        except ValueError:
            message = f"reenrich_before {reenrich_before!r}: expected an ISO date or date-time"
            raise ApiError(422, message + ", e.g. 2026-11-01", "reenrich_before") from None
    if segment is not None:
        try:
            await read(request, lambda connection: load_segment(connection, segment))
        except SegmentError as error:
            raise ApiError(422, f"segment: {error}", "segment") from None

    def launch(client: DagsterGraphQL) -> tuple[str, str, str]:
        from enrichment_pipelines.runs import BatchPolicy

        policy = BatchPolicy(segment=segment, reenrich_before=reenrich_before)
        backfill_id = client.launch_backfill(policy)
        return backfill_id, client.backfill_url(backfill_id), policy.describe()

    backfill_id, url, described = await run_in_threadpool(_on_dagster, config_of(request), launch)
    await write(
        request,
        lambda connection: record(
            connection, actor=user.actor, action="batch.start", target=backfill_id, detail=body
        ),
    )
    return Json({"id": backfill_id, "url": url, "policy": described}, status_code=202)


@requires("admin")
async def batch(request: Request, user: User) -> Response:
    """A batch's progress by shard, and its records by outcome so far."""
    backfill_id = request.path_params["batch_id"]

    def follow(client: DagsterGraphQL) -> tuple[BackfillProgress, str]:
        return client.progress(backfill_id), client.backfill_url(backfill_id)

    progress, url = await run_in_threadpool(_on_dagster, config_of(request), follow, backfill_id)
    document = await read(
        request, lambda connection: _progress_document(backfill_id, progress, url, connection)
    )
    return Json(document)


@requires("admin")
async def stop_batch(request: Request, user: User) -> Response:
    """Cancel a batch and its runs; records not reached are not charged, and launching the same
    batch again continues where it stopped."""
    backfill_id = request.path_params["batch_id"]

    def cancel(client: DagsterGraphQL) -> tuple[BackfillProgress, str]:
        before = client.progress(backfill_id)  # an unknown batch: 404, nothing cancelled
        if before.finished:
            status = before.status.lower()
            raise ApiError(409, f"batch {backfill_id} has finished already ({status})")
        client.cancel(backfill_id)
        return client.progress(backfill_id), client.backfill_url(backfill_id)

    progress, url = await run_in_threadpool(_on_dagster, config_of(request), cancel, backfill_id)

    def audit(connection: Connection) -> dict[str, Any]:
        record(connection, actor=user.actor, action="batch.stop", target=backfill_id, detail=None)
        return _progress_document(backfill_id, progress, url, connection)

    return Json(await write(request, audit))


# Credits --------------------------------------------------------------------------------------


MAX_TOP_UP = 2**31 - 1  # the ledger keeps each entry as a 32-bit INTEGER


@requires("owner")
async def credits_top_up(request: Request, user: User) -> Response:
    """Add credits to the balance, as `enrich credits top-up` does."""
    body = await _body(request, {"credits": int, "note": str}, required=("credits",))
    if not 0 < body["credits"] <= MAX_TOP_UP:
        raise ApiError(
            422,
            f"credits must be a positive whole number up to {MAX_TOP_UP}, not {body['credits']}",
            "credits",
        )

    def change(connection: Connection) -> dict[str, Any]:
        new_balance = top_up(connection, body["credits"], note=body.get("note"))
        record(connection, actor=user.actor, action="credits.top_up", target=None, detail=body)
        return {"credits": body["credits"], "balance": new_balance}

    return Json(await write(request, change))


ROUTES: list[BaseRoute] = [
    Route("/api/status", status, methods=["GET"]),
    Route("/api/customers", customers, methods=["GET"]),
    # Ids are the stored ones (`import:c0`); a source's own ids may hold a slash.
    Route("/api/customers/{customer_id:path}/enrich", enrich_customer, methods=["POST"]),
    Route("/api/customers/{customer_id:path}", customer, methods=["GET"]),
    Route("/api/settings", settings, methods=["GET"]),
    Route("/api/settings/{data_point}", update_setting, methods=["PUT"]),
    Route("/api/live", live, methods=["POST"]),
    Route("/api/batches", start_batch, methods=["POST"]),
    Route("/api/batches/{batch_id}", batch, methods=["GET"]),
    Route("/api/batches/{batch_id}/stop", stop_batch, methods=["POST"]),
    Route("/api/credits/top-up", credits_top_up, methods=["POST"]),
]
