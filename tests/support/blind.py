"""The frozen blind evaluation sets under tests/fixtures/blind/ and how to read them.

Each set lives in its own folder with its own labels and a MANIFEST.sha256 (one
"<sha256>  <file name>" line per file). The sets were written once and are never edited
to suit an extractor: `verify_manifest` fails as soon as any file differs from what was
frozen. See tests/fixtures/blind/README.md for sources, licences and labelling rules.

Sets and their functions:
- pages (real contact / about pages as published): `load_blind_pages`, `verify_manifest`.
- companies (companies' own business descriptions from SEC 10-K filings, Item 1):
  `load_blind_companies`, `verify_manifest(COMPANIES_DIR)`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import yaml

from enrichment_pipelines.core.taxonomy import load_taxonomy

BLIND_DIR = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "blind"
MANIFEST_NAME = "MANIFEST.sha256"


class BlindSetError(ValueError):
    """A blind set that cannot be used as frozen; the message names the file."""


# --- shared ---------------------------------------------------------------------------


def read_manifest(directory: Path) -> dict[str, str]:
    """File name -> sha256 as listed in the folder's MANIFEST.sha256."""
    path = directory / MANIFEST_NAME
    if not path.is_file():
        raise BlindSetError(f"{path}: missing")
    listed: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64 or not name:
            raise BlindSetError(f"{path}: line {number} is not '<sha256>  <file name>'")
        if name in listed:
            raise BlindSetError(f"{path}: {name!r} listed twice")
        listed[name] = digest
    return listed


def verify_manifest(directory: Path | None = None) -> None:
    """Raise BlindSetError unless every file in `directory` (default: the pages set) is
    listed in its MANIFEST.sha256 with the same sha256, and every listed file exists."""
    folder = PAGES_DIR if directory is None else directory
    listed = read_manifest(folder)
    present = {
        path.name for path in folder.iterdir() if path.is_file() and path.name != MANIFEST_NAME
    }
    problems: list[str] = []
    for name in sorted(present - listed.keys()):
        problems.append(f"{name}: not in {MANIFEST_NAME}")
    for name in sorted(listed.keys() - present):
        problems.append(f"{name}: listed in {MANIFEST_NAME} but missing")
    for name in sorted(present & listed.keys()):
        digest = hashlib.sha256((folder / name).read_bytes()).hexdigest()
        if digest != listed[name]:
            problems.append(f"{name}: sha256 {digest} differs from the frozen {listed[name]}")
    if problems:
        shown = "; ".join(problems[:10])
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise BlindSetError(f"{folder}: the frozen set was changed: {shown}{more}")


# Customer-360 labels (issue 18), a file of their own in each set, keyed by page file or
# company id. Scored: the founding year; on the pages also the markup signals.
CUSTOMER_360_FIELDS: tuple[str, ...] = (
    "founded_year", "tech_stack", "social_profiles", "logo_url", "open_positions",
)  # fmt: skip
# The annotators named technologies as they knew them; where a name is the fingerprint set's
# product under another spelling or its later official name, it is scored as that one. Written
# from the two lists of names alone (the annotators' and the set's), before any detector ran
# on these pages; a product the set does not know is left out of what a page is expected to
# show (the set's coverage, reported apart), never mapped to a look-alike.
TECH_NAME_ALIASES: dict[str, str] = {
    "Joomla!": "Joomla",
    "BoldChat": "Bold Chat",
    "Maxymiser": "Oracle Maxymiser",
    "Mouseflow": "Mouse Flow",
    "concrete5": "Concrete CMS",
    "DotNetNuke": "DNN",
    "Genesis": "Genesis theme",
}

_Labelled = TypeVar("_Labelled", "BlindPage", "BlindCompany")
# Labels kept beside an entry's own (Customer-360, classification): key -> (expected value of
# each field, other values also right).
MoreLabels = dict[str, tuple[dict[str, object], dict[str, tuple[object, ...]]]]


def known_technologies(names: list[str]) -> list[str]:
    """The labelled technologies the bundled fingerprint set knows, under its names."""
    from enrichment_pipelines.core.extractors.technologies import load_fingerprints

    known = load_fingerprints().technologies
    return [alias for name in names if (alias := TECH_NAME_ALIASES.get(name, name)) in known]


