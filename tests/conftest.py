from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from enrichment_pipelines.core.warehouse import Warehouse
from enrichment_pipelines.demo import DemoSites, start_demo_sites


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh ENRICH_HOME for one test."""
    monkeypatch.setenv("ENRICH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("ENRICH_CUSTOMERS_PATH", raising=False)
    return tmp_path / "home"


@pytest.fixture
def warehouse(home: Path) -> Warehouse:
    store = Warehouse(home / "warehouse.duckdb")
    store.migrate()
    return store


@pytest.fixture(scope="session")
def demo_sites() -> Iterator[DemoSites]:
    """40 generated company websites (healthy and faulty) on a real loopback HTTP server."""
    sites = start_demo_sites(40, seed=11)
    yield sites
    sites.server.stop()
