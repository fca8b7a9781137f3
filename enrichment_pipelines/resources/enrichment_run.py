from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
import pydantic

from enrichment_pipelines.core.enrichment.policy import EnrichmentPolicy
from enrichment_pipelines.core.shards import parse_shard_key

# Run (and backfill) tags that set the policy: a backfill launched from the UI or by
# `enrich batch` carries them to each of its runs.
SEGMENT_TAG = "enrich/segment"
REENRICH_BEFORE_TAG = "enrich/reenrich_before"


class EnrichmentRunResource(dg.ConfigurableResource):
    """The policy one run enriches under, shared by every asset of the run.

    Set it in the launchpad (`resources: enrichment_run: config: ...`) or, for a backfill, with
    the tags `enrich/reenrich_before` and `enrich/segment`: leave `reenrich_before` empty to
    enrich only records never enriched, or give an ISO date/time to re-enrich records enriched
    before it; `segment` restricts the run to a saved segment's members; `customer_ids` to those
    records (or `customer_keys`, their keys: what sensors and `enrich customer` send, so that
    run history names no customer); `enrich_now` re-enriches them whatever their last
    enrichment (a one-off request: the cutoff is the moment the run was created, so a retried
    step does not enrich them twice). A partitioned run covers its customer shards.
    """

    reenrich_before: str | None = None
    segment: str | None = None
    customer_ids: list[str] = pydantic.Field(default_factory=list)
    customer_keys: list[str] = pydantic.Field(default_factory=list)
    enrich_now: bool = False

    def policy(self, context: dg.AssetExecutionContext) -> EnrichmentPolicy:
        tags = context.run.tags
        segment = tags.get(SEGMENT_TAG) or self.segment
        reenrich_before = tags.get(REENRICH_BEFORE_TAG) or self.reenrich_before
        if self.enrich_now and not (self.customer_ids or self.customer_keys):
            raise dg.Failure(
                "enrichment_run.enrich_now re-enriches the records in customer_ids or "
                "customer_keys: give at least one customer id (it never applies to every record)"
            )
        cutoff = None
        if self.enrich_now:
            record = context.instance.get_run_record_by_id(context.run_id)
            cutoff = record.create_timestamp if record else datetime.now(UTC)
        elif reenrich_before:
            try:
                cutoff = datetime.fromisoformat(reenrich_before)
            except ValueError as error:
                raise dg.Failure(
                    f"re-enrich cutoff {reenrich_before!r} (enrichment_run.reenrich_before or "
                    f"the {REENRICH_BEFORE_TAG} tag) is not an ISO date or date-time "
                    "(e.g. 2026-11-01 or 2026-11-01T12:00:00Z)"
                ) from error
        if cutoff is not None and cutoff.tzinfo is None:
            cutoff = cutoff.replace(tzinfo=UTC)
        # Explicit ids name the work whichever shard the run was launched for.
        shards: tuple[int, ...] = ()
        if context.assets_def.partitions_def is not None and not (
            self.customer_ids or self.customer_keys
        ):
            shards = tuple(parse_shard_key(key) for key in context.partition_keys)
        return EnrichmentPolicy(
            reenrich_before=cutoff,
            customer_ids=tuple(self.customer_ids),
            customer_keys=tuple(self.customer_keys),
            shards=shards,
            segment=segment,
        )