def load_customer_360_labels(path: Path, key: str, keys: list[str]) -> MoreLabels:
    """Entry key -> (expected value of each Customer-360 field the file labels, other values
    also right); every one of `keys` must be labelled, once, and nothing else. List labels
    become: for `tech_stack`, the known technologies (`known_technologies`), None when none;
    for `logo_url`, its first accepted value, the others also right, None when empty;
    `social_profiles`, the list, None when empty."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(document, list):
        raise BlindSetError(f"{path.name}: expected a list")
    labels: MoreLabels = {}
    for number, entry in enumerate(document, start=1):
        where = f"{path.name}: entry #{number}"
        if not isinstance(entry, dict) or entry.get(key) not in keys:
            raise BlindSetError(f"{where}: {key} is not one of the set's")
        if entry[key] in labels:
            raise BlindSetError(f"{where}: {entry[key]} labelled twice")
        for name in ("founded_year", "open_positions"):
            value = entry.get(name)
            whole = isinstance(value, int) and not isinstance(value, bool)
            if value is not None and not (whole and value >= 0):
                raise BlindSetError(f"{where}: {name} must be a whole number or null")
        for name in ("tech_stack", "social_profiles", "logo_url"):
            if name in entry and not isinstance(entry[name], list):
                raise BlindSetError(f"{where}: {name} must be a list")
        also = dict(entry.get("also_accept") or {})
        expected: dict[str, object] = {}
        for name in CUSTOMER_360_FIELDS:
            if name not in entry:
                continue
            value = entry[name]
            if name == "tech_stack":
                value = known_technologies(value) or None
            elif name == "logo_url":
                also[name] = [*value[1:], *also.get(name, [])]
                value = value[0] if value else None
            elif name == "social_profiles":
                value = value or None
            expected[name] = value
        labels[entry[key]] = (
            expected,
            {name: tuple(also.get(name) or ()) for name in expected},
        )
    if missing := [name for name in keys if name not in labels]:
        raise BlindSetError(f"{path.name}: {len(missing)} not labelled, e.g. {missing[0]}")
    return labels


def _with_labels(labels: MoreLabels, name: str, item: _Labelled) -> _Labelled:
    """`item` with more of its labels (Customer-360, classification) added to its expected
    values."""
    expected, also_accept = labels[name]
    return replace(
        item,
        expected={**item.expected, **expected},
        also_accept={**item.also_accept, **also_accept},
    )


# --- pages set ------------------------------------------------------------------------

PAGES_DIR = BLIND_DIR / "pages"
PAGES_LABELS = "labels.yaml"
PAGES_CUSTOMER_360 = "labels_customer360.yaml"
PAGE_KINDS: tuple[str, ...] = ("contact", "about", "imprint", "other")
PAGE_FIELDS: tuple[str, ...] = ("location_city", "location_country_code", "employee_count")


@dataclass(frozen=True)
class BlindPage:
    """One page as published and what the source's annotations say it states."""

    file: Path
    page_kind: str
    # Scored fields only: field -> expected value; None = the page states no such fact
    # (the value must stay unknown). A field listed as `unscored` in labels.yaml is absent.
    expected: Mapping[str, object]
    # Other spellings of the same annotated value that also count as right.
    also_accept: Mapping[str, tuple[object, ...]] = field(default_factory=dict)
    url: str | None = None
    ambiguous: bool = False
    note: str | None = None

    def read_html(self) -> bytes:
        """The page's bytes as stored (the source's raw HTML; decode per its own charset)."""
        return self.file.read_bytes()


def load_blind_pages(directory: Path | None = None) -> list[BlindPage]:
    """Every page of the blind pages set, in labels.yaml order."""
    folder = PAGES_DIR if directory is None else directory
    pages = read_page_labels(folder / PAGES_LABELS)
    files = sorted(page.file.name for page in pages)
    more = load_customer_360_labels(folder / PAGES_CUSTOMER_360, "file", files)
    return [_with_labels(more, page.file.name, page) for page in pages]


