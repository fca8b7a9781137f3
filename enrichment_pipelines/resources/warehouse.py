from __future__ import annotations

from pathlib import Path

import dagster as dg

from enrichment_pipelines.core.settings import enrich_home, warehouse_path
from enrichment_pipelines.core.warehouse import Warehouse


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse under ENRICH_HOME (or `home`), migrated on first use."""

    home: str | None = None
    lock_timeout_seconds: float = 120.0

    def get_warehouse(self) -> Warehouse:
        home = Path(self.home) if self.home else enrich_home()
        warehouse = Warehouse(warehouse_path(home), lock_timeout_seconds=self.lock_timeout_seconds)
        warehouse.migrate()
        return warehouse
