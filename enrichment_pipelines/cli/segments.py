"""`enrich segments ...`: saved segments, named filters over customers."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import yaml

from enrichment_pipelines.cli.common import (
    DefaultCommandGroup,
    counted,
    out,
    pass_config,
    print_json,
    print_table,
    read_warehouse,
    reporting,
    who,
    write_warehouse,
)
from enrichment_pipelines.core.config import EnrichConfig
from enrichment_pipelines.core.segments.compiler import (
    parse_segment,
    segment_warnings,
    validate_segment,
)
from enrichment_pipelines.core.segments.store import (
    delete_segment,
    list_segments,
    load_segment,
    membership_summary,
    sample_members,
    save_segment,
)

EXAMPLE = """\
description: SaaS customers in the EU
match:
  all:
    - {field: billing_country_code, op: in, value: [DE, FR, NL]}
    - {field: attributes.is_saas_enriched, op: "=", value: true}"""


def _definition(file: Path | None, match: str | None, description: str | None) -> str:
    """The segment's YAML/JSON text from FILE ('-' for stdin) or --match."""
    if (file is None) == (match is None):
        raise click.UsageError(f"give the definition as FILE or with --match, e.g.\n{EXAMPLE}")
    if file is not None:
        text = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
        if description is None:
            return text
        document = yaml.safe_load(text)
        if isinstance(document, dict):
            document["description"] = description
        return yaml.safe_dump(document)
    return yaml.safe_dump({"description": description or "", "match": yaml.safe_load(match or "")})


@click.group(name="segments", cls=DefaultCommandGroup, default="list")
def segments_group() -> None:
    """Saved segments: named filters over customer fields, tags and attributes."""


def _save(config: EnrichConfig, name: str, file: Path | None, match: str | None,
          description: str | None, create: bool) -> None:  # fmt: skip
    try:
        text = _definition(file, match, description)
    except OSError as error:
        raise click.BadParameter(str(error), param_hint="FILE") from error
    segment = parse_segment(name, text)
    with write_warehouse(config) as connection:
        members = save_segment(
            connection, segment, by=who("segments " + ("create" if create else "edit")),
            create=create,
        )  # fmt: skip
        warnings = segment_warnings(connection, segment)
    click.echo(f"{'created' if create else 'saved'} segment {name}: {_match_now(members)}")
    _warn(warnings)


def _match_now(count: int) -> str:
    return f"{counted(count, 'customer')} {'matches' if count == 1 else 'match'} now"


def _warn(warnings: list[str]) -> None:
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)


definition_file = click.argument(
    "file", required=False, type=click.Path(path_type=Path, allow_dash=True)
)
match_option = click.option(
    "--match", default=None, help="The condition as YAML/JSON instead of FILE."
)


@segments_group.command(name="create")
@click.argument("name")
@definition_file
@match_option
@click.option("--description", default=None)
@pass_config
def segments_create(config: EnrichConfig, name: str, file: Path | None, match: str | None,
                    description: str | None) -> None:  # fmt: skip
    """Save a new segment from FILE (YAML or JSON, '-' for stdin) or --match."""
    _save(config, name, file, match, description, create=True)


@segments_group.command(name="edit")
@click.argument("name")
@definition_file
@match_option
@click.option("--description", default=None)
@pass_config
def segments_edit(config: EnrichConfig, name: str, file: Path | None, match: str | None,
                  description: str | None) -> None:  # fmt: skip
    """Replace a segment's definition (refused while live enrichment targets it)."""
    _save(config, name, file, match, description, create=False)


@segments_group.command(name="list")
@reporting
def segments_list(config: EnrichConfig, as_json: bool) -> None:
    """Saved segments with how many customers match each now."""
    with read_warehouse(config) as connection:
        listings = list_segments(connection)
    if not listings and not as_json:
        click.echo(f"no segments saved yet; create one with `enrich segments create NAME FILE`:\n"
                   f"{EXAMPLE}")  # fmt: skip
        return
    print_table(
        "Segments",
        ("segment", "description", "matching now", "updated"),
        [(s.name, s.description, s.matching_now, s.updated_at) for s in listings],
        as_json=as_json,
    )
    _warn([listing.problem for listing in listings if listing.problem])


@segments_group.command(name="show")
@click.argument("name")
@reporting
def segments_show(config: EnrichConfig, name: str, as_json: bool) -> None:
    """A segment's definition, how many customers match now, and its membership history."""
    with read_warehouse(config) as connection:
        segment = load_segment(connection, name)
        matching = validate_segment(connection, segment)
        summary = membership_summary(connection, name)
        sample = sample_members(connection, segment)
        warnings = segment_warnings(connection, segment)
    if as_json:
        print_json(
            {
                "segment": name,
                "description": segment.description,
                "match": segment.match,
                "matching_now": matching,
                "recorded_members": summary.members,
                "entered_30_days": summary.entered_30_days,
                "left_30_days": summary.left_30_days,
                "warnings": warnings,
            }
        )
        return
    out.print(f"[bold]{name}[/bold]: {segment.description}")
    click.echo(yaml.safe_dump({"match": segment.match}, sort_keys=False).rstrip())
    click.echo(
        f"matching now: {matching}; members at the last refresh: {summary.members}; entered in "
        f"the last 30 days: {summary.entered_30_days}; left in the last 30 days: "
        f"{summary.left_30_days}"
    )
    if sample:
        print_table("Some members", ("customer", "name", "website"), sample)
    _warn(warnings)


@segments_group.command(name="delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_config
def segments_delete(config: EnrichConfig, name: str, yes: bool) -> None:
    """Delete a segment and its membership history (refused while live enrichment targets it)."""
    if not yes:
        click.confirm(f"Delete segment {name} and its membership history?", abort=True)
    with write_warehouse(config) as connection:
        delete_segment(connection, name, by=who("segments delete"))
    click.echo(f"deleted segment {name}")
