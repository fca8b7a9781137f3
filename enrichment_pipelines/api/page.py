"""The staff page at /: server-rendered HTML (Jinja2 templates, escaped by default), plain
forms and links, no JavaScript and no build step.

Staff sign in by pasting their API token: it is kept in an HttpOnly, SameSite=Strict session
cookie and checked against the warehouse on every request (`auth.py`), so revoking or rotating
it ends the session at once. Signed in, they search customers, read each one's enriched values
with their evidence, and "Enrich now" one record for one credit, audited as the API's
enrichment is. Admins and owners also see the settings and live enrichment.

Every form post must come from this page: it carries a CSRF token (an HMAC of the session
token, which a cross-site form cannot compute), and an Origin or Referer naming another site
is refused, on top of the SameSite=Strict cookie a cross-site post is not sent with.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from enrichment_pipelines.api.actions import enrich_customer_now
from enrichment_pipelines.api.auth import (
    SESSION_COOKIE,
    ApiError,
    Endpoint,
    config_of,
    current_user,
    requires,
    token_of,
    user_for_token,
)
from enrichment_pipelines.api.store import Connection, read, replica_of
from enrichment_pipelines.core.credits import balance
from enrichment_pipelines.core.customer_pages import (
    CustomerDetail,
    customer_detail,
    search_customers,
)
from enrichment_pipelines.core.settings import (
    EnrichmentSettings,
    load_live_settings,
    load_settings,
    settings_in_force,
)
from enrichment_pipelines.core.status import customer_website, workspace_status
from enrichment_pipelines.core.users import User, allows

# No script may run (there is none), nothing may frame the page (a hidden "Enrich now" under
# someone's click), forms post only here, customer data is not cached, and evidence links to
# other sites do not tell them where they were followed from.
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def csrf_token(session_token: str) -> str:
    """The token every form of a session carries: a MAC keyed by the session's own token, which
    another site cannot read (the cookie is HttpOnly), so it cannot compute this either. Keyed by
    the session rather than a server secret, every process of `enrich serve --workers` and a
    restarted server agree on it, and it ends with the session (revoke, rotate)."""
    return hmac.new(session_token.encode(), b"staff-page-form", hashlib.sha256).hexdigest()


def customer_path(customer_id: str, action: str = "") -> str:
    """The page of a customer (ids hold ':' and may hold '/': every byte is quoted)."""
    return f"/customers/{quote(customer_id, safe='')}{action}"


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "never"


def _web_link(url: str | None) -> str | None:
    """`url` when it may be a link: a web address, never `javascript:` or the like."""
    return url if url and urlsplit(url).scheme in ("http", "https") else None


def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("enrichment_pipelines.api", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=StrictUndefined,  # a misspelt name fails the test, not shows as blank
    )
    environment.filters.update(when=_when, web_link=_web_link, customer_path=customer_path)
    return environment


_TEMPLATES = Jinja2Templates(env=_environment())


def _render(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    defaults = {"user": None, "csrf_token": None}
    return _TEMPLATES.TemplateResponse(
        request, template, {**defaults, **context}, status_code=status_code, headers=_HEADERS
    )


def _signed_in(request: Request, user: User) -> dict[str, Any]:
    """What every page of a signed-in user needs (the header's sign-out form)."""
    token = token_of(request)
    assert token is not None  # the user was found by it
    return {"user": user, "csrf_token": csrf_token(token)}


def _refusal(request: Request, error: ApiError) -> Response:
    """An ApiError as the page shows it: not signed in (or no longer) goes to the sign-in
    form; anything else is a page saying why."""
    if error.status == 401:
        return RedirectResponse("/", status_code=303)
    return _render(request, "error.html", {"message": error.message}, error.status)


def _page(role: str) -> Callable[[Endpoint], Callable[[Request], Awaitable[Response]]]:
    """A page endpoint for users of `role` or above, checked as the API's are (`requires`),
    its refusals answered in HTML."""

    def decorate(endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
        checked = requires(role)(endpoint)

        @functools.wraps(endpoint)
        async def shown(request: Request) -> Response:
            try:
                return await checked(request)
            except ApiError as error:
                return _refusal(request, error)

        return shown

    return decorate


def _same_site(request: Request) -> bool:
    """Whether the browser says the request comes from this server's pages, or says nothing.
    Host and port are compared, not the scheme: behind a TLS-terminating proxy this server may
    see http where the browser says https."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if source is None:
        return True
    return urlsplit(source).netloc.lower() == request.headers.get("host", "").lower()


async def _posted_form(request: Request) -> FormData:
    """A signed-in user's form post, once it is shown to come from their session's page."""
    if not _same_site(request):
        raise ApiError(403, "this form was sent from another site")
    form = await request.form()
    sent = form.get("csrf_token")
    token = token_of(request)
    if not (
        token
        and isinstance(sent, str)
        and hmac.compare_digest(sent.encode(), csrf_token(token).encode())
    ):
        raise ApiError(403, "the form's CSRF token is missing or wrong: reload the page")
    return form


# Sign-in and sign-out.


def _sign_in_form(
    request: Request, *, notice: str | None = None, error: str | None = None, status: int = 200
) -> Response:
    return _render(request, "sign_in.html", {"notice": notice, "error": error}, status)


async def home(request: Request) -> Response:
    """The search (signed in), else the sign-in form."""
    user = await current_user(request)
    if user is None:
        if SESSION_COOKIE not in request.cookies:
            return _sign_in_form(request)
        response = _sign_in_form(
            request, notice="Your session has ended (its token was revoked or rotated)."
        )
        _forget_session(request, response)
        return response
    return await _search(request, user)


async def sign_in(request: Request) -> Response:
    if not _same_site(request):
        return _refusal(request, ApiError(403, "this form was sent from another site"))
    form = await request.form()
    token = str(form.get("token") or "").strip()
    user = await user_for_token(request, token)
    if user is None:
        return _sign_in_form(request, error="token not recognised", status=401)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(SESSION_COOKIE, token, **_cookie_flags(request))
    return response


@_page("staff")
async def sign_out(request: Request, user: User) -> Response:
    await _posted_form(request)
    response = RedirectResponse("/", status_code=303)
    _forget_session(request, response)
    return response


def _cookie_flags(request: Request) -> dict[str, Any]:
    # Secure where the browser reached us over https (directly, or through a proxy that says
    # so): a cookie marked Secure would never come back over plain http on loopback.
    secure = request.url.scheme == "https"
    return {"httponly": True, "samesite": "strict", "secure": secure, "path": "/"}


def _forget_session(request: Request, response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, **_cookie_flags(request))


# Search and the admins' view of the workspace.


def _search_view(connection: Connection, query: str, admin: bool) -> dict[str, Any]:
    view: dict[str, Any] = {"result": search_customers(connection, query)}
    if admin:
        saved = load_settings(connection)
        view.update(
            status=workspace_status(connection),
            settings=saved or EnrichmentSettings.defaults(),
            settings_saved=saved is not None,
            live=load_live_settings(connection),
        )
    return view


async def _search(request: Request, user: User) -> Response:
    query = request.query_params.get("query", "").strip()
    admin = allows(user.role, "admin")
    view = await read(request, lambda connection: _search_view(connection, query, admin))
    return _render(
        request, "home.html", {**_signed_in(request, user), **view, "query": query, "admin": admin}
    )


# A customer, and "Enrich now".


def _customer_view(connection: Connection, customer_id: str) -> tuple[CustomerDetail, int] | None:
    detail = customer_detail(connection, customer_id, settings_in_force(connection))
    return (detail, balance(connection)) if detail else None


# What `?enriched=` after "Enrich now" says above the customer.
_AFTER_ENRICH = {
    "now": "Enrichment finished: the outcome is below.",
    "failed": "The enrichment run failed before it recorded an outcome for this customer; "
    "the server's log says why.",
}


@_page("staff")
async def customer_page(request: Request, user: User) -> Response:
    customer_id = request.path_params["customer_id"]
    view = await read(request, lambda connection: _customer_view(connection, customer_id))
    if view is None:
        raise ApiError(404, f"no customer with id {customer_id!r}")
    customer, credits = view
    context = {
        **_signed_in(request, user),
        "customer": customer,
        "balance": credits,
        "notice": _AFTER_ENRICH.get(request.query_params.get("enriched", "")),
    }
    return _render(request, "customer.html", context)


@_page("staff")
async def enrich_now(request: Request, user: User) -> Response:
    await _posted_form(request)
    customer_id = request.path_params["customer_id"]
    if await read(request, lambda connection: customer_website(connection, customer_id)) is None:
        raise ApiError(404, f"no customer with id {customer_id!r}")
    outcome = await run_in_threadpool(
        enrich_customer_now, config_of(request), replica_of(request), customer_id, user
    )
    after = "now" if outcome else "failed"
    return RedirectResponse(customer_path(customer_id, f"?enriched={after}"), status_code=303)


ROUTES: list[BaseRoute] = [
    Route("/", home, methods=["GET"]),
    Route("/sign-in", sign_in, methods=["POST"]),
    Route("/sign-out", sign_out, methods=["POST"]),
    Route("/customers/{customer_id:path}/enrich", enrich_now, methods=["POST"]),
    Route("/customers/{customer_id:path}", customer_page, methods=["GET"]),
]
