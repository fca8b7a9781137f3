"""Postal addresses read by their structure (`core/extractors/addresses.py`), in the shapes
real sites print them. Written for these tests (invented streets, real cities), not taken
from any evaluation set."""

from __future__ import annotations

import pytest

from enrichment_pipelines.core.extractors.addresses import (
    CITY_AND_REGION,
    POSTCODE_AND_CITY,
    POSTCODE_AND_REGION,
    domain_country,
    find_addresses,
    phone_countries,
)


@pytest.mark.parametrize(
    ("text", "city", "country", "strength"),
    [
        # United States: with or without a comma before the state, state codes and names.
        ("455 Orchard Court, Fremont CA 94538 USA", "Fremont", "US", POSTCODE_AND_REGION),
        ("Acme Inc.\n455 Orchard Court\nFremont\nCA 94538", "Fremont", "US", POSTCODE_AND_REGION),
        ("88 Birch Avenue Sacramento CA 95819", "Sacramento", "US", POSTCODE_AND_REGION),
        ("Visit us\nErie, PA 16501", "Erie", "US", POSTCODE_AND_REGION),
        ("2100 Lake Shore Drive\nChicago Illinois 60614", "Chicago", "US", POSTCODE_AND_REGION),
        ("PO Box 77, Boulder, CO 80302-1234", "Boulder", "US", POSTCODE_AND_REGION),
        ("Offices: Tucson, AZ", "Tucson", "US", CITY_AND_REGION),
        ("Visit our shop in Springfield, Ill. 62701", "Springfield", "US", POSTCODE_AND_REGION),
        ("Mailing address: Box 9, Ithaca, N.Y.", "Ithaca", "US", CITY_AND_REGION),
        ("12 Elm Street\nGreenfield, MA\n01301", "Greenfield", "US", POSTCODE_AND_REGION),
        ("Our studio\nPortland, Oregon", "Portland", "US", CITY_AND_REGION),
        ("1 Market St. St. Louis, MO 63101", "St. Louis", "US", POSTCODE_AND_REGION),
        # Canada and Australia: province / state code and their postcodes.
        ("Unit 9, 30 Queen St W\nToronto, ON M5H 2N2", "Toronto", "CA", POSTCODE_AND_REGION),
        ("1200 Granville St, Vancouver BC V6Z 1M6, Canada", "Vancouver", "CA", POSTCODE_AND_REGION),
        # "WA 6000" has a four-digit postcode: Western Australia, not Washington.
        ("Level 3, 14 Hay Street, Perth WA 6000", "Perth", "AU", POSTCODE_AND_REGION),
        ("5 George St, Sydney NSW 2000, Australia", "Sydney", "AU", POSTCODE_AND_REGION),
        # Britain: a county between the town and the postcode, or the postcode alone.
        ("Mill House, 3 Station Road, Wilmslow, Cheshire SK9 1BU, United Kingdom",
         "Wilmslow", "GB", POSTCODE_AND_REGION),
        ("Acme Ltd, 10 Deansgate, Manchester M3 2BW", "Manchester", "GB", POSTCODE_AND_REGION),
        # ...on lines of their own: town, county, postcode (the county is not the town)...
        ("Write to us:\n14 Quarry Lane\nMaidstone\nKent\nME14 2LP", "Maidstone", "GB",
         POSTCODE_AND_REGION),
        ("Unit 4, Tanner Way\nBillericay\nEssex\nCM12 0QT", "Billericay", "GB",
         POSTCODE_AND_REGION),
        # ...and a city that is a district of its own stays the town
        ("PO Box 12\nNewcastle upon Tyne\nNE1 4XF", "Newcastle upon Tyne", "GB",
         POSTCODE_AND_REGION),
        # Postcode before the city: the country from a country line, or the city's country.
        ("Torstraße 140\n10119 Berlin\nGermany", "Berlin", "DE", POSTCODE_AND_CITY),
        ("Torstraße 140\n10119 Berlin", "Berlin", "DE", POSTCODE_AND_CITY),
        ("8 rue de Rivoli\n75004 Paris\nFrance", "Paris", "FR", POSTCODE_AND_CITY),
        ("Keizersgracht 20\n1015 CR Amsterdam", "Amsterdam", "NL", POSTCODE_AND_CITY),
        ("Rua das Flores 5, 4050-262 Porto, Portugal", "Porto", "PT", POSTCODE_AND_CITY),
        ("ul. Prosta 20, 00-850 Warszawa", "Warszawa", "PL", POSTCODE_AND_CITY),
        ("Mariahilfer Straße 1\n1060 Wien\nÖsterreich", "Wien", "AT", POSTCODE_AND_CITY),
        ("Kaiserstraße 5, 60311 Frankfurt am Main", "Frankfurt am Main", "DE", POSTCODE_AND_CITY),
        ("Calle Durango 20, 06700 Ciudad de México, CDMX", "Ciudad de México", "MX",
         POSTCODE_AND_CITY),
        # an Italian province's code after the city is not part of its name
        ("Via Nazionale 12, 00184 Roma RM, Italia", "Roma", "IT", POSTCODE_AND_CITY),
        # A city, then a six-digit postcode.
        ("4th Floor, Tower B, Andheri East, Mumbai 400069", "Mumbai", "IN", POSTCODE_AND_CITY),
        ("Fort, Pune - 411 001, India", "Pune", "IN", POSTCODE_AND_CITY),
        # ...or with the state between them: the city is the part before the state
        ("3rd Floor, 12 Residency Road, Bengaluru, Karnataka 560025, India", "Bengaluru", "IN",
         POSTCODE_AND_CITY),
        # Separators between street and city; Quebec as it writes itself.
        ("12 Elm St · Springfield, IL 62701", "Springfield", "US", POSTCODE_AND_REGION),
        ("400 rue Notre-Dame, Montréal (Québec) H2Y 1C6", "Montréal", "CA", POSTCODE_AND_REGION),
    ],
)  # fmt: skip
def test_an_address_is_read_by_its_structure(
    text: str, city: str, country: str, strength: int
) -> None:
    [address] = find_addresses(text)
    assert (address.city, address.country, address.strength) == (city, country, strength)
    assert address.quote in " ".join(text.split())  # the page's own words, as evidence


