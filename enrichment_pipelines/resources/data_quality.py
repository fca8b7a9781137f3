from __future__ import annotations

import dagster as dg

from enrichment_pipelines.data_quality.expectations import QualityTargets


class DataQualityResource(dg.ConfigurableResource):
    """Targets of the data quality checks (shares are 0..1)."""

    completeness: float = QualityTargets.completeness
    freshness_days: int = QualityTargets.freshness_days
    freshness: float = QualityTargets.freshness
    uniqueness: float = QualityTargets.uniqueness
    domain_agreement: float = QualityTargets.domain_agreement
    country_match: float = QualityTargets.country_match

    def targets(self) -> QualityTargets:
        return QualityTargets(
            completeness=self.completeness,
            freshness_days=self.freshness_days,
            freshness=self.freshness,
            uniqueness=self.uniqueness,
            domain_agreement=self.domain_agreement,
            country_match=self.country_match,
        )
