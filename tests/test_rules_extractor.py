"""The offline extractor on single pages: each rule finds what a reader would, and no more."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from enrichment_pipelines.core.crawl import Page
from enrichment_pipelines.core.datapoints import DATA_POINT_KEYS
from enrichment_pipelines.core.extractors import Evidence, Extraction
from enrichment_pipelines.core.extractors.evidence import verify_evidence
from enrichment_pipelines.core.extractors.rules import RulesExtractor
from enrichment_pipelines.core.html_text import parse_html


def _page(html: str, kind: str = "home", url: str = "https://acme.example/") -> Page:
    parsed = parse_html(html, url)
    return Page(
        url=url,
        final_url=url,
        fetched_at=datetime.now(UTC),
        title=parsed.title,
        meta=parsed.meta,
        structured_data=parsed.structured_data,
        text=parsed.text,
        kind=kind,
    )


def _extract(*pages: Page) -> Extraction:
    return RulesExtractor().extract("https://acme.example", pages, DATA_POINT_KEYS)


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("We are a team of 40 designers and engineers.", "11-50"),
        ("With over 1,200 employees worldwide, we are hiring.", "1001-5000"),
        ("More than 6,500 academic and professional staff work here.", "5001-10000"),
        ("Gridsale is a 95-person company.", "51-200"),
        ("Used by 1,500 companies and their 600,000 employees.", None),
        ("HR software for companies with 10 to 500 employees.", None),
        ("Clean water for 1.2 million people.", None),
        ("For over 60 years, we have built kitchens by hand.", None),
        ("Trusted by 10,000 people every day.", None),
        # a million or more only where the company employs them
        ("We serve customers with approximately 2.1 million associates.", "10001+"),
        ("Over 1.5 million people and members use our app.", None),
    ],
)
def test_head_counts_are_the_company_s_own(sentence: str, expected: str | None) -> None:
    result = _extract(_page(f"<title>Acme</title><p>{sentence}</p>", kind="about"))
    assert result.data.get("employee_count") == expected


@pytest.mark.parametrize(
    ("footer", "city", "country"),
    [
        ("GreenBasket GmbH, Mariahilfer Straße 55, 1060 Wien, Österreich", "Wien", "AT"),
        ("Querynest Inc., 2261 Market Street, San Francisco, CA 94114, USA", "San Francisco", "US"),
        ("Pipewright GmbH · Torstraße 1 · 10119 Berlin · Germany", "Berlin", "DE"),
        ("Shiftwise Ltd, 45 Deansgate, Manchester M3 2BW, United Kingdom", "Manchester", "GB"),
        ("Founded in 2015 and headquartered in Austin, Texas.", "Austin", "US"),
        ("Mendel is headquartered in Cambridge, Massachusetts.", "Cambridge", "US"),
        ("The Company's headquarters are in Dallas.", "Dallas", "US"),
        ("Acme is an Omaha-based maker of grain bins.", "Omaha", "US"),
        ("A Minneapolis-based bank, Acme lends to farmers.", "Minneapolis", "US"),
        ("We are based in Singapore.", "Singapore", "SG"),  # a city and a country
        # a county between the city and the country; "UK" is Britain's
        ("A design studio in Blackpool, Lancashire, UK.", "Blackpool", "GB"),
    ],
)
def test_hq_from_addresses_and_statements(footer: str, city: str, country: str) -> None:
    result = _extract(_page(f"<title>Acme</title><p>We make things.</p><footer>{footer}</footer>"))
    assert (result.data.get("location_city"), result.data.get("location_country_code")) == (
        city,
        country,
    )
    assert result.evidence["location_city"].quote in result.evidence["location_city"].quote


@pytest.mark.parametrize(
    ("text", "city"),
    [
        ("Our roasting plant in Portland, Oregon supplies cafés across the state.", "Portland"),
        # places the words do not tell apart: none of them is called home
        ("Our roasting plants in Portland, Oregon and Denver, Colorado supply cafés nationwide.",
         None),
        # ...unless the words call one home
        ("We keep our principal offices in Boise, Idaho. Our roasting plants in Portland, "
         "Oregon and Denver, Colorado supply cafés nationwide.", "Boise"),
        # each clause ranks its own place: the company's headquarters, not a regional one
        ("Our corporate headquarters are in Denver, Colorado, and our European headquarters "
         "is in Amsterdam, the Netherlands.", "Denver"),
        # a subsidiary's home is not the company's, even past the stop of "Inc." in its name
        ("We distribute through a wholly-owned subsidiary, Northwind Supply, Inc. "
         "(“Northwind”), a wholesaler based in Tulsa, Oklahoma.", None),
        # a company's legal name in a sentence names any company, not a footer's owner
        ("Our principal offices are in Boise, Idaho. Our largest customer is Northwind "
         "Supply Inc., a wholesaler with stores in Tulsa, Oklahoma.", "Boise"),
        # others "based" somewhere are not the company; a country is no city
        ("We compete with India-based service providers and with Boston Consulting.", None),
        # nor is a joint venture's
        ("Our cells are made by Voltra LLC, a joint venture, in Toledo, Ohio.", None),
        # a site opened, one of several, is a branch, in prose or with its region
        ("In April 2005, the Bank opened a full service office in Lakewood, Washington, just"
         " south of Tacoma.", None),
        ("Acme continues to invest, opening an airborne power research center in Rockford, "
         "IL, where a prototype motor was run.", None),
        ("Acme is headquartered in Denver, Colorado. In 2019 it opened a new office in "
         "Boise, Idaho.", "Denver"),
        # ...but not the company's own headquarters or head office
        ("Acme opened its headquarters in Austin, Texas in 2001.", "Austin"),
        ("In 2018 Acme opened its new corporate offices in Austin, Texas.", "Austin"),
        ("Acme opened a new head office in Leeds, West Yorkshire.", "Leeds"),
        # the legal name of a headquarters
        ("Its rugs are woven in Dalton, Georgia. The Company, with its principal place of "
         "business in Charlotte, North Carolina, operates 40 stores.", "Charlotte"),
        # a move: where it went, not where it came from
        ("Acme moved its headquarters from Chicago, Illinois to Dallas, Texas in 2021.",
         "Dallas"),
        ("In 2015 we relocated our corporate offices from Reno, Nevada to Boise, Idaho.",
         "Boise"),
        # "in" is a word, not Indiana's code: "market" is no city
        ("Our blend is the only one of its kind on the market, in the view of our buyers.",
         None),
    ],
)  # fmt: skip
def test_a_place_stands_as_the_headquarters_only_when_the_words_single_it_out(
    text: str, city: str | None
) -> None:
    result = _extract(_page(f"<title>Acme</title><p>{text}</p>", kind="about"))
    assert result.data.get("location_city") == city


@pytest.mark.parametrize(
    ("places", "city"),
    [
        # a list of places with their region alone (job locations, areas served): none
        (["Austin, Texas", "Denver, Colorado", "Boston, Massachusetts"], None),
        # two offices: the first named, as a main office is named first
        (["Tampa, Florida", "Orlando, Florida"], "Tampa"),
    ],
)
def test_a_list_of_places_is_not_an_address(places: list[str], city: str | None) -> None:
    listed = "".join(f"<p>Job opening {number}</p><p>{place}</p>"
                     for number, place in enumerate(places))  # fmt: skip
    result = _extract(_page(f"<title>Careers</title>{listed}", kind="other"))
    assert result.data.get("location_city") == city


@pytest.mark.parametrize(
    ("text", "country"),
    [
        ("Acme is headquartered in Texas.", "US"),
        ("Headquartered in Texas, Acme sells grain bins.", "US"),
        ("Acme is headquartered in Georgia.", "US"),  # a state, as a US company writes it
        ("We are based in India and sell worldwide.", "IN"),
        ("Our principal executive offices are located in New Jersey.", "US"),
        # incorporation and customers say nothing of where the company is
        ("The Company is a Delaware corporation.", None),
        ("We sell to customers in Germany.", None),
    ],
)
def test_a_headquarters_stated_as_a_state_or_country_gives_the_country_alone(
    text: str, country: str | None
) -> None:
    result = _extract(_page(f"<title>About</title><p>Acme makes widgets.</p><p>{text}</p>",
                            kind="about"))  # fmt: skip
    assert result.data.get("location_country_code") == country
    assert result.data.get("location_city") is None


def test_a_short_postcode_line_stands_as_evidence_with_its_street() -> None:
    """ "75002 Paris" alone is too short a quote to stand as evidence; with its street line it
    is the address itself, and the city stands."""
    contact = _page(
        "<title>Contact</title><h1>Contact</h1><p>12 rue de la Paix<br>75002 Paris</p>",
        kind="contact",
    )
    result = _extract(contact)
    assert (result.data.get("location_city"), result.data.get("location_country_code")) == (
        "Paris",
        "FR",
    )
    assert result.evidence["location_city"].quote == "12 rue de la Paix 75002 Paris"


def test_headquarters_beat_a_branch_office() -> None:
    contact = _page(
        "<title>Contact</title><p>European office: Dublin, Ireland.</p>"
        "<p>Headquarters: Kitewire Inc., 100 Congress Ave, Austin, TX, USA.</p>",
        kind="contact",
    )
    result = _extract(_page("<title>Kitewire</title><p>Team chat.</p>"), contact)
    assert result.data["location_city"] == "Austin"
    assert result.data["location_country_code"] == "US"


def test_a_count_of_the_staff_comes_before_a_count_of_one_role() -> None:
    """ "1,700 scientists" may be only some of the company's people: where the text also
    counts its staff, that count is the head count; alone, the role's count stands."""
    role = "<p>We have approximately 1,700 scientists and engineers in our laboratories.</p>"
    staff = "<p>As of June 30, we had approximately 6,400 full-time employees worldwide.</p>"
    assert _extract(_page(role + staff)).data.get("employee_count") == "5001-10000"
    assert _extract(_page(role)).data.get("employee_count") == "1001-5000"


