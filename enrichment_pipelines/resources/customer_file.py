from __future__ import annotations

import dagster as dg


class CustomerFileResource(dg.ConfigurableResource):
    """The customer file the `customers` asset imports when its run config names none
    (ENRICH_CUSTOMERS_PATH): CSV, Parquet or JSONL. Empty: use the customers already in the
    warehouse."""

    path: str | None = None
