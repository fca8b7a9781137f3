"""How the API and the staff page reach the warehouse: reads from the server's in-memory copy
(`core/warehouse/replica.py`), so that they never wait on a run's writes; writes to the file,
after which the copy is taken again, so that a user reads what they just wrote. DuckDB work
runs in the thread pool, never on the event loop.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable
from typing import TypeVar

import duckdb
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from enrichment_pipelines.core.config import EnrichConfig
from enrichment_pipelines.core.warehouse import Warehouse
from enrichment_pipelines.core.warehouse.replica import ReadReplica

T = TypeVar("T")
Connection = duckdb.DuckDBPyConnection


# What the API and the staff page read, so what their copy of the warehouse holds: a read of
# anything else fails at once (the tests call every route). A route that reads more adds it.
SERVED_TABLES = (
    "attribute_definitions",
    "chartmogul_push_errors",
    "chartmogul_pushed",
    "credit_ledger",
    "current_enrichments",
    "custom_attributes",
    "customer_cards",
    "customers",
    "enrichment_values",
    "enrichments",
    "notes",
    "segments",
    "settings",
    "settings_history",
    "users",
)


def open_replica(config: EnrichConfig) -> ReadReplica:
    warehouse = Warehouse(
        config.warehouse_path, lock_timeout_seconds=config.warehouse_lock_timeout_seconds
    )
    return ReadReplica(
        warehouse,
        tables=SERVED_TABLES,
        staleness_seconds=config.serve.read_staleness_seconds,
    )


def replica_of(request: Request) -> ReadReplica:
    replica: ReadReplica = request.app.state.replica
    return replica


async def read(
    request: Request, query: Callable[[Connection], T], *, key: Hashable | None = None
) -> T:
    """`query` on the server's copy of the warehouse, in the thread pool (with a `key`, its
    result is kept with the copy, and a result kept is answered without the thread pool: see
    `ReadReplica.read`)."""
    replica = replica_of(request)
    if key is not None:
        found, result = replica.remembered(key)
        if found:
            return result  # type: ignore[no-any-return]  # kept by this key's `query`
    return await run_in_threadpool(functools.partial(replica.read, query, key=key))


async def write(request: Request, change: Callable[[Connection], T]) -> T:
    """`change` in one write transaction on the warehouse, in the thread pool; the copy that
    reads query is taken again before this returns."""
    replica = replica_of(request)

    def run() -> T:
        with replica.warehouse.transaction() as connection:
            done = change(connection)
        replica.wrote()
        return done

    return await run_in_threadpool(run)