def read_page_labels(path: Path) -> list[BlindPage]:
    """The pages a file in the pages set's labels.yaml format labels, in its order, each page
    (a file beside it) once: the blind set's, and the development address pages'."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(document, list):
        raise BlindSetError(f"{path}: expected a list of pages")
    pages: list[BlindPage] = []
    seen: set[str] = set()
    for number, entry in enumerate(document, start=1):
        page = _parse_page(entry, path.parent, f"{path.name}: entry #{number}")
        if page.file.name in seen:
            raise BlindSetError(f"{path.name}: {page.file.name} labelled twice")
        seen.add(page.file.name)
        pages.append(page)
    return pages


def _expected(
    entry: Mapping[str, Any], fields: tuple[str, ...], where: str
) -> dict[str, str | None]:
    """The labelled value of each of `fields` (None: not stated), but those marked unscored."""
    unscored = entry.get("unscored", [])
    if not isinstance(unscored, list) or any(name not in fields for name in unscored):
        raise BlindSetError(f"{where}: unscored must list fields among {fields}")
    expected: dict[str, str | None] = {}
    for name in fields:
        if name not in entry:
            raise BlindSetError(f"{where}: {name} missing (use null for 'not stated')")
        value = entry[name]
        if value is not None and not (isinstance(value, str) and value.strip()):
            raise BlindSetError(f"{where}: {name} must be a non-empty string or null")
        if name not in unscored:
            expected[name] = value
    return expected


def _parse_page(entry: object, folder: Path, where: str) -> BlindPage:
    if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
        raise BlindSetError(f"{where}: needs a 'file'")
    file = folder / entry["file"]
    if not file.is_file():
        raise BlindSetError(f"{where}: {entry['file']} does not exist")
    kind = entry.get("page_kind")
    if kind not in PAGE_KINDS:
        raise BlindSetError(f"{where}: page_kind {kind!r} is not one of {PAGE_KINDS}")
    expected = _expected(entry, PAGE_FIELDS, where)
    also: dict[str, tuple[str, ...]] = {}
    for name, values in (entry.get("also_accept") or {}).items():
        if name not in PAGE_FIELDS or not isinstance(values, list):
            raise BlindSetError(f"{where}: also_accept.{name} is not a list for a known field")
        also[name] = tuple(str(value) for value in values)
    url = entry.get("url")
    note = entry.get("note")
    return BlindPage(
        file=file,
        page_kind=kind,
        expected=expected,
        also_accept=also,
        url=url if isinstance(url, str) else None,
        ambiguous=bool(entry.get("ambiguous", False)),
        note=note if isinstance(note, str) else None,
    )


# --- companies set --------------------------------------------------------------------

COMPANIES_DIR = BLIND_DIR / "companies"
COMPANIES_LABELS = "companies.yaml"
COMPANIES_CUSTOMER_360 = "founded.yaml"
COMPANIES_CLASSIFICATION = "labels_classification.yaml"
# Classification labels (issue 17), written before any classifier was tuned; null means the
# annotator could not tell (two categories fit equally, too thin a text): not scored.
CLASSIFICATION_FIELDS: tuple[str, ...] = ("industry_category", "target_market", "is_saas")
TARGET_MARKETS = ("B2B", "B2C", "B2B2C")
COMPANY_FIELDS: tuple[str, ...] = ("employee_count", "location_country_code", "location_city")
_STATEMENT_OF = {
    "employee_count": "employee_statement",
    "location_country_code": "location_statement",
    "location_city": "location_statement",
}
STATEMENT_GAP = " [...] "


def company_name_key(name: str) -> str:
    """A company's name without case, punctuation, legal form or share class ("Apple Inc." and
    "APPLE INC Class A" are "apple"): how a company is matched across sets and sources."""
    noise = {"inc", "corp", "corporation", "co", "ltd", "plc", "llc", "the", "company",
             "holdings", "group", "class", "a", "b", "common", "stock", "shares"}  # fmt: skip
    return " ".join(w for w in re.sub(r"[^a-z0-9 ]", " ", name.lower()).split() if w not in noise)


@dataclass(frozen=True)
class BlindCompany:
    """One company's own description (10-K Item 1 text) and what that text states."""

    id: str
    name: str
    description: str
    # Scored fields only: field -> expected value; None = the description states no such
    # fact (the value must stay unknown). A field listed as `unscored` is absent.
    expected: Mapping[str, object]
    # Other spellings of the same value that also count as right ("New York City").
    also_accept: Mapping[str, tuple[object, ...]] = field(default_factory=dict)
    # The verbatim sentence(s) each label came from, pieces joined by " [...] "; None
    # when the field is null.
    statements: Mapping[str, str | None] = field(default_factory=dict)
    cik: str | None = None
    source_url: str | None = None
    note: str | None = None


