"""Fictional companies for the demo and the tests, generated deterministically from a seed.

Every company carries the truth its pages are rendered from (`expected`), so tests and
benchmarks can score extraction against it. Names and texts are invented from the word lists
in companies.yaml; no real company's text is used.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from enrichment_pipelines.core.datapoints import employee_range


@dataclass(frozen=True)
class Archetype:
    category: str
    subcategory: str
    is_saas: bool
    market: str  # B2B / B2C / B2B2C
    offering: str  # "{name} ..." sentence: the core offering
    details: tuple[str, ...]  # sentences that describe the business in its own words
    vertical_for: str | None = None  # the industry served, for vertical products
    roles: tuple[str, ...] = ()
    horizontal: bool = False  # says it serves every industry


def _load_word_lists() -> dict[str, Any]:
    return yaml.safe_load(Path(__file__).with_name("companies.yaml").read_text(encoding="utf-8"))


_DATA = _load_word_lists()
ARCHETYPES: tuple[Archetype, ...] = tuple(
    Archetype(
        **{key: tuple(value) if isinstance(value, list) else value for key, value in item.items()}
    )
    for item in _DATA["archetypes"]
)
# (city, country code, country name as written on pages, region or None)
LOCATIONS: tuple[tuple[str, str, str, str | None], ...] = tuple(
    (place["city"], place["country_code"], place["country_name"], place["region"])
    for place in _DATA["locations"]
)
_NAME_FIRST = tuple(_DATA["name_first"])
_NAME_SECOND = tuple(_DATA["name_second"])
_NAME_SUFFIX = tuple(_DATA["name_suffix"])
_STREETS = tuple(_DATA["streets"])
_ACQUIRERS = tuple(_DATA["acquirers"])

TEMPLATES = ("modern", "classic", "jsonld", "minimal")
# Sites that cannot be enriched, as a share of all sites (the rest are healthy).
FAULTS = (("http_error", 0.03), ("parked", 0.02), ("empty", 0.02), ("unreachable", 0.02))


@dataclass
class Company:
    index: int
    slug: str
    name: str
    archetype: Archetype
    city: str
    country_code: str
    country_name: str
    region: str | None
    street: str
    employees: int
    founded: int
    has_free_trial: bool
    can_contact_sales: bool
    target_enterprise: bool
    acquirer: str | None
    template: str
    fault: str | None
    billing_country: str
    expected: dict[str, object] = field(default_factory=dict)


def _expected(company: Company) -> dict[str, object]:
    """What a careful reader of the rendered pages can know (None = the pages don't say)."""
    a = company.archetype
    if company.fault is not None:
        return {}
    minimal = company.template == "minimal"
    sells_plans = a.is_saas
    growth = None
    if a.is_saas:
        growth = (
            "hybrid"
            if company.has_free_trial and company.can_contact_sales
            else "product-led"
            if company.has_free_trial
            else "sales-led"
        )
    facts: dict[str, object] = {
        "value_proposition": a.offering.format(name=company.name),
        "industry_category": a.category,
        "industry_subcategory": a.subcategory,
        "market_focus": "vertical" if a.vertical_for else "horizontal" if a.horizontal else None,
        # Roles are phrased freely on the pages; their scoring comes with the labelled set.
        "target_role": None,
        "target_market": a.market,
        "is_saas": a.is_saas,
        "growth_type": growth,
        "has_free_trial": company.has_free_trial if sells_plans else None,
        "can_contact_sales": True if company.can_contact_sales else None,
        "employee_count": employee_range(company.employees),
        "location_city": company.city,
        "location_country_code": company.country_code,
        "is_acquired": bool(company.acquirer),
        # An "Enterprise" plan on the pricing page says as much as an enterprise claim.
        "target_enterprise": (
            True
            if company.target_enterprise or (sells_plans and company.can_contact_sales)
            else None
        ),
    }
    if minimal:
        # Only the meta description is there to read.
        return {key: (facts[key] if key == "value_proposition" else None) for key in facts}
    return facts


def generate_companies(count: int = 220, seed: int = 7) -> list[Company]:
    """`count` varied fictional companies; the same seed always gives the same companies."""
    rng = random.Random(seed)
    companies: list[Company] = []
    names: set[str] = set()
    faults = [kind for kind, share in FAULTS for _ in range(max(1, round(share * count)))]
    fault_slots = dict(zip(rng.sample(range(count), len(faults)), faults, strict=True))
    for index in range(count):
        base = rng.choice(_NAME_FIRST) + rng.choice(_NAME_SECOND)
        for _attempt in range(20):
            if base not in names:
                break
            base = rng.choice(_NAME_FIRST) + rng.choice(_NAME_SECOND)
        else:  # the word lists give ~900 names: number the rest
            base = f"{base}{index}"
        names.add(base)
        name = base + rng.choice(_NAME_SUFFIX)
        archetype = (
            ARCHETYPES[index % len(ARCHETYPES)]
            if index < len(ARCHETYPES)
            else (rng.choice(ARCHETYPES))
        )
        city, code, country_name, region = rng.choice(LOCATIONS)
        employees = rng.choice((4, 8, 17, 35, 48, 75, 140, 180, 260, 420, 650, 900, 1500, 3200,
                                7000, 12000))  # fmt: skip
        saas = archetype.is_saas
        company = Company(
            index=index,
            slug=base.lower(),
            name=name,
            archetype=archetype,
            city=city,
            country_code=code,
            country_name=country_name,
            region=region,
            street=f"{rng.randint(1, 240)} {rng.choice(_STREETS)}",
            employees=employees,
            founded=rng.randint(1985, 2022),
            has_free_trial=saas and rng.random() < 0.6,
            can_contact_sales=archetype.market != "B2C" and (not saas or rng.random() < 0.7),
            target_enterprise=archetype.market == "B2B" and employees >= 200 and rng.random() < 0.7,
            acquirer=rng.choice(_ACQUIRERS) if rng.random() < 0.08 else None,
            template=rng.choices(TEMPLATES, weights=(4, 3, 4, 1))[0],
            fault=fault_slots.get(index),
            billing_country=code if rng.random() < 0.9 else rng.choice(LOCATIONS)[1],
        )
        if company.archetype.is_saas and not (company.has_free_trial or company.can_contact_sales):
            company.can_contact_sales = True
        company.expected = _expected(company)
        companies.append(company)
    return companies
