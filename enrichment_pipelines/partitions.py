"""The enrichment assets' partitions: customer shards (see `core.shards`)."""

from collections.abc import Callable
from typing import Any

import dagster as dg

from enrichment_pipelines.core.shards import shard_keys

customer_shards = dg.StaticPartitionsDefinition(shard_keys())
# The group of the partitioned steps: `assets.SHARD_STEPS` selects it.
SHARD_GROUP = "enrichment"


def shard_asset(*, deps: list[str], pool: str | None = None) -> Callable[..., Any]:
    """An enrichment step partitioned by customer shard, writing the warehouse."""
    return dg.asset(
        group_name=SHARD_GROUP,
        deps=deps,
        kinds={"duckdb"},
        partitions_def=customer_shards,
        pool=pool,
    )


def all_shards_tags() -> dict[str, str]:
    """Run tags that make one run cover every shard (in-process runs of the whole graph)."""
    keys = shard_keys()
    return {
        "dagster/asset_partition_range_start": keys[0],
        "dagster/asset_partition_range_end": keys[-1],
    }
