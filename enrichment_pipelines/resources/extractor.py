from __future__ import annotations

from pathlib import Path

import dagster as dg

from enrichment_pipelines.core.extractors import DEFAULT_LLM_MODEL, Extractor
from enrichment_pipelines.core.extractors.rules import RulesExtractor
from enrichment_pipelines.core.taxonomy import DEFAULT_TAXONOMY_PATH, load_taxonomy


class ExtractorResource(dg.ConfigurableResource):
    """Which extractor reads the pages: an LLM behind any OpenAI-compatible endpoint when an
    API key is set (OPENAI_API_KEY, OPENAI_BASE_URL, ENRICH_LLM_MODEL), otherwise the offline
    rules extractor. `taxonomy_path` replaces the default industry taxonomy (ENRICH_TAXONOMY).
    Prices are per million tokens, for the cost recorded per extraction."""

    taxonomy_path: str | None = None
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    llm_model: str = DEFAULT_LLM_MODEL
    llm_concurrency: int = 4
    llm_timeout_seconds: float = 60.0
    llm_max_retries: int = 3
    llm_prompt_token_budget: int = 2500
    llm_input_usd_per_million_tokens: float = 0.15
    llm_output_usd_per_million_tokens: float = 0.60

    def get_extractor(self) -> Extractor:
        path = Path(self.taxonomy_path) if self.taxonomy_path else DEFAULT_TAXONOMY_PATH
        taxonomy = load_taxonomy(path)
        if not self.openai_api_key:
            return RulesExtractor(taxonomy)
        # Imported here: the openai client takes half a second to import, and every run
        # process (one per shard) would pay it even without an API key.
        from enrichment_pipelines.core.extractors.llm import LLMExtractor, LLMOptions

        options = LLMOptions(
            model=self.llm_model,
            api_key=self.openai_api_key,
            base_url=self.openai_base_url or None,
            timeout_seconds=self.llm_timeout_seconds,
            max_retries=self.llm_max_retries,
            concurrency=self.llm_concurrency,
            prompt_token_budget=self.llm_prompt_token_budget,
            input_usd_per_million_tokens=self.llm_input_usd_per_million_tokens,
            output_usd_per_million_tokens=self.llm_output_usd_per_million_tokens,
        )
        return LLMExtractor(options, taxonomy)