@pytest.mark.parametrize(
    "text",
    [
        "Google, as a third party vendor, uses cookies to serve ads.",
        "We ship to Georgia, Texas and Ohio.",
        "Since 1990 we have served customers across Portland, Oregon and beyond.",
        "Orders, CA are processed daily.",  # not a known city: no address without a postcode
        "Founded in 1998 with 45 staff.",
        "Call us on 0800 123 4567",
    ],
)
def test_prose_is_not_an_address(text: str) -> None:
    assert find_addresses(text) == []


@pytest.mark.parametrize(
    ("text", "quote"),
    [
        ("Write to us\n8 rue de Rivoli\n75004 Paris\nFrance\nOpen daily",
         "8 rue de Rivoli 75004 Paris France"),
        # a telephone line above holds digits but is no street
        ("Tel: +33 1 42 60 00 00\n75004 Paris", "75004 Paris"),
    ],
)  # fmt: skip
def test_an_address_s_quote_is_the_address_with_its_street_and_country(
    text: str, quote: str
) -> None:
    """The evidence for a city read from "75004 Paris" is the address as it stands: the street
    line above and the country line below, not the postcode and city alone."""
    [address] = find_addresses(text)
    assert address.quote == quote


def test_the_strongest_form_and_each_line_are_reported() -> None:
    """A list of job locations above the footer's full address: both are found, and the full
    address is the stronger."""
    found = find_addresses("Jobs in Denver, CO\nHQ: 500 Main Street, Boston, MA 02110")
    assert [(a.city, a.strength) for a in found] == [
        ("Denver", CITY_AND_REGION),
        ("Boston", POSTCODE_AND_REGION),
    ]


def test_an_address_stated_in_a_long_paragraph_is_found_on_its_line() -> None:
    """Annual-report prose runs a whole paragraph as one line: the address in one of its
    sentences is read, and reported on the paragraph's line."""
    paragraph = (
        "Our customers are regional grocers, convenience chains and independent bakeries, "
        "and we ship to them from two distribution centres using our own fleet of "
        "refrigerated trucks, which we replace on a seven-year cycle. Our principal executive "
        "offices are located at 4100 Harbor Boulevard, Oxnard, California 93035. We were "
        "organised in 1987 and have been public since 1996."
    )
    assert len(paragraph) > 300
    found = find_addresses(f"About us\n{paragraph}")
    assert [(a.city, a.country, a.strength, a.line) for a in found] == [
        ("Oxnard", "US", POSTCODE_AND_REGION, 1)
    ]


def test_a_postcode_several_countries_write_is_settled_by_the_page_s_hints() -> None:
    """Five digits are written in Germany, France, Italy, Spain...: a city of that name in
    several of them is placed where the page's phone number or domain points."""
    assert find_addresses("12 Via Roma\n00184 Roma", hints=["IT"])[0].country == "IT"


def test_phone_numbers_and_domains_name_countries() -> None:
    assert phone_countries("Tel. +44 20 7946 0958 · +1 415 555 0132") == ["GB", "US"]
    assert phone_countries("Call 0800 123 4567") == []  # no country code: no country
    assert domain_country("https://www.example.co.uk") == "GB"
    assert domain_country("https://example.de/impressum") == "DE"
    assert domain_country("https://example.com") is None
