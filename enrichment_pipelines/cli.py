"""The `enrich` command."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from enrichment_pipelines.cli_batch import batch
from enrichment_pipelines.cli_segments import live_group, segments_group
from enrichment_pipelines.cli_support import err, open_warehouse, out
from enrichment_pipelines.core.crawl import crawl_sites
from enrichment_pipelines.core.customers import ImportFileError, import_customers
from enrichment_pipelines.core.datapoints import DATA_POINT_KEYS
from enrichment_pipelines.core.settings import (
    allowed_private_networks,
    analytics_path,
    enrich_home,
)
from enrichment_pipelines.core.warehouse import Warehouse, WarehouseError
from enrichment_pipelines.core.websites import WebsiteError, normalise_website


@click.group()
@click.version_option(package_name="enrichment-pipelines")
def main() -> None:
    """Enrich customer records with facts read from each customer's own website."""


main.add_command(segments_group)
main.add_command(live_group)
main.add_command(batch)


@main.group(name="import")
def import_group() -> None:
    """Import records into the warehouse."""


@import_group.command(name="customers")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--source", default="import", show_default=True, help="Name of the record source.")
def import_customers_command(path: Path, source: str) -> None:
    """Import customers from a CSV, Parquet or JSONL file (upsert by source and id)."""
    try:
        report = import_customers(
            open_warehouse(), path, source=source, allowed_networks=allowed_private_networks()
        )
    except (ImportFileError, WarehouseError) as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    for problem in report.problems:
        outcome = "rejected" if problem.rejected else "imported with a warning"
        click.echo(f"{path}: {problem} ({outcome})", err=True)
    click.echo(
        f"{report.imported} customers imported from {path} ({report.inserted} new, "
        f"{report.updated} updated); {report.rejected} rows rejected"
    )
    if report.rejected:
        sys.exit(1)


def run_pipeline(
    *,
    customers_path: Path | None = None,
    source: str = "import",
    reenrich_before: str | None = None,
    allowed_private_networks: str = "",
    customer_ids: tuple[str, ...] = (),
    enrich_now: bool = False,
) -> bool:
    """Materialise the whole asset graph in this process; returns whether it succeeded."""
    import dagster as dg

    from enrichment_pipelines.assets import ENRICHMENT_ASSETS
    from enrichment_pipelines.definitions import default_resources
    from enrichment_pipelines.partitions import all_shards_tags
    from enrichment_pipelines.resources import EnrichmentRunResource, WebClientResource

    resources: dict[str, Any] = default_resources()
    resources["web"] = WebClientResource(allowed_private_networks=allowed_private_networks)
    resources["enrichment_run"] = EnrichmentRunResource(
        reenrich_before=reenrich_before, customer_ids=list(customer_ids), enrich_now=enrich_now
    )
    customers_config: dict[str, Any] = {"source": source}
    if customers_path is not None:
        customers_config["path"] = str(customers_path)
    instance = (
        dg.DagsterInstance.get()
        if os.environ.get("DAGSTER_HOME")
        else dg.DagsterInstance.ephemeral()
    )
    from enrichment_pipelines.data_quality.checks import enrichment_quality_checks

    result = dg.materialize(
        [*ENRICHMENT_ASSETS, enrichment_quality_checks],
        resources=resources,
        run_config={
            "ops": {"customers": {"config": customers_config}},
            "loggers": {"console": {"config": {"log_level": "INFO"}}},
        },
        instance=instance,
        tags=all_shards_tags(),
        raise_on_error=False,
    )
    return result.success


@main.command()
@click.option("--customers", "customers_path", type=click.Path(path_type=Path), default=None,
              help="Import this file first (CSV, Parquet or JSONL).")  # fmt: skip
@click.option("--source", default="import", show_default=True)
@click.option("--reenrich-before", default=None, help="Re-enrich records enriched before DATE.")
def run(customers_path: Path | None, source: str, reenrich_before: str | None) -> None:
    """Run the enrichment pipeline once, in this process."""
    ok = run_pipeline(
        customers_path=customers_path,
        source=source,
        reenrich_before=reenrich_before,
    )
    _print_status()
    sys.exit(0 if ok else 1)


