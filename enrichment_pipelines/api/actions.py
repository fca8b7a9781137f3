"""What a user does through the API or the staff page, done once for both: the core work
and its audit row."""

from __future__ import annotations

from enrichment_pipelines.core.config import EnrichConfig
from enrichment_pipelines.core.customer_pages import Outcome, run_outcome
from enrichment_pipelines.core.users import User, record
from enrichment_pipelines.core.warehouse.replica import ReadReplica


def enrich_customer_now(
    config: EnrichConfig, replica: ReadReplica, customer_id: str, user: User
) -> Outcome | None:
    """Enrich one customer now, as `enrich customer` does (one credit when it is enriched),
    and audit it; returns what the run did to it (None: the run failed before saying). The
    server's copy of the warehouse is taken again before this returns."""
    from enrichment_pipelines.runs import run_pipeline  # Dagster, loaded on first use only

    result = run_pipeline(config, customer_ids=(customer_id,), enrich_now=True)
    with replica.warehouse.transaction() as connection:
        outcome = run_outcome(connection, customer_id, result.run_id)
        detail = {
            "run_id": result.run_id,
            "run_succeeded": result.success,
            "status": outcome.status if outcome else None,
            "reason": outcome.reason if outcome else None,
        }
        record(
            connection,
            actor=user.actor,
            action="customer.enrich",
            target=customer_id,
            detail=detail,
        )
    replica.wrote()
    return outcome