def test_a_count_as_of_a_date_comes_before_a_count_in_passing() -> None:
    """A filing's own tally ("As of December 31, ... we had N employees") is the head count,
    though the text counted some people earlier ("a staff of 40 in Austin")."""
    passing = "<p>Our Austin service center, with a staff of 40, answers calls.</p>"
    tally = "<p>As of December 31, 2024, we had approximately 2,300 employees.</p>"
    assert _extract(_page(passing + tally)).data.get("employee_count") == "1001-5000"
    # a date after the count, or a count of the day's hires, is no tally
    later = "<p>Acme employs 300 people.</p><p>On June 1, 2020, we hired 5 employees.</p>"
    assert _extract(_page(later)).data.get("employee_count") == "201-500"


def test_text_hidden_from_visitors_is_not_read() -> None:
    page = _page(
        "<title>Tidewater Bakery</title><p>Sourdough bread baked every morning.</p>"
        '<p style="font-size:1px">Headquartered in Zurich, Switzerland, 20,000 employees, '
        "acquired by Google.</p>"
        '<div style="display: none">We are a team of 400.</div>'
        '<p style="VISIBILITY: Hidden">Offices in Oslo.</p><p style="font-size: 0px">Lima</p>'
        '<div class="CookieConsent-banner">We use cookies in Vienna.</div>'
        '<p style="color: grey; font-size: 0.8em">Baked in Portland since 1990.</p>'
        '<p style="font-size:.5px">Offices in Quito.</p>'
        '<p style="--font-size: 0; font-size: 14px">Ovens fired at dawn.</p>'
    )
    result = _extract(page)
    assert "Zurich" not in page.text and "400" not in page.text
    assert not {"Oslo", "Lima", "Vienna", "Quito"} & set(page.text.replace(".", " ").split())
    assert "Baked in Portland since 1990." in page.text  # small print, but readable
    assert "Ovens fired at dawn." in page.text  # a custom property is no font size
    assert result.data.get("location_city") is None
    assert result.data.get("employee_count") is None
    assert result.data.get("is_acquired") is None


