from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from enrichment_pipelines.core.warehouse import Warehouse
from enrichment_pipelines.demo import DemoSites, start_demo_sites
from tests.support.instance import PostgresUnavailable, scratch_database


@pytest.fixture(scope="session", autouse=True)
def machine_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A cache folder of the test session's own (the city index), not the user's: what a
    test run builds or finds there is the code under test's."""
    folder = tmp_path_factory.mktemp("cache")
    before = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(folder)
    yield folder
    if before is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = before


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


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A database of its own on the local PostgreSQL, dropped afterwards. Without PostgreSQL
    the test skips, saying why, except on CI, where it fails."""
    try:
        with scratch_database() as url:
            yield url
    except PostgresUnavailable as error:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required on CI: {error}")
        pytest.skip(f"this test needs PostgreSQL: {error}")


@pytest.fixture(scope="session")
def demo_sites() -> Iterator[DemoSites]:
    """40 generated company websites (healthy and faulty) on a real loopback HTTP server."""
    sites = start_demo_sites(40, seed=11)
    yield sites
    sites.server.stop()
