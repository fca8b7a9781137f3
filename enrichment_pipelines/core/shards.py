"""Customer shards: the unit a partitioned run brings up to date.

A customer's shard is a stable hash of its id, so it never moves between shards and every
process (Python here, SQL in the warehouse) agrees on it. Sixteen shards give a backfill enough
runs to keep a machine (or a cluster's run launcher) busy, and each run few enough records to
finish in minutes; the number is part of the partition keys, so changing it means a new
partitions definition.
"""

from __future__ import annotations

import hashlib

SHARD_COUNT = 16


def shard_key(shard: int) -> str:
    return f"{shard:02d}"


def shard_keys() -> list[str]:
    return [shard_key(shard) for shard in range(SHARD_COUNT)]


def parse_shard_key(key: str) -> int:
    shard = int(key)
    if not 0 <= shard < SHARD_COUNT:
        raise ValueError(f"shard {key!r} is outside 00-{SHARD_COUNT - 1:02d}")
    return shard


def customer_shard(customer_id: str) -> int:
    return (
        int(hashlib.md5(customer_id.encode(), usedforsecurity=False).hexdigest()[:8], 16)
        % SHARD_COUNT
    )


def shard_sql(column: str) -> str:
    """The SQL expression of `customer_shard` over `column` (a column name from code)."""
    return f"(CAST(('0x' || substr(md5({column}), 1, 8)) AS UBIGINT) % {SHARD_COUNT})"
