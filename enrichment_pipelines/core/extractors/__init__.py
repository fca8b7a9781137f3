"""Extractors turn a crawled site into data points with evidence and confidence.

Every extractor returns an `Extraction` whose values have passed the data point registry's
validation (an invalid value is recorded as a problem and left unknown) and whose evidence has
passed `evidence.verify_evidence`: a value stays only if its quote really occurs on the page
it cites and supports it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from enrichment_pipelines.core.config import LLMConfig
from enrichment_pipelines.core.crawl import Page
from enrichment_pipelines.core.datapoints import DATA_POINTS_BY_KEY

Value = str | bool | int | None


@dataclass(frozen=True)
class Evidence:
    url: str
    quote: str


@dataclass
class Usage:
    """What an extraction cost: LLM calls and tokens (zero for the offline extractor)."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0

    def add(self, other: Usage) -> None:
        self.calls += other.calls
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.cost_usd += other.cost_usd


@dataclass
class Extraction:
    data: dict[str, Value] = field(default_factory=dict)
    evidence: dict[str, Evidence] = field(default_factory=dict)
    confidence: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    # Set when the extraction could not be made (e.g. the LLM was unreachable): such a result
    # is not reused, so the next run tries again.
    error: str | None = None
    # What lies behind a value, by data point: the technologies detected (each with its
    # categories, version and evidence), the job board of the open roles.
    details: dict[str, Any] = field(default_factory=dict)

    def set(self, key: str, value: object, evidence: Evidence, confidence: float) -> None:
        """Record a value for `key` after validating it against the registry."""
        valid, problem = DATA_POINTS_BY_KEY[key].validate(value)
        if problem:
            self.problems.append(problem)
        if valid is None:
            return
        self.data[key] = valid
        self.evidence[key] = Evidence(evidence.url, evidence.quote[:300])
        self.confidence[key] = round(max(0.0, min(1.0, confidence)), 2)

    def drop(self, key: str, problem: str | None = None) -> None:
        for store in (self.data, self.evidence, self.confidence, self.details):
            store.pop(key, None)
        if problem:
            self.problems.append(problem)

    def merge(self, other: Extraction) -> None:
        """Take `other`'s values (replacing any of the same keys), details and problems."""
        for key, value in other.data.items():
            self.drop(key)
            self.data[key] = value
            self.evidence[key] = other.evidence[key]
            self.confidence[key] = other.confidence[key]
        self.details.update(other.details)
        self.problems.extend(other.problems)

    def subset(self, keys: Sequence[str]) -> Extraction:
        """A new extraction of `keys` alone: their values, details and problems."""
        return Extraction(
            data={key: value for key, value in self.data.items() if key in keys},
            evidence={key: value for key, value in self.evidence.items() if key in keys},
            confidence={key: value for key, value in self.confidence.items() if key in keys},
            problems=[problem for problem in self.problems if problem.split(":")[0] in keys],
            details={key: value for key, value in self.details.items() if key in keys},
        )

    def keep_only(self, keys: Sequence[str]) -> None:
        for key in [key for key in {*self.data, *self.details} if key not in keys]:
            self.drop(key)

    def to_json(self) -> str:
        return json.dumps(
            {
                "data": self.data,
                "evidence": {key: asdict(ev) for key, ev in self.evidence.items()},
                "confidence": self.confidence,
                "problems": self.problems,
                "usage": asdict(self.usage),
                "error": self.error,
                "details": self.details,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> Extraction:
        document = json.loads(text)
        return cls(
            data=document["data"],
            evidence={key: Evidence(**ev) for key, ev in document["evidence"].items()},
            confidence=document["confidence"],
            problems=document.get("problems", []),
            usage=Usage(**document.get("usage", {})),
            error=document.get("error"),
            details=document.get("details", {}),
        )


class Extractor(Protocol):
    """Anything that reads a site's pages and returns data points."""

    # Identifies the extractor, its version, and for an LLM its model and prompt version: part
    # of the extraction cache key, so changing any of them extracts again.
    name: str
    concurrency: int  # sites extracted at once
    # True for an extractor that computes rather than waits: it runs in worker processes.
    cpu_bound: bool

    def extract(self, website_url: str, pages: Sequence[Page], keys: Sequence[str]) -> Extraction:
        """Extract the data points in `keys` from `pages`; unknown values are left out."""
        ...


def build_extractor(
    llm: LLMConfig, taxonomy_path: Path | None = None, fingerprints_path: Path | None = None
) -> Extractor:
    """The extractor the configuration asks for: the LLM one when it has an API key, the
    offline rules otherwise; with the user's taxonomy and technology fingerprints when named.
    The CLI and the Dagster resource both build theirs here, so they price and behave alike."""
    from enrichment_pipelines.core.extractors.rules import RulesExtractor
    from enrichment_pipelines.core.extractors.technologies import load_fingerprints
    from enrichment_pipelines.core.taxonomy import DEFAULT_TAXONOMY_PATH, load_taxonomy

    taxonomy = load_taxonomy(taxonomy_path or DEFAULT_TAXONOMY_PATH)
    fingerprints = load_fingerprints(fingerprints_path)
    if not llm.enabled:
        return RulesExtractor(taxonomy, fingerprints)
    # Imported here: the openai client takes half a second to import, and every run
    # process would pay it even without an API key.
    from enrichment_pipelines.core.extractors.llm import LLMExtractor

    return LLMExtractor(llm, taxonomy, fingerprints)
