"""The enrichment assets' partitions: customer shards (see `core.shards`)."""

import dagster as dg

from enrichment_pipelines.core.shards import shard_keys

customer_shards = dg.StaticPartitionsDefinition(shard_keys())


def all_shards_tags() -> dict[str, str]:
    """Run tags that make one run cover every shard (in-process runs of the whole graph)."""
    keys = shard_keys()
    return {
        "dagster/asset_partition_range_start": keys[0],
        "dagster/asset_partition_range_end": keys[-1],
    }
