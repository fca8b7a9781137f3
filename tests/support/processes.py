"""Other processes that hold a DuckDB file, as a concurrent run or an analyst would."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def other_process_holding(
    path: Path, seconds: float, statement: str = "", *, read_only: bool = False
) -> Iterator[None]:
    """Another process that opens the DuckDB file (for writing, or read-only) and keeps it
    for `seconds`. Either way no other process can write it meanwhile."""
    script = (
        "import duckdb, sys, time;"
        f" c = duckdb.connect(sys.argv[1], read_only={read_only});"
        f" {f'c.execute({statement!r});' if statement else ''}"
        f" print('held', flush=True); time.sleep({seconds}); c.close()"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", script, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield
    finally:
        holder.kill()
        holder.wait()
