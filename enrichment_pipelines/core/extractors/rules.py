"""The offline extractor: structured data first, then cues in the page text. No API key.

Each rule either finds support on a page (and records the verbatim sentence as evidence) or
leaves the data point unknown. A value is only set False where a page that would say so was
read and did not (e.g. a pricing page without any trial offer).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from enrichment_pipelines.core import geography
from enrichment_pipelines.core.crawl import Page
from enrichment_pipelines.core.datapoints import employee_range
from enrichment_pipelines.core.extractors import Evidence, Extraction, verify_evidence
from enrichment_pipelines.core.taxonomy import Taxonomy, load_taxonomy

_ORG_TYPES = {"organization", "corporation", "localbusiness", "onlinebusiness", "ngo"}

_FREE_TRIAL = (
    r"free trial", r"try (it )?(for )?free", r"start (your )?free", r"\d+[- ]day (free )?trial",
    r"free plan", r"free forever", r"get started for free", r"free tier",
    r"no credit card required",
)  # fmt: skip
_CONTACT_SALES = (
    r"contact (our )?sales", r"talk to (our )?sales", r"(book|request|schedule|get) a (live )?demo",
    r"talk to an expert", r"speak (to|with) (our )?sales", r"get a quote",
)  # fmt: skip
_SELF_SERVE = (r"sign up", r"create (a free |an |your )?account", r"get started", r"start now")
_SOFTWARE = (
    r"software", r"platform", r"\bapp\b", r"\bapi\b", r"saas", r"cloud-based", r"dashboard",
    r"integrat(es|ions) with", r"log ?in", r"per (user|seat)", r"workspace",
)  # fmt: skip
_SUBSCRIPTION = (r"/ ?mo(nth)?\b", r"per month", r"per (user|seat)", r"billed (annually|monthly)",
                 r"subscription", r"monthly plan")  # fmt: skip
_NOT_SOFTWARE = (
    r"add to cart", r"free shipping", r"our (clinic|restaurant|hotel|firm|factory|farm|school)",
    r"law firm", r"we manufacture", r"book a table", r"our menu", r"our practice",
)  # fmt: skip
_B2B = (
    r"for (teams|businesses|companies|enterprises|organizations|organisations|agencies)",
    r"your (team|business|company|customers|clients|organization|organisation)", r"\bb2b\b",
    r"(small|growing|mid-sized|large) businesses", r"\bsmbs?\b", r"book a demo",
)  # fmt: skip
_B2C = (
    r"for (you|your family|everyone|individuals|families|kids|parents|home)", r"add to cart",
    r"free shipping", r"\bshop now\b", r"your (home|family|kids|skin|body|pet)", r"\bb2c\b",
    r"(our|happy) (shoppers|guests|patients|members)", r"download (the|our) app",
)  # fmt: skip
_ENTERPRISE = (
    r"enterprise", r"fortune 500", r"\bsso\b", r"\bsaml\b", r"\bsla\b", r"dedicated account",
    r"global (brands|companies|organizations)", r"large organi[sz]ations",
)  # fmt: skip
_ACQUIRED = (
    r"(is|are) now (a )?part of", r"(was|were|has been|have been) acquired by",
    r"acquired by", r"a subsidiary of", r"a (division|member) of the [A-Z]",
    r"joined (the )?[A-Z][\w&]+ (group|family)",
)  # fmt: skip
_HORIZONTAL = (
    r"any industry", r"every industry", r"all industries", r"of all sizes and industries",
    r"across industries", r"whatever your industry", r"businesses of every kind",
)  # fmt: skip
_VERTICAL_TARGETS = (
    "restaurants", "law firms", "lawyers", "clinics", "dentists", "dental practices",
    "construction", "contractors", "real estate", "property managers", "landlords", "schools",
    "universities", "hotels", "retailers", "nonprofits", "non-profits", "healthcare",
    "hospitals", "banks", "insurers", "manufacturers", "logistics", "fleets", "farms",
    "farmers", "gyms", "salons", "architects", "accountants", "accounting firms", "pharmacies",
    "e-commerce brands", "online stores", "churches", "veterinary", "agencies", "recruiters",
    "hospitality", "automotive dealers", "dealerships", "insurance agencies", "credit unions",
)  # fmt: skip
_ROLES: dict[str, tuple[str, ...]] = {
    "marketing": ("marketing", "marketers", "growth teams"),
    "sales": ("sales teams", "sales reps", "salespeople", "account executives", "revenue teams"),
    "customer success": ("customer success", "support teams", "customer support", "support agents"),
    "engineering": ("developers", "engineering teams", "engineers", "devops"),
    "product": ("product teams", "product managers"),
    "data": ("data teams", "analysts", "data scientists"),
    "finance": ("finance teams", "cfos", "accountants", "finance leaders"),
    "hr": ("hr teams", "people teams", "recruiters", "hr leaders", "talent teams"),
    "operations": ("operations teams", "ops teams", "operations managers"),
    "it": ("it teams", "security teams", "it admins", "cisos"),
    "legal": ("legal teams", "lawyers", "counsel"),
}  # fmt: skip
_EMPLOYEES = re.compile(
    r"(?:team of|over|more than|nearly|almost|about|around|some)?\s*"
    r"(\d{1,3}(?:[,.]\d{3})*|\d+)\s*\+?\s*"
    r"(?:-person team|employees|people|staff|team members|colleagues|engineers and|experts)",
    re.IGNORECASE,
)
_TEAM_OF = re.compile(r"team of (?:over |more than |about |around )?(\d{1,3}(?:,\d{3})*|\d+)", re.I)
_LOCATION = re.compile(
    r"(?:headquartered|head office|headquarters|based|hq|located|offices?)\s*(?:is |are )?"
    r"(?:in|:)\s+([A-Z][\w'.\- ]{1,40}?),\s*([A-Z][\w.\- ]{1,40}?)(?=[.,;)\n]|$| and | with )",
)


@dataclass(frozen=True)
class _Hit:
    page: Page
    sentence: str
    pattern: str


def _sentences(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"(?<=[.!?])\s+|\n", text) if part.strip()]


@cache
def _combined(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns))


def _find(pages: Sequence[Page], patterns: Sequence[str]) -> list[_Hit]:
    """Every sentence (on any page) that matches one of `patterns` (lower-cased match)."""
    combined = _combined(tuple(patterns))
    hits = []
    for page in pages:
        for sentence in _sentences(page.text):
            match = combined.search(sentence.lower())
            if match:
                hits.append(_Hit(page, sentence, match.group(0)))
    return hits


def _evidence(hit: _Hit) -> Evidence:
    return Evidence(hit.page.final_url or hit.page.url, hit.sentence)


def _read_page_evidence(pages: Sequence[Page], kind: str) -> Evidence | None:
    """Evidence that a page of `kind` was read (for a False drawn from what it does not say)."""
    for page in pages:
        if page.kind == kind:
            first = _sentences(page.text)[:1] or [page.title or kind]
            return Evidence(page.final_url or page.url, first[0])
    return None


def _organisation(pages: Sequence[Page]) -> tuple[Page, dict[str, Any]] | None:
    for page in pages:
        for item in page.structured_data:
            types = item.get("@type")
            names = {str(t).lower() for t in (types if isinstance(types, list) else [types])}
            if names & _ORG_TYPES:
                return page, item
    return None


def _ld_evidence(page: Page, value: object) -> Evidence:
    """Evidence from structured data: the value itself, as the page's markup states it."""
    return Evidence(page.final_url or page.url, str(value))