def test_we_acquired_is_not_being_acquired() -> None:
    about = _page(
        "<title>About</title><p>In 2024 we acquired Tracelight to add tracing.</p>", kind="about"
    )
    assert (
        _extract(_page("<title>Stackmind</title><p>Logs.</p>"), about).data["is_acquired"] is False
    )
    sold = _page("<title>About</title><p>Since 2022 RouteLogic is part of the Transvia Group.</p>",
                 kind="about")  # fmt: skip
    assert _extract(_page("<title>RouteLogic</title><p>Fleets.</p>"), sold).data["is_acquired"]


def test_a_quote_not_on_the_page_drops_the_value() -> None:
    page = _page("<title>Acme</title><p>Acme sells anvils to families.</p>")
    extraction = Extraction()
    extraction.set("target_market", "B2C", Evidence(page.url, "sells anvils to families"), 0.9)
    extraction.set("is_acquired", True, Evidence(page.url, "acquired by Wile E. Corp"), 0.9)
    verify_evidence(extraction, [page])
    assert extraction.data == {"target_market": "B2C"}
    assert extraction.problems == ["is_acquired: quote not found on the site"]


def test_part_of_a_mission_is_not_an_acquisition() -> None:
    about = _page(
        "<title>About</title><p>Sustainability is part of everything we do.</p>", kind="about"
    )
    assert _extract(_page("<title>Acme</title><p>Anvils.</p>"), about).data["is_acquired"] is False


