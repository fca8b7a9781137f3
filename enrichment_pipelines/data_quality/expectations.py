"""Great Expectations suites over the enriched data, run in an ephemeral context.

Five dimensions, each one `CheckOutcome` with the observed value against its target and a
few failing examples: validity and uniqueness (blocking: bad data must not flow on),
completeness, freshness and consistency (warnings). Every verdict, of an expectation, a check
or a report row, is `meets(observed, target)`, so a figure and its verdict cannot disagree.
GX and pandas are imported lazily: they take seconds to import, only the checks need them, and
every run process imports this module. No Dagster here.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import duckdb

from enrichment_pipelines.core.config import QualityTargets
from enrichment_pipelines.core.datapoints import DATA_POINTS, DATA_POINTS_BY_KEY
from enrichment_pipelines.core.warehouse import memory_limit, quote_identifier

if TYPE_CHECKING:
    import pandas as pd


OVERALL = "overall"  # the completeness finding over all enabled data points together

# Shares are ratios of counts: 0.85 can come out as 0.8499999999999999, which must not fail a
# target of 0.85.
_TOLERANCE = 1e-9


def meets(observed: float, target: float) -> bool:
    """Whether an observed share reaches its target: the one comparison behind every verdict."""
    return observed >= target - _TOLERANCE


@dataclass
class Finding:
    """One expectation: what it looked at, what it saw, what it wanted."""

    expectation: str
    column: str
    observed: float
    target: float
    examples: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return meets(self.observed, self.target)


@dataclass
class CheckOutcome:
    dimension: str
    findings: list[Finding]

    @property
    def deciding(self) -> Finding | None:
        """The finding furthest below its target, or closest above it when all pass. A check
        shows this one finding's observed value and target together: the worst observed value
        beside the highest target, when they came from two findings, read "83.3%, pass" against
        a 95% target."""
        return min(
            self.findings, key=lambda finding: finding.observed - finding.target, default=None
        )

    @property
    def passed(self) -> bool:
        # The deciding finding passes exactly when every finding does.
        return meets(self.observed, self.target)

    @property
    def observed(self) -> float:
        """The deciding finding's observed value (1.0 when there is nothing to check)."""
        return self.deciding.observed if self.deciding else 1.0

    @property
    def target(self) -> float:
        """The deciding finding's target (1.0 when there is nothing to check)."""
        return self.deciding.target if self.deciding else 1.0

    @property
    def measured_on(self) -> str:
        """What the deciding finding looked at: a column, or `overall`."""
        return self.deciding.column if self.deciding else ""

    def examples(self, limit: int = 5) -> list[str]:
        # The overall finding's examples are data points, which name themselves.
        failing = [
            example if f.column == OVERALL else f"{f.column}: {example}"
            for f in self.findings
            if not f.passed
            for example in f.examples
        ]
        return failing[:limit]


@dataclass
class QualityFrames:
    """The enriched data as the suites see it."""

    customers: pd.DataFrame  # customer_id, website_domain, billing_country_code
    current: pd.DataFrame  # one row per current enrichment: customer_id, age_days, data points
    enabled_keys: tuple[str, ...]


# Every enrichment at its customer's latest enrichment time, not the deduplicated
# `current_enrichments` view: two runs racing on one record would show up here twice.
_CURRENT_ENRICHMENTS = """
    SELECT customer_id, enrichment_id,
           date_diff('second', created_at, now()) / 86400.0 AS age_days
    FROM enrichments
    WHERE status = 'enriched'
    QUALIFY created_at = max(created_at) OVER (PARTITION BY customer_id)
"""


def _current_values_query(enabled_keys: tuple[str, ...]) -> str:
    """Each current enrichment with one column per enabled data point (its value or NULL),
    pivoted by DuckDB: the long rows (one per data point) never reach pandas."""
    columns = "".join(
        f", first(value) FILTER (WHERE data_point = ?) AS {quote_identifier(key)}"
        for key in enabled_keys
    )
    return f"""
        WITH current AS ({_CURRENT_ENRICHMENTS})
        SELECT current.customer_id, current.enrichment_id, current.age_days{columns}
        FROM current LEFT JOIN enrichment_values USING (enrichment_id)
        GROUP BY ALL
        ORDER BY current.customer_id
    """


