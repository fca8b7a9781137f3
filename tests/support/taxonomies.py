"""The default taxonomy renamed to codes that mean nothing and reshuffled: does a user's own
taxonomy work without retraining? Used by the tests and by `bench/accuracy.py
--renamed-taxonomy`."""

from __future__ import annotations

import random

import yaml

from enrichment_pipelines.core.taxonomy import DEFAULT_TAXONOMY_PATH


def renamed_default_taxonomy() -> tuple[dict[str, object], dict[str, str]]:
    """The default taxonomy's document with every category and subcategory renamed to a code
    that means nothing ("Sector 07", "Sector 07 segment 2") and their order shuffled; with each
    old name's new one. Its descriptions and keywords are all that is left to go by."""
    document = yaml.safe_load(DEFAULT_TAXONOMY_PATH.read_text(encoding="utf-8"))
    rng = random.Random(7)
    names: dict[str, str] = {}
    rng.shuffle(document["categories"])
    for number, category in enumerate(document["categories"], start=1):
        names[category["name"]] = category["name"] = f"Sector {number:02d}"
        rng.shuffle(category["subcategories"])
        for position, sub in enumerate(category["subcategories"], start=1):
            assert sub["name"] not in names, sub["name"]  # subcategory names are unique
            names[sub["name"]] = sub["name"] = f"Sector {number:02d} segment {position}"
    return document, names
