"""Reading what a run materialised, by asset: the shard assets share one step, so a run's
materialisations are looked up by asset key, not by the step's name."""

from __future__ import annotations

from typing import Any

import dagster as dg


def materialized(result: dg.ExecuteInProcessResult, asset: str) -> list[dg.AssetMaterialization]:
    """The run's materialisations of `asset` (one per run, whatever shards it covered)."""
    key = dg.AssetKey(asset)
    return [
        materialization
        for materialization in result.asset_materializations_for_node("enrich_shard")
        if materialization.asset_key == key
    ] or result.asset_materializations_for_node(asset)


def metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, Any]:
    """The metadata values of the run's first materialisation of `asset`."""
    event = materialized(result, asset)[0]
    return {key: getattr(value, "value", value) for key, value in event.metadata.items()}
