"""What a site's markup says about the company, read off its links, images and structured
data rather than its prose: its own social profiles, its logo, and its open roles.

- Social profiles: the organisation's `sameAs` in its markup first, then its links to the six
  platforms (LinkedIn, X/Twitter, Facebook, Instagram, YouTube, GitHub), kept only when the
  address is an account's own page: not a share or intent link, not a person's profile, not a
  single post or video, not the platform's own pages, not the site maker's ("site by ...").
- Logo: the markup's `logo`, then an image marked as the logo (its name, class or alt, or an
  element around it), then a large icon (apple-touch-icon, an icon of 96 px or more, an SVG),
  then the image inside the link to the home page; `og:image` only when its address says logo.
  A plain favicon is not a logo.
- Open positions: the careers page's roles, counted from its JobPosting markup, or from its
  links to single job postings on the site or on a job board (Greenhouse, Lever, Ashby,
  Workable, Personio, ...), or from a stated number ("12 open positions"); 0 where it says
  there are none. No careers page: unknown. A careers page that links to or embeds a job
  board's listing and lists no role itself: the listing's roles, counted the same way (the
  crawl fetches it, `core.job_boards`); a board whose listing is drawn by scripts: unknown,
  with the board named.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from enrichment_pipelines.core.crawl import JOB_BOARD_PAGE, Page, referenced, site_pages
from enrichment_pipelines.core.extractors import Evidence, Extraction
from enrichment_pipelines.core.extractors.technologies import Fingerprints
from enrichment_pipelines.core.html_text import without_hashbang
from enrichment_pipelines.core.job_boards import board_of, is_posting, job_postings

# A comma list value must fit a ChartMogul String attribute.
_LIST_CHARS = 255


def markup_facts(pages: Sequence[Page], fingerprints: Fingerprints) -> Extraction:
    """The data points read off the markup (`DataPoint.from_markup`): technologies, social
    profiles, open positions and the logo, each with the address or words that show it."""
    facts = Extraction()
    own = site_pages(pages)  # a job board's listing counts roles, and says nothing else
    _technologies(own, fingerprints, facts)
    profiles = social_profiles(own)
    if profiles:
        value = _joined([profile.url for profile in _one_per_platform_first(profiles)])
        first = profiles[0]
        evidence = Evidence(first.page_url, first.quote)
        # Links in a page's header or footer are right about nine times in ten on real pages
        # (a designer's or a parent's account among them): under 0.8, markup's above.
        facts.set("social_profiles", value, evidence, 0.9 if first.from_markup else 0.75)
    logo = find_logo(own)
    if logo is not None:
        facts.set("logo_url", logo.url, Evidence(logo.page_url, logo.url), logo.confidence)
    openings = open_positions(pages)
    if openings is not None:
        if openings.board:
            facts.details["open_positions"] = {"board": openings.board}
        if openings.count is None:
            facts.problems.append(
                f"open_positions: the careers page embeds {openings.board}'s board; its "
                "roles are not listed on the page"
            )
        else:
            evidence = Evidence(openings.page_url, openings.quote)
            facts.set("open_positions", openings.count, evidence, openings.confidence)
    return facts


# Fingerprint entries that name a web standard or a generic feature, not a product: the
# `tech_stack` value is "products detected on the site, by name".
NOT_PRODUCTS = frozenset(
    ["Open Graph", "RSS", "Cart Functionality", "HTTP/2", "HTTP/3", "SPDY", "PWA", "History",
     "Websocket", "WebRTC", "Module Federation"]
)  # fmt: skip


# How often a whole list is right, not one detection: a page shows only part of a site's
# technologies (what its servers run, tags loaded later), so the list is seldom complete,
# though most items it names are right (bench/accuracy, real pages: a fifth to a third of the
# lists whole, the items' precision 75 to 92 %).
_TECH_STACK_CONFIDENCE = 0.5


def _technologies(pages: Sequence[Page], fingerprints: Fingerprints, facts: Extraction) -> None:
    detections = fingerprints.detect(pages)
    if not detections:
        return
    # The value names the products the pages show, surer first; what those imply (WordPress
    # -> PHP), and entries that name a format or a generic feature rather than a product, are
    # kept in the details (and the warehouse's technology table), not in the attribute.
    seen = sorted(
        (d for d in detections if d.implied_by is None and d.name not in NOT_PRODUCTS),
        key=lambda d: -d.confidence,
    )
    # As stored (JSON): the categories a list, as they read back.
    facts.details["tech_stack"] = [
        asdict(detection) | {"categories": list(detection.categories)} for detection in detections
    ]
    if not seen:
        return
    shown = seen[0]
    facts.set("tech_stack", _joined([d.name for d in seen]), Evidence(shown.url, shown.quote),
              _TECH_STACK_CONFIDENCE)  # fmt: skip


def _one_per_platform_first(profiles: Sequence[Profile]) -> list[Profile]:
    """Each platform's first profile, then the others (a second account on a platform)."""
    seen: set[str] = set()
    first = [p for p in profiles if not (p.platform in seen or seen.add(p.platform))]
    return first + [p for p in profiles if p not in first]


