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
