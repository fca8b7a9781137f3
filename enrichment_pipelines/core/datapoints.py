"""The data point registry: the single source of what the engine extracts.

Extractors, settings, the warehouse's attribute definitions, the `customer_360` view, the data
quality checks and the docs all read this module. Keys and default attribute names are a public
contract (see DESIGN.md): do not rename them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pycountry

AttributeType = Literal["String", "Boolean"]

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

_ISO_ALPHA2 = frozenset(country.alpha_2 for country in pycountry.countries)


@dataclass(frozen=True)
class DataPoint:
    key: str
    attribute_name: str
    type: AttributeType
    description: str
    allowed_values: tuple[str, ...] | None = None
    max_length: int | None = None
    in_notes_by_default: bool = False

    def validate(self, value: object) -> tuple[str | bool | None, str | None]:
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
        return text, None


DATA_POINTS: tuple[DataPoint, ...] = (
    DataPoint(
        "value_proposition",
        "value_proposition_enriched",
        "String",
        "Brief summary of the company's core offering.",
        max_length=255,
        in_notes_by_default=True,
    ),
    DataPoint(
        "industry_category",
        "industry_category_enriched",
        "String",
        "One category of the industry taxonomy.",
        in_notes_by_default=True,
    ),
    DataPoint(
        "industry_subcategory",
        "industry_subcategory",
        "String",
        "One subcategory under the industry category.",
        in_notes_by_default=True,
    ),
    DataPoint(
        "market_focus",
        "market_focus_enriched",
        "String",
        "Horizontal (serves many industries) or vertical (serves one).",
        allowed_values=("horizontal", "vertical"),
    ),
    DataPoint(
        "target_role",
        "target_role_enriched",
        "String",
        "Roles the product targets, e.g. 'marketing, customer success'.",
    ),
    DataPoint(
        "target_market",
        "target_market_enriched",
        "String",
        "Who the company sells to.",
        allowed_values=("B2B", "B2C", "B2B2C"),
        in_notes_by_default=True,
    ),
    DataPoint("is_saas", "is_saas_enriched", "Boolean", "Sells software as a service."),
    DataPoint(
        "growth_type",
        "growth_type_enriched",
        "String",
        "How the company acquires customers.",
        allowed_values=("product-led", "sales-led", "hybrid"),
    ),
    DataPoint("has_free_trial", "has_free_trial", "Boolean", "Offers a free trial or free plan."),
    DataPoint(
        "can_contact_sales", "can_contact_sales", "Boolean", "Offers a way to contact sales."
    ),
    DataPoint(
        "employee_count",
        "employee_count_enriched",
        "String",
        "Employee range.",
        allowed_values=EMPLOYEE_RANGES,
        in_notes_by_default=True,
    ),
    DataPoint(
        "location_city",
        "location_city_enriched",
        "String",
        "City of the headquarters.",
        in_notes_by_default=True,
    ),
    DataPoint(
        "location_country_code",
        "location_country_code_enriched",
        "String",
        "Country of the headquarters, ISO 3166-1 alpha-2.",
        in_notes_by_default=True,
    ),
    DataPoint("is_acquired", "is_acquired_enriched", "Boolean", "Has been acquired."),
    DataPoint(
        "target_enterprise",
        "target_enterprise_enriched",
        "Boolean",
        "Sells to enterprises.",
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
