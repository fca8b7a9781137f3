from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
import pydantic

from enrichment_pipelines.core.enrichment import EnrichmentPolicy


class EnrichmentRunResource(dg.ConfigurableResource):
    """The policy one run enriches under, shared by every asset of the run.

    Set it in the launchpad (`resources: enrichment_run: config: ...`): leave
    `reenrich_before` empty to enrich only records never enriched, or give an ISO date/time to
    re-enrich records enriched before it; `customer_ids` restricts the run to those records;
    `enrich_now` re-enriches them whatever their last enrichment (a one-off request: the cutoff
    is the moment the run was created, so a retried step does not enrich them twice).
    """

    reenrich_before: str | None = None
    customer_ids: list[str] = pydantic.Field(default_factory=list)
    enrich_now: bool = False

    def policy(self, context: dg.AssetExecutionContext) -> EnrichmentPolicy:
        cutoff = None
        if self.enrich_now and not self.customer_ids:
            raise dg.Failure(
                "enrichment_run.enrich_now re-enriches the records in customer_ids: give at least "
                "one customer id (it never applies to every record)"
            )
        if self.enrich_now:
            record = context.instance.get_run_record_by_id(context.run_id)
            cutoff = record.create_timestamp if record else datetime.now(UTC)
            if cutoff.tzinfo is None:
                cutoff = cutoff.replace(tzinfo=UTC)
        elif self.reenrich_before:
            try:
                cutoff = datetime.fromisoformat(self.reenrich_before)
            except ValueError as error:
                raise dg.Failure(
                    f"enrichment_run.reenrich_before: {self.reenrich_before!r} is not an ISO "
                    "date or date-time (e.g. 2026-11-01 or 2026-11-01T12:00:00Z)"
                ) from error
            if cutoff.tzinfo is None:
                cutoff = cutoff.replace(tzinfo=UTC)
        return EnrichmentPolicy(reenrich_before=cutoff, customer_ids=tuple(self.customer_ids))
