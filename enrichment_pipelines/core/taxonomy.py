"""The two-level industry taxonomy (category -> subcategories).

The default ships as `taxonomy_default.yaml`; a user's file of the same shape replaces it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from enrichment_pipelines.core.errors import EnrichError

DEFAULT_TAXONOMY_PATH = Path(__file__).with_name("taxonomy_default.yaml")


class TaxonomyError(EnrichError, ValueError):
    """A taxonomy file that cannot be used, with the reason naming the bad part."""


@dataclass(frozen=True)
class Subcategory:
    name: str
    category: str
    description: str
    keywords: tuple[str, ...]
    software: bool = False  # the business sells software
    market: str | None = None  # who such businesses usually sell to: "B2B" or "B2C"


@dataclass(frozen=True)
class Taxonomy:
    subcategories: tuple[Subcategory, ...]

    @property
    def fingerprint(self) -> str:
        """A short digest of the whole taxonomy: extraction results depend on it."""
        return hashlib.sha256(repr(self.subcategories).encode()).hexdigest()[:8]

    @property
    def cache_suffix(self) -> str:
        """ "" for the default taxonomy, else "+taxonomy-<digest>", for extractor names (which
        are part of the extraction cache key): a new taxonomy extracts again."""
        default = load_taxonomy()
        return "" if self.fingerprint == default.fingerprint else f"+taxonomy-{self.fingerprint}"

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(sub.category for sub in self.subcategories))

    def find(self, category: object, name: object) -> Subcategory | None:
        return next(
            (s for s in self.subcategories if s.category == category and s.name == name), None
        )

    def subcategories_of(self, category: str) -> tuple[Subcategory, ...]:
        return tuple(sub for sub in self.subcategories if sub.category == category)


def parse_taxonomy(document: object, origin: str) -> Taxonomy:
    """Validate a parsed taxonomy document; errors name the file and the entry."""
    if not isinstance(document, dict) or not isinstance(document.get("categories"), list):
        raise TaxonomyError(f"{origin}: expected a mapping with a 'categories' list")
    subcategories: list[Subcategory] = []
    seen: set[tuple[str, str]] = set()
    for index, category in enumerate(document["categories"], start=1):
        where = f"{origin}: category #{index}"
        if not isinstance(category, dict) or not str(category.get("name", "")).strip():
            raise TaxonomyError(f"{where}: needs a 'name'")
        category_name = str(category["name"]).strip()
        subs = category.get("subcategories")
        if not isinstance(subs, list) or not subs:
            raise TaxonomyError(f"{where} ({category_name}): needs a non-empty 'subcategories'")
        for sub_index, sub in enumerate(subs, start=1):
            sub_where = f"{where} ({category_name}), subcategory #{sub_index}"
            if not isinstance(sub, dict) or not str(sub.get("name", "")).strip():
                raise TaxonomyError(f"{sub_where}: needs a 'name'")
            name = str(sub["name"]).strip()
            if (category_name, name) in seen:
                raise TaxonomyError(f"{sub_where}: {name!r} appears twice")
            seen.add((category_name, name))
            keywords = sub.get("keywords", [])
            if not isinstance(keywords, list):
                raise TaxonomyError(f"{sub_where}: 'keywords' must be a list")
            if any(not str(keyword).strip() for keyword in keywords):
                # an empty keyword would be found everywhere
                raise TaxonomyError(f"{sub_where}: a keyword is empty")
            subcategories.append(
                Subcategory(
                    name=name,
                    category=category_name,
                    description=str(sub.get("description", "")),
                    keywords=tuple(str(k).strip().lower() for k in keywords),
                    software=sub.get("software") is True,
                    market=_market(sub.get("market"), sub_where),
                )
            )
    if not subcategories:
        raise TaxonomyError(f"{origin}: needs at least one category")
    return Taxonomy(tuple(subcategories))


def _market(value: object, where: str) -> str | None:
    if value is None:
        return None
    if value not in ("B2B", "B2C"):
        raise TaxonomyError(f"{where}: 'market' must be B2B or B2C, not {value!r}")
    return str(value)


@cache
def load_taxonomy(path: Path = DEFAULT_TAXONOMY_PATH) -> Taxonomy:
    """The taxonomy in `path` (the shipped default unless a user's file is given)."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise TaxonomyError(f"{path}: cannot read taxonomy: {error}") from error
    return parse_taxonomy(document, str(path))