@pytest.mark.parametrize(
    "price",
    [
        "Starter: 29 € per user per month, billed annually.",
        "Team: $8/seat/mo.",
        "From £12 per month per editor.",
        "Essential: €15 per agent, per month.",
    ],
)
def test_a_plan_priced_per_user_is_software_whatever_the_industry(price: str) -> None:
    # Recruiting sells no software as a rule: the price of a per-user licence says it does.
    home = _page(
        "<title>Hireloop | Recruiting</title><h1>Hireloop helps recruiters hire faster.</h1>"
        "<p>Source candidates, run interviews and hire the best talent.</p>"
    )
    pricing = _page(f"<h1>Pricing</h1><p>{price}</p>", "pricing", "https://acme.example/pricing")
    result = _extract(home, pricing)
    assert result.data.get("is_saas") is True
    assert result.evidence["is_saas"].quote == price
    # Other prices per head or per period are no licence: the agency stays what it is.
    agency = _page(
        "<title>Hireloop | Recruiting</title><h1>Hireloop is a recruitment agency.</h1>"
        "<p>Our recruiters find your next hire.</p><p>Workshops: €400 per person.</p>"
        "<p>Office desks from £140 per month.</p>"
    )
    assert _extract(agency).data.get("is_saas") is False


def test_a_site_with_no_text_is_not_called_non_software_from_its_description() -> None:
    # A script-rendered app: the description names the industry, no page text was read.
    shell = _page(
        "<html><head><title>Ledgerly Ltd</title><meta name='description' content='Ledgerly is"
        " online accounting software for bookkeeping, VAT and expenses.'></head><body>"
        "<div id='root'></div><script src='/static/app.js'></script></body></html>"
    )
    assert _extract(shell).data.get("is_saas") is None


def test_a_link_to_the_imprint_is_no_sign_of_a_print_business() -> None:
    # Old-style sites repeat their menu as text on every page, the legal notice ("Imprint") in it.
    menu = (
        "<table><tr><td><a href='/about'>ABOUT</a> | <a href='/pricing'>PRICING</a> | "
        "<a href='/impressum'>IMPRINT</a></td></tr></table>"
    )
    pages = [
        _page(
            f"<title>Swiftscope | Corporate Training</title>{menu}<h1>Swiftscope runs corporate"
            " training programs for modern workforces.</h1><p>Learning paths on one platform,"
            " with certification built in.</p>"
        ),
        _page(f"{menu}<p>Plans from €40 a month.</p>", "pricing", "https://acme.example/pricing"),
        _page(f"{menu}<p>Founded in Munich in 2019.</p>", "about", "https://acme.example/about"),
        _page(f"{menu}<p>Swiftscope GmbH, München.</p>", "legal", "https://acme.example/impressum"),
    ]
    result = _extract(*pages)
    assert result.data.get("is_saas") is True
    assert "IMPRINT" not in result.evidence["is_saas"].quote