def load_blind_companies(directory: Path | None = None) -> list[BlindCompany]:
    """Every company of the blind companies set, in companies.yaml order."""
    folder = COMPANIES_DIR if directory is None else directory
    path = folder / COMPANIES_LABELS
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(document, list):
        raise BlindSetError(f"{path}: expected a list of companies")
    companies: list[BlindCompany] = []
    seen: set[str] = set()
    for number, entry in enumerate(document, start=1):
        company = _parse_company(entry, f"{path.name}: entry #{number}")
        if company.id in seen:
            raise BlindSetError(f"{path.name}: id {company.id!r} used twice")
        seen.add(company.id)
        companies.append(company)
    more = load_customer_360_labels(folder / COMPANIES_CUSTOMER_360, "id", sorted(seen))
    classes = load_classification_labels(folder / COMPANIES_CLASSIFICATION, sorted(seen))
    return [
        _with_labels(classes, company.id, _with_labels(more, company.id, company))
        for company in companies
    ]


def load_classification_labels(path: Path, ids: list[str]) -> MoreLabels:
    """Company id -> (its scored classification labels, other values also right); every one
    of `ids` labelled once, and nothing else; a null label is left out (not scored)."""
    categories = set(load_taxonomy().categories)
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(document, list):
        raise BlindSetError(f"{path.name}: expected a list")
    labels: MoreLabels = {}
    for number, entry in enumerate(document, start=1):
        where = f"{path.name}: entry #{number}"
        if not isinstance(entry, dict) or entry.get("id") not in ids:
            raise BlindSetError(f"{where}: id is not one of the set's")
        if entry["id"] in labels:
            raise BlindSetError(f"{where}: {entry['id']} labelled twice")
        allowed = {"industry_category": categories, "target_market": set(TARGET_MARKETS),
                   "is_saas": {True, False}}  # fmt: skip
        expected = {name: entry.get(name) for name in CLASSIFICATION_FIELDS
                    if entry.get(name) is not None}  # fmt: skip
        also = {name: tuple(values if isinstance(values, list) else [values])
                for name, values in (entry.get("also_accept") or {}).items()}  # fmt: skip
        for name, value in [*expected.items(), *((n, v) for n, vs in also.items() for v in vs)]:
            if name not in allowed or value not in allowed[name]:
                raise BlindSetError(f"{where}: {name} {value!r} is not a known value")
        labels[entry["id"]] = (expected, {name: also.get(name, ()) for name in expected})
    if missing := [name for name in ids if name not in labels]:
        raise BlindSetError(f"{path.name}: not labelled: {', '.join(missing[:5])}")
    return labels


def _parse_company(entry: object, where: str) -> BlindCompany:
    if not isinstance(entry, dict):
        raise BlindSetError(f"{where}: expected a mapping")
    for key in ("id", "name", "description"):
        value = entry.get(key)
        if not (isinstance(value, str) and value.strip()):
            raise BlindSetError(f"{where}: {key} must be a non-empty string")
    where = f"{where} ({entry['id']})"
    expected = _expected(entry, COMPANY_FIELDS, where)
    statements: dict[str, str | None] = {}
    for name, key in _STATEMENT_OF.items():
        statement = entry.get(key)
        if statement is not None and not (isinstance(statement, str) and statement.strip()):
            raise BlindSetError(f"{where}: {key} must be a non-empty string or null")
        statements[name] = statement
    also: dict[str, tuple[str, ...]] = {}
    for name, values in (entry.get("also_accept") or {}).items():
        if name not in COMPANY_FIELDS or not isinstance(values, list):
            raise BlindSetError(f"{where}: also_accept.{name} is not a list for a known field")
        also[name] = tuple(str(value) for value in values)
    cik = entry.get("cik")
    source_url = entry.get("source_url")
    note = entry.get("note")
    return BlindCompany(
        id=entry["id"],
        name=entry["name"],
        description=entry["description"],
        expected=expected,
        also_accept=also,
        statements=statements,
        cik=str(cik) if cik is not None else None,
        source_url=source_url if isinstance(source_url, str) else None,
        note=note if isinstance(note, str) else None,
    )
