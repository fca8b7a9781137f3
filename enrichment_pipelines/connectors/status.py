"""The workspace's status with where pushing to each sink stands: what `enrich status` and
`GET /api/status` show. A new sink adds its counts here."""

from __future__ import annotations

import dataclasses

import duckdb

from enrichment_pipelines.connectors.chartmogul.sink import push_counts
from enrichment_pipelines.core.settings import settings_in_force
from enrichment_pipelines.core.status import Status, workspace_status


def status_with_sinks(connection: duckdb.DuckDBPyConnection) -> Status:
    settings = settings_in_force(connection)
    sinks = {"chartmogul": dataclasses.asdict(push_counts(connection, settings))}
    return dataclasses.replace(workspace_status(connection), sinks=sinks)
