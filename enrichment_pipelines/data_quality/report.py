"""The data quality report people read: an overall score, completeness per data point (each
against its own target) and overall with bars, freshness buckets and the issues to fix, as
Markdown (Dagster metadata) and as one self-contained HTML file with inline SVG charts."""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from enrichment_pipelines.core.config import QualityTargets
from enrichment_pipelines.core.reports import without_particulars
from enrichment_pipelines.data_quality.expectations import (
    OVERALL,
    CheckOutcome,
    Finding,
    load_frames,
    meets,
    run_all,
)

BLOCKING = ("validity", "uniqueness")  # these stop bad data; the others warn
FRESHNESS_BUCKETS = ("< 7 days", "8-30 days", "> 30 days (stale)")


@dataclass
class QualityReport:
    generated_at: datetime
    records: int  # customers
    enriched: int  # customers with a current enrichment
    outcomes: dict[str, CheckOutcome]
    freshness: dict[str, int]  # bucket -> current enrichments
    issues: dict[str, int]  # issue -> count
    targets: QualityTargets

    @property
    def score(self) -> float:
        """0-100: each dimension scores its observed value against its target (capped at 1)."""
        parts = [
            1.0 if outcome.passed else min(1.0, outcome.observed / (outcome.target or 1))
            for outcome in self.outcomes.values()
        ]
        return round(100 * sum(parts) / len(parts), 1) if parts else 100.0

    @property
    def completeness(self) -> list[Finding]:
        """One row per enabled data point (share of enriched records with a value, against
        the point's own target), then the overall row (`column == OVERALL`)."""
        return self.outcomes["completeness"].findings

    def to_dict(self) -> dict[str, object]:
        """Figures only (no customer rows): what `enrich quality --json` prints."""
        return {
            "generated_at": self.generated_at.isoformat(),
            "score": self.score,
            "records": self.records,
            "enriched": self.enriched,
            "checks": {
                name: _figures(o.passed, o.observed, o.target) | {"measured_on": o.measured_on}
                for name, o in self.outcomes.items()
            },
            "completeness": {
                f.column: _figures(f.passed, f.observed, f.target) for f in self.completeness
            },
            "freshness": self.freshness,
            "issues": self.issues,
            "targets": asdict(self.targets),
        }


def _figures(passed: bool, observed: float, target: float) -> dict[str, object]:
    return {"passed": passed, "observed": observed, "target": target}


def build_report(
    connection: duckdb.DuckDBPyConnection, enabled_keys: tuple[str, ...], targets: QualityTargets
) -> QualityReport:
    frames = load_frames(connection, enabled_keys)
    outcomes = run_all(frames, targets)
    current = frames.current
    ages = current.age_days if len(current) else []
    freshness = dict.fromkeys(FRESHNESS_BUCKETS, 0)
    for age in ages:
        bucket = 0 if age < 7 else 1 if age <= targets.freshness_days else 2
        freshness[FRESHNESS_BUCKETS[bucket]] += 1
    issues: dict[str, int] = {}
    row = connection.execute("SELECT count(*) FROM customers WHERE website_url IS NULL").fetchone()
    issues["customers without a usable website"] = row[0] if row else 0
    for reason, count in connection.execute(
        "SELECT coalesce(reason, 'unknown'), count(*) FROM site_crawls WHERE status = 'failed' "
        "GROUP BY ALL ORDER BY 2 DESC LIMIT 8"
    ).fetchall():
        issues[f"failed crawl: {reason}"] = count
    invalid = sum(round((1 - f.observed) * len(current)) for f in outcomes["validity"].findings)
    issues["invalid values"] = invalid
    duplicates = len(frames.customers) - frames.customers.customer_id.nunique()
    duplicates += len(current) - current.customer_id.nunique() if len(current) else 0
    issues["duplicates"] = duplicates
    return QualityReport(
        generated_at=datetime.now(UTC),
        records=len(frames.customers),
        enriched=len(current),
        outcomes=outcomes,
        freshness=freshness,
        issues=issues,
        targets=targets,
    )


def _bar(share: float, width: int = 20) -> str:
    filled = round(share * width)
    return "█" * filled + "░" * (width - filled)


def _status(passed: bool, check: str) -> str:
    """A verdict as the report shows it; `passed` always comes from `meets`."""
    if passed:
        return "pass"
    return "FAIL (blocks)" if check in BLOCKING else "warn"


def _label(finding: Finding) -> str:
    return f"{OVERALL} (all data points)" if finding.column == OVERALL else finding.column