def load_frames(
    connection: duckdb.DuckDBPyConnection, enabled_keys: tuple[str, ...]
) -> QualityFrames:
    customers = connection.execute(
        "SELECT customer_id, website_domain, billing_country_code FROM customers"
    ).df()
    # The frames grow with the records whatever DuckDB is allowed, and this pivot fails under
    # the warehouse's cache limit at 1,000,000 customers: DuckDB's own limit for it. Peak of
    # a process loading the frames, against the rows pivoted in pandas before: 10,000
    # customers 227 MiB (273), 100,000 603 MiB (993), 1,000,000 3.7 GiB.
    with memory_limit(connection, None):
        current = connection.execute(_current_values_query(enabled_keys), list(enabled_keys)).df()
    return QualityFrames(customers, current, enabled_keys)


@functools.cache
def _iso_alpha2() -> list[str]:
    import pycountry

    return sorted(country.alpha_2 for country in pycountry.countries)


def _context() -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        progress_bars=ProgressBarsConfig(globally=False),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def _validate(frame: pd.DataFrame, expectations: list[tuple[Any, float]]) -> list[Finding]:
    import pandas as pd

    """Run GX expectations (each with its target share) over `frame` as one suite, in an
    ephemeral context. Failing examples name the customer where the frame has one."""
    if frame.empty or not expectations:
        return []
    import great_expectations as gx

    context = _context()
    asset = context.data_sources.add_pandas("warehouse").add_dataframe_asset(name="frame")
    batch = asset.add_batch_definition_whole_dataframe("all").get_batch(
        batch_parameters={"dataframe": frame.reset_index(drop=True)}
    )
    suite = context.suites.add(
        gx.ExpectationSuite(name="suite", expectations=[e for e, _ in expectations])
    )
    results = batch.validate(suite).results
    findings = []
    for (expectation, target), result in zip(expectations, results, strict=True):
        details = dict(result.result)
        # Out of all rows, not GX's `unexpected_percent` out of the non-missing ones: an
        # unknown value is valid, and the share is unrounded so that the verdict (`meets`)
        # sees what GX counted.
        rows = int(details.get("element_count") or 0)
        unexpected = int(details.get("unexpected_count") or 0)
        observed = (rows - unexpected) / rows if rows else 1.0
        indices = details.get("partial_unexpected_index_list") or []
        values = [
            "missing" if pd.isna(v) else v for v in details.get("partial_unexpected_list") or []
        ]
        examples = [
            f"{frame.customer_id.iloc[index]} ({value})" if "customer_id" in frame else str(value)
            for index, value in zip(indices[:5], values[:5], strict=False)
        ] or [str(value) for value in values[:5]]
        findings.append(
            Finding(
                expectation=expectation.expectation_type,
                column=expectation.column,
                observed=observed,
                target=target,
                examples=examples,
            )
        )
    return findings


def validity(frames: QualityFrames) -> CheckOutcome:
    """Values are of their data point's type and allowed set (blocking)."""
    import great_expectations as gx

    expectations: list[tuple[Any, float]] = []
    for point in DATA_POINTS:
        if point.key not in frames.enabled_keys:
            continue
        if point.key == "location_country_code":
            allowed: list[str] | None = _iso_alpha2()
        elif point.type == "Boolean":
            allowed = ["true", "false"]
        else:
            allowed = list(point.allowed_values) if point.allowed_values else None
        if allowed is not None:
            expectations.append(
                (
                    gx.expectations.ExpectColumnValuesToBeInSet(
                        column=point.key, value_set=allowed
                    ),
                    1.0,
                )
            )
        if point.max_length:
            expectations.append((gx.expectations.ExpectColumnValueLengthsToBeBetween(
                column=point.key, max_value=point.max_length), 1.0))  # fmt: skip
        if point.type == "Integer":
            expectations.append((gx.expectations.ExpectColumnValuesToMatchRegex(
                column=point.key, regex=r"^-?\d+$"), 1.0))  # fmt: skip
        if point.format is not None:  # a web address, or a comma list of them
            address = r"https?://[^\s/?#,]+\.[^\s,]+"
            regex = f"^{address}$" if point.format == "url" else f"^{address}(?:, {address})*$"
            expectations.append((gx.expectations.ExpectColumnValuesToMatchRegex(
                column=point.key, regex=regex), 1.0))  # fmt: skip
    findings = _validate(frames.current, expectations)
    # Integers are stored as text: their range is checked on numbers (text that is not a
    # whole number fails the pattern above, and is left out here).
    integers = [
        point
        for point in DATA_POINTS
        if point.key in frames.enabled_keys and point.type == "Integer"
    ]
    if integers:
        import pandas as pd

        numbers = frames.current[[point.key for point in integers]].apply(
            pd.to_numeric, errors="coerce"
        )
        findings += _validate(
            numbers,
            [
                (
                    gx.expectations.ExpectColumnValuesToBeBetween(
                        column=point.key, min_value=point.bounds()[0], max_value=point.bounds()[1]
                    ),
                    1.0,
                )
                for point in integers
            ],
        )
    return CheckOutcome("validity", findings)


