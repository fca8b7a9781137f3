"""The asset graph, and the selections every kind of run is made of.

customers (group `sources`) -> scraped_pages -> enriched_attributes -> customer_attributes
(group `enrichment`, partitioned by customer shard, made by one streaming step) ->
segment_memberships -> customer_360 (quality checks) -> analytics_snapshot; and
customer_attributes -> data_quality_report, and -> chartmogul_sync (group `sinks`: run on its
own, by its job or schedule, never by a batch).

The selections are derived from the groups and the graph, so an asset added to a group, or
downstream of the shard steps, joins the right runs without a list to keep.
"""

import dagster as dg

from enrichment_pipelines.assets import customers, enrichment, reports, segments, sinks
from enrichment_pipelines.assets.sinks import SINK_GROUP
from enrichment_pipelines.data_quality.checks import enrichment_quality_checks
from enrichment_pipelines.partitions import SHARD_GROUP

ASSETS = dg.load_assets_from_modules([customers, enrichment, segments, reports, sinks])
ASSET_CHECKS = [enrichment_quality_checks]

# The partitioned steps: one run brings one or more customer shards up to date.
SHARD_STEPS = dg.AssetSelection.groups(SHARD_GROUP)
# Other systems written to: each needs its own credentials, so runs of their own.
SINKS = dg.AssetSelection.groups(SINK_GROUP)
# A batch: every shard, then the whole-warehouse assets downstream once.
BATCH = SHARD_STEPS.downstream() - SINKS
# A live or one-off run skips the quality report, which a batch or schedule refreshes.
SHARD_RUN = BATCH - dg.AssetSelection.assets("data_quality_report")
# The whole graph, import included (`enrich run`, `enrich demo`).
EVERYTHING = dg.AssetSelection.all() - SINKS