def to_markdown(report: QualityReport, *, examples: bool = True) -> str:
    """The report as Markdown; without `examples` (failing values, which name customers) for
    Dagster metadata, which must hold no customer data."""
    lines = [
        f"**Quality score: {report.score:.1f} / 100** — {report.enriched} of {report.records} "
        f"records enriched",
        "",
        "| check | status | observed | target | measured on | examples |",
        "|---|---|---|---|---|---|",
    ]
    for name, outcome in report.outcomes.items():
        shown = ", ".join(outcome.examples(3)).replace("|", "\\|") if examples else "…"
        lines.append(
            f"| {name} | {_status(outcome.passed, name)} | {outcome.observed:.1%} | "
            f"{outcome.target:.0%} | {outcome.measured_on} | {shown} |"
        )
    lines += [
        "",
        "| data point | completeness | target | status | |",
        "|---|---|---|---|---|",
    ]
    for finding in report.completeness:
        lines.append(
            f"| {_label(finding)} | {finding.observed:.0%} | {finding.target:.0%} | "
            f"{_status(finding.passed, 'completeness')} | `{_bar(finding.observed)}` |"
        )
    lines += ["", "| freshness | enrichments |", "|---|---|"]
    lines += [f"| {bucket} | {count} |" for bucket, count in report.freshness.items()]
    lines += ["", "| issue | count |", "|---|---|"]
    lines += [
        f"| {issue if examples else without_particulars(issue)} | {count} |"
        for issue, count in report.issues.items()
    ]
    return "\n".join(lines)


def _svg_bars(rows: list[tuple[str, float, str, float | None]]) -> str:
    """Horizontal bars: (label, share 0..1, text shown at the end, target or None). A bar with
    a target is green when it meets it, orange when not, with the target marked on it."""
    label_width, bar_width, row_height = 190, 320, 24
    height = row_height * len(rows) + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_width + bar_width + 90}" '
        f'height="{height}" role="img">'
    ]
    for index, (label, share, text, target) in enumerate(rows):
        y = 5 + index * row_height
        colour = "#2e7d32" if target is None or meets(share, target) else "#ef6c00"
        filled = bar_width * max(0.0, min(1.0, share))
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 15}" text-anchor="end" font-size="13">'
            f"{html.escape(label)}</text>"
            f'<rect x="{label_width}" y="{y + 3}" width="{bar_width}" height="16" fill="#eceff1"/>'
            f'<rect x="{label_width}" y="{y + 3}" width="{filled:.0f}" height="16" '
            f'fill="{colour}"/>'
            f'<text x="{label_width + bar_width + 6}" y="{y + 15}" font-size="13">'
            f"{html.escape(text)}</text>"
        )
        if target is not None:
            x = label_width + bar_width * target
            parts.append(
                f'<line x1="{x:.0f}" x2="{x:.0f}" y1="{y}" y2="{y + 22}" stroke="#37474f" '
                'stroke-width="2"/>'
            )
    parts.append("</svg>")
    return "".join(parts)


def to_html(report: QualityReport) -> str:
    checks = "".join(
        f"<tr><td>{name}</td><td class='{_status(o.passed, name).split()[0].lower()}'>"
        f"{_status(o.passed, name)}</td><td>{o.observed:.1%}</td><td>{o.target:.0%}</td>"
        f"<td>{html.escape(o.measured_on)}</td>"
        f"<td>{html.escape(', '.join(o.examples(3)))}</td></tr>"
        for name, o in report.outcomes.items()
    )
    completeness = _svg_bars(
        [
            (_label(f), f.observed, f"{f.observed:.0%} / {f.target:.0%}", f.target)
            for f in report.completeness
        ]
    )
    total = sum(report.freshness.values()) or 1
    freshness = _svg_bars(
        [(bucket, count / total, str(count), None) for bucket, count in report.freshness.items()]
    )
    issues = "".join(
        f"<tr><td>{html.escape(issue)}</td><td>{count}</td></tr>"
        for issue, count in report.issues.items()
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Data quality report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 900px; color: #263238; }}
h1 {{ margin-bottom: 0; }} .muted {{ color: #607d8b; }}
.score {{ font-size: 3rem; font-weight: 700; }}
table {{ border-collapse: collapse; width: 100%; margin: 0.5rem 0 1.5rem; }}
td, th {{ border-bottom: 1px solid #cfd8dc; padding: 6px 8px; text-align: left; font-size: 14px; }}
.pass {{ color: #2e7d32; font-weight: 600; }} .warn {{ color: #ef6c00; font-weight: 600; }}
.fail {{ color: #c62828; font-weight: 700; }}
</style></head><body>
<h1>Data quality report</h1>
<p class="muted">Generated {report.generated_at:%Y-%m-%d %H:%M UTC} ·
{report.enriched} of {report.records} records enriched</p>
<p class="score">{report.score:.1f}<span class="muted" style="font-size:1.2rem"> / 100</span></p>
<h2>Checks</h2>
<table><tr><th>check</th><th>status</th><th>observed</th><th>target</th><th>measured on</th>
<th>examples</th></tr>
{checks}</table>
<h2>Completeness by data point</h2>
<p class="muted">Share of enriched records with a value, against each data point's own target
(the mark on its bar; sparse facts such as an acquisition have low ones). The last bar is the
overall figure: the share of all enabled data point values present, against
{report.targets.completeness:.0%}.</p>
{completeness}
<h2>Freshness</h2>
{freshness}
<h2>Issues</h2>
<table><tr><th>issue</th><th>count</th></tr>{issues}</table>
</body></html>
"""


def write_html(report: QualityReport, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(to_html(report), encoding="utf-8")
    temporary.replace(path)
    return path