def _print_status(as_json: bool = False) -> None:
    from enrichment_pipelines.core.status import workspace_status

    with open_warehouse().connect() as connection:
        status = workspace_status(connection)
    if as_json:
        click.echo(json.dumps(status.to_dict()))
        return
    table = Table(title="Enrichment status", show_header=False)
    table.add_row("Credit balance", str(status.credit_balance))
    table.add_row(
        "Live enrichment", f"on (target: {status.live_target})" if status.live_enabled else "off"
    )
    table.add_row("Customers", str(status.customers))
    table.add_row("Enriched in the last 7 days", str(status.enriched_last_7_days))
    table.add_row("Enriched in total", str(status.enriched_total))
    last = (
        status.last_enriched_at.isoformat(timespec="seconds")
        if status.last_enriched_at
        else "never"
    )
    table.add_row("Last enrichment", last)
    out.print(table)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def status(as_json: bool) -> None:
    """Credit balance, live enrichment, and how many records have been enriched."""
    _print_status(as_json)


@main.group(name="settings", invoke_without_command=True)
@click.pass_context
def settings_group(context: click.Context) -> None:
    """Which data points are enriched, into which attributes, and which go into notes."""
    if context.invoked_subcommand is None:
        context.invoke(settings_show)


@settings_group.command(name="show")
@click.option("--json", "as_json", is_flag=True, help="Print the settings as JSON.")
def settings_show(as_json: bool) -> None:
    """Show the enrichment settings in force."""
    from enrichment_pipelines.core.datapoints import DATA_POINTS_BY_KEY
    from enrichment_pipelines.core.settings import load_settings, settings_saved

    with open_warehouse().connect() as connection:
        settings = load_settings(connection)
        saved = settings_saved(connection)
    if settings is None or saved is None:
        click.echo("no settings saved yet: the first run saves the defaults (all data points on)")
        return
    if as_json:
        click.echo(settings.to_json())
        return
    table = Table(title=f"Enrichment settings (saved {saved[0]:%Y-%m-%d %H:%M} by {saved[1]})")
    for column in ("data point", "enabled", "attribute", "type", "in note"):
        table.add_column(column)
    for key, setting in settings.data_points.items():
        table.add_row(
            key,
            "yes" if setting.enabled else "no",
            setting.attribute_name,
            DATA_POINTS_BY_KEY[key].type,
            "yes" if setting.in_notes else "no",
        )
    out.print(table)


@settings_group.command(name="set")
@click.argument("data_point")
@click.option("--enable/--disable", "enabled", default=None, help="Enrich this data point or not.")
@click.option("--attribute", "attribute_name", default=None,
              help="Write it to this custom attribute (new or existing, same type).")  # fmt: skip
@click.option("--note/--no-note", "in_notes", default=None, help="Include it in the note.")
def settings_set(
    data_point: str, enabled: bool | None, attribute_name: str | None, in_notes: bool | None
) -> None:
    """Change one data point's settings (the change is validated and audited)."""
    import getpass

    from enrichment_pipelines.core.settings import (
        SettingsError,
        change_data_point,
        ensure_settings,
        save_settings,
    )

    if enabled is None and attribute_name is None and in_notes is None:
        raise click.UsageError("nothing to change: give --enable/--disable, --attribute or --note")
    try:
        with open_warehouse().transaction() as connection:
            current, _ = ensure_settings(connection)
            changed = change_data_point(
                current, data_point, enabled=enabled, attribute_name=attribute_name,
                in_notes=in_notes,
            )  # fmt: skip
            save_settings(
                connection, changed, updated_by=f"enrich settings set ({getpass.getuser()})"
            )
    except SettingsError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    saved = changed.data_points[data_point]
    click.echo(
        f"saved {data_point}: enabled={saved.enabled}, attribute={saved.attribute_name}, "
        f"in note={saved.in_notes}"
    )


@settings_group.command(name="history")
def settings_history_command() -> None:
    """Who or what changed the settings, and when."""
    from enrichment_pipelines.core.settings import settings_history

    with open_warehouse().connect() as connection:
        changes = settings_history(connection)
    table = Table(title="Settings changes (newest first)")
    for column in ("when", "setting", "by"):
        table.add_column(column)
    for key, _value, changed_at, changed_by in changes:
        table.add_row(f"{changed_at:%Y-%m-%d %H:%M:%S}", key, changed_by)
    out.print(table)