def _joined(items: Sequence[str]) -> str:
    """`items` comma-joined, as many as fit the attribute (whole items only)."""
    joined = ""
    for item in items:
        candidate = f"{joined}, {item}" if joined else item
        if len(candidate) > _LIST_CHARS:
            continue
        joined = candidate
    return joined


# --- social profiles -------------------------------------------------------------------------

PLATFORMS: tuple[str, ...] = ("linkedin", "twitter", "facebook", "instagram", "youtube", "github")
_HOSTS = {
    "linkedin.com": "linkedin", "twitter.com": "twitter", "x.com": "twitter",
    "facebook.com": "facebook", "fb.com": "facebook", "instagram.com": "instagram",
    "youtube.com": "youtube", "github.com": "github",
}  # fmt: skip
# First path segments that are the platform's own pages or actions, never an account.
_NOT_ACCOUNTS = {
    "twitter": {"share", "intent", "home", "search", "hashtag", "i", "privacy", "tos", "login",
                "signup", "widgets", "about", "settings", "explore", "messages", "notifications"},
    "facebook": {"sharer", "sharer.php", "share.php", "dialog", "plugins", "policies",
                 "privacy", "help", "login", "login.php", "legal", "l.php", "tr", "watch",
                 "photo.php", "story.php", "permalink.php", "hashtag", "events", "groups",
                 "people", "home.php", "ads", "business", "gaming", "marketplace"},
    "instagram": {"p", "explore", "accounts", "reel", "reels", "stories", "about", "legal",
                  "developer", "direct", "tv"},
    "youtube": {"watch", "embed", "results", "playlist", "feed", "t", "about", "yt",
                "howyoutubeworks", "premium", "kids", "shorts", "live", "redirect", "signin",
                "account", "creators", "ads", "v"},
    "github": {"features", "pricing", "about", "login", "join", "marketplace", "sponsors",
               "topics", "collections", "explore", "site", "contact", "security", "enterprise",
               "team", "customer-stories", "readme", "trending", "settings", "notifications"},
}  # fmt: skip
# Who made or hosts the site ("Website by Pixel Studio"): their accounts are not the company's.
_MAKER = re.compile(
    r"\b(?:site|website|web design|design|designed|developed|built|made|powered|hosted)"
    r"\s+by\s+([^\n|,.©]{2,60})",
    re.I,
)


@dataclass(frozen=True)
class Profile:
    platform: str
    url: str  # as the page gives it (absolute)
    page_url: str
    from_markup: bool
    quote: str  # where the page shows it: the link, or the like box's frame address


