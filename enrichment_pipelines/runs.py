"""Starting runs: the one module the CLI, `bench/` and the tests start Dagster runs with.

- `run_pipeline`: the whole graph once, in this process (`enrich run`, `enrich customer`,
  `enrich demo`);
- a one-off batch, as a backfill over every customer shard, which runs two ways:
  - on a running Dagster instance, launched through its GraphQL API exactly as the UI's
    "Launch backfill" does (asset selection, every partition, the policy as backfill tags);
    the daemon queues one run per shard and the instance's limits apply;
  - in this process when no instance answers: one run per shard, one after the other.
Either way the policy travels as the `enrich/...` run tags that `EnrichmentRunResource` reads,
so a batch launched again under the same policy skips the records it already finished.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import httpx

from enrichment_pipelines.assets import ASSET_CHECKS, ASSETS, BATCH, EVERYTHING
from enrichment_pipelines.core.config import EnrichConfig
from enrichment_pipelines.core.enrichment.policy import customer_key
from enrichment_pipelines.core.errors import EnrichError
from enrichment_pipelines.core.shards import shard_keys
from enrichment_pipelines.definitions import default_resources, defs
from enrichment_pipelines.partitions import all_shards_tags
from enrichment_pipelines.resources import EnrichmentRunResource
from enrichment_pipelines.resources.enrichment_run import REENRICH_BEFORE_TAG, SEGMENT_TAG

PROGRESS_ASSET = "customer_attributes"  # a shard is done when its records are written
MAX_TITLE = 100  # Dagster refuses longer backfill titles
TERMINAL_STATUSES = ("COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED")


class BatchError(EnrichError):
    """The instance refused or lost the backfill; the message says why."""


@dataclass(frozen=True)
class BatchPolicy:
    segment: str | None = None
    reenrich_before: str | None = None  # ISO date/time; None: don't re-enrich

    def tags(self) -> dict[str, str]:
        tags = {"enrich/batch": "true"}
        if self.segment:
            tags[SEGMENT_TAG] = self.segment
        if self.reenrich_before:
            tags[REENRICH_BEFORE_TAG] = self.reenrich_before
        return tags

    def describe(self) -> str:
        target = f"segment {self.segment}" if self.segment else "all customers"
        policy = (
            f"re-enrich records enriched before {self.reenrich_before}"
            if self.reenrich_before
            else "don't re-enrich"
        )
        return f"{target}; {policy}"


@dataclass(frozen=True)
class BackfillRun:
    run_id: str
    status: str
    start_time: float | None
    end_time: float | None


@dataclass
class BackfillProgress:
    status: str
    shards_total: int
    shards_done: int
    shards_failed: int
    shards_running: int
    runs: list[BackfillRun] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def run_ids(self) -> list[str]:
        return [run.run_id for run in self.runs]


# GraphQL: the UI's own operations. -----------------------------------------------------------

LAUNCH_BACKFILL = """
mutation LaunchBackfill($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on Error { message }
  }
}"""

BACKFILL_STATUS = """
query BackfillStatus($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill {
      status
      runs { runId status startTime endTime }
      assetBackfillData {
        assetBackfillStatuses {
          ... on AssetPartitionsStatusCounts {
            assetKey { path }
            numPartitionsTargeted numPartitionsInProgress numPartitionsMaterialized
            numPartitionsFailed
          }
        }
      }
    }
    ... on Error { message }
  }
}"""

CANCEL_BACKFILL = """
mutation CancelBackfill($id: String!) {
  cancelPartitionBackfill(backfillId: $id) { __typename ... on Error { message } }
}"""

TERMINATE_RUNS = """
mutation TerminateRuns($runIds: [String!]!) {
  terminateRuns(runIds: $runIds) { __typename ... on Error { message } }
}"""
UNFINISHED_RUN_STATUSES = ("QUEUED", "NOT_STARTED", "STARTING", "STARTED")


class DagsterGraphQL:
    """A small client for a running Dagster webserver's GraphQL endpoint."""

    def __init__(self, url: str, timeout_seconds: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.timeout_seconds = timeout_seconds

    def available(self) -> bool:
        """Whether a Dagster webserver answers at the URL."""
        try:
            response = httpx.get(f"{self.url}/server_info", timeout=2.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    def _call(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        try:
            response = httpx.post(
                f"{self.url}/graphql",
                json={"query": query, "variables": variables},
                timeout=self.timeout_seconds,
            )
        except httpx.HTTPError as error:
            raise BatchError(f"Dagster at {self.url} did not answer: {error}") from error
        if response.status_code != 200:
            raise BatchError(
                f"Dagster at {self.url} answered HTTP {response.status_code}: {response.text[:500]}"
            )
        body = response.json()
        if body.get("errors"):
            raise BatchError(f"Dagster at {self.url}: {body['errors'][0].get('message')}")
        return body["data"]

    def launch_backfill(self, policy: BatchPolicy) -> str:
        params = {
            "assetSelection": [{"path": [key.to_user_string()]} for key in _asset_keys()],
            "partitionNames": shard_keys(),
            "fromFailure": False,
            "tags": [{"key": key, "value": value} for key, value in policy.tags().items()],
            "title": f"Batch: {policy.describe()}"[:MAX_TITLE],
        }
        result = self._call(LAUNCH_BACKFILL, {"params": params})["launchPartitionBackfill"]
        if result["__typename"] != "LaunchBackfillSuccess":
            raise BatchError(f"backfill refused: {result.get('message', result['__typename'])}")
        return result["backfillId"]

    def progress(self, backfill_id: str) -> BackfillProgress:
        data = self._call(BACKFILL_STATUS, {"id": backfill_id})["partitionBackfillOrError"]
        if data["__typename"] != "PartitionBackfill":
            raise BatchError(f"backfill {backfill_id}: {data.get('message', data['__typename'])}")
        counts = next(
            status
            for status in data["assetBackfillData"]["assetBackfillStatuses"]
            if status.get("assetKey", {}).get("path") == [PROGRESS_ASSET]
        )
        return BackfillProgress(
            status=data["status"],
            shards_total=counts["numPartitionsTargeted"],
            shards_done=counts["numPartitionsMaterialized"],
            shards_failed=counts["numPartitionsFailed"],
            shards_running=counts["numPartitionsInProgress"],
            runs=[
                BackfillRun(run["runId"], run["status"], run["startTime"], run["endTime"])
                for run in data["runs"]
            ],
        )

    def cancel(self, backfill_id: str) -> None:
        """Cancel the backfill and stop its runs now. The daemon alone would cancel them at
        its next iteration, up to 30 s later; terminating them here stops work at once (a batch of
        records in flight rolls back whole, uncharged, so nothing half-written stays)."""
        result = self._call(CANCEL_BACKFILL, {"id": backfill_id})["cancelPartitionBackfill"]
        if "message" in result:
            raise BatchError(f"could not cancel backfill {backfill_id}: {result['message']}")
        unfinished = [
            run.run_id
            for run in self.progress(backfill_id).runs
            if run.status in UNFINISHED_RUN_STATUSES
        ]
        if unfinished:
            self._call(TERMINATE_RUNS, {"runIds": unfinished})

    def backfill_url(self, backfill_id: str) -> str:
        """The backfill's own page in the UI (its `getBackfillPath`; the page has no
        "partitions" tab, and a link to one opens blank)."""
        return f"{self.url}/runs/b/{backfill_id}"


def _asset_keys() -> list[dg.AssetKey]:
    return sorted(BATCH.resolve(defs.resolve_asset_graph()))


# In this process. -----------------------------------------------------------------------------


def instance_for(config: EnrichConfig) -> dg.DagsterInstance:
    """The instance runs started here are recorded in: DAGSTER_HOME's, else an ephemeral one."""
    if config.dagster_home is not None:
        return dg.DagsterInstance.from_config(str(config.dagster_home))
    return dg.DagsterInstance.ephemeral()


def _materialize(
    selection: dg.AssetSelection,
    resources: dict[str, Any],
    instance: dg.DagsterInstance,
    tags: dict[str, str],
    *,
    log_level: str = "INFO",
    run_config: dict[str, Any] | None = None,
    partition_key: str | None = None,
) -> dg.ExecuteInProcessResult:
    """One run in this process of `selection` out of the whole graph (checks included),
    logging to the terminal from `log_level` up (Dagster's default, DEBUG, floods it)."""
    loggers = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    return dg.materialize(
        [*ASSETS, *ASSET_CHECKS],
        selection=selection,
        resources=resources,
        instance=instance,
        tags=tags,
        raise_on_error=False,
        run_config={**(run_config or {}), **loggers},
        partition_key=partition_key,
    )


def run_pipeline(
    config: EnrichConfig,
    *,
    customers_path: Path | None = None,
    source: str = "import",
    reenrich_before: str | None = None,
    customer_ids: tuple[str, ...] = (),
    enrich_now: bool = False,
) -> dg.ExecuteInProcessResult:
    """Materialise the whole graph (import included) over every shard, in this process. The
    customers are named by their keys, so the run's record names none."""
    resources = default_resources(config)
    resources["enrichment_run"] = EnrichmentRunResource(
        reenrich_before=reenrich_before,
        customer_keys=[customer_key(customer_id) for customer_id in customer_ids],
        enrich_now=enrich_now,
    )
    customers_config: dict[str, Any] = {"source": source}
    if customers_path is not None:
        customers_config["path"] = str(customers_path)
    # Disposed here, by the thread that made it: an ephemeral instance left to the garbage
    # collector closes its database from another thread, with a traceback in the log.
    with instance_for(config) as instance:
        return _materialize(
            EVERYTHING,
            resources,
            instance,
            all_shards_tags(),
            run_config={"ops": {"customers": {"config": customers_config}}},
        )


def run_batch_in_process(config: EnrichConfig, policy: BatchPolicy) -> tuple[list[str], bool]:
    """Run the batch here as one run over every shard: its step streams the crawl,
    extraction and writes of all the shards' records together, then the whole-warehouse
    assets follow. One run, not one per shard: a shard run's start (a run, a pool of worker
    processes) and its crawl's last slow sites are paid once, which is 2x faster (see
    `bench/batch.py` in the README). Returns the run id and whether it succeeded."""
    resources = default_resources(config)
    tags = {**policy.tags(), **all_shards_tags(), "enrich/launched_by": "enrich batch (in process)"}
    with instance_for(config) as instance:
        result = _materialize(BATCH, resources, instance, tags)
    return [result.run_id], result.success
