"""The labelled development set: hand-written company websites with the values a careful
reader would record, served on loopback, and how extraction is scored against them.

Each YAML file under the set's folder lists sites: an `id`, `pages` (path -> HTML) and
`expected` (data point -> value). A data point left out of `expected` is expected to be
unknown (null), unless the site lists the fields it is `scored` on (the Customer-360 sites
score only the markup signals they were written for). Free-text data points are scored by
content: `value_proposition` expects words ("a|b" = either) that the summary must contain;
`target_role` expects roles, at least one of which must be found. Lists are sets:
`tech_stack` names and `social_profiles` addresses (compared without scheme, www or trailing
slash) must be those found, no more and no fewer. `logo_url` may be a path: the logo found
must be that path on the site it was served from.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from enrichment_pipelines.core.datapoints import DATA_POINT_KEYS, DATA_POINTS_BY_KEY
from enrichment_pipelines.core.extractors.site_signals import profile_key
from enrichment_pipelines.demo.server import SiteMap, site_address
from enrichment_pipelines.demo.sites import Response
from tests.support.blind import (
    BlindCompany,
    BlindPage,
    load_blind_companies,
    load_customer_360_labels,
    read_page_labels,
)

LABELLED_SITES_DIR = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "labelled_sites"
# Real saved pages labelled for the markup signals (see that folder's README).
DEVELOPMENT_PAGES_DIR = LABELLED_SITES_DIR.parent / "dev_pages"
DEVELOPMENT_PAGES_LABELS = "labels_customer360.yaml"
# Real saved pages labelled for the address under the blind pages' derivation: a folder of
# its own, and the business pages of dev_pages (see both READMEs).
DEVELOPMENT_ADDRESS_PAGES_DIR = LABELLED_SITES_DIR.parent / "dev_address_pages"
DEVELOPMENT_PAGES_ADDRESS_LABELS = "labels_address.yaml"
# Companies' own 10-K descriptions, in the blind companies set's format (see its README).
DEVELOPMENT_COMPANIES_DIR = LABELLED_SITES_DIR.parent / "dev_companies"


class LabelledSetError(ValueError):
    """A labelled site that cannot be used; the message names the file and the site."""


@dataclass(frozen=True)
class LabelledSite:
    id: str
    pages: Mapping[str, str]  # path -> HTML
    expected: Mapping[str, object]  # every data point scored; None = expected unknown


def load_labelled_sites(directory: Path = LABELLED_SITES_DIR) -> list[LabelledSite]:
    sites: list[LabelledSite] = []
    seen: set[str] = set()
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise LabelledSetError(f"{directory}: no labelled sites (*.yaml)")
    for path in files:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(document, list):
            raise LabelledSetError(f"{path}: expected a list of sites")
        for number, entry in enumerate(document, start=1):
            site = _parse_site(entry, f"{path.name}: site #{number}")
            if site.id in seen:
                raise LabelledSetError(f"{path.name}: site id {site.id!r} appears twice")
            seen.add(site.id)
            sites.append(site)
    return sites


def _parse_site(entry: object, where: str) -> LabelledSite:
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
        raise LabelledSetError(f"{where}: needs an 'id'")
    where = f"{where} ({entry['id']})"
    pages, expected = entry.get("pages"), entry.get("expected") or {}
    if not isinstance(pages, dict) or "/" not in pages:
        raise LabelledSetError(f"{where}: 'pages' must map paths to HTML, '/' included")
    if not isinstance(expected, dict):
        raise LabelledSetError(f"{where}: 'expected' must map data points to values")
    scored = entry.get("scored") or list(DATA_POINT_KEYS)
    if unknown := [key for key in [*expected, *scored] if key not in DATA_POINTS_BY_KEY]:
        raise LabelledSetError(f"{where}: {unknown[0]!r} is not a data point")
    for key, value in expected.items():
        if key not in scored:
            raise LabelledSetError(f"{where}: {key!r} is expected but not scored")
        if key in _SCORED_BY_CONTENT:
            continue
        if value is not None and DATA_POINTS_BY_KEY[key].validate(value)[1]:
            raise LabelledSetError(f"{where}: {DATA_POINTS_BY_KEY[key].validate(value)[1]}")
    return LabelledSite(
        id=entry["id"],
        pages={str(path): str(text) for path, text in pages.items()},
        expected={key: expected.get(key) for key in DATA_POINT_KEYS if key in scored},
    )


@dataclass(frozen=True)
class DevelopmentPage:
    """One real page as published, and its labelled Customer-360 values (None: not shown)."""

    file: Path
    expected: Mapping[str, object]
    also_accept: Mapping[str, tuple[object, ...]]


def load_development_pages(directory: Path = DEVELOPMENT_PAGES_DIR) -> list[DevelopmentPage]:
    """Every page of the development pages set, labelled under the blind pages' rules (the
    same reader checks both: every page labelled once, and nothing else)."""
    files = sorted(path.name for path in directory.glob("*.html"))
    if not files:
        raise LabelledSetError(f"{directory}: no pages (*.html)")
    labels = load_customer_360_labels(directory / DEVELOPMENT_PAGES_LABELS, "file", files)
    return [DevelopmentPage(directory / name, *labels[name]) for name in files]


def load_development_address_pages() -> list[BlindPage]:
    """Every address-labelled development page: those of dev_address_pages and the business
    pages of dev_pages, labelled from the source's annotations by the blind pages' derivation
    (scripts/webstruct_address_labels.py) and read by the same reader."""
    return [
        *read_page_labels(DEVELOPMENT_ADDRESS_PAGES_DIR / "labels.yaml"),
        *read_page_labels(DEVELOPMENT_PAGES_DIR / DEVELOPMENT_PAGES_ADDRESS_LABELS),
    ]


def load_development_companies(directory: Path = DEVELOPMENT_COMPANIES_DIR) -> list[BlindCompany]:
    """Every company of the development companies set: other companies' 10-K descriptions,
    labelled under the blind companies' rules and read by the same reader."""
    return load_blind_companies(directory)