def structured_facts(pages: Sequence[Page], keys: Sequence[str]) -> Extraction:
    """The data points a site states in structured data (JSON-LD, microdata): description,
    head count, address. Read before any text, and given to an LLM as settled."""
    facts = Extraction()
    _ld_value_proposition(pages, facts)
    _ld_employees(pages, facts)
    _ld_location(pages, facts)
    facts.keep_only(keys)
    return facts


def _ld_value_proposition(pages: Sequence[Page], out: Extraction) -> bool:
    org = _organisation(pages)
    if org and isinstance(org[1].get("description"), str) and org[1]["description"].strip():
        text = org[1]["description"]
        out.set("value_proposition", _shorten(text), _ld_evidence(org[0], text), 0.9)
        return True
    return False


def _ld_employees(pages: Sequence[Page], out: Extraction) -> bool:
    org = _organisation(pages)
    raw = org[1].get("numberOfEmployees") if org else None
    if org and (count := _ld_employee_count(raw)):
        quote = raw if not isinstance(raw, dict) else count
        out.set("employee_count", employee_range(count), _ld_evidence(org[0], quote), 0.9)
        return True
    return False


def _ld_location(pages: Sequence[Page], out: Extraction) -> bool:
    org = _organisation(pages)
    address = org[1].get("address") if org else None
    if isinstance(address, list) and address:
        address = address[0]
    if not org or not isinstance(address, dict):
        return False
    city_name = address.get("addressLocality")
    country = address.get("addressCountry")
    if isinstance(country, dict):
        country = country.get("name")
    code = geography.country_code(str(country)) if country else None
    if isinstance(city_name, str) and city_name.strip():
        out.set("location_city", city_name.strip(), _ld_evidence(org[0], city_name), 0.9)
    if code:
        out.set("location_country_code", code, _ld_evidence(org[0], country), 0.9)
    return bool(out.data.get("location_city") or code)


