"""Lets a bench script, run as `.venv/bin/python bench/NAME.py`, import the project's test
helpers (`tests.support`: the labelled set, the production-shaped instance): it puts the
project root on the import path."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