def profile_platform(url: str) -> str | None:
    """The platform whose account `url` is (an account's own page), else None."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    host = (parts.hostname or "").lower().removeprefix("www.").removeprefix("m.")
    host = host.removeprefix("mobile.").removeprefix("business.")
    platform = _HOSTS.get(host) or _HOSTS.get(host.partition(".")[2])
    if platform is None or parts.scheme not in ("http", "https"):
        return None
    segments = [unquote(segment) for segment in parts.path.split("/") if segment]
    if platform == "linkedin":
        # "companies" is the company page's older address (linkedin.com/companies/acme)
        ok = len(segments) >= 2 and segments[0] in ("company", "companies", "school", "showcase")
        return platform if ok else None
    if platform == "youtube":
        if segments and segments[0] in ("user", "channel", "c") and len(segments) >= 2:
            return platform
        ok = len(segments) == 1 and (
            segments[0].startswith("@") or segments[0].lower() not in _NOT_ACCOUNTS["youtube"]
        )
        return platform if ok and not parts.query.startswith("v=") else None
    if platform == "facebook" and segments[:1] == ["pages"]:
        return platform if len(segments) >= 2 else None
    if platform == "facebook" and segments[:1] == ["profile.php"]:  # a page without a name
        return platform if "id=" in parts.query else None
    if not segments or segments[0].lower() in _NOT_ACCOUNTS[platform]:
        return None
    if platform == "twitter":
        handle_only = len(segments) == 1 or segments[1].lower() in ("", "with_replies", "media")
        return platform if handle_only and re.fullmatch(r"@?\w{1,15}", segments[0]) else None
    if platform == "github":
        ok = len(segments) == 1 or (segments[0] == "orgs" and len(segments) == 2)
        return platform if ok else None
    return platform if len(segments) <= 2 else None  # facebook, instagram


def profile_key(url: str) -> str:
    """A profile address compared loosely: no scheme, www, query for most, trailing slash; an
    AJAX-era address (`twitter.com/#!/acme`) as the page it stands for."""
    parts = urlsplit(without_hashbang(url))
    host = (parts.hostname or "").lower().removeprefix("www.").removeprefix("m.")
    host = {"x.com": "twitter.com", "fb.com": "facebook.com"}.get(host, host)
    return f"{host}{parts.path.rstrip('/').lower().replace('/@', '/')}"


def social_profiles(pages: Sequence[Page]) -> list[Profile]:
    """The organisation's own profiles, the markup's first; one per distinct account."""
    found: dict[str, Profile] = {}
    for page in pages:
        url = page.final_url or page.url
        for item in page.structured_data:
            for address in _strings(item.get("sameAs")):
                platform = profile_platform(address)
                if platform:
                    profile = Profile(platform, address, url, True, address)
                    found.setdefault(profile_key(address), profile)
    for page in pages:
        url = page.final_url or page.url
        makers = [match.group(1).strip().lower() for match in _MAKER.finditer(page.text)]
        candidates = [(link, text, link) for link, text in page.links]
        candidates += [(shown, "", frame) for shown, frame in _like_box_pages(page)]
        for link, text, quote in candidates:
            platform = profile_platform(link)
            named = text.strip().lower()
            if platform and not (named and any(maker.startswith(named) for maker in makers)):
                profile = Profile(platform, link, url, False, quote)
                found.setdefault(profile_key(link), profile)
    return sorted(found.values(), key=lambda profile: PLATFORMS.index(profile.platform))


def _like_box_pages(page: Page) -> Iterator[tuple[str, str]]:
    """(the page, the frame's address) of each Facebook like box or page plugin
    (`plugins/likebox.php?href=...`)."""
    for frame in page.assets.get("frames", []):
        parts = urlsplit(frame)
        if "facebook.com" in (parts.hostname or "") and parts.path.startswith("/plugins/"):
            for value in parse_qs(parts.query).get("href", []):
                if profile_platform(value) == "facebook":
                    yield value, frame


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


# --- logo --------------------------------------------------------------------------------------

_ICON_SIZE = re.compile(r"(\d+)\s*x\s*(\d+)")
_LOGO_WORD = re.compile(r"logo|brand", re.I)


@dataclass(frozen=True)
class Logo:
    url: str
    page_url: str
    why: str  # markup logo, image named logo, large icon, home link, og:image, header image
    confidence: float


def find_logo(pages: Sequence[Page]) -> Logo | None:
    """The company's logo by the strongest sign on any page, the home page's first."""
    ordered = sorted(pages, key=lambda page: page.kind != "home")
    finders = (_markup_logo, _marked_image, _large_icon, _home_link_image, _site_named_image,
               _og_logo, _header_image)  # fmt: skip
    for finder in finders:
        for page in ordered:
            logo = finder(page)
            if logo is not None:
                return logo
    return None


def _markup_logo(page: Page) -> Logo | None:
    for item in page.structured_data:
        logo = item.get("logo")
        if isinstance(logo, dict):
            logo = logo.get("url") or logo.get("contentUrl")
        if isinstance(logo, str) and logo.startswith(("http://", "https://")):
            return Logo(logo, page.final_url or page.url, "markup logo", 0.9)
    return None


def _marked_image(page: Page) -> Logo | None:
    """The first image marked a logo, one that also names the site first."""
    images = page.assets.get("images", [])
    for url, why in sorted(images, key=lambda image: image[1] != "site logo"):
        if why in ("site logo", "logo"):
            # Right about nine times in ten on real pages (a partner's or a badge's logo
            # is marked too): below the 0.8 that promises 95 %.
            return Logo(url, page.final_url or page.url, "image marked logo", 0.75)
    return None


def _large_icon(page: Page) -> Logo | None:
    best: tuple[int, str] | None = None
    for url, rel, sizes in page.assets.get("icons", []):
        side = max((int(w) for w, _ in _ICON_SIZE.findall(sizes)), default=0)
        if "apple-touch-icon" in rel:
            side = max(side, 120)  # 120-180 px when not given
        elif url.lower().split("?")[0].endswith(".svg") or "mask-icon" in rel:
            side = max(side, 512)
        if side >= 96 and (best is None or side > best[0]):
            best = (side, url)
    if best is None:
        return None
    return Logo(best[1], page.final_url or page.url, "large icon", 0.7)


def _labelled_image(label: str, why: str, confidence: float) -> Callable[[Page], Logo | None]:
    """A finder of the page's first logo candidate that `html_text` labelled `label`."""

    def find(page: Page) -> Logo | None:
        for url, image_label in page.assets.get("images", []):
            if image_label == label:
                return Logo(url, page.final_url or page.url, why, confidence)
        return None

    return find


_home_link_image = _labelled_image("home link", "image linked to the home page", 0.6)
_site_named_image = _labelled_image("site name", "image named after the site", 0.6)
# An image named the page's header or masthead: on a page whose logo is nowhere marked, the
# banner that carries the site's name, more often than not.
_header_image = _labelled_image("header name", "header image", 0.5)


def _og_logo(page: Page) -> Logo | None:
    image = page.meta.get("og:image", "")
    if image.startswith(("http://", "https://")) and _LOGO_WORD.search(urlsplit(image).path):
        return Logo(image, page.final_url or page.url, "og:image named logo", 0.6)
    return None


# --- open positions ----------------------------------------------------------------------------

_SAME_SITE_JOB = re.compile(r"/(?:careers?|jobs?|vacanc(?:y|ies)|positions?|openings?)/([\w-]{3,})")
# Pages under a careers path that are about working there, not one role.
_CAREERS_PAGES = frozenset({
    "benefits", "perks", "culture", "life", "life-at", "team", "teams", "values", "students",
    "graduates", "internships", "faq", "faqs", "search", "apply", "locations", "events",
    "diversity", "inclusion", "why-us", "why-join", "about", "how-we-hire", "hiring-process",
    "process", "all", "open-positions", "openings", "jobs", "vacancies", "departments",
})  # fmt: skip
_NO_OPENINGS = re.compile(
    r"\bno (?:current |open )?(?:openings|vacancies|open (?:positions|roles|jobs))\b|"
    r"\b(?:not|aren't|are not) (?:currently )?hiring\b|"
    r"\bno (?:positions|roles|jobs) (?:are )?(?:currently )?(?:open|available)\b|"
    r"\bthere are (?:currently )?no (?:open )?(?:positions|roles|jobs|vacancies|openings)\b",
    re.I,
)
_STATED_OPENINGS = re.compile(
    r"\b(\d{1,4})\s+(?:open\s+)?(?:positions|roles|jobs|vacancies|openings|job openings)\b"
    r"(?:\s+(?:open|available))?",
    re.I,
)


@dataclass(frozen=True)
class Openings:
    count: int | None  # None: a careers page whose roles cannot be counted here
    page_url: str
    quote: str
    board: str | None  # the job board the roles are on, if any
    confidence: float


def open_positions(pages: Sequence[Page]) -> Openings | None:
    """The careers page's open roles, or those of the job board listing it links to or
    embeds (see the module docstring); None without a careers page."""
    careers = next((page for page in pages if page.kind == "careers"), None)
    if careers is None:
        return None
    board = _board(careers)
    found = _openings(careers, board)
    if found is not None:
        return found
    for listing in (page for page in pages if page.kind == JOB_BOARD_PAGE and not page.error):
        listed = board_of(listing.final_url or listing.url)
        found = _openings(listing, listed.name if listed else board)
        if found is not None:
            return found
    if board is not None:
        return Openings(None, careers.final_url or careers.url, board, board, 0.0)
    return None


def _openings(page: Page, board: str | None) -> Openings | None:
    """The roles a careers page or a board's listing shows: its JobPosting markup, its links
    to single postings, a stated number, or none where it says so; None when it says nothing."""
    url = page.final_url or page.url
    postings = job_postings(page.structured_data)
    if postings:
        title = next((str(p.get("title")) for p in postings if p.get("title")), "JobPosting")
        return Openings(len(postings), url, title, board, 0.85)
    jobs = _job_links(page, url)
    if jobs:
        return Openings(len(jobs), url, jobs[0], board, 0.75)
    stated = _STATED_OPENINGS.search(page.text)
    if stated:
        return Openings(int(stated.group(1)), url, stated.group(0), board, 0.7)
    none = _NO_OPENINGS.search(page.text)
    if none:
        return Openings(0, url, none.group(0), board, 0.75)
    return None


def _board(page: Page) -> str | None:
    """The job board the careers page links to or embeds."""
    board = next((board for address in referenced(page) if (board := board_of(address))), None)
    return board.name if board else None


def _job_links(page: Page, page_url: str) -> list[str]:
    """Distinct links to single job postings: on a job board, or under the site's careers
    path (not the careers page itself)."""
    own = urlsplit(page_url)
    found: dict[str, str] = {}
    for link, _ in page.links:
        parts = urlsplit(link)
        host = parts.hostname or ""
        on_board = is_posting(link)
        job = _SAME_SITE_JOB.search(parts.path)
        on_site = bool(
            host == own.hostname
            and job
            and job.group(1).lower() not in _CAREERS_PAGES
            and parts.path.rstrip("/") != own.path.rstrip("/")
        )
        if on_board or on_site:
            found.setdefault(f"{host}{parts.path.rstrip('/')}", link)
    return list(found.values())