class RulesExtractor:
    """Offline, deterministic extraction from structured data and text cues."""

    name = "rules-v2"
    concurrency = 1  # CPU-bound: threads would only contend for the GIL

    def __init__(self, taxonomy: Taxonomy | None = None) -> None:
        self.taxonomy = taxonomy or load_taxonomy()
        self._keyword_patterns = [
            [
                (keyword, re.compile(r"(?<![\w-])" + re.escape(keyword) + r"(?![\w-])"))
                for keyword in sub.keywords
            ]
            for sub in self.taxonomy.subcategories
        ]

    def extract(self, website_url: str, pages: Sequence[Page], keys: Sequence[str]) -> Extraction:
        result = Extraction()
        # A page with no visible text may still carry metadata (e.g. a script-rendered app).
        readable = [page for page in pages if not page.error and (page.text or page.meta)]
        if not readable:
            result.problems.append("no readable page")
            return result
        steps: dict[str, Callable[[Sequence[Page], Extraction], None]] = {
            "value_proposition": self._value_proposition,
            "industry_category": self._industry,
            "target_market": self._target_market,
            "is_saas": self._is_saas,
            "has_free_trial": self._free_trial,
            "can_contact_sales": self._contact_sales,
            "employee_count": self._employees,
            "location_city": self._location,
            "is_acquired": self._acquired,
            "target_enterprise": self._enterprise,
            "market_focus": self._market_focus,
            "target_role": self._target_role,
        }
        for step in dict.fromkeys(steps.values()):
            step(readable, result)
        self._growth_type(readable, result)
        result.keep_only(keys)
        verify_evidence(result, readable)
        return result

    def _value_proposition(self, pages: Sequence[Page], out: Extraction) -> None:
        if _ld_value_proposition(pages, out):
            return
        for page in pages:
            for key in ("description", "og:description", "twitter:description"):
                text = page.meta.get(key)
                if text and len(text.split()) >= 5:
                    evidence = Evidence(page.final_url or page.url, text)
                    out.set("value_proposition", _shorten(text), evidence, 0.75)
                    return

    def _industry(self, pages: Sequence[Page], out: Extraction) -> None:
        scores: Counter[int] = Counter()
        first: dict[int, tuple[Page, re.Pattern[str]]] = {}
        for page in pages:
            weight = 2 if page.kind in ("home", "about") else 1
            lowered = ((page.title or "") + "\n" + page.text).lower()
            for index, keywords in enumerate(self._keyword_patterns):
                for keyword, pattern in keywords:
                    found = len(pattern.findall(lowered))
                    if found:
                        scores[index] += weight * min(found, 3) * (2 if " " in keyword else 1)
                        first.setdefault(index, (page, pattern))
        if not scores:
            return
        ranked = [*scores.most_common(2), (None, 0)]
        (top, top_score), (_, runner_up) = ranked[0], ranked[1]
        if top is None or top_score < 4 or top_score < runner_up * 1.25:
            return
        sub = self.taxonomy.subcategories[top]
        page, pattern = first[top]
        sentence = next(
            (s for s in _sentences(page.text) if pattern.search(s.lower())), page.title or ""
        )
        evidence = Evidence(page.final_url or page.url, sentence)
        confidence = min(0.95, 0.5 + (top_score - runner_up) / (2 * top_score))
        out.set("industry_category", sub.category, evidence, confidence)
        out.set("industry_subcategory", sub.name, evidence, confidence)

    def _target_market(self, pages: Sequence[Page], out: Extraction) -> None:
        b2b, b2c = _find(pages, _B2B), _find(pages, _B2C)
        explicit = _find(pages, (r"\bb2b2c\b", r"businesses and their (customers|consumers)"))
        if explicit:
            out.set("target_market", "B2B2C", _evidence(explicit[0]), 0.8)
        elif len(b2b) >= 2 and len(b2b) >= 2 * len(b2c):
            out.set("target_market", "B2B", _evidence(b2b[0]), 0.6 + min(0.3, len(b2b) / 20))
        elif len(b2c) >= 2 and len(b2c) >= 2 * len(b2b):
            out.set("target_market", "B2C", _evidence(b2c[0]), 0.6 + min(0.3, len(b2c) / 20))

    def _is_saas(self, pages: Sequence[Page], out: Extraction) -> None:
        software, subscription = _find(pages, _SOFTWARE), _find(pages, _SUBSCRIPTION)
        if len(software) >= 2 and subscription:
            out.set("is_saas", True, _evidence(subscription[0]), 0.8)
        elif not software and (physical := _find(pages, _NOT_SOFTWARE)):
            out.set("is_saas", False, _evidence(physical[0]), 0.7)

    def _free_trial(self, pages: Sequence[Page], out: Extraction) -> None:
        if hits := _find(pages, _FREE_TRIAL):
            out.set("has_free_trial", True, _evidence(hits[0]), 0.85)
        elif evidence := _read_page_evidence(pages, "pricing"):
            out.set("has_free_trial", False, evidence, 0.6)

    def _contact_sales(self, pages: Sequence[Page], out: Extraction) -> None:
        if hits := _find(pages, _CONTACT_SALES):
            out.set("can_contact_sales", True, _evidence(hits[0]), 0.85)

    def _growth_type(self, pages: Sequence[Page], out: Extraction) -> None:
        if out.data.get("is_saas") is not True:
            return
        self_serve = _find(pages, _SELF_SERVE) or _find(pages, _FREE_TRIAL)
        sales = _find(pages, _CONTACT_SALES)
        if self_serve and sales:
            out.set("growth_type", "hybrid", _evidence(sales[0]), 0.65)
        elif self_serve:
            out.set("growth_type", "product-led", _evidence(self_serve[0]), 0.7)
        elif sales:
            out.set("growth_type", "sales-led", _evidence(sales[0]), 0.7)

    def _employees(self, pages: Sequence[Page], out: Extraction) -> None:
        if _ld_employees(pages, out):
            return
        for page in pages:
            for sentence in _sentences(page.text):
                match = _TEAM_OF.search(sentence) or _EMPLOYEES.search(sentence)
                if match:
                    count = int(re.sub(r"[,.]", "", match.group(1)))
                    if 0 < count < 1_000_000 and not re.search(
                        r"(customers|clients|users|countries|years)", match.group(0), re.I
                    ):
                        label = employee_range(count)
                        out.set("employee_count", label, Evidence(page.url, sentence), 0.7)
                        return

    def _location(self, pages: Sequence[Page], out: Extraction) -> None:
        if _ld_location(pages, out):
            return
        ordered = sorted(pages, key=lambda p: p.kind not in ("about", "contact", "legal"))
        for page in ordered:
            for sentence in _sentences(page.text):
                for match in _LOCATION.finditer(sentence):
                    place, region = match.group(1).strip(), match.group(2).strip()
                    code = geography.country_code(region) or geography.region_country(region)
                    known = geography.city(place)
                    if code is None and known is None:
                        continue
                    if code is None and known:
                        code = known[1]
                    evidence = Evidence(page.final_url or page.url, sentence)
                    out.set("location_city", place, evidence, 0.75 if known else 0.6)
                    out.set("location_country_code", code, evidence, 0.75)
                    return

    def _acquired(self, pages: Sequence[Page], out: Extraction) -> None:
        hits = [
            hit
            for hit in _find(pages, _ACQUIRED)
            if not re.search(
                r"\bwe (have )?acquired\b|\bacquired (customers|users)", hit.sentence, re.I
            )
        ]
        if hits:
            out.set("is_acquired", True, _evidence(hits[0]), 0.8)
        elif evidence := _read_page_evidence(pages, "about"):
            out.set("is_acquired", False, evidence, 0.55)

    def _enterprise(self, pages: Sequence[Page], out: Extraction) -> None:
        if hits := _find(pages, _ENTERPRISE):
            out.set("target_enterprise", True, _evidence(hits[0]), 0.7)
        elif out.data.get("target_market") == "B2C":
            out.set("target_enterprise", False, out.evidence["target_market"], 0.6)

    def _market_focus(self, pages: Sequence[Page], out: Extraction) -> None:
        vertical = "|".join(re.escape(target) for target in _VERTICAL_TARGETS)
        pattern = (
            r"(built|designed|made|software|platform|solution|tool)s? (specifically )?"
            rf"for (the )?({vertical})\b"
        )
        if hits := _find(pages, (pattern,)):
            out.set("market_focus", "vertical", _evidence(hits[0]), 0.7)
        elif hits := _find(pages, _HORIZONTAL):
            out.set("market_focus", "horizontal", _evidence(hits[0]), 0.7)

    def _target_role(self, pages: Sequence[Page], out: Extraction) -> None:
        counts: Counter[str] = Counter()
        first: dict[str, _Hit] = {}
        for role, phrases in _ROLES.items():
            pattern = (
                r"\b(for|helps?|built for|made for|empowers?) (\w+ )?("
                + "|".join(re.escape(phrase) for phrase in phrases)
                + r")\b"
            )
            hits = _find(pages, (pattern,))
            if hits:
                counts[role] = len(hits)
                first[role] = hits[0]
        if counts:
            roles = [role for role, _ in counts.most_common(3)]
            out.set("target_role", ", ".join(roles), _evidence(first[roles[0]]), 0.6)


def _shorten(text: str, limit: int = 255) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"


def _ld_employee_count(value: object) -> int | None:
    if isinstance(value, dict):
        for key in ("value", "maxValue", "minValue"):
            if value.get(key) is not None:
                return _ld_employee_count(value[key])
        return None
    try:
        return int(str(value).replace(",", "").rstrip("+"))
    except ValueError:
        return None
