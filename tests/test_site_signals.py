"""What the markup shows: technologies (bundled and a user's fingerprints), the company's own
social profiles, its logo, its open roles; and where they land in the warehouse."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from enrichment_pipelines.core.config import LLMConfig
from enrichment_pipelines.core.crawl import CrawlOptions, Page, crawl_sites
from enrichment_pipelines.core.datapoints import DATA_POINT_KEYS
from enrichment_pipelines.core.extractors import Evidence, Extraction, build_extractor
from enrichment_pipelines.core.extractors.evidence import verify_evidence
from enrichment_pipelines.core.extractors.llm import LLMExtractor
from enrichment_pipelines.core.extractors.rules import RulesExtractor
from enrichment_pipelines.core.extractors.site_signals import profile_platform
from enrichment_pipelines.core.extractors.technologies import (
    FingerprintError,
    branch_literals,
    load_fingerprints,
    required_literals,
)
from enrichment_pipelines.core.html_text import parse_html
from enrichment_pipelines.core.job_boards import listing_of
from enrichment_pipelines.core.websites import parse_networks
from enrichment_pipelines.demo.server import Request, SiteServer, site_address
from enrichment_pipelines.demo.sites import Response
from tests.support.llm_server import LocalLLMServer

SITE = "https://acme.example"


def _page(html: str, path: str = "/", kind: str = "home") -> Page:
    url = SITE + path
    parsed = parse_html(html, url)
    return Page(
        url=url, final_url=url, fetched_at=datetime.now(UTC), kind=kind, title=parsed.title,
        meta=parsed.meta, structured_data=parsed.structured_data, links=parsed.links,
        text=parsed.text, assets=parsed.assets,
    )  # fmt: skip


def _extract(*pages: Page, extractor: RulesExtractor | None = None) -> Extraction:
    return (extractor or RulesExtractor()).extract(SITE, pages, DATA_POINT_KEYS)


# --- social profiles ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "platform"),
    [
        ("https://www.linkedin.com/company/acme-ltd/", "linkedin"),
        ("https://twitter.com/acmehq", "twitter"),
        ("https://x.com/acmehq", "twitter"),
        ("https://www.facebook.com/AcmeLtd", "facebook"),
        ("https://www.facebook.com/pages/Acme-Ltd/108455322", "facebook"),
        ("https://www.instagram.com/acme.ltd/", "instagram"),
        ("https://www.youtube.com/@acme", "youtube"),
        ("https://www.youtube.com/channel/UC123", "youtube"),
        ("https://github.com/acme", "github"),
        # share and intent links, people, posts, videos, the platforms' own pages
        ("https://twitter.com/intent/tweet?text=hi", None),
        ("https://twitter.com/share", None),
        ("https://www.facebook.com/sharer/sharer.php?u=x", None),
        ("https://www.linkedin.com/shareArticle?mini=true", None),
        ("https://www.linkedin.com/in/jane-doe/", None),
        ("https://twitter.com/acmehq/status/1234567890", None),
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", None),
        ("https://www.instagram.com/p/C1a2b3/", None),
        ("https://github.com/acme/acme-sdk", None),
        ("https://www.facebook.com/policies", None),
        ("https://www.pinterest.com/acme", None),
    ],
)
def test_a_profile_is_an_account_s_own_page(url: str, platform: str | None) -> None:
    assert profile_platform(url) == platform


def test_social_profiles_are_the_company_s_own_not_shares_people_or_the_site_maker() -> None:
    home = _page(
        "<p>Acme makes tools for builders.</p><footer>"
        '<a href="https://www.linkedin.com/company/acme-ltd/">LinkedIn</a> '
        '<a href="https://twitter.com/intent/tweet?text=Acme">Tweet</a> '
        '<a href="https://www.linkedin.com/in/jane-doe/">Our CEO</a> '
        'Site by <a href="https://twitter.com/pixelstudio">Pixel Studio</a> '
        '<a href="https://twitter.com/acmehq">Twitter</a></footer>'
    )
    found = _extract(home)
    assert found.data["social_profiles"] == (
        "https://www.linkedin.com/company/acme-ltd/, https://twitter.com/acmehq"
    )
    assert found.evidence["social_profiles"].quote == "https://www.linkedin.com/company/acme-ltd/"


def test_ajax_era_and_older_profile_addresses_are_the_accounts_they_stand_for() -> None:
    page = _page(
        '<p>Acme makes tools.</p><a href="http://twitter.com/#!/acmehq">Twitter</a>'
        '<a href="https://twitter.com/#%21/acmehq">again</a>'
        '<a href="http://www.linkedin.com/companies/acme-tools">LinkedIn</a>'
        '<a href="https://twitter.com/#!/search/acme">a search is no account</a>'
    )
    found = set(_extract(page).data["social_profiles"].split(", "))
    assert found == {"http://twitter.com/acmehq", "http://www.linkedin.com/companies/acme-tools"}


def test_the_markup_s_same_as_comes_first() -> None:
    markup = (
        '<script type="application/ld+json">{"@type": "Organization", "name": "Acme",'
        ' "sameAs": ["https://github.com/acme"]}</script><p>Acme builds developer tools.</p>'
    )
    found = _extract(_page(markup))
    assert found.data["social_profiles"] == "https://github.com/acme"
    assert found.confidence["social_profiles"] == 0.9


# --- logo -----------------------------------------------------------------------------------


def test_a_logo_is_the_image_marked_so_and_a_favicon_is_none() -> None:
    with_logo = _page(
        '<link rel="icon" href="/favicon.ico"><header><a href="/"><img src="/img/acme.svg"'
        ' class="site-logo" alt="Acme"></a></header><p>Acme makes tools.</p>'
    )
    assert _extract(with_logo).data["logo_url"] == SITE + "/img/acme.svg"
    only_favicon = _page('<link rel="icon" href="/favicon.ico"><p>Acme makes tools.</p>')
    assert "logo_url" not in _extract(only_favicon).data


def test_a_large_icon_stands_in_and_a_photo_shared_is_no_logo() -> None:
    page = _page(
        '<meta property="og:image" content="https://acme.example/team-photo.jpg">'
        '<link rel="icon" sizes="32x32" href="/icon-32.png">'
        '<link rel="apple-touch-icon" href="/apple-touch-icon.png"><p>Acme makes tools.</p>'
    )
    assert _extract(page).data["logo_url"] == SITE + "/apple-touch-icon.png"


def test_the_logo_that_names_the_site_beats_a_partner_s_and_a_social_icon_is_none() -> None:
    page = _page(
        '<p>Follow us <img src="/img/twitter-logo.png"></p><p>Members of'
        ' <img src="/partners/fmb-logo.jpg" alt="FMB"></p><div id="top"><img'
        ' src="/img/acme-logo.png" alt="Acme Tools"></div><p>Acme makes tools.</p>'
    )
    assert _extract(page).data["logo_url"] == SITE + "/img/acme-logo.png"
    only_social = _page('<p>Follow us <img src="/img/twitter-logo.png"></p><p>Acme.</p>')
    assert "logo_url" not in _extract(only_social).data


def test_the_page_s_furniture_is_no_logo() -> None:
    """A spacer marked "logo", an arrow or a spinner linked home: parts of the page."""
    page = _page(
        '<div class="logo"><img src="/images/blank.gif"></div>'
        '<a href="/"><img src="/images/arrow_up.jpg"></a>'
        '<a href="/"><img src="/images/loading.gif"></a><p>Acme makes tools.</p>'
    )
    assert "logo_url" not in _extract(page).data


def test_an_image_named_after_the_site_stands_in_for_an_unmarked_logo() -> None:
    page = _page(
        '<table><tr><td><img src="/images/spacer.gif"></td><td><img src="/images/acme_03.gif">'
        '</td></tr></table><p>Acme makes tools. <img src="/images/workshop.jpg"></p>'
    )
    assert _extract(page).data["logo_url"] == SITE + "/images/acme_03.gif"
    # a word that only starts the name is not enough when it is short ("ac" of "acme")
    other = _page('<img src="/images/ac_photo.jpg"><p>Acme makes tools.</p>')
    assert "logo_url" not in _extract(other).data
    # the site's own image host, whatever its name says (not a Norton seal's host)
    lumber = parse_html(
        '<div class="logo"><img src="https://images.nortonlumber.example/nl.png"></div>',
        "https://www.nortonlumber.example/",
    )
    assert lumber.assets["images"] == [["https://images.nortonlumber.example/nl.png", "logo"]]
    advisor = parse_html('<img src="/img/home.png" alt="Home">', "https://homeadvisor.example/")
    assert advisor.assets["images"] == []  # "home" starts "homeadvisor" but is a plain word
    # a name written with a hyphen, in a theme's folder called "client"
    hyphen = parse_html(
        '<img src="/skin/client/images/logo.jpg" alt="Bike-Locks.com">',
        "https://bike-locks.example/",
    )
    assert hyphen.assets["images"] == [
        ["https://bike-locks.example/skin/client/images/logo.jpg", "site logo"]
    ]


def test_a_banner_named_the_header_stands_in_when_nothing_else_marks_the_logo() -> None:
    """A page of sliced images: the banner carrying the name is the file called the header;
    a photo in a header element is not."""
    sliced = _page(
        '<img src="/images/index_01.jpg"><img src="/images/longo_header.jpg" alt="">'
        "<p>Acme makes tools.</p>"
    )
    assert _extract(sliced).data["logo_url"] == SITE + "/images/longo_header.jpg"
    assert _extract(sliced).confidence["logo_url"] == 0.5
    photo = _page(
        '<header><img src="/img/trucks.jpg"></header><img src="/img/header-bg.jpg">'
        '<img src="/img/subheader-team.jpg"><p>Acme makes tools.</p>'
    )
    assert "logo_url" not in _extract(photo).data
    # a page crawled before, whose first image in a header element was stored as "header"
    stored = _page("<p>Acme makes tools.</p>")
    stored.assets["images"] = [[SITE + "/img/trucks.jpg", "header"]]
    assert "logo_url" not in _extract(stored).data


def test_others_marks_are_no_logo_partners_integrations_seals_and_strips() -> None:
    page = _page(
        '<img src="/img/integration-images/zapier-logomark.png">'
        '<img src="/images/clients/globex-logo.png"><img src="/img/yahooratinglogo.png">'
        '<img src="/img/verisignlogo.png"><img src="/images/scroll-logos-1.gif">'
        '<img src="/img/visa_logo.png"><div class="logo"><img'
        ' src="https://www.paypalobjects.com/i/bnr/bnr_nowAccepting.gif"></div>'
        "<p>Acme makes tools.</p>"
    )
    assert "logo_url" not in _extract(page).data
    # the site's own mark is kept wherever it sits
    own = _page('<img src="/img/partners/acme-logo.png" alt="Acme"><p>Acme makes tools.</p>')
    assert _extract(own).data["logo_url"] == SITE + "/img/partners/acme-logo.png"


@pytest.mark.parametrize(
    "image",
    [
        '<img src="/wp-content/themes/client-theme/images/logo.png">',  # a theme's folder
        '<img src="/customer-portal/assets/logo.png">',
        '<img src="/img/logo.png" alt="Norton Lumber Company">',  # a name, not a seal
        '<img src="/img/logo.png" alt="Smith Decorating">',  # "rating" inside a word
        '<img src="https://lh3.googleusercontent.com/abc123=w200" class="logo" alt="Logo">',
    ],
)
def test_a_site_s_own_logo_is_not_taken_for_another_s_mark(image: str) -> None:
    page = _page(f"<div class='logo'>{image}</div><p>Acme makes tools.</p>")
    assert _extract(page).data["logo_url"].startswith(("https://", SITE))


# --- open positions -------------------------------------------------------------------------


def test_roles_are_counted_from_job_board_postings_on_the_careers_page() -> None:
    careers = _page(
        "<h1>Careers</h1>"
        '<a href="https://boards.greenhouse.io/acme/jobs/401">Backend Engineer</a>'
        '<a href="https://boards.greenhouse.io/acme/jobs/402">Designer</a>'
        '<a href="https://boards.greenhouse.io/acme">All jobs</a>',
        "/careers",
        "careers",
    )
    found = _extract(_page("<p>Acme makes tools.</p>"), careers)
    assert found.data["open_positions"] == 2
    assert found.details["open_positions"] == {"board": "Greenhouse"}


def test_a_careers_page_without_openings_gives_0_and_no_careers_page_unknown() -> None:
    home = _page("<p>Acme makes tools.</p>")
    empty = _page(
        "<h1>Careers</h1><p>There are no open positions at the moment.</p>", "/careers", "careers"
    )
    assert _extract(home, empty).data["open_positions"] == 0
    assert "open_positions" not in _extract(home).data


def test_an_embedded_job_board_is_named_but_its_roles_are_not_guessed() -> None:
    careers = _page(
        '<h1>Jobs</h1><script src="https://acme.recruitee.com/embed.js"></script>'
        '<div id="jobs"></div>',
        "/jobs",
        "careers",
    )
    found = _extract(_page("<p>Acme makes tools.</p>"), careers)
    assert "open_positions" not in found.data
    assert found.details["open_positions"] == {"board": "Recruitee"}
    assert any("Recruitee" in problem for problem in found.problems)


@pytest.mark.parametrize(
    ("address", "listing"),
    [
        ("https://boards.greenhouse.io/acme", "https://boards.greenhouse.io/acme"),
        ("https://boards.greenhouse.io/embed/job_board/js?for=acme",
         "https://boards.greenhouse.io/acme"),
        ("https://boards.greenhouse.io/acme/jobs/401", None),  # one posting, not the listing
        ("https://jobs.lever.co/acme/?team=eng", "https://jobs.lever.co/acme/"),
        ("https://acme.recruitee.com/embed.js", None),  # a script, not the listing
        ("https://acme.wd1.myworkdayjobs.com/External", None),  # drawn by scripts
        ("https://boards.greenhouse.io.example.com/acme", None),  # another host
    ],
)  # fmt: skip
def test_a_job_board_listing_is_known_by_its_address(address: str, listing: str | None) -> None:
    assert listing_of(address) == listing


def test_the_job_board_listing_a_careers_page_links_or_embeds_is_fetched_and_counted() -> None:
    board = site_address(9)  # where the boards' host names resolve in this test

    def careers(markup: str) -> Callable[[Request], Response]:
        def page(request: Request) -> Response:
            port = request.headers["host"].rsplit(":", 1)[1]
            return Response(200, markup.replace("PORT", port).encode())

        return page

    home = Response(
        200, b'<h1>Acme</h1><p>Acme makes tools in Leeds.</p><a href="/careers">Jobs</a>'
    )
    sites = {
        site_address(0): {"/": home, "/careers": careers(
            '<h1>Careers</h1><a href="http://boards.greenhouse.io:PORT/acme">Open roles</a>')},
        site_address(1): {"/": home, "/careers": careers(
            '<h1>Careers</h1><div id="grnhse_app"></div><script src="http://boards.greenhouse.io'
            ':PORT/embed/job_board/js?for=acme"></script>')},
        site_address(2): {"/": home, "/careers": careers(
            '<h1>Careers</h1><a href="http://jobs.lever.co:PORT/acme-tools">Open roles</a>')},
        board: {
            "/acme": Response(200, b'<h1>Jobs at Acme</h1><a href="/acme/jobs/11">Engineer,'
                              b' Berlin, Germany</a><a href="/acme/jobs/12">Designer, Berlin,'
                              b' Germany</a><a href="/acme/jobs/13?gh_src=x">Sales</a>'),
            "/acme-tools": Response(200, b"<h1>Acme Tools</h1><p>There are no open positions"
                                    b" at the moment.</p>"),
        },
    }  # fmt: skip

    def resolve(host: str, port: int) -> list[str]:
        assert host in ("boards.greenhouse.io", "jobs.lever.co"), host
        return [board]

    options = CrawlOptions(allowed_networks=parse_networks("127.0.0.0/8"), resolve=resolve)
    with SiteServer(sites) as server:
        urls = [server.url(site_address(index)) for index in range(3)]
        crawls = crawl_sites(urls, options)
    counts = []
    for crawl in crawls:
        assert [page.kind for page in crawl.pages][-1] == "job board", crawl
        found = RulesExtractor().extract(crawl.website_url, crawl.pages, DATA_POINT_KEYS)
        counts.append((found.data["open_positions"], found.details["open_positions"]["board"]))
        # the listing's words and markup are the board's, not the company's
        assert found.data.get("location_country_code") != "DE"
        assert "Greenhouse" not in (found.data.get("tech_stack") or "")
    assert counts == [(3, "Greenhouse"), (3, "Greenhouse"), (0, "Lever")]
    # The LLM extractor keeps them, hybrid or asking every field: a count read on the board
    # is not checked again against the company's own pages (which leave the board out).
    with LocalLLMServer() as llm:
        for trust in (0.8, 1.01):
            config = LLMConfig(
                api_key="sk-test", base_url=llm.url, model="local", trust_offline_at=trust
            )
            model = LLMExtractor(config)
            found_by_model = [
                model.extract(crawl.website_url, crawl.pages, DATA_POINT_KEYS) for crawl in crawls
            ]
            assert [
                (found.data.get("open_positions"), found.details["open_positions"]["board"])
                for found in found_by_model
            ] == counts, trust


# --- technologies ---------------------------------------------------------------------------


def test_technologies_with_versions_and_what_they_imply_kept_apart() -> None:
    page = _page(
        '<html><head><meta name="generator" content="WordPress 6.4.2">'
        '<script src="/wp-includes/js/jquery/jquery-3.7.1.min.js"></script>'
        "<script>var s=document.createElement('script');s.src=('https:'==location.protocol?"
        "'https://ssl':'http://www')+'.google-analytics.com/ga.js';</script></head>"
        "<body><p>Acme makes tools.</p></body></html>"
    )
    found = _extract(page)
    names = found.data["tech_stack"].split(", ")
    assert {"WordPress", "jQuery", "Google Analytics"} <= set(names)
    assert "PHP" not in names  # implied by WordPress: in the details, not the attribute
    detected = {item["name"]: item for item in found.details["tech_stack"]}
    assert detected["WordPress"]["version"] == "6.4.2"
    assert detected["jQuery"]["version"] == "3.7.1"
    assert detected["PHP"]["implied_by"] == "WordPress"
    assert "CMS" in detected["WordPress"]["categories"]


def test_the_classic_analytics_snippet_that_writes_its_script_tag_is_read() -> None:
    page = _page(
        '<script type="text/javascript">var gaJsHost = (("https:" == document.location.protocol)'
        ' ? "https://ssl." : "http://www.");document.write(unescape("%3Cscript src=\'" + '
        "gaJsHost + \"google-analytics.com/ga.js' type='text/javascript'%3E%3C/script%3E\"));"
        "</script><p>Acme makes tools.</p>"
    )
    assert "Google Analytics" in {d.name for d in load_fingerprints().detect([page])}


def test_a_user_s_fingerprints_add_a_technology_and_change_the_extractor_s_name(
    tmp_path: Path,
) -> None:
    own = tmp_path / "fingerprints.json"
    own.write_text(json.dumps({
        "Acme Widgets": {"cats": [5], "scriptSrc": r"widgets\.acme-cdn\.com/v(\d+)\;version:\1"}
    }))  # fmt: skip
    extractor = build_extractor(LLMConfig(), fingerprints_path=own)
    page = _page('<script src="https://widgets.acme-cdn.com/v3/w.js"></script><p>Acme.</p>')
    found = extractor.extract(SITE, [page], DATA_POINT_KEYS)
    assert "Acme Widgets" in found.data["tech_stack"]
    assert found.details["tech_stack"][0]["version"] == "3"
    assert extractor.name != RulesExtractor().name  # stored extractions are redone


def test_a_broken_fingerprint_file_names_the_file_and_the_entry(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"Acme": {"cats": [1], "meta": "not a mapping"}}')
    with pytest.raises(FingerprintError, match=r"bad\.json: Acme\.meta"):
        load_fingerprints(bad)
    missing = tmp_path / "missing.json"
    with pytest.raises(FingerprintError, match=r"missing\.json: cannot be read"):
        load_fingerprints(missing)


def test_the_bundled_set_compiles_and_is_compiled_only_where_it_detects() -> None:
    fingerprints = load_fingerprints.__wrapped__()  # a fresh load, not the process's cached one
    assert "technologies" not in vars(fingerprints)  # naming the set compiles nothing
    assert fingerprints.key == "bundled" and len(fingerprints.entries) > 3000
    technologies = fingerprints.technologies  # every bundled pattern compiles
    assert len(technologies) == len(fingerprints.entries)
    assert sum(len(technology.html) for technology in technologies.values()) > 400


@pytest.mark.parametrize(
    ("regex", "literals"),
    [
        (r"google-analytics\.com/(?:ga|urchin)\.js", ("google-analytics.com/", ".js")),
        (r"^WordPress(?: ([\d.]+))?", ("wordpress",)),
        (r"colou?r-scheme", ("r-scheme", "colo")),
        (r"lightbox.{0,32}\.js", ("lightbox", ".js")),
        (r"[]abc]xyz", ("xyz",)),  # "]" first in a class is one of its members
        (r"abcd{,2}efg", ("abc", "efg")),
        (r"\x41bcd", ("bcd",)),  # a character code is not the text "x41"
        (r"(?x)foo bar", ()),
        (r"ab|cd", ()),  # an alternation at the top: no text every match has
        (r"<link[^>]+s\d+\.wp\.com", (".wp.com", "<link")),
    ],
)
def test_the_prefilter_texts_are_ones_every_match_contains(
    regex: str, literals: tuple[str, ...]
) -> None:
    assert required_literals(regex) == literals


@pytest.mark.parametrize(
    ("regex", "branches"),
    [
        (
            r"(?:<!--GrandNode |Powered by: <a[^>]+grandnode)",
            (("<!--grandnode ",), ("powered by: <a", "grandnode")),
        ),
        (r"wp-content|wp-includes", (("wp-content",), ("wp-includes",))),
        (r"google-analytics\.com/(?:ga|urchin)\.js", (("google-analytics.com/", ".js"),)),
        (r"(?:abc|d)", ()),  # a branch with no text of its own: always searched
        (r"abcd(?:efgh|ijkl)", (("abcd",),)),  # the alternation is not at the top
        (r"[|]abcd|efgh", (("abcd",), ("efgh",))),  # a "|" in a class splits nothing
        # a group every match goes through: each choice with what surrounds it
        (r"<[^>]+//(?:assets|images)\.", (("//assets.",), ("//images.",))),
        (r"x(?:ab|cdef)?ghij", (("ghij",),)),  # an optional group is no choice a match makes
        (r"(?=abc|def)ab\w", ()),  # a lookahead's choices are not text a match holds
    ],
)
def test_each_branch_of_a_top_level_alternation_has_its_own_prefilter(
    regex: str, branches: tuple[tuple[str, ...], ...]
) -> None:
    assert branch_literals(regex) == branches


def test_the_body_s_markup_and_dom_selectors_show_technologies() -> None:
    filler = "<p>" + "Acme makes tools for workshops. " * 1200 + "</p>"  # a long page
    page = _page(
        "<html><head><title>Acme</title></head><body>"
        f'<div id="main">{filler}<object type="application/x-shockwave-flash" data="/intro.swf">'
        '</object><link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Lato">'
        f'<iframe src="https://player.twitch.tv/?channel=acme"></iframe>{filler}'
        '<!-- InstanceBeginEditable name="footer" --><p>Acme Ltd</p></div></body></html>'
    )
    found = _extract(page)
    names = set(found.data["tech_stack"].split(", "))
    # dom: an element that exists, one whose attribute matches, a selector with escapes
    # (player\.twitch\.tv); html: a comment at the end of a page longer than the markup kept
    assert {"Adobe Flash", "Google Font API", "Twitch Player", "DreamWeaver"} <= names, names
    detected = {item["name"]: item for item in found.details["tech_stack"]}
    assert detected["Adobe Flash"]["quote"].startswith('<object type="application/x-shockwave')
    verify_evidence(found, [page])  # every quote is on the page as kept
    assert set(found.data["tech_stack"].split(", ")) == names


def test_a_fingerprint_that_backtracks_without_bound_is_given_up_on(tmp_path: Path) -> None:
    own = tmp_path / "fingerprints.json"
    own.write_text(
        json.dumps(
            {
                "Acme Styles": {
                    "cats": [1],
                    "html": (
                        r"<style>[\s\S]*\.explain > \.s[\s\S]*\.explain > \.ctr > \.s"
                        r"|acme-styles-v2"
                    ),
                }
            }
        )
    )
    hostile = ".explain > .ctr > .s " * 200 + "<style>.explain > .s " * 600
    page = _page(f"<style>{hostile}</style><p>acme-styles-v2</p>")
    # the search would match, after seconds of backtracking (minutes on a longer page): a
    # page is not ours to spend the worker on, so the search gives up and shows nothing
    assert "Acme Styles" not in {d.name for d in load_fingerprints(own).detect([page])}
    plain = _page("<style>.explain > .s {}</style><p>acme-styles-v2</p>")
    assert "Acme Styles" in {d.name for d in load_fingerprints(own).detect([plain])}


def test_a_user_s_dom_fingerprint_reads_text_and_attributes(tmp_path: Path) -> None:
    own = tmp_path / "fingerprints.json"
    own.write_text(json.dumps({
        "Acme Builder": {"cats": [1], "dom": {
            "footer .built-with": {"text": r"Built with Acme Builder (\d+)\;version:\1"}}},
        "Acme Maps": {"cats": [5], "dom": {
            "div[data-map]": {"attributes": {"data-map": r"^acme-maps-v(\d+)\;version:\1"}},
            "div.acme-map, span.acme-map": {"exists": ""}}},
        "Acme Ghost": {"cats": [5], "dom": {"div.acme-ghost": {"properties": {"x": ""}}}},
    }))  # fmt: skip
    fingerprints = load_fingerprints(own)
    page = _page(
        '<body><div data-map="acme-maps-v2"></div><span class="acme-ghost acme-map"></span>'
        '<footer><p class="built-with">Built with Acme Builder 7</p></footer></body>'
    )
    detected = {d.name: d for d in fingerprints.detect([page])}
    assert detected["Acme Builder"].version == "7"
    assert detected["Acme Maps"].version == "2"
    assert "Acme Ghost" not in detected  # JavaScript properties cannot be read


def test_a_version_only_check_does_not_hide_the_element_that_shows_the_technology() -> None:
    # Hugo's dom fingerprint: a link to gohugo.io reads a version (confidence 0), a link whose
    # text says Hugo shows it; the first link must not stop the search
    page = _page('<a href="https://gohugo.io/docs">Docs</a> <a href="https://gohugo.io/">Hugo</a>')
    assert "Hugo" in {d.name for d in load_fingerprints().detect([page])}


def test_a_linked_article_s_path_is_not_the_site_s_software() -> None:
    page = _page('<a href="/blog/sparql-basics">SPARQL basics</a><a href="/typo3/">admin</a>')
    names = {d.name for d in load_fingerprints().detect([page])}
    assert not {"Virtuoso", "TYPO3 CMS"} & names, names


def test_the_site_s_own_ajax_routes_are_not_pages_and_a_cdn_base_keeps_the_site() -> None:
    page = _page(
        '<html><head><base href="https://cdn.staticfiles.example/site/"></head><body>'
        '<a href="https://acme.example/#!/about">About</a><img src="img/acme_03.gif"></body></html>'
    )
    assert page.links[0][0] == SITE + "/"  # not /about: the site's own route is no page
    assert page.assets["images"] == [["https://cdn.staticfiles.example/site/img/acme_03.gif",
                                      "site name"]]  # fmt: skip


def test_a_site_s_own_addresses_and_base_show_its_server_language() -> None:
    page = _page(
        '<html><head><base href="https://www.acme-tools.example/contact.php"></head><body>'
        '<a href="products.php?id=4">Products</a><a href="https://other.example/x.aspx">x</a>'
        "</body></html>"
    )
    assert page.links[0][0] == "https://www.acme-tools.example/products.php?id=4"  # as browsers
    names = {d.name for d in load_fingerprints().detect([page])}
    assert "PHP" in names
    assert "Microsoft ASP.NET" not in names  # another site's address says nothing of this one
    elsewhere = _page('<a href="https://other.example/products.php">Partner</a>')
    assert "PHP" not in {d.name for d in load_fingerprints().detect([elsewhere])}


def test_a_version_only_pattern_alone_shows_nothing_and_formats_are_no_products(
    tmp_path: Path,
) -> None:
    own = tmp_path / "fingerprints.json"
    own.write_text(json.dumps({
        "Acme Shop": {"cats": [6], "meta": {"version": r"^(.+)$\;version:\1\;confidence:0"},
                      "scriptSrc": r"acme-shop\.js"},
    }))  # fmt: skip
    fingerprints = load_fingerprints(own)
    alone = _page('<meta name="version" content="2.1"><p>Acme.</p>')
    assert "Acme Shop" not in {d.name for d in fingerprints.detect([alone])}
    both = _page('<meta name="version" content="2.1"><script src="/acme-shop.js"></script>')
    shop = next(d for d in fingerprints.detect([both]) if d.name == "Acme Shop")
    assert (shop.version, shop.confidence) == ("2.1", 1.0)
    graph = _page('<meta property="og:title" content="Acme"><p>Acme makes tools.</p>')
    found = _extract(graph)
    assert "Open Graph" in {item["name"] for item in found.details["tech_stack"]}
    assert found.data.get("tech_stack") is None  # a format, not a product


def test_what_the_markup_shows_is_quoted_as_the_page_has_it() -> None:
    page = _page(
        '<p>Acme makes tools.</p><iframe src="https://www.youtube.com/embed/abc123"></iframe>'
        '<iframe src="https://www.facebook.com/plugins/likebox.php?href=https%3A%2F%2F'
        'www.facebook.com%2FAcmeTools&amp;width=300"></iframe>'
    )
    page.assets["cookies"] = ["PHPSESSID"]
    found = _extract(page)
    detected = {item["name"]: item["quote"] for item in found.details["tech_stack"]}
    assert "YouTube" in found.data["tech_stack"]  # its quote: the frame's tag, as kept
    assert detected["PHP"] == "PHPSESSID"  # the cookie's name as the page sets it
    assert found.data["social_profiles"] == "https://www.facebook.com/AcmeTools"
    assert found.evidence["social_profiles"].quote.startswith(
        "https://www.facebook.com/plugins/likebox.php"
    )


def test_a_quote_from_scripts_or_headers_does_not_stand_for_what_a_visitor_reads() -> None:
    page = _page(
        "<html><head><script>var tz = 'Europe/Paris';</script></head>"
        "<body><p>We make tools for builders.</p></body></html>"
    )
    claim = Extraction()
    claim.set("location_city", "Paris", Evidence(page.url, "Europe/Paris"), 0.9)
    verify_evidence(claim, [page])
    assert "location_city" not in claim.data
