"""`enrich settings ...`: which data points are enriched, into which attributes, which go
into the note."""

from __future__ import annotations

import click

from enrichment_pipelines.cli.common import (
    DefaultCommandGroup,
    pass_config,
    print_json,
    print_table,
    read_warehouse,
    reporting,
    who,
    write_warehouse,
)
from enrichment_pipelines.core.config import EnrichConfig
from enrichment_pipelines.core.datapoints import DATA_POINTS_BY_KEY
from enrichment_pipelines.core.settings import (
    change_data_point,
    ensure_settings,
    load_settings,
    save_settings,
    settings_history,
    settings_saved,
)


@click.group(name="settings", cls=DefaultCommandGroup, default="show")
def settings_group() -> None:
    """Which data points are enriched, into which attributes, and which go into notes."""


@settings_group.command(name="show")
@reporting
def settings_show(config: EnrichConfig, as_json: bool) -> None:
    """Show the enrichment settings in force."""
    with read_warehouse(config) as connection:
        settings = load_settings(connection)
        saved = settings_saved(connection)
    if settings is None or saved is None:
        click.echo("no settings saved yet: the first run saves the defaults (all data points on)")
        return
    if as_json:
        click.echo(settings.to_json())
        return
    print_table(
        f"Enrichment settings (saved {saved[0]:%Y-%m-%d %H:%M} by {saved[1]})",
        ("data point", "enabled", "attribute", "type", "in note", "min confidence"),
        [
            (
                key,
                _yes(setting.enabled),
                setting.attribute_name,
                DATA_POINTS_BY_KEY[key].type,
                _yes(setting.in_notes),
                f"{setting.min_confidence:g}",
            )
            for key, setting in settings.data_points.items()
        ],
    )


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


@settings_group.command(name="set")
@click.argument("data_point")
@click.option("--enable/--disable", "enabled", default=None, help="Enrich this data point or not.")
@click.option("--attribute", "attribute_name", default=None,
              help="Write it to this custom attribute (new or existing, same type).")  # fmt: skip
@click.option("--note/--no-note", "in_notes", default=None, help="Include it in the note.")
@click.option(
    "--min-confidence", type=float, default=None, metavar="0..1",
    help="Hold back values found with less confidence: the attribute stays unknown and the "
    "value is kept with its evidence for review (0 keeps every value).",
)  # fmt: skip
@pass_config
def settings_set(config: EnrichConfig, data_point: str, enabled: bool | None,
                 attribute_name: str | None, in_notes: bool | None,
                 min_confidence: float | None) -> None:  # fmt: skip
    """Change one data point's settings (the change is validated and audited)."""
    if (enabled, attribute_name, in_notes, min_confidence) == (None, None, None, None):
        raise click.UsageError(
            "nothing to change: give --enable/--disable, --attribute, --note or --min-confidence"
        )
    with write_warehouse(config) as connection:
        current, _ = ensure_settings(connection)
        changed = change_data_point(
            current, data_point, enabled=enabled, attribute_name=attribute_name,
            in_notes=in_notes, min_confidence=min_confidence,
        )  # fmt: skip
        save_settings(connection, changed, updated_by=who("settings set"))
    saved = changed.data_points[data_point]
    click.echo(
        f"saved {data_point}: enabled={saved.enabled}, attribute={saved.attribute_name}, "
        f"in note={saved.in_notes}, min confidence={saved.min_confidence:g}"
    )


@settings_group.command(name="history")
@reporting
def settings_history_command(config: EnrichConfig, as_json: bool) -> None:
    """Who or what changed the settings, when, and what changed (old -> new)."""
    with read_warehouse(config) as connection:
        changes = settings_history(connection)
    if as_json:
        print_json([
            {"when": at, "setting": key, "change": change, "value": value, "by": by}
            for key, value, at, by, change in changes
        ])  # fmt: skip
        return
    # A log rather than a table: a change such as "employee_count.attribute:
    # employee_count_enriched -> headcount_range" does not fit a table cell of an 80-column
    # terminal, and a table cuts long words short.
    click.echo("Settings changes (newest first)")
    for key, _value, at, by, change in changes:
        click.echo(f"{at:%Y-%m-%d %H:%M:%S}  {key}  by {by}")
        if change:  # not recorded for changes made before schema version 8
            click.echo(f"    {change}")
