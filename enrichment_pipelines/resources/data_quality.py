from __future__ import annotations

import dagster as dg

from enrichment_pipelines.core.config import QualityTargets
from enrichment_pipelines.resources.config_fields import LaunchDefaults, config_values, to_config


class DataQualityResource(dg.ConfigurableResource):
    """Targets of the data quality checks (shares are 0..1; the `ENRICH_QUALITY_*` settings)."""

    completeness: float = QualityTargets.completeness
    freshness_days: int = QualityTargets.freshness_days
    freshness: float = QualityTargets.freshness
    uniqueness: float = QualityTargets.uniqueness
    domain_agreement: float = QualityTargets.domain_agreement
    country_match: float = QualityTargets.country_match

    @classmethod
    def from_config(cls, targets: QualityTargets) -> LaunchDefaults[DataQualityResource]:
        return cls.configure_at_launch(**config_values(targets))

    def targets(self) -> QualityTargets:
        return to_config(self, QualityTargets)
