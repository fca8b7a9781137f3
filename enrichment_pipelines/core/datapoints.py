"""The data point registry: the single source of what the engine extracts.

Extractors, settings, the warehouse's attribute definitions, the `customer_360` view, the data
quality checks and the docs all read this module. Keys and default attribute names are a public
contract (see DESIGN.md): do not rename them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import pycountry

AttributeType = Literal["String", "Boolean", "Integer"]
# The `custom_attributes` column that holds a value of each type.
VALUE_COLUMN_BY_TYPE: dict[str, str] = {
    "String": "value_string",
    "Boolean": "value_boolean",
    "Integer": "value_integer",
}

EMPLOYEE_RANGES: tuple[str, ...] = (
    "1-10",
    "11-50",
    "51-200",
    "201-500",
    "501-1000",
    "1001-5000",
    "5001-10000",
    "10001+",
)

_WEB_ADDRESS = re.compile(r"https?://[^\s/?#,]+\.[^\s/?#,]+[^\s,]*", re.I)
_ISO_ALPHA2 = frozenset(country.alpha_2 for country in pycountry.countries)

EvidenceKind = Literal["text", "cues", "country", "city", "count", "year"]


@dataclass(frozen=True)
class EvidenceRule:
    """What a value's quote must contain to count as evidence for it (checked by
    `verify_evidence` for every extractor):

    - `kind`: "country" (the country's name, ISO code, demonym, or a region or city of it),
      "city" (the city by any of its names), "count" (a head count inside the range, or a word
      like "hundreds" that fits it), "year" (the year), "cues" (one of `cues[value]`, a regular
      expression matched against the lower-cased quote; a value without an entry, such as a
      False drawn from what a page does not say, needs none) or "text" (no particular words);
    - `min_chars`: the shortest quote that can be evidence (a quote of `min_words` words or
      more also passes), waived when the quote is the value of one of `structured`
      (schema.org properties: the markup states the value itself, e.g. `addressCountry: DE`);
    - `industry_attribute`: a value may also stand on the industry's own quote when the
      extracted subcategory's attribute of that name (in the taxonomy) is the value: a bakery
      sells to consumers (`market: B2C`) even where no sentence says "for families".
    """

    kind: EvidenceKind = "text"
    cues: Mapping[str, str] = field(default_factory=dict, hash=False)
    min_chars: int = 12
    min_words: int = 3
    structured: tuple[str, ...] = ()
    industry_attribute: str | None = None


@dataclass(frozen=True)
class DataPoint:
    key: str
    attribute_name: str
    type: AttributeType
    description: str
    allowed_values: tuple[str, ...] | None = None
    max_length: int | None = None
    in_notes_by_default: bool = False
    evidence: EvidenceRule = EvidenceRule()
    # The share of enriched records expected to have a value: the data quality completeness
    # check warns below it. Points differ by nature (every site says what it does, few say
    # they were acquired), so one target for all would keep the sparse ones always red. Each
    # registry entry sets its own (see the note above DATA_POINTS); this default is for points
    # defined elsewhere.
    completeness_target: float = 0.5
    # Bounds of an Integer; `max_is_this_year`: no later than the current year (a founding).
    min_value: int | None = None
    max_value: int | None = None
    max_is_this_year: bool = False
    # A String that is a web address ("url") or a comma list of them ("urls").
    format: Literal["url", "urls"] | None = None
    # Read off the site's markup (links, scripts, images) by the same detectors whatever the
    # extractor: a model is not asked for these, the pages show them.
    from_markup: bool = False

    def validate(self, value: object) -> tuple[str | bool | int | None, str | None]:
        """Coerce a candidate value to this data point's type.

        Returns `(value, None)` when valid and `(None, reason)` when not: an invalid value
        becomes unknown with a reason, never an exception.
        """
        if value is None:
            return None, None
        if self.type == "Boolean":
            if isinstance(value, bool):
                return value, None
            if isinstance(value, str) and value.strip().lower() in ("true", "false"):
                return value.strip().lower() == "true", None
            return None, f"{self.key}: expected a boolean, got {type(value).__name__}"
        if self.type == "Integer":
            return self._validate_integer(value)
        if not isinstance(value, str):
            return None, f"{self.key}: expected a string, got {type(value).__name__}"
        text = " ".join(value.split())
        if not text:
            return None, None
        if self.key == "location_country_code":
            text = text.upper()
            if text not in _ISO_ALPHA2:
                return None, f"{self.key}: {text!r} is not an ISO 3166-1 alpha-2 code"
            return text, None
        if self.allowed_values is not None:
            by_lower = {allowed.lower(): allowed for allowed in self.allowed_values}
            if text.lower() not in by_lower:
                allowed = ", ".join(self.allowed_values)
                return None, f"{self.key}: {text!r} is not one of {allowed}"
            return by_lower[text.lower()], None
        if self.max_length is not None and len(text) > self.max_length:
            return None, f"{self.key}: longer than {self.max_length} characters"
        if self.format is not None:
            addresses = text.split(", ") if self.format == "urls" else [text]
            if bad := next((a for a in addresses if not _WEB_ADDRESS.fullmatch(a)), None):
                return None, f"{self.key}: {bad[:80]!r} is not a web address"
        return text, None

    def bounds(self) -> tuple[int | None, int | None]:
        """The lowest and highest value an Integer may take (None: no bound)."""
        highest = datetime.now(UTC).year if self.max_is_this_year else self.max_value
        return self.min_value, highest

    def _validate_integer(self, value: object) -> tuple[int | None, str | None]:
        whole_text = isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,18}\s*", value)
        if whole_text or (isinstance(value, float) and value.is_integer()):
            value = int(value)  # type: ignore[arg-type]
        if isinstance(value, bool) or not isinstance(value, int):
            return None, f"{self.key}: expected a whole number, got {type(value).__name__}"
        lowest, highest = self.bounds()
        if lowest is not None and value < lowest:
            return None, f"{self.key}: {value} is below {lowest}"
        if highest is not None and value > highest:
            return None, f"{self.key}: {value} is above {highest}"
        return value, None


# The words a quote must contain to support each value (lower-cased regular expressions; see
# EvidenceRule). Broad on purpose: they ask whether the quote is about the value at all, not
# whether it proves it; deciding the value is the extractors' job.
_SALES_CUES = (
    r"demo|sales|talk to|speak (to|with)|contact|get in touch|reach (out|us)|quote|proposal|"
    r"\bbid\b|book a call|schedule|consult|expert|specialist|account (manager|executive)|"
    r"audit|assessment|enquir|inquir|call us|enterprise"
)
_SELF_SERVE_CUES = (
    r"sign ?-?up|free|trial|\btry\b|get started|start (now|today|for|your|learning)|"
    r"self[- ]serve|create (a|an|your)|download|install|no credit card|in minutes|instantly|"
    r"\bplans?\b|upgrade|subscribe|order"
)
EVIDENCE_CUES: dict[str, dict[str, str]] = {
    "market_focus": {
        "vertical": (
            r"\bfor\b|specifically|tailored|speciali[sz]|exclusively|\bvertical\b|\bindustry\b|"
            r"\bsector\b|\bniche\b"
        ),
        "horizontal": (
            r"\b(any|every|all|across|whatever|regardless|no matter)\b.{0,30}\b(industr|sector|"
            r"size|kind|type|business|team|compan)|\bhorizontal\b|industries"
        ),
    },
    "target_market": {
        "B2B": (
            r"business|compan|enterprise|\bb2b|\bteams?\b|organi[sz]ation|\bbrands?\b|retailer|"
            r"agenc|employer|startup|scale-?up|wholesale|\bclients?\b|commercial|industrial|"
            r"professional|\bfirms?\b|manufactur|developer|\bsmbs?\b|landlord|practice|clinic|"
            r"hospital|restaurant|fleet|merchant|seller|vendor|partner|operator|importer|"
            r"exporter|founder|marketer|salon|dentist|farmer|studio|school|\bper (user|seat|agent|"
            r"employee|unit|location)\b|demo|\bsales\b|trusted by|used by|\bquote\b|proposal|"
            r"\bbid\b|\bhr\b|workplace|\bstaff\b|your (customers|clients|store|employees|"
            r"project|event|organi)"
        ),
        "B2C": (
            r"\b(you|your|yours|yourself)\b|consumer|individual|famil|\bkids?\b|child|parent|"
            r"\bhome\b|household|personal|everyone|\bpeople\b|shopper|\bshop\b|\bcart\b|"
            r"shipping|deliver|order|patient|guest|student|learner|member|\bfans?\b|ticket|"
            r"reader|listener|player|gamer|runner|travel|gardener|customer|\bb2c\b|b2b2c|subscri|"
            r"\bapp\b|\bbook\b|apply|admission|walk[- ]in|wishlist|\bbills?\b|capital at risk|"
            r"\bpets?\b|\bdogs?\b|\bcats?\b|\bskin\b|\bstay\b|visitor|audience|\bmen\b|"
            r"\bwomen\b|couples|donor|supporter|residents|household|homeowner|\bbuyers?\b"
        ),
        "B2B2C": (
            r"b2b2c|\band their\b|(compan|employer|brand|retailer|seller|merchant|maker|partner|"
            r"business|platform|network|advertiser|marketer|issuer|institution|host)\w*\b.{0,60}"
            r"\b(customer|consumer|employee|shopper|buyer|member|patient|user|guest|people|"
            r"cardholder|viewer|audience|rider|household|travell?er|diner|listener|individual|fan)"
            r"|marketplace|\bsell(ers?)?\b|makers"
        ),
    },
    "is_saas": {
        "true": (
            r"software|platform|saas|cloud|\bapps?\b|\bapi\b|dashboard|subscri|/ ?mo(nth)?\b|"
            r"\bper (user|seat|agent|month|unit|employee|location)\b|a month\b|monthly|annual|"
            r"billed|\bplans?\b|pricing|trial|free|premium|sign ?-?up|log ?-?in|account|online|"
            r"integrat|"
            r"automat|workspace|browser|upgrade|pay as you go|\bios\b|android|self-serve|"
            r"\btools?\b|digital|web"
        ),
    },
    "growth_type": {
        "product-led": _SELF_SERVE_CUES,
        "sales-led": _SALES_CUES,
        "hybrid": f"{_SELF_SERVE_CUES}|{_SALES_CUES}",
    },
    "has_free_trial": {"true": r"free|trial|\btry\b|no credit card"},
    "can_contact_sales": {"true": _SALES_CUES},
    "is_acquired": {
        "true": (
            r"acqui|part of|subsidiar|division of|member of|portfolio|joined|merge|owned by|"
            r"parent company|belongs to|brand of|unit of|sold to|bought by|takeover|took over"
        ),
    },
    "target_enterprise": {
        "true": (
            r"enterprise|fortune|\bsso\b|\bsaml\b|\bsla\b|dedicated|global|large (organi|"
            r"compan|business|team|customer|brand)|corporat|multinational|compliance|soc ?2|"
            r"iso 27001|hipaa|on-?prem|at scale|governments?|banks"
        ),
    },
}


# Evidence of what the markup shows: the address, script or words that show it (a URL, a
# product's script, "3 open positions"), which need be neither long nor a sentence.
_ADDRESS_EVIDENCE = EvidenceRule(min_chars=2, min_words=1)


def _cues(key: str, industry_attribute: str | None = None) -> EvidenceRule:
    return EvidenceRule("cues", EVIDENCE_CUES[key], industry_attribute=industry_attribute)


# Completeness targets: set from how often sites state each fact, a little below the share of
# the labelled development sites (tests/fixtures/labelled_sites) whose expected value is known,
# so that ordinary data passes and a drop (a broken extractor, a site redesign) warns:
# - stated by nearly every site (what it does, its industry, whom it sells to, software or not):
#   0.8 to 0.9 (known on 85-96% of the labelled sites);
# - from an address or imprint (city, country): 0.6 (72%);
# - only when the site says so (head count, trial, sales contact, growth motion, enterprise
#   focus, acquisition): 0.2 to 0.3 (29-41%);
# - rarely said outright (horizontal vs vertical, the roles targeted): 0.1 (11-16%).
DATA_POINTS: tuple[DataPoint, ...] = (
    DataPoint(
        "value_proposition",
        "value_proposition_enriched",
        "String",
        "Brief summary of the company's core offering.",
        completeness_target=0.9,
        max_length=255,
        in_notes_by_default=True,
        evidence=EvidenceRule(min_chars=30, min_words=5, structured=("description",)),
    ),
    DataPoint(
        "industry_category",
        "industry_category_enriched",
        "String",
        "One category of the industry taxonomy.",
        completeness_target=0.9,
        in_notes_by_default=True,
    ),
    DataPoint(
        "industry_subcategory",
        "industry_subcategory",
        "String",
        "One subcategory under the industry category.",
        completeness_target=0.85,
        in_notes_by_default=True,
    ),
    DataPoint(
        "market_focus",
        "market_focus_enriched",
        "String",
        "Horizontal (serves many industries) or vertical (serves one).",
        completeness_target=0.1,
        allowed_values=("horizontal", "vertical"),
        evidence=_cues("market_focus"),
    ),
    DataPoint(
        "target_role",
        "target_role_enriched",
        "String",
        "Roles the product targets, e.g. 'marketing, customer success'.",
        completeness_target=0.1,
    ),
    DataPoint(
        "target_market",
        "target_market_enriched",
        "String",
        "Who the company sells to.",
        completeness_target=0.8,
        allowed_values=("B2B", "B2C", "B2B2C"),
        in_notes_by_default=True,
        evidence=_cues("target_market", industry_attribute="market"),
    ),
    DataPoint(
        "is_saas",
        "is_saas_enriched",
        "Boolean",
        "Sells software as a service.",
        completeness_target=0.85,
        evidence=_cues("is_saas", industry_attribute="software"),
    ),
    DataPoint(
        "growth_type",
        "growth_type_enriched",
        "String",
        "How the company acquires customers.",
        completeness_target=0.3,
        allowed_values=("product-led", "sales-led", "hybrid"),
        evidence=_cues("growth_type"),
    ),
    DataPoint(
        "has_free_trial",
        "has_free_trial",
        "Boolean",
        "Offers a free trial or free plan.",
        completeness_target=0.25,
        evidence=_cues("has_free_trial"),
    ),
    DataPoint(
        "can_contact_sales",
        "can_contact_sales",
        "Boolean",
        "Offers a way to contact sales.",
        completeness_target=0.3,
        evidence=_cues("can_contact_sales"),
    ),
    DataPoint(
        "employee_count",
        "employee_count_enriched",
        "String",
        "Employee range.",
        completeness_target=0.3,
        allowed_values=EMPLOYEE_RANGES,
        in_notes_by_default=True,
        evidence=EvidenceRule("count", structured=("numberofemployees",)),
    ),
    DataPoint(
        "location_city",
        "location_city_enriched",
        "String",
        "City of the headquarters.",
        completeness_target=0.6,
        in_notes_by_default=True,
        evidence=EvidenceRule("city", structured=("addresslocality",)),
    ),
    DataPoint(
        "location_country_code",
        "location_country_code_enriched",
        "String",
        "Country of the headquarters, ISO 3166-1 alpha-2.",
        completeness_target=0.6,
        in_notes_by_default=True,
        evidence=EvidenceRule("country", structured=("addresscountry", "addressregion")),
    ),
    DataPoint(
        "is_acquired",
        "is_acquired_enriched",
        "Boolean",
        "Has been acquired.",
        completeness_target=0.2,
        evidence=_cues("is_acquired"),
    ),
    DataPoint(
        "target_enterprise",
        "target_enterprise_enriched",
        "Boolean",
        "Sells to enterprises.",
        completeness_target=0.3,
        evidence=_cues("target_enterprise"),
    ),
    DataPoint(
        "founded_year",
        "founded_year_enriched",
        "Integer",
        "Year the company was founded (not a copyright year).",
        completeness_target=0.1,
        min_value=1500,
        max_is_this_year=True,
        evidence=EvidenceRule("year", min_chars=4, min_words=1, structured=("foundingdate",)),
    ),
    DataPoint(
        "tech_stack",
        "tech_stack_enriched",
        "String",
        "Products the site is built with, by name (comma list), from technology fingerprints.",
        completeness_target=0.5,
        max_length=255,
        from_markup=True,
        evidence=_ADDRESS_EVIDENCE,
    ),
    DataPoint(
        "social_profiles",
        "social_profiles_enriched",
        "String",
        "The company's own profiles on LinkedIn, X/Twitter, Facebook, Instagram, YouTube and "
        "GitHub (comma list of URLs).",
        completeness_target=0.3,
        max_length=255,
        format="urls",
        from_markup=True,
        evidence=_ADDRESS_EVIDENCE,
    ),
    DataPoint(
        "open_positions",
        "open_positions_enriched",
        "Integer",
        "Open roles on the careers page or its job board; 0 when it says there are none.",
        completeness_target=0.05,
        min_value=0,
        max_value=100_000,
        from_markup=True,
        evidence=_ADDRESS_EVIDENCE,
    ),
    DataPoint(
        "logo_url",
        "logo_url_enriched",
        "String",
        "The company's logo (URL).",
        completeness_target=0.5,
        max_length=2048,
        format="url",
        from_markup=True,
        evidence=_ADDRESS_EVIDENCE,
    ),
)

DATA_POINTS_BY_KEY: dict[str, DataPoint] = {point.key: point for point in DATA_POINTS}
DATA_POINT_KEYS: tuple[str, ...] = tuple(DATA_POINTS_BY_KEY)


def employee_range(count: int) -> str | None:
    """Map a head count to its employee range; None for a non-positive count."""
    if count <= 0:
        return None
    bounds = (10, 50, 200, 500, 1000, 5000, 10000)
    for upper, label in zip(bounds, EMPLOYEE_RANGES, strict=False):
        if count <= upper:
            return label
    return EMPLOYEE_RANGES[-1]