def uniqueness(frames: QualityFrames, targets: QualityTargets) -> CheckOutcome:
    """One current enrichment per customer, no duplicate customers (blocking)."""
    import great_expectations as gx

    findings = _validate(
        frames.current,
        [(gx.expectations.ExpectColumnValuesToBeUnique(column="customer_id",
                                                       mostly=targets.uniqueness),
          targets.uniqueness)],
    )  # fmt: skip
    findings += _validate(
        frames.customers,
        [(gx.expectations.ExpectColumnValuesToBeUnique(column="customer_id"), 1.0)],
    )
    return CheckOutcome("uniqueness", findings)


def completeness(frames: QualityFrames, targets: QualityTargets) -> CheckOutcome:
    """Each enabled data point has a value for at least its own target share of enriched
    records (the registry's `completeness_target`), and all of them together for at least
    `targets.completeness`, the overall figure (warning)."""
    import great_expectations as gx

    points = [DATA_POINTS_BY_KEY[key] for key in frames.enabled_keys]
    findings = _validate(
        frames.current,
        [(gx.expectations.ExpectColumnValuesToNotBeNull(column=point.key,
                                                        mostly=point.completeness_target),
          point.completeness_target) for point in points],
    )  # fmt: skip
    if findings:
        # Every column has one row per enriched record, so the mean of the points' shares is
        # the share of all (record, data point) values that are present.
        overall = sum(finding.observed for finding in findings) / len(findings)
        least = sorted(findings, key=lambda finding: finding.observed)[:5]
        findings.append(
            Finding(
                expectation="share of all enabled data point values present",
                column=OVERALL,
                observed=overall,
                target=targets.completeness,
                examples=[
                    f"least complete: {finding.column} ({finding.observed:.0%})"
                    for finding in least
                ],
            )
        )
    return CheckOutcome("completeness", findings)


def freshness(frames: QualityFrames, targets: QualityTargets) -> CheckOutcome:
    """Current enrichments are younger than `freshness_days` (warning)."""
    import great_expectations as gx

    expectation = gx.expectations.ExpectColumnValuesToBeBetween(
        column="age_days", max_value=targets.freshness_days, mostly=targets.freshness
    )
    return CheckOutcome("freshness", _validate(frames.current, [(expectation, targets.freshness)]))


def consistency(frames: QualityFrames, targets: QualityTargets) -> CheckOutcome:
    import pandas as pd

    """Customers sharing a website domain agree; the enriched country matches the billing
    country (warning)."""
    import great_expectations as gx

    joined = frames.current.merge(frames.customers, on="customer_id", how="left")
    compared = [key for key in frames.enabled_keys if key in joined.columns]
    shared = joined[joined.duplicated("website_domain", keep=False) & joined.website_domain.notna()]
    # A domain's customers agree when each data point has one value among them (unknown
    # counting as a value): the same as one distinct row, counted per column in one pass.
    agrees = shared.groupby("website_domain")[compared].nunique(dropna=False).le(1).all(axis=1)
    domains = pd.DataFrame({"domain": agrees.index, "domain_agrees": agrees.to_numpy()})
    findings = []
    if not domains.empty:
        findings += _validate(domains, [(gx.expectations.ExpectColumnValuesToBeInSet(
            column="domain_agrees", value_set=[True], mostly=targets.domain_agreement),
            targets.domain_agreement)])  # fmt: skip
        findings[-1].examples = list(domains[~domains.domain_agrees.astype(bool)].domain[:5])
    if "location_country_code" in joined.columns:
        both = joined.dropna(subset=["location_country_code", "billing_country_code"])
        countries = pd.DataFrame(
            {
                "country_matches": both.location_country_code.str.upper()
                == both.billing_country_code.str.upper(),
                "customer_id": both.customer_id,
            }
        )
        if not countries.empty:
            findings += _validate(countries, [(gx.expectations.ExpectColumnValuesToBeInSet(
                column="country_matches", value_set=[True], mostly=targets.country_match),
                targets.country_match)])  # fmt: skip
            findings[-1].examples = list(countries[~countries.country_matches].customer_id[:5])
    return CheckOutcome("consistency", findings)


def run_all(frames: QualityFrames, targets: QualityTargets) -> dict[str, CheckOutcome]:
    return {
        "validity": validity(frames),
        "uniqueness": uniqueness(frames, targets),
        "completeness": completeness(frames, targets),
        "freshness": freshness(frames, targets),
        "consistency": consistency(frames, targets),
    }
