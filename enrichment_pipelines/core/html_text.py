"""HTML to clean text and structured metadata.

Survives malformed markup (lxml's forgiving parser through BeautifulSoup). Scripts, styles and
hidden elements are dropped, so text a visitor cannot see never reaches extraction; block
elements become line breaks and headings are kept as their own lines.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

from bs4 import BeautifulSoup, Tag

_DROP = ("script", "style", "noscript", "template", "svg", "canvas", "iframe", "head")
_BLOCK = (
    "p", "div", "section", "article", "header", "footer", "main", "aside", "nav", "li", "ul",
    "ol", "table", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "br", "address",
    "blockquote", "dd", "dt", "form", "figcaption", "hr",
)  # fmt: skip
_MAX_TEXT_CHARS = 100_000


@dataclass
class ParsedPage:
    title: str | None = None
    meta: dict[str, str] = field(default_factory=dict)
    json_ld: list[dict[str, Any]] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)  # (absolute URL, anchor text)
    text: str = ""


def _is_hidden(element: Tag) -> bool:
    style = str(element.get("style", "")).replace(" ", "").lower()
    return (
        element.has_attr("hidden")
        or element.get("aria-hidden") == "true"
        or "display:none" in style
        or "visibility:hidden" in style
    )


def _json_ld_objects(raw: str) -> list[dict[str, Any]]:
    try:
        document = json.loads(raw)
    except (json.JSONDecodeError, RecursionError):
        return []
    pending = document if isinstance(document, list) else [document]
    objects: list[dict[str, Any]] = []
    while pending and len(objects) < 50:
        item = pending.pop(0)
        if isinstance(item, dict):
            if isinstance(item.get("@graph"), list):
                pending.extend(item["@graph"])
            objects.append(item)
        elif isinstance(item, list):
            pending.extend(item)
    return objects


def parse_html(html: str, base_url: str) -> ParsedPage:
    soup = BeautifulSoup(html, "lxml")
    page = ParsedPage()
    if soup.title and soup.title.string:
        page.title = " ".join(soup.title.string.split())[:500]
    for meta in soup.find_all("meta"):
        key = meta.get("property") or meta.get("name")
        content = meta.get("content")
        if key and content and len(page.meta) < 100:
            page.meta[str(key).lower()[:100]] = " ".join(str(content).split())[:2000]
    for script in soup.find_all("script", attrs={"type": "application/ld+json"}):
        page.json_ld.extend(_json_ld_objects(script.get_text()))
    seen: set[str] = set()
    for anchor in soup.find_all("a", href=True):
        href = urldefrag(urljoin(base_url, str(anchor["href"]).strip())).url
        if urlsplit(href).scheme in ("http", "https") and href not in seen and len(seen) < 500:
            seen.add(href)
            page.links.append((href, " ".join(anchor.get_text(" ").split())[:200]))
    for element in soup.find_all(_DROP):
        element.decompose()
    for element in soup.find_all(True):
        if element.attrs is not None and _is_hidden(element):
            element.decompose()
    for element in soup.find_all(_BLOCK):
        element.insert_before("\n")
        element.insert_after("\n")
    lines = (" ".join(line.split()) for line in soup.get_text().splitlines())
    page.text = re.sub(r"\n{2,}", "\n", "\n".join(line for line in lines if line))[:_MAX_TEXT_CHARS]
    return page