def test_the_contact_page_s_postal_address_wins_over_prose_and_is_the_quote() -> None:
    home = _page("<p>Our engineers are based in Austin, with friends all over Texas.</p>")
    contact = _page(
        "<h1>Contact</h1><address>Acme Tools Inc.<br>455 Orchard Court<br>"
        "Fremont, CA 94538</address><p>Call +1 510 555 0134</p>",
        kind="contact",
        url="https://acme.example/contact",
    )
    result = _extract(home, contact)
    assert (result.data["location_city"], result.data["location_country_code"]) == (
        "Fremont",
        "US",
    )
    evidence = result.evidence["location_city"]
    assert evidence.url == "https://acme.example/contact"
    assert evidence.quote == "Fremont, CA 94538"
    assert result.confidence["location_city"] >= 0.8


def test_a_list_of_job_locations_does_not_beat_the_footer_address() -> None:
    careers = _page(
        "<h2>Open roles</h2><ul><li>Engineer, Denver, CO</li><li>Designer, Tucson, AZ</li></ul>"
        "<footer>Acme GmbH · Torstraße 140 · 10119 Berlin · Germany</footer>",
        kind="careers",
    )
    result = _extract(careers)
    assert (result.data["location_city"], result.data["location_country_code"]) == (
        "Berlin",
        "DE",
    )


def test_a_drop_down_of_states_is_no_address() -> None:
    contact = _page(
        "<form><label>State</label><select><option>Springfield, IL</option>"
        "<option>Portland, OR</option></select></form><p>Write to us any time.</p>",
        kind="contact",
    )
    result = _extract(contact)
    assert result.data.get("location_city") is None
    assert result.data.get("location_country_code") is None


def test_markup_address_without_a_country_takes_it_from_the_region() -> None:
    restaurant = _page(
        '<script type="application/ld+json">{"@type": "Restaurant", "name": "Luigi\'s", '
        '"address": {"@type": "PostalAddress", "streetAddress": "12 Elm St", '
        '"addressLocality": "Springfield", "addressRegion": "IL", "postalCode": "62701"}}'
        "</script><p>Fresh pasta since 1987.</p>"
    )
    result = _extract(restaurant)
    assert (result.data["location_city"], result.data["location_country_code"]) == (
        "Springfield",
        "US",
    )


def test_a_town_named_only_in_the_title_is_read_there() -> None:
    contact = _page(
        "<title>Contact | Luigi's Trattoria | Ithaca, NY</title><p>Book a table any night.</p>",
        kind="contact",
    )
    result = _extract(contact)
    assert (result.data["location_city"], result.data["location_country_code"]) == (
        "Ithaca",
        "US",
    )