# Scored by what they contain, not by the registry's validation of one value.
_SCORED_BY_CONTENT = ("value_proposition", "target_role", "tech_stack", "social_profiles",
                      "logo_url")  # fmt: skip


def _label(path: str) -> str:
    return path.strip("/").replace("-", " ").title() or "Home"


def site_map(sites: Sequence[LabelledSite]) -> SiteMap:
    """Site i at its own loopback address; every page ends with a menu linking the others,
    as real sites do."""
    served: dict[str, dict[str, Response]] = {}
    for index, site in enumerate(sites):
        menu = "".join(f'<a href="{html.escape(path)}">{_label(path)}</a> ' for path in site.pages)
        served[site_address(index)] = {
            path: Response(200, _with_menu(body, f"<nav>{menu}</nav>").encode())
            for path, body in site.pages.items()
        }
    return served


def _with_menu(body: str, menu: str) -> str:
    """The page with the menu at the end of its body (a whole document keeps its `</body>`:
    a parser drops what comes after `</html>`)."""
    if "</body>" in body:
        return body.replace("</body>", f"{menu}</body>", 1)
    return f"<!doctype html>\n{body}\n{menu}"


@dataclass
class FieldScore:
    correct: int = 0
    total: int = 0
    nulls_expected: int = 0
    nulls_correct: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0


def matches(key: str, expected: object, found: object) -> bool:
    if expected is None or found is None:
        return expected is None and found is None
    if key == "value_proposition":
        words = str(expected).lower().split("|")
        return any(word.strip() in str(found).lower() for word in words)
    if key == "target_role":
        wanted = {role.strip().lower() for role in str(expected).split(",")}
        return bool(wanted & {role.strip().lower() for role in str(found).split(",")})
    if key in LIST_FIELDS:
        return list_items(key, expected) == list_items(key, found)
    if key == "logo_url":
        wanted, got = str(expected), str(found)
        if "://" in wanted:
            return wanted == got
        parts = urlsplit(got)  # a relative label: the path (and query) the logo ends with
        tail = f"{parts.path}?{parts.query}" if "?" in wanted else parts.path
        return tail.endswith("/" + wanted.lstrip("./").lstrip("/"))
    if isinstance(expected, str) and isinstance(found, str):
        return _plain(expected) == _plain(found)
    return expected == found


# Data points whose value is a list: scored as a whole (right: the same set), and item by item
# (precision and recall, see bench/accuracy.py).
LIST_FIELDS = ("tech_stack", "social_profiles")


def list_items(key: str, value: object) -> set[str]:
    """The items of a list value, as they are compared: product names folded, profile
    addresses without scheme, www or trailing slash."""
    if value is None:
        return set()
    if key == "social_profiles":
        return {profile_key(url) for url in _items(value)}
    return {_plain(name) for name in _items(value)}


def _items(value: object) -> list[str]:
    """A list value: a YAML list, or the comma-joined form an attribute holds."""
    if isinstance(value, list):
        return [str(item) for item in value]
    return [item.strip() for item in str(value).split(", ") if item.strip()]


def _plain(text: str) -> str:
    """Case and accents folded: Zürich = zurich."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def score(
    sites: Sequence[LabelledSite], found: Mapping[str, Mapping[str, object]]
) -> dict[str, FieldScore]:
    """Per data point: right answers (values and nulls alike) over all sites."""
    scores = {key: FieldScore() for key in DATA_POINT_KEYS}
    for site in sites:
        values = found.get(site.id, {})
        for key in site.expected:
            expected, got = site.expected[key], values.get(key)
            entry = scores[key]
            entry.total += 1
            entry.nulls_expected += expected is None
            if matches(key, expected, got):
                entry.correct += 1
                entry.nulls_correct += expected is None
            else:
                entry.errors.append(f"{site.id}: expected {expected!r}, got {got!r}")
    return scores
