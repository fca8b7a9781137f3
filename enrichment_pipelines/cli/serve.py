"""`enrich serve`: the HTTP API and the staff page, for users added with `enrich users`."""

from __future__ import annotations

import click

from enrichment_pipelines.cli.common import err, pass_config
from enrichment_pipelines.core.config import EnrichConfig


@click.command(name="serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (put a TLS-terminating proxy in front of anything "
                   "but loopback).")  # fmt: skip
@click.option("--port", default=8000, show_default=True, type=int)
@pass_config
def serve(config: EnrichConfig, host: str, port: int) -> None:
    """Serve the HTTP API (/api/...) and the staff page (/) until stopped."""
    import uvicorn

    from enrichment_pipelines.api import build_app

    err.print(f"serving the API and the staff page on http://{host}:{port}/ (Ctrl-C stops)")
    uvicorn.run(build_app(config), host=host, port=port, log_level="warning")
