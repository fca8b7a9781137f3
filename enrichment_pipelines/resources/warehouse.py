from __future__ import annotations

from pathlib import Path

import dagster as dg

from enrichment_pipelines.core.config import EnrichConfig
from enrichment_pipelines.core.warehouse import Warehouse
from enrichment_pipelines.resources.config_fields import LaunchDefaults


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse in `home` (ENRICH_HOME), and the analysts' copy beside it."""

    home: str = str(EnrichConfig.home)
    lock_timeout_seconds: float = EnrichConfig.warehouse_lock_timeout_seconds

    @classmethod
    def from_config(cls, config: EnrichConfig) -> LaunchDefaults[WarehouseResource]:
        return cls.configure_at_launch(
            home=str(config.home), lock_timeout_seconds=config.warehouse_lock_timeout_seconds
        )

    @property
    def paths(self) -> EnrichConfig:
        """Where the warehouse, the analysts' copy and the reports live."""
        return EnrichConfig(home=Path(self.home))

    def get_warehouse(self) -> Warehouse:
        """The warehouse; its schema is brought up to date at the first write of a process."""
        return Warehouse(self.paths.warehouse_path, lock_timeout_seconds=self.lock_timeout_seconds)

    def publish_analytics_snapshot(self) -> Path:
        """Refresh the read-only copy analysts query while runs write the warehouse."""
        return self.get_warehouse().publish_snapshot(self.paths.analytics_path)
