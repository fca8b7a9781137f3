"""HTML to clean text and structured metadata.

lxml's forgiving parser survives malformed markup and is fast enough to keep up with the
crawler. Scripts, styles, navigation, cookie banners and hidden elements are dropped, so text a
visitor cannot see never reaches extraction (nor a form's drop-down of every state or
country, which is no statement about the company); block elements become line breaks and headings
stay on their own lines. Footers are kept: they often carry the company's address.
Structured data (JSON-LD and microdata) is returned as JSON-LD-shaped objects.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, TypedDict
from urllib.parse import SplitResult, urldefrag, urljoin, urlsplit

from lxml import etree
from lxml import html as lxml_html

# Styles that hide an element: CSS reads them in any case and with any spacing. A font too
# small to read hides text too: a size of 0 (in any unit), 1px or less, but not 0.9em. The
# property's own name only (not a custom property such as --font-size).
_HIDING_STYLE = (
    r"(?<![\w-])(display\s*:\s*none|visibility\s*:\s*hidden"
    r"|font-size\s*:\s*(0(?!\.?[1-9])|(0?\.\d+|1)px))"
)
# The regex tests run only on elements that have the attribute: EXSLT's re:test calls back
# into Python, and on every element of a page that was over a third of the parse.
_DROP = (
    "//script | //style | //noscript | //template | //svg"
    " | //canvas | //iframe | //nav | //select | //*[@hidden] | //*[@aria-hidden='true']"
    f" | //*[@style][re:test(@style, '{_HIDING_STYLE}', 'i')]"
    " | //*[@id or @class][re:test(concat(@id, ' ', @class), 'cookie|consent|gdpr', 'i')]"
)
_BLOCK = frozenset(
    [
        "p",
        "div",
        "section",
        "article",
        "header",
        "footer",
        "main",
        "aside",
        "li",
        "ul",
        "ol",
        "table",
        "tr",
        "td",
        "th",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "br",
        "address",
        "blockquote",
        "dd",
        "dt",
        "form",
        "figcaption",
        "hr",
    ]
)
_NAMESPACES = {"re": "http://exslt.org/regular-expressions"}
_MAX_TEXT_CHARS = 100_000
_MAX_ITEMS = 50


_MAX_ASSETS = 50
_MAX_HEAD_CHARS = 16_000
# The serialised document kept for fingerprints: its start and its end (where footers say
# "Powered by ..."), as Wappalyzer also caps the markup it reads.
_MARKUP_START_CHARS, _MARKUP_END_CHARS = 48_000, 16_000
_MAX_COMMENT_CHARS = 200
_LOGO_HINT = re.compile(r"logo|brand", re.I)
# An image's alt text or file name that shows another's mark: a social network's icon, a
# "valid HTML" or rating badge, a banner of the classic 88x31 size, a strip of logos.
_NOT_A_LOGO = re.compile(
    r"facebook|twitter|linkedin|youtube|instagram|pinterest|google|yelp|yahoo|flickr|tumblr|rss"
    r"|\b88x31\b|_88x31|w3c|valid|logos\b|logos[_-]"
    r"|(?<![a-z])(?:ratings?|badges?)(?![a-z])"
    # ...or a security seal or a payment card's mark
    r"|verisign|truste\b|mcafee|geotrust|comodo|paypal|mastercard"
    r"|norton[\W_]*(?:secured|seal|siteseal)|(?<![a-z])(?:amex|visa)(?![a-z])"
    # ...or a part of the page's furniture: a spacer, an arrow, a loading spinner, a slide
    r"|blank|spacer|arrow|loading|loader|spinner|slideshow|slide_?\d",
    re.I,
)
# A folder or a file named for other companies' marks: partners, clients, integrations,
# awards (`/clients/`, `/integration-images/`, `partner_logo_3.png`; not `/client-theme/` or
# `/customer-portal/`).
_OTHERS_MARKS = re.compile(
    r"(?:^|/)(?:partners?|clients?|customers?|sponsors?|integrations?|awards?"
    r"|accreditations?|certifications?|memberships?)"
    r"(?:[_-](?:logos?|images?|img|icons?|badges?|marks?))?(?:/|[_-](?=[^/]*$))",
    re.I,
)
# Hosts that serve others' badges and buttons: a payment card's mark, a social button.
_BADGE_HOSTS = re.compile(
    r"paypal|linkedin|licdn|facebook|fbcdn|twitter|twimg|instagram|pinterest|yelp|verisign"
    r"|mcafee|norton|trustpilot|bbb\.org|w3\.org",
    re.I,
)
# A file named the page's header or masthead, perhaps numbered: on a page of sliced images,
# the banner that carries the site's name (longo_header.jpg, autogenomicsHeader.jpg,
# header1274.jpg; not header-bg.jpg or subheader-team.jpg).
_HEADER_NAME = re.compile(
    r"(?:(?:^|[_.-])(?:[Hh]eader|HEADER|[Mm]asthead)|(?<=[a-z])(?:Header|Masthead))"
    r"(?:[_-]?\d+)?\.\w+$"
)


class PageAssets(TypedDict, total=False):
    """What a page's markup and response say about the site beyond its text: the material of
    the technology, logo and social profile extractors. Lists, not tuples: stored as JSON."""

    scripts: list[str]  # <script src> URLs
    stylesheets: list[str]  # <link rel=stylesheet> URLs
    icons: list[list[str]]  # [URL, rel, sizes] of <link rel=icon / apple-touch-icon / ...>
    # [URL, why it may be the logo: "site logo", "logo", "home link", "site name", "header name"]
    images: list[list[str]]
    head: str  # the raw <head> markup, capped (technology fingerprints match it)
    # The document as parsed and serialised again (as a browser shows its DOM), whitespace
    # squashed, capped at its start and end: technology fingerprints' `html` and `dom`.
    markup: str
    base: str  # the document's <base href>, when it names another address than the page
    inline_scripts: str  # the text of the inline scripts, capped (so do these)
    frames: list[str]  # <iframe src> URLs (a Facebook page's like box names the page)
    comments: list[str]  # the markup's comments, distinct and capped ("<!-- Powered by ... -->")
    headers: dict[str, str]  # the response's headers, lower-cased (set by the crawler)
    cookies: list[str]  # names of the cookies the response set, never their values


@dataclass
class ParsedPage:
    title: str | None = None
    meta: dict[str, str] = field(default_factory=dict)
    structured_data: list[dict[str, Any]] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)  # (absolute URL, anchor text)
    text: str = ""
    assets: PageAssets = field(default_factory=lambda: PageAssets())


def _squash(text: str | None) -> str:
    return " ".join((text or "").split())


def _json_ld_objects(raw: str) -> list[dict[str, Any]]:
    try:
        document = json.loads(raw)
    except (json.JSONDecodeError, RecursionError):
        return []
    pending = document if isinstance(document, list) else [document]
    objects: list[dict[str, Any]] = []
    while pending and len(objects) < _MAX_ITEMS:
        item = pending.pop(0)
        if isinstance(item, dict):
            if isinstance(item.get("@graph"), list):
                pending.extend(item["@graph"])
            objects.append(item)
        elif isinstance(item, list):
            pending.extend(item)
    return objects


def _microdata_item(element: Any, depth: int = 0) -> dict[str, Any]:
    """An itemscope element as a JSON-LD-shaped dict (nested items included, bounded depth)."""
    item: dict[str, Any] = {}
    item_type = (element.get("itemtype") or "").split()
    if item_type:
        item["@type"] = item_type[0].rstrip("/").rsplit("/", 1)[-1]
    for prop in element.iterdescendants():
        if not isinstance(prop.tag, str) or prop.get("itemprop") is None:
            continue
        owner = next((a for a in prop.iterancestors() if a.get("itemscope") is not None), None)
        if owner is not element:
            continue
        if prop.get("itemscope") is not None:
            value: Any = _microdata_item(prop, depth + 1) if depth < 4 else {}
        else:
            value = prop.get("content") or prop.get("href") or prop.get("src")
            value = value or _squash(prop.text_content())
        for name in prop.get("itemprop", "").split():
            item.setdefault(name, value)
    return item


def _parse_root(html: str) -> Any | None:
    try:
        return lxml_html.document_fromstring(html)
    except ValueError:  # a str that declares its own encoding: parse its UTF-8 bytes instead
        parser = lxml_html.HTMLParser(encoding="utf-8")
        try:
            return lxml_html.document_fromstring(html.encode("utf-8"), parser=parser)
        except (etree.ParserError, ValueError):
            return None
    except etree.ParserError:  # nothing to parse (empty document)
        return None


def parse_html(html: str, base_url: str) -> ParsedPage:
    """The page's title, meta, structured data, links, text and assets; relative addresses
    resolve against its `<base href>` where it has one, as a browser resolves them."""
    page = ParsedPage()
    root = _parse_root(html)
    if root is None:
        return page
    page_url, base_url = base_url, _document_base(root, base_url)
    page.title = _squash(root.findtext(".//title"))[:500] or None
    for meta in root.iter("meta"):
        key, content = meta.get("property") or meta.get("name"), meta.get("content")
        if key and content and len(page.meta) < 100:
            page.meta[key.lower()[:100]] = _squash(content)[:2000]
    for script in root.xpath("//script[@type='application/ld+json']"):
        page.structured_data.extend(_json_ld_objects(script.text_content()))
    for element in root.xpath("//*[@itemscope][not(ancestor::*[@itemscope])]")[:_MAX_ITEMS]:
        item = _microdata_item(element)
        if item:
            page.structured_data.append(item)
    seen: set[str] = set()
    for anchor in root.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or len(seen) >= 500:
            continue
        try:
            url = urljoin(base_url, href)
            # Another site's AJAX-era address (a profile: twitter.com/#!/acme) is the page it
            # stands for; the site's own stay its pages (its "#!/about" is not a page to fetch).
            url = urldefrag(url if _same_host(url, page_url) else without_hashbang(url)).url
        except ValueError:
            continue
        if urlsplit(url).scheme in ("http", "https") and url not in seen:
            seen.add(url)
            page.links.append((url, _squash(anchor.text_content())[:200]))
    page.assets = _assets(root, html, base_url, page_url)
    if base_url != page_url:
        page.assets["base"] = base_url
    for element in root.xpath(_DROP, namespaces=_NAMESPACES):
        if element.getparent() is not None:
            element.drop_tree()
    for element in root.iter(*_BLOCK):
        element.text = "\n" + (element.text or "")
        element.tail = "\n" + (element.tail or "")
    body = root.find("body")
    raw = (body if body is not None else root).text_content()
    lines = (_squash(line) for line in raw.splitlines())
    page.text = re.sub(r"\n{2,}", "\n", "\n".join(line for line in lines if line))
    page.text = page.text[:_MAX_TEXT_CHARS]
    return page


def _same_host(url: str, other: str) -> bool:
    return urlsplit(url).hostname == urlsplit(other).hostname


def without_hashbang(url: str) -> str:
    """An AJAX-era address (`https://twitter.com/#!/acme`, the "#!" maybe written "#%21") as
    the page it stands for (`https://twitter.com/acme`); any other address as it is."""
    address, _, fragment = url.partition("#")
    marks = [mark for mark in ("!/", "%21/") if fragment.startswith(mark)]
    route = fragment[len(marks[0]) :] if marks else ""
    if not route:
        return url
    parts = urlsplit(address)
    return f"{parts.scheme}://{parts.netloc}/{route}"


def _document_base(root: Any, page_url: str) -> str:
    """The address relative references resolve against: the first `<base href>` (an http or
    https address), else the page's own."""
    base = next(root.iter("base"), None)
    href = _absolute(page_url, base.get("href")) if base is not None else None
    return href if href is not None and urlsplit(href).scheme in ("http", "https") else page_url


