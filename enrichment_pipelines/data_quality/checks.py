"""The Great Expectations suites as Dagster asset checks on `customer_360`, the whole-warehouse
table analysts read. They run once per run that refreshes it (after every shard of a batch),
not once per shard. Validity and uniqueness block: when they fail, `analytics_snapshot` is not
published from bad data. Completeness, freshness and consistency warn."""

from collections.abc import Iterator

import dagster as dg

from enrichment_pipelines.core.settings import ensure_settings
from enrichment_pipelines.data_quality.expectations import (
    OVERALL,
    CheckOutcome,
    load_frames,
    run_all,
)
from enrichment_pipelines.data_quality.report import BLOCKING
from enrichment_pipelines.resources import DataQualityResource, WarehouseResource

_DESCRIPTIONS = {
    "validity": "Values fit their data point: ISO country codes, allowed values, booleans, "
    "employee ranges, value proposition <= 255 characters. Blocks downstream assets.",
    "uniqueness": "One current enrichment per customer, no duplicate customers. Blocks "
    "downstream assets.",
    "completeness": "Each enabled data point has a value for at least its own target share of "
    "enriched records (sparse facts such as an acquisition have low targets), and all of them "
    "together for at least the overall target (quality.completeness, 85% by default).",
    "freshness": "Current enrichments are recent.",
    "consistency": "Customers sharing a website domain agree; the enriched country matches "
    "the billing country.",
}

CHECKED_ASSET = "customer_360"
SPECS = [
    dg.AssetCheckSpec(name, asset=CHECKED_ASSET, blocking=name in BLOCKING, description=description)
    for name, description in _DESCRIPTIONS.items()
]


def _result(name: str, outcome: CheckOutcome) -> dg.AssetCheckResult:
    findings = [
        {
            "expectation": finding.expectation,
            "column": finding.column,
            "observed": f"{finding.observed:.1%}",
            "target": f"{finding.target:.0%}",
            "passed": finding.passed,
        }
        for finding in outcome.findings
        if not finding.passed
    ]
    # `observed` and `target` are one finding's (the deciding one, named by `measured_on`),
    # as in the report, so they agree with `passed`.
    metadata: dict[str, dg.MetadataValue | int | str] = {
        "observed": dg.MetadataValue.float(outcome.observed),
        "target": dg.MetadataValue.float(outcome.target),
        "measured_on": outcome.measured_on,
        "expectations": len(outcome.findings),
        # Which expectations fail and by how much; not the failing values, which name
        # customers (`enrich quality` shows them).
        "failing_expectations": dg.MetadataValue.json(findings),
    }
    for finding in outcome.findings:
        if finding.column == OVERALL:  # completeness over all data points, as its own figure
            metadata["overall_completeness"] = dg.MetadataValue.float(finding.observed)
            metadata["overall_completeness_target"] = dg.MetadataValue.float(finding.target)
    return dg.AssetCheckResult(
        check_name=name,
        asset_key=CHECKED_ASSET,
        passed=outcome.passed,
        severity=dg.AssetCheckSeverity.ERROR if name in BLOCKING else dg.AssetCheckSeverity.WARN,
        metadata=metadata,
    )


@dg.multi_asset_check(specs=SPECS)
def enrichment_quality_checks(
    warehouse: WarehouseResource, data_quality: DataQualityResource
) -> Iterator[dg.AssetCheckResult]:
    """Great Expectations 1.x suites over the current enrichments (ephemeral context)."""
    store = warehouse.get_warehouse()
    with store.transaction() as connection:
        settings, _ = ensure_settings(connection)
        frames = load_frames(connection, settings.enabled_keys)
    for name, outcome in run_all(frames, data_quality.targets()).items():
        yield _result(name, outcome)