@main.command()
def quality() -> None:
    """Run the data quality checks and write the report (Markdown here, HTML on disk)."""
    from rich.markdown import Markdown

    from enrichment_pipelines.core.settings import ensure_settings, quality_report_path
    from enrichment_pipelines.data_quality.expectations import QualityTargets
    from enrichment_pipelines.data_quality.report import build_report, to_markdown, write_html

    warehouse = open_warehouse()
    err.print("running the data quality suites (Great Expectations)...")
    with warehouse.transaction() as connection:
        settings, _ = ensure_settings(connection)
        report = build_report(connection, settings.enabled_keys, QualityTargets())
    path = write_html(report, quality_report_path())
    out.print(Markdown(to_markdown(report)))
    click.echo(f"\nHTML report: {path}")


@main.group(name="credits", invoke_without_command=True)
@click.pass_context
def credits_group(context: click.Context) -> None:
    """The credit balance and its ledger (one credit = one record enriched once)."""
    if context.invoked_subcommand is not None:
        return
    from enrichment_pipelines.core.credits import balance, recent_entries

    with open_warehouse().connect() as connection:
        current = balance(connection)
        entries = recent_entries(connection)
    click.echo(f"credit balance: {current}")
    table = Table(title="Latest ledger entries")
    for column in ("when", "credits", "kind", "detail"):
        table.add_column(column)
    for created_at, delta, kind, detail in entries:
        table.add_row(f"{created_at:%Y-%m-%d %H:%M:%S}", f"{delta:+d}", kind, detail)
    out.print(table)


@credits_group.command(name="top-up")
@click.argument("credits", type=int)
@click.option("--note", default=None, help="Why (kept in the ledger).")
def credits_top_up(credits: int, note: str | None) -> None:
    """Add CREDITS to the balance."""
    from enrichment_pipelines.core.credits import CreditsError, top_up

    try:
        with open_warehouse().transaction() as connection:
            new_balance = top_up(connection, credits, note=note)
    except CreditsError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    click.echo(f"topped up {credits} credits; balance: {new_balance}")


@main.command(name="customer")
@click.argument("customer_id")
def customer_command(customer_id: str) -> None:
    """Enrich one customer now (one-off): shows its last enrichment and the settings in force,
    then enriches it whatever its last enrichment, for one credit."""
    from enrichment_pipelines.core.settings import ensure_settings
    from enrichment_pipelines.core.status import customer_website, last_outcome

    warehouse = open_warehouse()
    with warehouse.transaction() as connection:
        known = customer_website(connection, customer_id)
        settings, created = ensure_settings(connection)
        last = last_outcome(connection, customer_id)
    if known is None:
        click.echo(f"error: no customer with id {customer_id!r}", err=True)
        sys.exit(2)
    if created:
        err.print("no enrichment settings were saved: saved the defaults (all data points on)")
    err.print(f"{customer_id}: website {known[0] or '(none: ' + str(known[1]) + ')'}")
    err.print(f"last enriched: {last[0]:%Y-%m-%d %H:%M} ({last[1]})" if last else "never enriched")
    enabled = ", ".join(
        f"{key} -> {setting.attribute_name}" for key, setting in settings.data_points.items()
        if setting.enabled
    )  # fmt: skip
    err.print(f"settings in force: {enabled}")
    ok = run_pipeline(customer_ids=(customer_id,), enrich_now=True)
    with warehouse.connect() as connection:
        outcome = last_outcome(connection, customer_id)
    if outcome is None or not ok:
        click.echo(f"{customer_id}: the run failed; see the log above", err=True)
        sys.exit(1)
    click.echo(f"{customer_id}: {outcome[1]}" + (f" ({outcome[2]})" if outcome[2] else ""))
    sys.exit(0 if outcome[1] == "enriched" else 1)


