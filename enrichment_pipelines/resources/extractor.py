from __future__ import annotations

from pathlib import Path

import dagster as dg

from enrichment_pipelines.core.extractors import Extractor
from enrichment_pipelines.core.extractors.rules import RulesExtractor
from enrichment_pipelines.core.taxonomy import DEFAULT_TAXONOMY_PATH, load_taxonomy


class ExtractorResource(dg.ConfigurableResource):
    """Which extractor reads the pages (the offline rules extractor by default)."""

    taxonomy_path: str | None = None

    def get_extractor(self) -> Extractor:
        path = Path(self.taxonomy_path) if self.taxonomy_path else DEFAULT_TAXONOMY_PATH
        return RulesExtractor(load_taxonomy(path))