@pytest.mark.parametrize(
    ("statement", "year"),
    [
        ("Ledgerline was founded in 2019 by two freelance designers.", 2019),
        ("Founded by two engineers in 2016, Acme builds rockets.", 2016),
        ("RouteLogic was founded in Lyon, France in 2011.", 2011),
        ("Established in March 1998, we serve the Midwest.", 1998),
        ("Acme Ltd. Est. 2020", 2020),
        ("Year founded: 2011", 2011),
        ("Family owned and operated since 1952.", 1952),
        ("Since 1985, Acme has served Ohio homeowners.", 1985),
        ("CarePoint has cared for patients in Denver since 1998.", 1998),
        ("The company was incorporated in Delaware in August 1987.", 1987),
        ("Harbor Mills, Inc. was organized as a Maine corporation in 1902.", 1902),
        ("Our operations began in 1954 in a two-room machine shop.", 1954),
        ("The businesses run by our founders began in 1948 with a single shop.", 1948),
        ("Tidewell Bancorp was formed under Oregon law on March 3, 1999.", 1999),
        # the company's beginning named as such
        ("Since Visa’s early days in 1958, we have facilitated payments.", 1958),
        ("Since our inception in 1998, we have served growers.", 1998),
        ("From its beginnings in 1920 as a feed store, Acme grew into a chain.", 1920),
        # ...not a fund's or an award's
        ("The Growth Fund has returned 9.1% annually since its inception in 2009.", None),
        ("Since its inception in 1995, the Acme Award has honoured 40 teachers.", None),
        # a trademarked product's launch is not the company's
        (
            "DYNACIN® was launched in the second quarter of the fiscal year ended June 30, 1993.",
            None,
        ),
        ("DYNACIN® tablets were launched in 1993.", None),
        ("The WIDGET® was launched in 1995 and Acme was founded in 1990.", 1990),
        # a launch or a start is weaker than being in business since
        ("Family owned since 1952. Our blog started in 2015.", 1952),
        # "started" names a service's or a trend's start as often as the company's
        (
            "Personal phone numbers started in the United Kingdom in 1995. Acme Telecom has been"
            " established in 2010.",
            2010,
        ),
        ("We started in 2005 as a two-person shop.", 2005),
        # the company's legal start, not a product's launch
        (
            "Its flagship catalog was launched in 1985. The Company was incorporated in Ohio "
            "in 1971.",
            1971,
        ),
        ("We sell jeans online. Since 2003 we have specialised in denim.", 2003),
        # operations commenced, roots traced: the company's own start
        ("Harlow Tool commenced operations in 1979 with four lathes.", 1979),
        ("Brightwater traces its roots to 1887, when a mill opened in Lowell.", 1887),
        ("Our history dates back to 1921, when two brothers opened a bakery.", 1921),
        ("Our story began in 2009, in a tiny kitchen.", 2009),
        ("Her story began in 1960 in Leeds.", None),  # a person's, not the company's
        # ...not a building's age, a subsidiary's start or a bought company's founding
        ("Our shop sits in a mill that dates back to 1890.", None),
        ("Kestrel Ltd., our subsidiary, commenced operations in 2022.", None),
        ("In 2019 we acquired Delta Ltd., a family business established in 1932.", None),
        ("Acme, founded in 1946, acquired Beta Corp in 2019.", 1946),
        ("Acquired by Beta Corp in 2005, Acme, founded in 1920, still makes rope.", 1920),
        ("Quality Refurbished Servers Since 1986", 1986),  # a tagline ending in its year
        # not a founding: a copyright, a person's career, a branch, a verb, a move, a
        # re-incorporation, a year in the future
        ("© 2012 Acme Inc. All rights reserved.", None),
        ("Copyright 1999-2013 Acme.", None),
        ("Jane has practised law since 1990.", None),
        ("Our Berlin office was founded in 2018.", None),
        ("We have established relationships with 300 clients in 2015 alone.", None),
        ("In 2019 we moved to Lisbon.", None),
        ("Acme was reincorporated in Delaware in 2007.", None),
        ("Acme formed a joint venture with Orbis in 2015.", None),
        ("Northwind is our British arm. Operations began on June 2, 2021.", None),  # another's
        ("Acme was re-organized as a holding company in 2004.", None),
        ("Acme will be founded in 2999.", None),
        ("Founded in the early 1930s, Nippy's delivers fresh produce.", None),  # a decade
        ("Prices have not changed since 2010, so the offer stands.", None),  # not a tagline
        (  # a sentence, not a tagline: longer than a dozen words
            "Loyal customers from all over the county keep coming back to the little shop "
            "by the bridge since 2001.",
            None,
        ),
    ],
)
def test_a_founding_year_is_the_one_a_page_states(statement: str, year: int | None) -> None:
    found = _extract(_page(f"<h1>About us</h1><p>{statement}</p>", kind="about"))
    assert found.data.get("founded_year") == year
    if year is not None:
        assert str(year) in found.evidence["founded_year"].quote


def test_a_tagline_in_the_title_states_the_founding_year() -> None:
    page = _page("<title>Modern Furniture in Toronto Since 1986</title><p>Sofas and beds.</p>")
    found = _extract(page)
    assert found.data["founded_year"] == 1986
    assert found.evidence["founded_year"].quote == "Modern Furniture in Toronto Since 1986"


def test_a_founding_date_in_the_markup_is_the_founding_year() -> None:
    markup = (
        '<script type="application/ld+json">{"@type": "Organization", "name": "Acme",'
        ' "foundingDate": "2009-04-01"}</script><p>We build boats. © 2024 Acme.</p>'
    )
    found = _extract(_page(markup))
    assert found.data["founded_year"] == 2009
    assert found.confidence["founded_year"] >= 0.9
