"""Time `enrich demo` end to end (fresh demo warehouse) and print its peak memory.

Usage: .venv/bin/python bench/demo.py [--sites N]
The issue's target: under 3 minutes after install for the default 220 sites.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", type=int, default=220)
    args = parser.parse_args()
    enrich = Path(sys.executable).with_name("enrich")
    with tempfile.TemporaryDirectory() as home:
        started = time.monotonic()
        completed = subprocess.run(
            [str(enrich), "demo", "--sites", str(args.sites), "--home", home],
            capture_output=True,
            text=True,
        )
        elapsed = time.monotonic() - started
    if completed.returncode != 0:
        print(completed.stdout[-2000:], completed.stderr[-4000:], sep="\n")
        raise SystemExit(f"enrich demo failed with exit code {completed.returncode}")
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"demo sites:        {args.sites}")
    print(f"wall time:         {elapsed:.1f} s  (target < 180 s)")
    print(f"sites per second:  {args.sites / elapsed:.1f}")
    print(f"peak memory (RSS): {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
