"""Extractors turn a crawled site into data points with evidence and confidence.

Every extractor returns an `Extraction` whose values have already passed the data point
registry's validation: an invalid value is recorded as a problem and left unknown (None).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Protocol

from enrichment_pipelines.core.crawl import Page
from enrichment_pipelines.core.datapoints import DATA_POINTS_BY_KEY

Value = str | bool | None


@dataclass(frozen=True)
class Evidence:
    url: str
    quote: str


@dataclass
class Extraction:
    data: dict[str, Value] = field(default_factory=dict)
    evidence: dict[str, Evidence] = field(default_factory=dict)
    confidence: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

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

    def to_json(self) -> str:
        return json.dumps(
            {
                "data": self.data,
                "evidence": {key: asdict(ev) for key, ev in self.evidence.items()},
                "confidence": self.confidence,
                "problems": self.problems,
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
        )


class Extractor(Protocol):
    """Anything that reads a site's pages and returns data points."""

    name: str  # identifies the extractor and its version; part of the extraction cache key

    def extract(self, website_url: str, pages: Sequence[Page], keys: Sequence[str]) -> Extraction:
        """Extract the data points in `keys` from `pages`; unknown values are left out."""
        ...
