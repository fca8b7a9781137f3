from __future__ import annotations

from pathlib import Path

import dagster as dg

from enrichment_pipelines.core.settings import analytics_path, enrich_home, warehouse_path
from enrichment_pipelines.core.warehouse import Warehouse


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse under ENRICH_HOME (or `home`), migrated on first use."""

    home: str | None = None
    lock_timeout_seconds: float = 120.0

    def _home(self) -> Path:
        return Path(self.home) if self.home else enrich_home()

    def get_warehouse(self) -> Warehouse:
        warehouse = Warehouse(
            warehouse_path(self._home()), lock_timeout_seconds=self.lock_timeout_seconds
        )
        warehouse.migrate()
        return warehouse

    def publish_analytics_snapshot(self) -> Path:
        """Refresh the read-only copy analysts query while runs write the warehouse."""
        return self.get_warehouse().publish_snapshot(analytics_path(self._home()))
