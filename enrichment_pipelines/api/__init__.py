"""The HTTP API and the staff page (`enrich serve`): a Starlette app over the same core
functions as the CLI, for users with a role (`core/users.py`).

`build_app(config)` composes the JSON API (`routes.py`, under /api) and the staff page
(`page.py`, at /); `auth.py` says who is asking and what their role allows.
"""

from __future__ import annotations

from starlette.applications import Starlette

from enrichment_pipelines.api import page, routes
from enrichment_pipelines.api.auth import error_handlers
from enrichment_pipelines.core.config import EnrichConfig


def build_app(config: EnrichConfig) -> Starlette:
    app = Starlette(routes=[*routes.ROUTES, *page.ROUTES], exception_handlers=error_handlers())
    app.state.config = config
    return app
