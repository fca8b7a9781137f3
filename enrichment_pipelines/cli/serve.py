"""`enrich serve`: the HTTP API and the staff page, for users added with `enrich users`."""

from __future__ import annotations

import click

from enrichment_pipelines.cli.common import CliError, err, open_warehouse, pass_config
from enrichment_pipelines.core.config import EnrichConfig


@click.command(name="serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (put a TLS-terminating proxy in front of anything "
                   "but loopback).")  # fmt: skip
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", type=int, default=None,
              help="Server processes (default: serve.workers, ENRICH_SERVE_WORKERS).")  # fmt: skip
@pass_config
def serve(config: EnrichConfig, host: str, port: int, workers: int | None) -> None:
    """Serve the HTTP API (/api/...) and the staff page (/) until stopped."""
    import uvicorn

    workers = config.serve.workers if workers is None else workers
    if workers < 1:
        raise CliError(f"--workers must be 1 or more, not {workers}")
    open_warehouse(config)  # created now if new, not by each process at once
    processes = "1 process" if workers == 1 else f"{workers} processes"
    err.print(
        f"serving the API and the staff page on http://{host}:{port}/ with {processes} "
        "(Ctrl-C stops)"
    )
    # Each process builds the app itself from the environment `config` was read from.
    uvicorn.run(
        "enrichment_pipelines.api:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
    )
