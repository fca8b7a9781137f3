"""Who is asking, and what their role allows.

The API takes `Authorization: Bearer <token>`; the staff page keeps the token in an HttpOnly,
SameSite=Strict cookie after sign-in. Either way the token is checked against the warehouse's
salted hash on every request, in the server's copy of the warehouse (`api/store.py`): a token
revoked or rotated with `enrich users` stops working as soon as the copy is taken again
(`serve.read_staleness_seconds`, a second by default).

    @requires("admin")
    async def endpoint(request: Request, user: User) -> Response: ...

No token, or one that is unknown, revoked or malformed: 401. A role below the one needed:
403. `ApiError` carries any other refusal (404, 409, 422) as JSON `{"error": ..., "field": ...}`.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from enrichment_pipelines.api.store import read, replica_of
from enrichment_pipelines.core.config import EnrichConfig
from enrichment_pipelines.core.errors import EnrichError
from enrichment_pipelines.core.users import User, allows, authenticate

SESSION_COOKIE = "enrich_session"

Endpoint = Callable[[Request, User], Awaitable[Response]]


class ApiError(Exception):
    """A refusal with its HTTP status, and the request field it is about, if any."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.field = status, message, field


def config_of(request: Request) -> EnrichConfig:
    config: EnrichConfig = request.app.state.config
    return config


def token_of(request: Request) -> str | None:
    """The bearer token of an API request, else the staff page's session cookie."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(SESSION_COOKIE)


async def user_for_token(request: Request, token: str | None) -> User | None:
    """The active user `token` belongs to, or None."""
    if not token:
        return None
    # Kept with the copy, by the token's digest: a token is checked once per copy, not per
    # request, and no token is kept in memory in the clear.
    key = ("user", hashlib.sha256(token.encode()).hexdigest())
    found, user = replica_of(request).remembered(key)
    if found:
        return user  # type: ignore[no-any-return]  # kept by the read below
    if not replica_of(request).warehouse.path.exists():
        return None  # nobody can have a token yet
    return await read(request, lambda connection: authenticate(connection, token), key=key)


async def current_user(request: Request) -> User | None:
    """The active user the request's token belongs to, or None."""
    return await user_for_token(request, token_of(request))


def requires(role: str) -> Callable[[Endpoint], Callable[[Request], Awaitable[Response]]]:
    """An endpoint for users of `role` or above; it receives the user."""

    def decorate(endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
        @functools.wraps(endpoint)
        async def checked(request: Request) -> Response:
            user = await current_user(request)
            if user is None:
                raise ApiError(401, "a valid token is required (Authorization: Bearer <token>)")
            if not allows(user.role, role):
                raise ApiError(403, f"{user.role} may not do this: it needs {role} or above")
            return await endpoint(request, user)

        return checked

    return decorate


async def _api_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, ApiError)
    body: dict[str, Any] = {"error": error.message}
    if error.field is not None:
        body["field"] = error.field
    headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
    return JSONResponse(body, status_code=error.status, headers=headers)


async def _user_error(request: Request, error: Exception) -> Response:
    """A core refusal (unknown customer, bad setting, ...) is the user's to fix: 422."""
    return JSONResponse({"error": str(error)}, status_code=422)


def error_handlers() -> dict[Any, Callable[[Request, Exception], Awaitable[Response]]]:
    return {ApiError: _api_error, EnrichError: _user_error}
