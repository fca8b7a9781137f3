"""The HTTP API and the staff page (`enrich serve`): a Starlette app over the same core
functions as the CLI, for users with a role (`core/users.py`).

`build_app(config)` composes the JSON API (`routes.py`, under /api) and the staff page
(`page.py`, at /); `auth.py` says who is asking and what their role allows; `store.py` is how
both reach the warehouse.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import anyio.to_thread
from starlette.applications import Starlette

from enrichment_pipelines.api import page, routes
from enrichment_pipelines.api.auth import error_handlers
from enrichment_pipelines.api.store import open_replica
from enrichment_pipelines.core.config import EnrichConfig

READ_THREADS = 8


def app_from_environment() -> Starlette:
    """The app of one `enrich serve --workers` process, configured as `enrich` is (each
    process is started apart, by uvicorn, so each reads the same environment)."""
    return build_app(EnrichConfig.load())


def build_app(config: EnrichConfig) -> Starlette:
    replica = open_replica(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Reads are short, and Python runs one thread at a time: a few threads answer more
        # than many, which would only take turns with the event loop (anyio's default is 40).
        anyio.to_thread.current_default_thread_limiter().total_tokens = READ_THREADS
        yield
        replica.close()

    app = Starlette(
        routes=[*routes.ROUTES, *page.ROUTES],
        exception_handlers=error_handlers(),
        lifespan=lifespan,
    )
    app.state.config = config
    app.state.replica = replica
    return app
