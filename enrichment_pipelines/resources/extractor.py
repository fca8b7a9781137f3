from __future__ import annotations

from pathlib import Path

import dagster as dg

from enrichment_pipelines.core.config import LLMConfig
from enrichment_pipelines.core.extractors import Extractor, build_extractor
from enrichment_pipelines.resources.config_fields import LaunchDefaults, config_values, to_config

API_KEY_VARIABLE = "OPENAI_API_KEY"


class ExtractorResource(dg.ConfigurableResource):
    """Which extractor reads the pages: an LLM behind any OpenAI-compatible endpoint when an
    API key is set (`OPENAI_API_KEY`, `OPENAI_BASE_URL`, `ENRICH_LLM_*`), otherwise the offline
    rules extractor. `taxonomy_path` replaces the default industry taxonomy (ENRICH_TAXONOMY);
    `fingerprints_path` adds a user's technology fingerprints (ENRICH_TECH_FINGERPRINTS).
    Prices are per million tokens, for the cost recorded per extraction."""

    taxonomy_path: str | None = None
    fingerprints_path: str | None = None
    api_key: str = LLMConfig.api_key
    base_url: str = LLMConfig.base_url
    model: str = LLMConfig.model
    input_usd_per_million_tokens: float = LLMConfig.input_usd_per_million_tokens
    output_usd_per_million_tokens: float = LLMConfig.output_usd_per_million_tokens
    timeout_seconds: float = LLMConfig.timeout_seconds
    max_retries: int = LLMConfig.max_retries
    concurrency: int = LLMConfig.concurrency
    prompt_token_budget: int = LLMConfig.prompt_token_budget
    trust_offline_at: float = LLMConfig.trust_offline_at
    max_completion_tokens: int = LLMConfig.max_completion_tokens
    call_deadline_seconds: float = LLMConfig.call_deadline_seconds
    site_deadline_seconds: float = LLMConfig.site_deadline_seconds
    breaker_failures: int = LLMConfig.breaker_failures
    breaker_cooldown_seconds: float = LLMConfig.breaker_cooldown_seconds

    @classmethod
    def from_config(
        cls, llm: LLMConfig, taxonomy_path: Path | None, fingerprints_path: Path | None = None
    ) -> LaunchDefaults[ExtractorResource]:
        values = config_values(llm)
        # The key is read from the environment at run time (dg.EnvVar), so it is never part
        # of stored run or resource config.
        values["api_key"] = dg.EnvVar(API_KEY_VARIABLE) if llm.api_key else ""
        return cls.configure_at_launch(
            **values,
            taxonomy_path=str(taxonomy_path) if taxonomy_path else None,
            fingerprints_path=str(fingerprints_path) if fingerprints_path else None,
        )

    def get_extractor(self) -> Extractor:
        taxonomy = Path(self.taxonomy_path) if self.taxonomy_path else None
        fingerprints = Path(self.fingerprints_path) if self.fingerprints_path else None
        return build_extractor(to_config(self, LLMConfig), taxonomy, fingerprints)
