"""Users, roles and tokens (`core/users.py`, `enrich users`): a token is shown once and kept
only as a salted hash; revoking or rotating stops the old one at once; every change is audited."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from enrichment_pipelines.cli import main
from enrichment_pipelines.core.users import (
    UserError,
    add_user,
    allows,
    audit_entries,
    authenticate,
    revoke_user,
    rotate_token,
)
from enrichment_pipelines.core.warehouse import Warehouse


def test_roles_include_the_ones_below() -> None:
    assert allows("owner", "admin") and allows("admin", "staff") and allows("staff", "staff")
    assert not allows("staff", "admin") and not allows("admin", "owner")


def test_a_token_authenticates_until_revoked_and_a_rotated_one_replaces_it(
    warehouse: Warehouse,
) -> None:
    with warehouse.transaction() as connection:
        token = add_user(connection, "alice", "staff", by="test")
    with warehouse.connect(read_only=True) as connection:
        user = authenticate(connection, token)
        assert user is not None and (user.name, user.role) == ("alice", "staff")
        stored = connection.execute("SELECT token_hash, token_salt FROM users").fetchone()
    assert stored is not None and token.split("_")[-1] not in stored  # a salted hash only
    with warehouse.transaction() as connection:
        new_token = rotate_token(connection, "alice", by="test")
    with warehouse.connect(read_only=True) as connection:
        assert authenticate(connection, token) is None  # the old one stops at once
        assert authenticate(connection, new_token) is not None
    with warehouse.transaction() as connection:
        revoke_user(connection, "alice", by="test")
    with warehouse.connect(read_only=True) as connection:
        assert authenticate(connection, new_token) is None
        actions = [(action, target) for _, _, action, target, _ in audit_entries(connection)]
    assert actions == [("user.revoke", "alice"), ("user.rotate", "alice"), ("user.add", "alice")]


@pytest.mark.parametrize(
    "token",
    [None, "", "ep_alice_short", "ep_bob_" + "x" * 43, "Bearer something", "ep_alice_" + "y" * 43],
)
def test_malformed_or_unknown_tokens_do_not_authenticate(
    warehouse: Warehouse, token: str | None
) -> None:
    with warehouse.transaction() as connection:
        add_user(connection, "alice", "admin", by="test")
    with warehouse.connect(read_only=True) as connection:
        assert authenticate(connection, token) is None


@pytest.mark.parametrize(
    ("name", "role", "message"),
    [
        ("Alice Smith", "staff", "lower-case letters"),
        ("al_ice", "staff", "lower-case letters"),
        ("bob", "root", "role 'root' is not one of staff, admin, owner"),
    ],
)
def test_bad_names_and_roles_are_refused(
    warehouse: Warehouse, name: str, role: str, message: str
) -> None:
    with warehouse.transaction() as connection, pytest.raises(UserError, match=message):
        add_user(connection, name, role, by="test")


def test_enrich_users_prints_the_token_alone_as_its_last_line(home: Path) -> None:
    added = CliRunner().invoke(main, ["users", "add", "carol", "--role", "admin"])
    assert added.exit_code == 0, added.output
    token = added.stdout.strip().splitlines()[-1]
    assert token.startswith("ep_carol_") and " " not in token
    assert "shown only now" in added.stderr
    again = CliRunner().invoke(main, ["users", "add", "carol", "--role", "staff"])
    assert again.exit_code == 2 and "user carol exists already" in again.stderr
    rotated = CliRunner().invoke(main, ["users", "rotate", "carol"])
    assert rotated.exit_code == 0 and rotated.stdout.strip() != token
    revoked = CliRunner().invoke(main, ["users", "revoke", "carol"])
    assert revoked.exit_code == 0
    listed = CliRunner().invoke(main, ["users", "list", "--json"])
    assert '"token": "revoked"' in listed.stdout
    unknown = CliRunner().invoke(main, ["users", "revoke", "dave"])
    assert unknown.exit_code == 2 and "no user named 'dave'" in unknown.stderr
    owner = CliRunner().invoke(main, ["users", "add", "erin", "--role", "owner"])
    assert owner.exit_code == 2  # owners are whoever has the shell: not handed out as tokens
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as connection:
        actors = {
            actor for (actor,) in connection.execute("SELECT actor FROM audit_log").fetchall()
        }
    assert actors and all(actor.startswith("enrich users ") for actor in actors)
