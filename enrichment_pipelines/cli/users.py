"""`enrich users`: who may use the HTTP API and the staff page (`enrich serve`), and with
which role. The CLI itself acts as the owner: whoever has the shell has the machine."""

from __future__ import annotations

import click

from enrichment_pipelines.cli.common import (
    DefaultCommandGroup,
    pass_config,
    print_table,
    read_warehouse,
    reporting,
    who,
    write_warehouse,
)
from enrichment_pipelines.core.config import EnrichConfig
from enrichment_pipelines.core.users import ROLES, add_user, list_users, revoke_user, rotate_token

_TOKEN_NOTE = "the token is shown only now: the warehouse keeps a salted hash of it"


@click.group(name="users", cls=DefaultCommandGroup, default="list")
def users_group() -> None:
    """Users of the HTTP API and the staff page, their roles and tokens."""


@users_group.command(name="add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES[:-1]), required=True,
              help="staff: read customers, enrich one at a time; admin: also settings, live "
                   "enrichment and batches.")  # fmt: skip
@pass_config
def users_add(config: EnrichConfig, name: str, role: str) -> None:
    """Add a user; prints their API token alone as the last line."""
    with write_warehouse(config) as connection:
        token = add_user(connection, name, role, by=who("users add"))
    click.echo(f"added {name} ({role}); {_TOKEN_NOTE}", err=True)
    click.echo(token)


@users_group.command(name="rotate")
@click.argument("name")
@pass_config
def users_rotate(config: EnrichConfig, name: str) -> None:
    """Give a user a new token (the old one stops working); prints it as the last line."""
    with write_warehouse(config) as connection:
        token = rotate_token(connection, name, by=who("users rotate"))
    click.echo(f"new token for {name}; the old one no longer works; {_TOKEN_NOTE}", err=True)
    click.echo(token)


@users_group.command(name="revoke")
@click.argument("name")
@pass_config
def users_revoke(config: EnrichConfig, name: str) -> None:
    """Revoke a user's token (`rotate` gives them a new one); a running `enrich serve`
    refuses it within its read staleness (a second by default)."""
    with write_warehouse(config) as connection:
        revoke_user(connection, name, by=who("users revoke"))
    click.echo(f"revoked {name}: their token no longer works")


@users_group.command(name="list")
@reporting
def users_list(config: EnrichConfig, as_json: bool) -> None:
    """Users, their roles, and whether their token works."""
    with read_warehouse(config) as connection:
        users = list_users(connection)
    print_table(
        "Users",
        ("name", "role", "created", "by", "token"),
        [
            (user.name, user.role, user.created_at, user.created_by,
             "revoked" if user.revoked_at else "active")
            for user in users
        ],
        as_json=as_json,
    )  # fmt: skip