def _markup(root: Any) -> str:
    """The document serialised, whitespace squashed, capped at its start and end, each cut
    between two tags (so a parse of it sees whole elements)."""
    serialised = etree.tostring(root, encoding="unicode", method="html")
    if len(serialised) <= 2 * (_MARKUP_START_CHARS + _MARKUP_END_CHARS):
        markup = " ".join(serialised.split())
        if len(markup) <= _MARKUP_START_CHARS + _MARKUP_END_CHARS:
            return markup
    else:  # squash only what may be kept: a document can be megabytes
        markup = (
            " ".join(serialised[: 2 * _MARKUP_START_CHARS].split())
            + " "
            + " ".join(serialised[-2 * _MARKUP_END_CHARS :].split())
        )
    start = markup[:_MARKUP_START_CHARS]
    start = start[: start.rfind(">") + 1] or start
    end = markup[-_MARKUP_END_CHARS:]
    end = end[end.find("<") :] if "<" in end else end
    return f"{start} {end}"


def _absolute(base_url: str, reference: str | None) -> str | None:
    reference = (reference or "").strip()
    if not reference or reference.startswith(("data:", "javascript:")):
        return None
    try:
        return urldefrag(urljoin(base_url, reference)).url
    except ValueError:
        return None


def _assets(root: Any, html: str, base_url: str, page_url: str) -> PageAssets:
    """Scripts, stylesheets, icons, frames, comments, the images that may be the logo, the
    raw head and the inline scripts (addresses resolved against `base_url`)."""
    scripts = [
        url for script in root.iter("script") if (url := _absolute(base_url, script.get("src")))
    ]
    stylesheets, icons = [], []
    for link in root.iter("link"):
        rel = " ".join((link.get("rel") or "").lower().split())
        url = _absolute(base_url, link.get("href"))
        if url is None:
            continue
        if "stylesheet" in rel:
            stylesheets.append(url)
        elif "icon" in rel or rel == "image_src":
            icons.append([url, rel, (link.get("sizes") or "").strip()])
    head = _raw_head(html)
    inline = "\n".join(
        script.text for script in root.iter("script") if script.text and not script.get("src")
    )
    frames = [
        url for frame in root.iter("iframe") if (url := _absolute(base_url, frame.get("src")))
    ]
    comments = dict.fromkeys(
        " ".join(str(comment.text or "").split())[:_MAX_COMMENT_CHARS]
        for comment in root.iter(etree.Comment)
    )
    return PageAssets(
        scripts=list(dict.fromkeys(scripts))[:_MAX_ASSETS],
        stylesheets=list(dict.fromkeys(stylesheets))[:_MAX_ASSETS],
        icons=icons[:_MAX_ASSETS],
        images=_logo_candidates(root, base_url, page_url),
        head=head[:_MAX_HEAD_CHARS],
        markup=_markup(root),
        inline_scripts=inline[:_MAX_HEAD_CHARS],
        frames=list(dict.fromkeys(frames))[:_MAX_ASSETS],
        comments=[comment for comment in comments if comment][:_MAX_ASSETS],
    )


