from __future__ import annotations

import dagster as dg

from enrichment_pipelines.connectors.chartmogul.client import ChartMogulClient
from enrichment_pipelines.core.config import ChartMogulConfig, env_var
from enrichment_pipelines.resources.config_fields import LaunchDefaults, config_values, to_config


class ChartMogulResource(dg.ConfigurableResource):
    """ChartMogul's REST API (`CHARTMOGUL_API_KEY`, `CHARTMOGUL_API_BASE`,
    `ENRICH_CHARTMOGUL_*`): the sink of the `chartmogul_sync` asset."""

    api_key: str = ChartMogulConfig.api_key
    api_base: str = ChartMogulConfig.api_base
    requests_per_second: float = ChartMogulConfig.requests_per_second
    max_retries: int = ChartMogulConfig.max_retries
    timeout_seconds: float = ChartMogulConfig.timeout_seconds

    @classmethod
    def from_config(cls, chartmogul: ChartMogulConfig) -> LaunchDefaults[ChartMogulResource]:
        values = config_values(chartmogul)
        # Read from the environment at run time (dg.EnvVar): never part of stored run config.
        key_variable = env_var(ChartMogulConfig, "api_key")
        values["api_key"] = dg.EnvVar(key_variable) if chartmogul.api_key else ""
        return cls.configure_at_launch(**values)

    def get_client(self) -> ChartMogulClient:
        """A client (a context manager); without a key, an error saying what to set."""
        return ChartMogulClient(to_config(self, ChartMogulConfig))
