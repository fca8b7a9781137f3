"""The enrichment assets' partitions: customer shards (see `core.shards`)."""

from collections.abc import Callable
from typing import Any

import dagster as dg

from enrichment_pipelines.core.shards import shard_keys

customer_shards = dg.StaticPartitionsDefinition(shard_keys())
# The group of the partitioned steps: `assets.SHARD_STEPS` selects it.
SHARD_GROUP = "enrichment"


def shard_asset_spec(
    key: dg.AssetKey, *, deps: list[str | dg.AssetKey], description: str
) -> dg.AssetSpec:
    """An enrichment asset partitioned by customer shard, stored in the warehouse."""
    return dg.AssetSpec(
        key,
        deps=deps,
        description=description,
        group_name=SHARD_GROUP,
        kinds={"duckdb"},
        partitions_def=customer_shards,
    )


def shard_multi_asset(
    *, name: str, specs: list[dg.AssetSpec], pool: str | None = None
) -> Callable[..., Any]:
    """The step that makes the `specs` (see `shard_asset_spec`) for one or more shards; any
    subset of them may be selected."""
    return dg.multi_asset(
        name=name, specs=specs, partitions_def=customer_shards, pool=pool, can_subset=True
    )


def all_shards_tags() -> dict[str, str]:
    """Run tags that make one run cover every shard (in-process runs of the whole graph)."""
    keys = shard_keys()
    return {
        "dagster/asset_partition_range_start": keys[0],
        "dagster/asset_partition_range_end": keys[-1],
    }