@main.command()
@click.argument("customer_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def forget(customer_id: str, yes: bool) -> None:
    """Delete everything held about CUSTOMER_ID (right to deletion)."""
    import getpass

    from enrichment_pipelines.core.forget import ForgetError, forget_customer

    if not yes:
        click.confirm(
            f"Delete every record, page, enrichment, attribute and note of {customer_id}?",
            abort=True,
        )
    warehouse = open_warehouse()
    try:
        with warehouse.transaction() as connection:
            removed = forget_customer(
                connection, customer_id, by=f"enrich forget ({getpass.getuser()})"
            )
    except ForgetError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    # The analysts' copy must not keep what was deleted.
    warehouse.publish_snapshot(analytics_path())
    click.echo(f"forgot {customer_id}: {removed} rows deleted; the ledger keeps anonymous entries")


@main.command()
@click.argument("urls", nargs=-1, required=True)
@click.option("--llm", "use_llm", is_flag=True,
              help="Use the LLM extractor (needs OPENAI_API_KEY; OPENAI_BASE_URL, "
                   "ENRICH_LLM_MODEL) instead of the offline one.")  # fmt: skip
def extract(urls: tuple[str, ...], use_llm: bool) -> None:
    """Read websites and print one JSON object per site (no warehouse, no API key)."""
    from concurrent.futures import ThreadPoolExecutor

    from enrichment_pipelines.core.crawl import CrawlOptions
    from enrichment_pipelines.core.enrichment import extract_one
    from enrichment_pipelines.core.extractors import Extractor
    from enrichment_pipelines.core.extractors.llm import LLMExtractor, llm_options_from_env
    from enrichment_pipelines.core.extractors.rules import RulesExtractor
    from enrichment_pipelines.core.settings import taxonomy_path
    from enrichment_pipelines.core.taxonomy import TaxonomyError, load_taxonomy

    try:
        taxonomy = load_taxonomy(taxonomy_path())
    except TaxonomyError as error:
        raise click.UsageError(str(error)) from error
    extractor: Extractor = RulesExtractor(taxonomy)
    if use_llm:
        options = llm_options_from_env()
        if options is None:
            raise click.UsageError(
                "--llm needs OPENAI_API_KEY (and OPENAI_BASE_URL for a server other than OpenAI)"
            )
        extractor = LLMExtractor(options, taxonomy)
    allowed = allowed_private_networks()
    normalised: dict[str, str] = {}
    results: dict[str, dict[str, Any]] = {}
    for url in urls:
        try:
            normalised[url] = normalise_website(url, allowed_networks=allowed).url
        except WebsiteError as error:
            results[url] = _extract_result(url, "skipped", str(error))
    show_progress = len(normalised) > 1
    done = 0

    def progress(_crawl: object) -> None:
        nonlocal done
        done += 1
        if show_progress:
            err.print(f"crawled {done}/{len(normalised)}", end="\r")

    crawls = {
        crawl.website_url: crawl
        for crawl in crawl_sites(
            list(normalised.values()), CrawlOptions(allowed_networks=allowed), progress
        )
    }
    readable = sorted({site for site, crawl in crawls.items() if crawl.status == "ok"})
    with ThreadPoolExecutor(max_workers=max(1, extractor.concurrency)) as pool:
        extractions = {}
        pending = pool.map(
            lambda site: extract_one(extractor, site, crawls[site].pages, DATA_POINT_KEYS),
            readable,
        )
        for count, (site, extraction) in enumerate(zip(readable, pending, strict=True), 1):
            extractions[site] = extraction
            if show_progress:
                err.print(f"extracted {count}/{len(readable)}", end="\r")
    for url, website_url in normalised.items():
        crawl = crawls[website_url]
        if crawl.status != "ok":
            results[url] = _extract_result(website_url, "failed", crawl.reason)
            continue
        extraction = extractions[website_url]
        found = any(value is not None for value in extraction.data.values())
        reason = extraction.error or (None if found else "no data points found on the site")
        results[url] = _extract_result(
            website_url, "enriched" if found else "failed", reason, extraction
        )
    for url in urls:
        click.echo(json.dumps(results[url], ensure_ascii=False))


def _extract_result(
    website: str, status: str, reason: str | None, extraction: Any = None
) -> dict[str, Any]:
    data = extraction.data if extraction else {}
    return {
        "website": website,
        "status": status,
        "reason": reason,
        "data": {key: data.get(key) for key in DATA_POINT_KEYS},
        "evidence": {
            key: {"url": ev.url, "quote": ev.quote}
            for key, ev in (extraction.evidence.items() if extraction else ())
        },
        "confidence": dict(extraction.confidence) if extraction else {},
    }


@main.command()
@click.option("--sites", default=220, show_default=True, help="How many demo websites to serve.")
@click.option("--home", type=click.Path(path_type=Path), default=None,
              help="Demo warehouse folder (default: ENRICH_HOME/demo, wiped first).")  # fmt: skip
def demo(sites: int, home: Path | None) -> None:
    """Serve bundled company websites on loopback and run the whole pipeline over them."""
    from enrichment_pipelines.core.credits import top_up
    from enrichment_pipelines.core.reports import customer_360_preview
    from enrichment_pipelines.demo import start_demo_sites

    home = (home or enrich_home() / "demo").resolve()
    shutil.rmtree(home, ignore_errors=True)
    (home / "dagster").mkdir(parents=True)
    os.environ["ENRICH_HOME"] = str(home)
    # Run history goes to an embedded SQLite instance, so the UI can show the demo run later.
    os.environ["DAGSTER_HOME"] = str(home / "dagster")
    started = time.monotonic()
    demo_sites = start_demo_sites(sites)
    try:
        count, port = len(demo_sites.companies), demo_sites.server.port
        err.print(f"serving {count} demo websites on 127.0.1.x:{port}")
        customers_csv = demo_sites.write_customers(home / "customers.csv")
        demo_sites.write_expected(home / "expected.json")
        warehouse = open_warehouse(home)
        with warehouse.transaction() as connection:
            balance = top_up(connection, sites, note="demo: enough for every demo customer")
        err.print(
            f"demo workspace topped up to {balance} credits (a new workspace starts with 100)"
        )
        ok = run_pipeline(
            customers_path=customers_csv, source="demo", allowed_private_networks=LOOPBACK
        )
    finally:
        demo_sites.server.stop()
    _print_demo_summary(warehouse, customer_360_preview)
    _print_status()
    click.echo(
        f"demo finished in {time.monotonic() - started:.1f}s\n"
        f"  query it:        duckdb -readonly {analytics_path(home)}\n"
        f"  browse the run:  DAGSTER_HOME={home / 'dagster'} ENRICH_HOME={home} make dev"
    )
    sys.exit(0 if ok else 1)


LOOPBACK = "127.0.0.0/8"  # the demo sites, and nothing else private

DEMO_QUERY = """SELECT industry_category_enriched AS industry, count(*) AS customers,
       round(avg(CASE WHEN is_saas_enriched THEN 1 ELSE 0 END), 2) AS saas_share
FROM customer_360 WHERE last_outcome = 'enriched'
GROUP BY ALL ORDER BY customers DESC LIMIT 8"""


def _print_demo_summary(warehouse: Warehouse, preview: Any) -> None:
    with warehouse.connect() as connection:
        outcomes = connection.execute(
            "SELECT last_outcome, coalesce(last_outcome_reason, ''), count(*) FROM customer_360 "
            "GROUP BY ALL ORDER BY 3 DESC"
        ).fetchall()
        sample = preview(connection, 8)
        query = connection.execute(DEMO_QUERY)
        query_columns = [column[0] for column in query.description]
        query_rows = query.fetchall()
    table = Table(title="Outcomes by record")
    for column in ("outcome", "reason", "records"):
        table.add_column(column)
    for outcome, reason, count in outcomes:
        table.add_row(str(outcome), reason, str(count))
    out.print(table)
    if sample:
        table = Table(title="Sample of enriched customers (customer_360)")
        for column in sample[0]:
            table.add_column(column)
        for row in sample:
            table.add_row(*("" if value is None else str(value) for value in row.values()))
        out.print(table)
    click.echo(f"\nA query over customer_360:\n{DEMO_QUERY}")
    table = Table()
    for column in query_columns:
        table.add_column(column)
    for row in query_rows:
        table.add_row(*(str(value) for value in row))
    out.print(table)