def _raw_head(html: str) -> str:
    """The raw `<head>...</head>` markup, found with plain searches (a regex with a lazy
    `.*?` would take quadratic time on a hostile page of unclosed heads)."""
    lowered = html[:200_000].lower()
    start = lowered.find("<head")
    while start >= 0 and lowered[start + 5 : start + 6] not in (">", " ", "\t", "\n", "\r", "/"):
        start = lowered.find("<head", start + 5)  # <header>, <heading>: not the head
    if start < 0:
        return ""
    end = lowered.find("</head>", start)
    return html[start : end + len("</head>")] if end >= 0 else html[start : start + _MAX_HEAD_CHARS]


def kept_markup(assets: PageAssets) -> list[str]:
    """The page's markup beyond its raw head, as far as a crawl keeps it: the serialised
    document (capped), and for what lies beyond its cap, the comments and the scripts,
    stylesheets and frames written back as the tags they came from."""
    tags = [assets["markup"]] if assets.get("markup") else []
    tags += [f"<!-- {comment} -->" for comment in assets.get("comments", [])]
    tags += [f'<script src="{url}"></script>' for url in assets.get("scripts", [])]
    tags += [f'<link rel="stylesheet" href="{url}">' for url in assets.get("stylesheets", [])]
    tags += [f'<iframe src="{url}"></iframe>' for url in assets.get("frames", [])]
    return tags


