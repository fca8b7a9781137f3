"""The labelled development set: hand-written company websites with the values a careful
reader would record, served on loopback, and how extraction is scored against them.

Each YAML file under the set's folder lists sites: an `id`, `pages` (path -> HTML) and
`expected` (data point -> value). A data point left out of `expected` is expected to be
unknown (null). Free-text data points are scored by content: `value_proposition` expects
words ("a|b" = either) that the summary must contain; `target_role` expects roles, at least
one of which must be found.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from enrichment_pipelines.core.datapoints import DATA_POINT_KEYS, DATA_POINTS_BY_KEY
from enrichment_pipelines.demo.server import SiteMap, site_address
from enrichment_pipelines.demo.sites import Response

LABELLED_SITES_DIR = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "labelled_sites"


class LabelledSetError(ValueError):
    """A labelled site that cannot be used; the message names the file and the site."""


@dataclass(frozen=True)
class LabelledSite:
    id: str
    pages: Mapping[str, str]  # path -> HTML
    expected: Mapping[str, object]  # every data point; None = expected unknown


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
    for key, value in expected.items():
        if key not in DATA_POINTS_BY_KEY:
            raise LabelledSetError(f"{where}: {key!r} is not a data point")
        if key in ("value_proposition", "target_role"):
            continue
        if value is not None and DATA_POINTS_BY_KEY[key].validate(value)[1]:
            raise LabelledSetError(f"{where}: {DATA_POINTS_BY_KEY[key].validate(value)[1]}")
    return LabelledSite(
        id=entry["id"],
        pages={str(path): str(text) for path, text in pages.items()},
        expected={key: expected.get(key) for key in DATA_POINT_KEYS},
    )


def _label(path: str) -> str:
    return path.strip("/").replace("-", " ").title() or "Home"


def site_map(sites: Sequence[LabelledSite]) -> SiteMap:
    """Site i at its own loopback address; every page ends with a menu linking the others,
    as real sites do."""
    served: dict[str, dict[str, Response]] = {}
    for index, site in enumerate(sites):
        menu = "".join(f'<a href="{html.escape(path)}">{_label(path)}</a> ' for path in site.pages)
        served[site_address(index)] = {
            path: Response(200, f"<!doctype html>\n{body}\n<nav>{menu}</nav>".encode())
            for path, body in site.pages.items()
        }
    return served


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
    if isinstance(expected, str) and isinstance(found, str):
        return _plain(expected) == _plain(found)
    return expected == found


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
        for key in DATA_POINT_KEYS:
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
