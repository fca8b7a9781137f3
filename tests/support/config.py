"""The configuration a test runs with: its environment (the `home` fixture's ENRICH_HOME),
with the loopback test sites allowed."""

from __future__ import annotations

import dataclasses
from typing import Any

from enrichment_pipelines.core.config import EnrichConfig

LOOPBACK = "127.0.0.0/8"


def loopback_config(**overrides: Any) -> EnrichConfig:
    config = EnrichConfig.load()
    crawl = dataclasses.replace(config.crawl, allowed_private_networks=LOOPBACK)
    return dataclasses.replace(config, crawl=crawl, **overrides)


def server_config(**overrides: Any) -> EnrichConfig:
    """`loopback_config` for `enrich serve` whose reads are always current: these tests change
    the warehouse behind the server's back and read at once (tests/test_read_replica.py
    covers reads that may lag)."""
    config = loopback_config()
    serve = dataclasses.replace(config.serve, read_staleness_seconds=0.0)
    return dataclasses.replace(config, serve=serve, **overrides)