def _site_name(url: str) -> str:
    """The name a site's address gives it, lower-cased: its host's first label but "www"
    ("" for an IP address or a one-label host)."""
    labels = (urlsplit(url).hostname or "").removeprefix("www.").split(".")
    if len(labels) < 2 or labels[-1].isdigit():
        return ""
    return labels[0]


def _named_after(site: str, text: str) -> bool:
    """Whether `text` (an image's alt text and file name) names the site: holds its name, or
    a word of 5 letters or more, and a third of it or more, that starts it ("barenz_10.gif" on
    barenzbuilders.com; not "home.png" on homeadvisor.com)."""
    site = re.sub(r"[^a-z0-9]", "", site)
    if len(site) < 4:
        return False
    lowered = text.lower()
    if site in re.sub(r"[^a-z0-9]", "", lowered):
        return True
    words = re.findall(r"[a-z]+", lowered)
    return any(len(word) >= max(5, len(site) // 3) and site.startswith(word) for word in words)


def _on_site(parts: SplitResult, domains: set[str]) -> bool:
    """Whether an address is on one of `domains` (hosts less "www."), or a subdomain of one."""
    host = parts.hostname or ""
    return any(host == domain or host.endswith(f".{domain}") for domain in domains if domain)


def _logo_candidates(root: Any, base_url: str, page_url: str) -> list[list[str]]:
    """Images that may be the site's logo, each with why: named or classed a logo (or inside
    an element that is; "site logo" when its name or text is also the site's), inside the link
    to the home page, named after the site ("site name": toledocars.gif on toledocars.com), or
    named a header (the banner of a page of sliced images). A social network's icon, a badge,
    a seal, a partner's or a client's mark is none of these. The site is the page's, or its
    base's (a saved page's base is where it was published)."""
    homes = {urlsplit(url)._replace(path="", query="", fragment="").geturl()
             for url in (page_url, base_url)}  # fmt: skip
    sites = {_site_name(page_url), _site_name(base_url)}
    # The site's own hosts, its subdomains included (images.acme.com for www.acme.com).
    domains = {(urlsplit(url).hostname or "").removeprefix("www.") for url in (page_url, base_url)}
    found: list[list[str]] = []
    for image in root.iter("img"):
        url = _absolute(base_url, image.get("src") or image.get("data-src"))
        if url is None:
            continue
        ancestors = list(image.iterancestors())[:4]
        marks = " ".join(
            [image.get("alt") or "", image.get("id") or "", image.get("class") or "",
             url.rsplit("/", 1)[-1]]
            + [f"{a.get('id') or ''} {a.get('class') or ''}" for a in ancestors]
        )  # fmt: skip
        parts = urlsplit(url)
        file_name = parts.path.rsplit("/", 1)[-1]
        own = f"{image.get('alt') or ''} {file_name}"
        named = any(_named_after(site, own) for site in sites)
        if not named and (
            _NOT_A_LOGO.search(own)
            or _OTHERS_MARKS.search(parts.path)
            # a badge served by paypalobjects.com or static.linkedin.com
            or (_BADGE_HOSTS.search(parts.hostname or "") and not _on_site(parts, domains))
        ):
            continue
        link = next((a for a in ancestors if a.tag == "a"), None)
        href = _absolute(base_url, link.get("href")) if link is not None else None
        why = (
            ("site logo" if named else "logo") if _LOGO_HINT.search(marks)
            else "home link" if href is not None and href.rstrip("/") in homes
            else "site name" if named
            else "header name" if _HEADER_NAME.search(file_name)
            else None
        )  # fmt: skip
        if why:
            found.append([url, why])
        if len(found) >= 10:
            break
    return found
