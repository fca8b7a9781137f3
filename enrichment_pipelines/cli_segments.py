"""`enrich segments ...` and `enrich live ...`: saved segments and live enrichment."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

import click
import yaml

from enrichment_pipelines.cli_support import err, open_warehouse, out, print_table
from enrichment_pipelines.core.segments import (
    SegmentError,
    delete_segment,
    list_segments,
    load_segment,
    membership_summary,
    parse_segment,
    sample_members,
    save_segment,
    segment_warnings,
    validate_segment,
)

EXAMPLE = """\
description: SaaS customers in the EU
match:
  all:
    - {field: billing_country_code, op: in, value: [DE, FR, NL]}
    - {field: attributes.is_saas_enriched, op: "=", value: true}"""


def _who(command: str) -> str:
    return f"enrich {command} ({getpass.getuser()})"


def _fail(error: Exception) -> None:
    click.echo(f"error: {error}", err=True)
    sys.exit(2)


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


@click.group(name="segments", invoke_without_command=True)
@click.pass_context
def segments_group(context: click.Context) -> None:
    """Saved segments: named filters over customer fields, tags and attributes."""
    if context.invoked_subcommand is None:
        context.invoke(segments_list)


def _save(name: str, file: Path | None, match: str | None, description: str | None,
          create: bool) -> None:  # fmt: skip
    try:
        segment = parse_segment(name, _definition(file, match, description))
        with open_warehouse().transaction() as connection:
            members = save_segment(
                connection, segment, by=_who("segments " + ("create" if create else "edit")),
                create=create,
            )  # fmt: skip
            warnings = segment_warnings(connection, segment)
    except (SegmentError, OSError) as error:
        _fail(error)
    click.echo(f"{'created' if create else 'saved'} segment {name}: {members} customers match now")
    _warn(warnings)


def _warn(warnings: list[str]) -> None:
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)


@segments_group.command(name="create")
@click.argument("name")
@click.argument("file", required=False, type=click.Path(path_type=Path, allow_dash=True))
@click.option("--match", default=None, help="The condition as YAML/JSON instead of FILE.")
@click.option("--description", default=None)
def segments_create(
    name: str, file: Path | None, match: str | None, description: str | None
) -> None:
    """Save a new segment from FILE (YAML or JSON, '-' for stdin) or --match."""
    _save(name, file, match, description, create=True)


@segments_group.command(name="edit")
@click.argument("name")
@click.argument("file", required=False, type=click.Path(path_type=Path, allow_dash=True))
@click.option("--match", default=None, help="The condition as YAML/JSON instead of FILE.")
@click.option("--description", default=None)
def segments_edit(name: str, file: Path | None, match: str | None, description: str | None) -> None:
    """Replace a segment's definition (refused while live enrichment targets it)."""
    _save(name, file, match, description, create=False)


@segments_group.command(name="list")
def segments_list() -> None:
    """Saved segments with their members at the last membership refresh."""
    with open_warehouse().connect() as connection:
        rows = list_segments(connection)
    if not rows:
        click.echo(f"no segments saved yet; create one with `enrich segments create NAME FILE`:\n"
                   f"{EXAMPLE}")  # fmt: skip
        return
    print_table(
        "Segments",
        ("segment", "description", "members (last refresh)", "updated"),
        [
            (name, text, members, f"{updated:%Y-%m-%d %H:%M}")
            for name, text, members, updated in rows
        ],
    )


@segments_group.command(name="show")
@click.argument("name")
def segments_show(name: str) -> None:
    """A segment's definition, how many customers match now, and its membership history."""
    try:
        with open_warehouse().connect() as connection:
            segment = load_segment(connection, name)
            matching = validate_segment(connection, segment)
            summary = membership_summary(connection, name)
            sample = sample_members(connection, segment)
            warnings = segment_warnings(connection, segment)
    except SegmentError as error:
        _fail(error)
    out.print(f"[bold]{name}[/bold]: {segment.description}")
    click.echo(yaml.safe_dump({"match": segment.match}, sort_keys=False).rstrip())
    click.echo(
        f"matching now: {matching}; recorded members: {summary.members}; entered in the last "
        f"30 days: {summary.entered_30_days}; left in the last 30 days: {summary.left_30_days}"
    )
    if sample:
        print_table("Some members", ("customer", "name", "website"), sample)
    _warn(warnings)


@segments_group.command(name="delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def segments_delete(name: str, yes: bool) -> None:
    """Delete a segment and its membership history (refused while live enrichment targets it)."""
    if not yes:
        click.confirm(f"Delete segment {name} and its membership history?", abort=True)
    try:
        with open_warehouse().transaction() as connection:
            delete_segment(connection, name, by=_who("segments delete"))
    except SegmentError as error:
        _fail(error)
    click.echo(f"deleted segment {name}")


@click.group(name="live")
def live_group() -> None:
    """Live enrichment: new customers within minutes, segment entrants every six hours."""


@live_group.command(name="on")
@click.option("--target", default="all", show_default=True,
              help="'all' customers or a saved segment's name.")  # fmt: skip
def live_on(target: str) -> None:
    """Turn live enrichment on (the Dagster daemon's sensors do the work)."""
    from enrichment_pipelines.core.live import turn_live_on

    try:
        with open_warehouse().transaction() as connection:
            turned = turn_live_on(connection, target, by=_who("live on"))
    except SegmentError as error:
        _fail(error)
    click.echo(f"live enrichment on, target: {target}")
    if turned.baseline is not None:
        click.echo(f"{turned.baseline.members} customers are in {target} now; those who enter it "
                   "from now on are picked up by the six-hourly check")  # fmt: skip
    click.echo("new customers in the target are picked up within a minute of their import")
    if turned.not_enriched:
        batch = "enrich batch" + ("" if target == "all" else f" --segment {target}")
        err.print(
            f"{turned.not_enriched} of the {turned.in_target} customers in the target now were "
            f"never enriched: live leaves them alone; `{batch}` enriches them"
        )


@live_group.command(name="off")
def live_off() -> None:
    """Turn live enrichment off (runs already requested still finish)."""
    from enrichment_pipelines.core.live import turn_live_off

    with open_warehouse().transaction() as connection:
        turn_live_off(connection, by=_who("live off"))
    click.echo("live enrichment off")
