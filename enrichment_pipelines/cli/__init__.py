"""The `enrich` command. Each module holds one command or command group; adding one is a
module here and a line in `COMMANDS`.

This is the CLI's edge: the configuration is read once, here, from the environment and the
settings file, and handed to every command (`pass_config`). Errors a user can fix
(`EnrichError`) are printed once, here, as `error: ...` with exit status 2.
"""

from __future__ import annotations

import os
from typing import Any

import click

from enrichment_pipelines.cli import (
    credits,
    demo,
    extract,
    forget,
    imports,
    live,
    push,
    quality,
    runs,
    segments,
    serve,
    settings,
    users,
    workspace,
)
from enrichment_pipelines.cli.common import CliError
from enrichment_pipelines.core.config import EnrichConfig
from enrichment_pipelines.core.errors import EnrichError

COMMANDS: list[click.Command] = [
    workspace.init,
    workspace.status,
    workspace.config_group,
    imports.import_group,
    push.push_group,
    runs.run,
    runs.customer,
    runs.batch,
    settings.settings_group,
    credits.credits_group,
    quality.quality,
    forget.forget,
    extract.extract,
    segments.segments_group,
    live.live_group,
    demo.demo,
    users.users_group,
    serve.serve,
]


class EnrichGroup(click.Group):
    """Turns every `EnrichError` raised below into one clear message and exit status 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except EnrichError as error:
            raise CliError(str(error)) from error


@click.group(cls=EnrichGroup)
@click.version_option(package_name="enrichment-pipelines")
@click.pass_context
def main(context: click.Context) -> None:
    """Enrich customer records with facts read from each customer's own website."""
    try:
        context.obj = EnrichConfig.load(os.environ)
    except EnrichError as error:
        raise CliError(str(error)) from error


for command in COMMANDS:
    main.add_command(command)
