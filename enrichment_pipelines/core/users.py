"""Who may do what: users with a role and an API token, and the audit trail of their changes.

Roles follow the product this engine follows: owners and admins configure and perform
enrichment; staff may read customers and enrich one record at a time. The CLI acts as the
owner (whoever has the shell has the machine).

A token is shown once, when it is made: the warehouse keeps only a salted hash of it.
Tokens read `ep_<name>_<secret>`, so that a request's token finds its user without comparing
it with every hash; the secret is compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from enrichment_pipelines.core.errors import EnrichError

ROLES: tuple[str, ...] = ("staff", "admin", "owner")  # each may do what the ones before may
TOKEN_PREFIX = "ep"
# No "_" in names: it separates the name from the secret in a token.
_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{0,62}")
_TOKEN = re.compile(rf"{TOKEN_PREFIX}_(?P<name>{_NAME.pattern})_(?P<secret>[A-Za-z0-9_-]{{32,}})")


class UserError(EnrichError, ValueError):
    """A user operation that cannot be done; the message names the user or the role."""


@dataclass(frozen=True)
class User:
    name: str
    role: str
    created_at: datetime
    created_by: str
    rotated_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def actor(self) -> str:
        """How the audit trail names this user."""
        return f"{self.name} ({self.role})"


def allows(role: str, needed: str) -> bool:
    """Whether `role` may do what `needed` may: an owner what an admin may, an admin what
    staff may."""
    return ROLES.index(role) >= ROLES.index(needed)


def _hash(secret: str, salt: str) -> str:
    # Tokens are 256 random bits, so one round of a keyed hash is enough: there is nothing
    # to guess by brute force that a slow hash would protect.
    return hmac.new(salt.encode(), secret.encode(), hashlib.sha256).hexdigest()


def _new_token(connection: duckdb.DuckDBPyConnection, name: str) -> str:
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_hex(16)
    connection.execute(
        "UPDATE users SET token_salt = ?, token_hash = ? WHERE name = ?",
        [salt, _hash(secret, salt), name],
    )
    return f"{TOKEN_PREFIX}_{name}_{secret}"


def add_user(connection: duckdb.DuckDBPyConnection, name: str, role: str, *, by: str) -> str:
    """Create a user (call inside a transaction); returns their API token, shown only now."""
    if not _NAME.fullmatch(name):
        raise UserError(f"user name {name!r}: lower-case letters, digits, '.' or '-', at most 63")
    if role not in ROLES:
        raise UserError(f"role {role!r} is not one of {', '.join(ROLES)}")
    if load_user(connection, name) is not None:
        raise UserError(f"user {name} exists already: use `enrich users rotate {name}`")
    connection.execute(
        "INSERT INTO users (name, role, token_salt, token_hash, created_at, created_by) "
        "VALUES (?, ?, '', '', now(), ?)",
        [name, role, by],
    )
    token = _new_token(connection, name)
    record(connection, actor=by, action="user.add", target=name, detail={"role": role})
    return token


def rotate_token(connection: duckdb.DuckDBPyConnection, name: str, *, by: str) -> str:
    """Give a user a new token (the old one stops working); returns it."""
    user = _existing(connection, name)
    connection.execute(
        "UPDATE users SET rotated_at = now(), revoked_at = NULL WHERE name = ?", [user.name]
    )
    token = _new_token(connection, user.name)
    record(connection, actor=by, action="user.rotate", target=name, detail=None)
    return token


def revoke_user(connection: duckdb.DuckDBPyConnection, name: str, *, by: str) -> None:
    """Stop a user's token from working (the user stays listed, revoked)."""
    user = _existing(connection, name)
    connection.execute("UPDATE users SET revoked_at = now() WHERE name = ?", [user.name])
    record(connection, actor=by, action="user.revoke", target=name, detail=None)


def list_users(connection: duckdb.DuckDBPyConnection) -> list[User]:
    rows = connection.execute(
        "SELECT name, role, created_at, created_by, rotated_at, revoked_at FROM users ORDER BY name"
    ).fetchall()
    return [User(*row) for row in rows]


def load_user(connection: duckdb.DuckDBPyConnection, name: str) -> User | None:
    row = connection.execute(
        "SELECT name, role, created_at, created_by, rotated_at, revoked_at FROM users "
        "WHERE name = ?",
        [name],
    ).fetchone()
    return User(*row) if row else None


def _existing(connection: duckdb.DuckDBPyConnection, name: str) -> User:
    user = load_user(connection, name)
    if user is None:
        raise UserError(f"no user named {name!r}")
    return user


def authenticate(connection: duckdb.DuckDBPyConnection, token: str | None) -> User | None:
    """The active user a token belongs to, or None (malformed, unknown, revoked, rotated)."""
    match = _TOKEN.fullmatch(token or "")
    if match is None:
        return None
    row = connection.execute(
        "SELECT token_salt, token_hash FROM users WHERE name = ? AND revoked_at IS NULL",
        [match.group("name")],
    ).fetchone()
    if row is None or not hmac.compare_digest(_hash(match.group("secret"), row[0]), row[1]):
        return None
    return load_user(connection, match.group("name"))


def record(
    connection: duckdb.DuckDBPyConnection,
    *,
    actor: str,
    action: str,
    target: str | None,
    detail: dict[str, Any] | None,
) -> None:
    """Append one change to the audit trail (call in the transaction that makes it)."""
    connection.execute(
        "INSERT INTO audit_log (happened_at, actor, action, target, detail) "
        "VALUES (now(), ?, ?, ?, ?)",
        [actor, action, target, None if detail is None else json.dumps(detail, default=str)],
    )


def audit_entries(
    connection: duckdb.DuckDBPyConnection, limit: int = 50
) -> list[tuple[datetime, str, str, str | None, str | None]]:
    """The latest audit entries, newest first: (when, actor, action, target, detail JSON)."""
    return connection.execute(
        "SELECT happened_at, actor, action, target, detail FROM audit_log "
        "ORDER BY happened_at DESC LIMIT ?",
        [limit],
    ).fetchall()
