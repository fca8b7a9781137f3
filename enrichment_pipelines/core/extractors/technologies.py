"""Technologies a site is built with, detected from Wappalyzer-format fingerprints.

The bundled fingerprints (`fingerprints/`, MIT, see its SOURCE.md) are data, not code; a user's
own file in the same format (`ENRICH_TECH_FINGERPRINTS`) adds technologies or replaces those of
the same name. A fingerprint names patterns per signal; these signals are read from what a
crawl keeps of each page (`Page.assets`, `Page.meta`):

- `scriptSrc`: the page's `<script src>` URLs, and the URLs its inline scripts load (the
  classic analytics snippets insert a script element rather than naming a `src`);
- `scripts`: the inline scripts' text; `html`: the raw `<head>` and the document as parsed
  and serialised again (capped at its start and end, see `html_text.PageAssets.markup`);
- `dom`: CSS selectors, with the text or attributes the element must show, over that same
  document as published (scripts not run);
- `meta`, `headers`, `cookies` (names only);
- `url`: the pages' addresses (and their `<base href>`), and the file names of those on the
  site's own host they link to or load (a crawl would fetch them: a site linking
  `/products.php` runs PHP).

Not read: `js` (global variables), which needs a browser running the page.
Then `implies` adds what a detection implies (WordPress -> PHP), `requires` and `excludes` drop
what lacks its requirement or is excluded. A pattern's `\\;version:\\1` gives the version,
`\\;confidence:N` a confidence below 100.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache, cached_property, lru_cache
from operator import itemgetter
from pathlib import Path
from typing import Any

import ahocorasick
import cssselect
import regex
from cssselect import HTMLTranslator, SelectorError
from cssselect.parser import Attrib, Class, CombinedSelector, Element, Hash
from lxml import etree
from lxml import html as lxml_html

from enrichment_pipelines.core.crawl import Page, referenced
from enrichment_pipelines.core.errors import EnrichError
from enrichment_pipelines.core.html_text import kept_markup

BUNDLED_DIR = Path(__file__).with_name("fingerprints")
# A text longer than this is searched only near its patterns' literals, a match reaching at
# most this far either side of the literal (a tag, a comment, a line of script).
_SEARCH_NEAR_ABOVE, _MATCH_REACH = 8_000, 2_000
# Longest pattern compiled (a few bundled ones are pathological).
_MAX_PATTERN_CHARS = 2_000
# Seconds one search may take: some fingerprints backtrack without bound on text written to
# make them ("[\s\S]*a[\s\S]*b"), and page text is not ours. A search that runs out is
# no match.
_SEARCH_SECONDS = 0.05


class FingerprintError(EnrichError, ValueError):
    """A fingerprint file that cannot be used; the message names the file and the entry."""


Match = regex.Match[str] | bool | None


def _search(
    compiled: regex.Pattern[str], text: str, start: int = 0, end: int | None = None
) -> regex.Match[str] | None:
    """`compiled.search`, given up (no match) when it takes longer than `_SEARCH_SECONDS`."""
    try:
        return compiled.search(text, start, len(text) if end is None else end,
                               timeout=_SEARCH_SECONDS)  # fmt: skip
    except TimeoutError:
        return None


@dataclass(frozen=True)
class Pattern:
    regex: regex.Pattern[str] | None  # None: the signal's presence is enough ("" in the file)
    version: str = ""  # template: "\\1", "\\1?a:b"
    confidence: int = 100
    # Per branch of a top-level alternation (one branch for most), the lower-cased texts a
    # match by it must contain: substring tests, much cheaper than the search, rule out most
    # patterns on most pages (none: the branches cannot be told apart, always searched).
    branches: tuple[tuple[str, ...], ...] = ()

    def match(self, value: str, lowered: str | None = None) -> Match:
        if self.regex is None:
            return True
        if not self.branches:
            return _search(self.regex, value)
        lowered = lowered if lowered is not None else value.lower()
        held = [branch[0] for branch in self.branches if all(t in lowered for t in branch)]
        if not held:
            return None
        if len(value) > _SEARCH_NEAR_ABOVE and len(lowered) == len(value):
            return self._search_near(value, lowered, held)
        return _search(self.regex, value)

    def _search_near(self, value: str, lowered: str, literals: list[str]) -> Match:
        """The search, in a long text, only around where a literal every match holds occurs
        (overlapping stretches merged): a document's markup is long, a match short. A literal
        found all over the text is searched in one go. A match found in a stretch is confirmed
        on the whole text (a lookahead or `$` at the stretch's end sees less)."""
        assert self.regex is not None
        positions = [
            (position, literal) for literal in literals for position in _positions(lowered, literal)
        ]
        if len(positions) * _MATCH_REACH > len(value):
            return _search(self.regex, value)
        spans = sorted(
            (max(0, position - _MATCH_REACH), position + len(literal) + _MATCH_REACH)
            for position, literal in positions
        )
        stretches: list[list[int]] = []
        for start, end in spans:
            if stretches and start <= stretches[-1][1]:
                stretches[-1][1] = max(end, stretches[-1][1])
            else:
                stretches.append([start, end])
        for start, end in stretches:
            found = _search(self.regex, value, start, end)
            while found is not None:
                try:
                    whole = self.regex.match(value, found.start(), timeout=_SEARCH_SECONDS)
                except TimeoutError:
                    whole = None
                if whole is not None:
                    return whole
                found = _search(self.regex, value, found.start() + 1, end)
        return None

    def version_of(self, match: Match) -> str:
        if not self.version or not isinstance(match, regex.Match):
            return ""
        template = self.version
        for index in range(1, 10):
            group = match.group(index) if index <= (match.re.groups or 0) else None
            ternary = re.search(rf"\\{index}\?([^:]*):(.*)", template)
            if ternary:  # "\1?present:absent"
                template = template.replace(
                    ternary.group(0), ternary.group(1) if group else ternary.group(2)
                )
            template = template.replace(f"\\{index}", group or "")
        return template.strip()[:40]


@dataclass(frozen=True)
class DomPattern:
    """A `dom` fingerprint: elements matching a CSS selector; with `text` or `attributes`,
    only those whose text or attribute value matches (the version read from it)."""

    selector: str
    xpath: etree.XPath
    # Lower-cased text the serialised document of any match holds (an attribute value, an id
    # or class, or "<tag"): a substring test rules the selector out on most pages.
    literal: str
    text: tuple[Pattern, ...] = ()
    attributes: Mapping[str, tuple[Pattern, ...]] = field(default_factory=dict)

    def match(self, document: Any) -> tuple[Any, Pattern, Match] | None:
        """(element, pattern, match) of the first element that matches, a check of confidence
        above 0 first (one of 0 only reads a version), or None."""
        version_only = None
        for element in self.xpath(document):
            if not (self.text or self.attributes):
                return element, Pattern(None), True
            checks = [(p, " ".join(element.text_content().split())) for p in self.text]
            for name, patterns in self.attributes.items():
                value = element.get(name)
                checks += [(p, value) for p in patterns] if value is not None else []
            for pattern, value in checks:
                if found := pattern.match(value):
                    if pattern.confidence:
                        return element, pattern, found
                    version_only = version_only or (element, pattern, found)
        return version_only


@dataclass(frozen=True)
class Technology:
    name: str
    categories: tuple[str, ...]
    website: str | None
    script_src: tuple[Pattern, ...] = ()
    scripts: tuple[Pattern, ...] = ()
    html: tuple[Pattern, ...] = ()
    url: tuple[Pattern, ...] = ()
    meta: Mapping[str, tuple[Pattern, ...]] = field(default_factory=dict)
    headers: Mapping[str, tuple[Pattern, ...]] = field(default_factory=dict)
    cookies: Mapping[str, tuple[Pattern, ...]] = field(default_factory=dict)
    dom: tuple[DomPattern, ...] = ()
    implies: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    requires_category: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Detection:
    """One technology found on a site, with the page and the words that show it."""

    name: str
    categories: tuple[str, ...]
    version: str
    confidence: float
    url: str  # the page
    quote: str  # what matched, as it stands on the page (empty for an implied technology)
    implied_by: str | None = None


@dataclass
class Fingerprints:
    """A fingerprint set: technologies by name, and a key naming its content (part of the
    extractor's name, so a changed set extracts again)."""

    # Technology name -> its fingerprint as the files give it; category number -> name.
    entries: dict[str, Any] = field(repr=False, compare=False)
    categories: dict[str, str] = field(repr=False, compare=False)
    key: str
    user_path: Path | None = None

    @cached_property
    def technologies(self) -> dict[str, Technology]:
        """The technologies, compiled at first use: a process that only names the set (a
        run's own, whose extraction workers detect) spares the second it takes and the
        memory the patterns hold."""
        where = self.user_path or BUNDLED_DIR
        return {
            name: _technology(name, entry, self.categories, f"{where}: {name}")
            for name, entry in self.entries.items()
        }

    def __reduce__(self) -> tuple[Any, tuple[Path | None]]:
        # Sent to extraction worker processes as the file it came from, not 3,500 compiled
        # technologies: the worker loads it again (once, cached).
        return load_fingerprints, (self.user_path,)

    @property
    def cache_suffix(self) -> str:
        """Part of the extractor's name: a user's fingerprints extract again when changed."""
        return "" if self.user_path is None else f"+tech-{self.key.removeprefix('user-')}"

    @cached_property
    def by_name(self) -> dict[str, dict[str, list[Technology]]]:
        """Signal -> lower-cased meta, header or cookie name -> the technologies that name it
        (a name ending in `*` under its prefix, with the `*`)."""
        index: dict[str, dict[str, list[Technology]]] = {}
        for technology in self.technologies.values():
            for signal in _NAMED_SIGNALS:
                for name in getattr(technology, signal):
                    index.setdefault(signal, {}).setdefault(name.lower(), []).append(technology)
        return index

    @cached_property
    def wildcards(self) -> dict[str, list[str]]:
        """Signal -> the names in `by_name` that end in `*` (prefixes)."""
        return {
            signal: [name for name in names if name.endswith("*")]
            for signal, names in self.by_name.items()
        }

    @cached_property
    def by_signal(self) -> dict[str, list[Technology]]:
        """The technologies that have patterns for each signal (most have few)."""
        index: dict[str, list[Technology]] = {}
        for technology in self.technologies.values():
            for signal in ("script_src", "scripts", "html", "url", "meta", "headers", "cookies"):
                if getattr(technology, signal):
                    index.setdefault(signal, []).append(technology)
        return index

    @cached_property
    def by_literal(self) -> dict[str, dict[str, set[int]]]:
        """Signal -> a literal -> the places in `by_signal` of the technologies with a pattern
        whose first required literal it is ("" for a pattern that needs none): one substring
        test per literal finds the few technologies worth searching for, instead of testing
        every pattern."""
        index: dict[str, dict[str, set[int]]] = {}
        for signal in _TEXT_SIGNALS:
            literals = index.setdefault(signal, {})
            for place, technology in enumerate(self.by_signal.get(signal, [])):
                for pattern in getattr(technology, signal):
                    for first in [branch[0] for branch in pattern.branches] or [""]:
                        literals.setdefault(first, set()).add(place)
        return index

    @cached_property
    def dom_by_literal(self) -> dict[str, list[tuple[Technology, DomPattern]]]:
        """A `dom` pattern's literal -> the (technology, pattern) pairs that need it."""
        index: dict[str, list[tuple[Technology, DomPattern]]] = {}
        for technology in self.technologies.values():
            for pattern in technology.dom:
                index.setdefault(pattern.literal, []).append((technology, pattern))
        return index

    @cached_property
    def finders(self) -> dict[str, _LiteralFinder]:
        """Per text signal, and for `dom`, which of its patterns' literals a text holds."""
        finders = {
            signal: _LiteralFinder(self.by_literal.get(signal, {})) for signal in _TEXT_SIGNALS
        }
        finders["dom"] = _LiteralFinder(self.dom_by_literal)
        return finders

    def _candidates(self, signal: str, lowered: str) -> list[Technology]:
        """The technologies whose `signal` patterns may match the lower-cased text, in
        `by_signal` order (each pattern still checks all its literals when matched)."""
        places: set[int] = set()
        owners = self.by_literal.get(signal, {})
        for literal in self.finders[signal].held(lowered):
            places |= owners[literal]
        technologies = self.by_signal[signal]
        return [technologies[place] for place in sorted(places)]

    def detect(self, pages: Sequence[Page]) -> list[Detection]:
        """Every technology the pages show, with those they imply; sorted by name. Each signal
        is matched once per site, over the distinct values of all its pages (a site's pages
        share their scripts and head): one search per pattern, not one per page."""
        found: dict[str, Detection] = {}
        for detection in self._detect_site(pages):
            known = found.get(detection.name)
            if known is not None:  # the one with a version, as sure as the surer of the two
                kept = detection if detection.version and not known.version else known
                detection = replace(kept, confidence=max(known.confidence, detection.confidence))
            found[detection.name] = detection
        # A pattern of confidence 0 reads a version off what it matches; alone, it shows nothing.
        found = {name: detection for name, detection in found.items() if detection.confidence}
        self._add_implied(found)
        self._drop_unmet(found)
        return sorted(found.values(), key=lambda detection: detection.name.lower())

    def _detect_site(self, pages: Sequence[Page]) -> Iterator[Detection]:
        texts: dict[str, _Lines] = {signal: _Lines() for signal in _TEXT_SIGNALS}
        # Signal -> lower-cased name -> (value, page, what to quote: the value, or for a
        # cookie its name as the page sets it).
        named: dict[str, dict[str, tuple[str, str, str]]] = {
            signal: {} for signal in _NAMED_SIGNALS
        }
        for page in pages:
            assets, url = page.assets, page.final_url or page.url
            inline = assets.get("inline_scripts", "")
            for source in [*assets.get("scripts", []), *_loaded_by(inline)]:
                texts["script_src"].add(source, url)
            texts["scripts"].add(inline, url)
            texts["html"].add(assets.get("head", ""), url)
            for tag in kept_markup(assets):
                texts["html"].add(tag, url)
            texts["url"].add(url, url)
            for link in [assets.get("base", ""), *_own_file_names(page)]:
                texts["url"].add(link, url)
            for name, value in page.meta.items():
                named["meta"].setdefault(name.lower(), (value, url, value))
            for name, value in assets.get("headers", {}).items():
                named["headers"].setdefault(name.lower(), (value, url, value))
            for name in assets.get("cookies", []):
                named["cookies"].setdefault(name.lower(), ("", url, name))
        lowered_by_signal = {signal: lines.text.lower() for signal, lines in texts.items()}
        for signal, lines in texts.items():
            lowered = lowered_by_signal[signal]
            if not lowered:
                continue
            for technology in self._candidates(signal, lowered):
                for pattern in getattr(technology, signal):
                    match = pattern.match(lines.text, lowered)
                    if not match:
                        continue
                    detection = _detection(technology, pattern, match, lines)
                    yield detection  # `detect` keeps the surest, with any version given
                    if detection.version and detection.confidence:
                        break
        yield from self._dom_detections(pages, lowered_by_signal["html"])
        for signal, values in named.items():
            index = self.by_name.get(signal, {})
            candidates = {id(t): t for key in values for t in index.get(key, [])}
            for name in self.wildcards.get(signal, ()):
                if any(key.startswith(name[:-1]) for key in values):
                    candidates.update({id(t): t for t in index[name]})
            for technology in candidates.values():
                yield from _named_matches(technology, signal, values)

    def _dom_detections(self, pages: Sequence[Page], lowered: str) -> Iterator[Detection]:
        """The `dom` patterns whose literal the site's markup holds, tried on each page's
        document (parsed again only when some pattern may match), first match per
        technology."""
        held = self.finders["dom"].held(lowered)
        candidates = [pair for literal, pairs in self.dom_by_literal.items()
                      if literal in held for pair in pairs]  # fmt: skip
        found: set[str] = set()
        for page in pages if candidates else ():
            markup = page.assets.get("markup", "")
            document = _document(markup)
            if document is None:
                continue
            for technology, pattern in candidates:
                if technology.name in found:
                    continue
                matched = pattern.match(document)
                if matched is None:
                    continue
                element, value_pattern, match = matched
                if value_pattern.confidence:  # else another selector may still show it
                    found.add(technology.name)
                yield Detection(
                    technology.name, technology.categories, value_pattern.version_of(match),
                    value_pattern.confidence / 100, page.final_url or page.url,
                    _start_tag(element, markup),
                )  # fmt: skip

    def _add_implied(self, found: dict[str, Detection]) -> None:
        pending = list(found.values())
        while pending:
            detection = pending.pop()
            technology = self.technologies.get(detection.name)
            for implied in technology.implies if technology else ():
                name, _, _ = implied.partition("\\;")
                target = self.technologies.get(name)
                if target is None or name in found:
                    continue
                found[name] = Detection(
                    name, target.categories, "", detection.confidence, detection.url,
                    detection.quote, implied_by=detection.name,
                )  # fmt: skip
                pending.append(found[name])

    def _drop_unmet(self, found: dict[str, Detection]) -> None:
        changed = True
        while changed:
            changed = False
            categories = {category for detection in found.values()
                          for category in detection.categories}  # fmt: skip
            for name in list(found):
                technology = self.technologies.get(name)
                if technology is None:
                    continue
                unmet = (technology.requires and not set(technology.requires) & found.keys()) or (
                    technology.requires_category
                    and not set(technology.requires_category) & categories
                )
                if unmet:
                    del found[name]
                    changed = True
            for detection in list(found.values()):
                technology = self.technologies.get(detection.name)
                for excluded in technology.excludes if technology else ():
                    if excluded in found:
                        del found[excluded]
                        changed = True


_TEXT_SIGNALS = ("script_src", "scripts", "html", "url")
_NAMED_SIGNALS = ("meta", "headers", "cookies")


class _LiteralFinder:
    """Which of many literals a text holds, in one pass (Aho-Corasick, its matches collected
    in C); the one- and two-character ones by a substring test each."""

    def __init__(self, literals: Collection[str]) -> None:
        self.tested = [literal for literal in literals if len(literal) < 3]
        self.automaton = ahocorasick.Automaton()
        for literal in set(literals) - set(self.tested):
            self.automaton.add_word(literal, literal)
        if len(self.automaton):
            self.automaton.make_automaton()

    def held(self, lowered: str) -> set[str]:
        """The literals `lowered` contains."""
        found = {literal for literal in self.tested if literal in lowered}
        if len(self.automaton):
            found.update(map(_SECOND, self.automaton.iter(lowered)))
        return found


class _Lines:
    """The distinct values of one signal across a site's pages, one per line, each with the
    page it came from: patterns search them in one go (multi-line, so ^ and $ are per value)."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}  # value -> page URL

    def add(self, value: str, url: str) -> None:
        if value:
            self.values.setdefault(value.replace("\n", " ") if "\n" in value else value, url)

    @cached_property
    def text(self) -> str:
        return "\n".join(self.values)

    @cached_property
    def _starts(self) -> list[tuple[int, str, str]]:
        starts, offset = [], 0
        for value, url in self.values.items():
            starts.append((offset, value, url))
            offset += len(value) + 1
        return starts

    def at(self, position: int) -> tuple[int, str, str]:
        """(offset, value, page URL) of the value holding `position` in `text`."""
        return next(start for start in reversed(self._starts) if start[0] <= position)


def _detection(technology: Technology, pattern: Pattern, match: Match, lines: _Lines) -> Detection:
    if isinstance(match, regex.Match):
        offset, value, url = lines.at(match.start())
        quote = value if len(value) <= 300 else value[
            max(0, match.start() - offset - 40) : match.end() - offset + 40]  # fmt: skip
    else:
        _, value, url = lines.at(0)
        quote = value[:300]
    return Detection(
        technology.name, technology.categories, pattern.version_of(match),
        pattern.confidence / 100, url, quote.strip(),
    )  # fmt: skip


def _named_matches(
    technology: Technology, signal: str, values: Mapping[str, tuple[str, str, str]]
) -> Iterator[Detection]:
    """A detection for each of the technology's `signal` names whose value a pattern matches
    (`detect` keeps the surest, with any version one gives)."""
    for name, patterns in getattr(technology, signal).items():
        for key in _keys_named(name, values):
            value, url, shown = values[key]
            for pattern in patterns:
                if match := pattern.match(value):
                    yield Detection(
                        technology.name, technology.categories, pattern.version_of(match),
                        pattern.confidence / 100, url, (shown or key)[:300],
                    )  # fmt: skip


def _keys_named(name: str, values: Mapping[str, object]) -> list[str]:
    """The keys of `values` a fingerprint's name means: itself, or with a trailing `*` (cookie
    names like `_ga_*`) every key it starts."""
    name = name.lower()
    if name.endswith("*"):
        return [key for key in values if key.startswith(name[:-1])]
    return [name] if name in values else []


def _own_file_names(page: Page) -> list[str]:
    """The file names, with their query, of the addresses on the site's own host (or its
    base's) that the page links to or loads (`products.php?id=4`). The name only: `url`
    patterns written for a page's whole address (`/sparql`, `/typo3/`) would take a linked
    article's path for the site's software."""
    origins = {_origin(page.final_url or page.url), _origin(page.assets.get("base", ""))} - {""}
    names = []
    for url in [*referenced(page), *page.assets.get("stylesheets", [])]:
        if _origin(url) not in origins:
            continue
        path, _, query = url.split("://", 1)[1].partition("/")[2].partition("#")[0].partition("?")
        name = path.rsplit("/", 1)[-1]
        if "." in name:
            names.append(f"{name}?{query}" if query else name)
    return names[:_MAX_OWN_LINKS]


def _origin(url: str) -> str:
    """The "scheme://host[:port]" of an absolute address, lower-cased ("" for anything else); a
    plain split, as the addresses were made absolute by the parser."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}".lower() if rest else ""


def _document(markup: str) -> Any | None:
    if not markup:
        return None
    try:
        return lxml_html.document_fromstring(markup)
    except (etree.ParserError, ValueError):
        return None


def _start_tag(element: Any, markup: str) -> str:
    """The element's start tag as the kept markup shows it (the quote of a `dom` match): the
    element alone, without its children, serialised as the markup was."""
    alone = etree.Element(element.tag, dict(element.attrib))
    serialised = etree.tostring(alone, encoding="unicode", method="html")
    tag = " ".join(serialised[: serialised.find(">") + 1].split())
    return tag[:300] if tag in markup else element.tag


_MAX_OWN_LINKS = 200
_SECOND = itemgetter(1)
_LOADED_TAIL = re.compile(r"""["'](\.?[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}/[^"'\s]{0,200}\.js)["']""")
_LOADED_URL = re.compile(r"""["'](?:https?:)?(//[^"'\s]{4,300}\.js[^"'\s]{0,200})["']""")


def _loaded_by(inline: str) -> list[str]:
    """Script URLs inline scripts load (`s.src = '//www.google-analytics.com/ga.js'`), and
    the host-and-path tail of those whose start is put together apart: `'http://www' +
    '.google-analytics.com/ga.js'`, or `gaJsHost + "google-analytics.com/ga.js'..."` where
    the snippet writes a script tag."""
    found = [match.group(1) for match in _LOADED_URL.finditer(inline)]
    found += _LOADED_TAIL.findall(inline)
    return found


# --- loading -------------------------------------------------------------------------------


def _patterns(raw: object, where: str) -> tuple[Pattern, ...]:
    items = raw if isinstance(raw, list) else [raw]
    patterns = []
    for item in items:
        if not isinstance(item, str):
            raise FingerprintError(f"{where}: a pattern must be text, got {type(item).__name__}")
        patterns.append(_pattern(item, where))
    return tuple(pattern for pattern in patterns if pattern is not None)


@cache
def _compiled(source: str) -> regex.Pattern[str] | None:
    """The pattern compiled by `regex` (Python's `re` with a time limit per search), or None
    when it is not a valid pattern here (Wappalyzer's are JavaScript's)."""
    try:
        return regex.compile(source, regex.I | regex.M)
    except regex.error:
        return None


def _pattern(text: str, where: str) -> Pattern | None:
    regex, *tags = text.split("\\;")
    version, confidence = "", 100
    for tag in tags:
        name, _, value = tag.partition(":")
        if name == "version":
            version = value
        elif name == "confidence" and value.isdigit():
            confidence = int(value)
    if not regex:
        return Pattern(None, version, confidence)
    if len(regex) > _MAX_PATTERN_CHARS:
        return None
    compiled = _compiled(regex)
    if compiled is None:
        return None
    return Pattern(compiled, version, confidence, branch_literals(regex))


def _positions(text: str, literal: str) -> Iterator[int]:
    """Where `literal` starts in `text`, each occurrence once."""
    position = text.find(literal)
    while position >= 0:
        yield position
        position = text.find(literal, position + len(literal))


def branch_literals(regex: str, depth: int = 0) -> tuple[tuple[str, ...], ...]:
    """`required_literals` of each branch of a top-level alternation (`a|b`, or one group
    around it all: `(?:a|b)`), or else of each choice of a group every match goes through
    (`<[^>]+//(?:assets|images)\\.`); none when a branch has none."""
    inner = regex
    if regex.startswith("(?:") and regex.endswith(")") and _closing(regex, 0) == len(regex) - 1:
        inner = regex[3:-1]
    branches = [required_literals(branch) for branch in _top_level_branches(inner)]
    if all(branches):
        return tuple(branches)
    if len(branches) == 1 and depth < 2:  # one branch: its first required group's choices
        for choices in _group_choices(inner):
            expanded = [branch_literals(choice, depth + 1) for choice in choices]
            if all(expanded):
                return tuple(branch for found in expanded for branch in found)
    return ()


def _group_choices(regex: str) -> Iterator[list[str]]:
    """For each group at the top that every match goes through and that holds a choice
    (`x(?:a|b)y`), the regex with each of its choices in its place (`xay`, `xby`): what
    each choice's matches must contain, for the prefilter only."""
    resume = 0
    for index, char in _structure(regex):
        if index < resume or char != "(":
            continue
        closing = _closing(regex, index)
        if closing < 0:
            return
        resume = closing + 1
        required = regex[closing + 1 : closing + 2] not in ("?", "*", "{")
        body = regex[index + 1 : closing]
        opener = re.match(r"\?(?::|P<\w+>)", body)  # (?: or (?P<name>: text a match holds
        if body.startswith("?") and opener is None:  # lookarounds, flags: hold no text
            continue
        choices = _top_level_branches(body[opener.end() :] if opener else body)
        if required and len(choices) > 1:
            head, tail = regex[:index], regex[closing + 1 :]
            yield [f"{head}{choice}{tail}" for choice in choices]


def _structure(regex: str, start: int = 0) -> Iterator[tuple[int, str]]:
    """(index, character) of `regex` from `start`, escapes and character classes passed
    over: the characters that give it its structure (groups, alternations)."""
    index = start
    while index < len(regex):
        char = regex[index]
        if char == "\\":
            index += 2
        elif char == "[":
            index = _class_end(regex, index + 1)
        else:
            yield index, char
            index += 1


def _closing(regex: str, opening: int) -> int:
    """The index of the parenthesis closing the one at `opening` (-1 when none)."""
    depth = 0
    for index, char in _structure(regex, opening):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            return index
    return -1


def _class_end(regex: str, index: int) -> int:
    """The index after a character class whose members start at `index`."""
    if regex[index : index + 1] == "^":
        index += 1
    if regex[index : index + 1] == "]":  # a "]" first is a member of the class
        index += 1
    while index < len(regex) and regex[index] != "]":
        index += 2 if regex[index] == "\\" else 1
    return index + 1


def _top_level_branches(regex: str) -> list[str]:
    """`regex` split at the `|` outside any group or class."""
    branches, start, depth = [], 0, 0
    for index, char in _structure(regex):
        if char in "()":
            depth += 1 if char == "(" else -1
        elif char == "|" and depth == 0:
            branches.append(regex[start:index])
            start = index + 1
    branches.append(regex[start:])
    return branches


_ESCAPED_LITERALS = set(".-/_:?*+()[]{}|^$\\'\"#&=@!%~,;<> ")


def required_literals(regex: str) -> tuple[str, ...]:
    """The runs of plain characters (3 or more) every match of `regex` contains, lower-cased,
    longest first (none when they cannot be told: an alternation at the top, a verbose-mode
    flag). A light scan of the pattern: groups, classes, character codes and anything
    repeated or optional end a run."""
    if re.search(r"\(\?[a-zA-Z]*x", regex):  # verbose: spaces are not text
        return ()
    runs, run, depth, index = [], "", 0, 0
    while index < len(regex):
        char = regex[index]
        if char == "\\" and index + 1 < len(regex):
            escaped = regex[index + 1]
            index += 2
            if depth == 0 and escaped in _ESCAPED_LITERALS:
                run += escaped
                run = _after_quantifier(regex, index, run, runs)
            else:  # \d, \b, \x41, \u0041, \1, \0...: not a plain character
                runs.append(run)
                run = ""
                index += {"x": 2, "u": 4, "U": 8}.get(escaped, 0)  # the code's digits
                while escaped.isdigit() and index < len(regex) and regex[index].isdigit():
                    index += 1
            continue
        index += 1
        if char == "[":
            runs.append(run)
            run = ""
            index = _class_end(regex, index)
            continue
        if char == "{":  # a repetition count after something not plain: skip it
            runs.append(run)
            run = ""
            closing = regex.find("}", index)
            index = len(regex) if closing < 0 else closing + 1
            continue
        if char == "(":
            depth += 1
            runs.append(run)
            run = ""
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            return ()
        elif depth == 0 and (char.isalnum() or char in "-_/:=<>\"' #&@!%~,;"):
            run += char
            run = _after_quantifier(regex, index, run, runs)
        else:
            runs.append(run)
            run = ""
    runs.append(run)
    return tuple(sorted({run.lower() for run in runs if len(run) >= 3}, key=lambda r: (-len(r), r)))


def _after_quantifier(regex: str, index: int, run: str, runs: list[str]) -> str:
    """The run after its last character, which a quantifier may make optional or repeated."""
    following = regex[index : index + 2]
    if following[:1] in ("?", "*") or following in ("{0", "{,"):
        runs.append(run[:-1])
        return ""
    if following[:1] in ("+", "{"):
        runs.append(run)
        return ""
    return run


def _selector_literal(selector: str) -> str:
    """The longest text a document matching `selector` (one of a group) must hold,
    lower-cased: an attribute's name or the value it must contain, a class or an id (of 3
    characters or more), else "<" and a tag ("" when none is certain). Read off cssselect's
    parse, so escapes are undone (`player\\.twitch\\.tv`); what `:not`, `:is`, `:where` or
    `:has` hold is not required."""
    try:
        parsed = cssselect.parse(selector)
    except SelectorError:
        return ""
    found: list[str] = []
    pending = [item.parsed_tree for item in parsed[:1]]
    while pending:
        node = pending.pop()
        if isinstance(node, CombinedSelector):
            pending += [node.selector, node.subselector]
            continue
        if isinstance(node, Attrib) and node.operator != "!=":
            found.append(node.attrib)
            value = node.value.value if node.value is not None else ""
            if node.operator in ("=", "~=", "|=", "^=", "$=", "*=") and value:
                found.append(value)
        elif isinstance(node, Class):
            found.append(node.class_name)
        elif isinstance(node, Hash):
            found.append(node.id)
        elif isinstance(node, Element) and node.element:
            found.append(f"<{node.element}")
        if not isinstance(node, Element):
            pending.append(node.selector)  # the selector the pseudo-class or test refines
    telling = [text for text in found if len(text) >= 3 and not text.startswith("<")]
    return max(telling or found, key=len).lower() if found else ""


def _dom_patterns(raw: object, where: str) -> tuple[DomPattern, ...]:
    """Wappalyzer's `dom`: a selector, a list of them, or selector -> {exists, text,
    attributes, properties}; `properties` (JavaScript values) cannot be read and are left
    out, as is a selector cssselect cannot translate."""
    if isinstance(raw, str | list):
        raw = {selector: {"exists": ""} for selector in (raw if isinstance(raw, list) else [raw])}
    if not isinstance(raw, dict):
        raise FingerprintError(f"{where}: expected a selector, a list or a mapping")
    patterns = []
    for selector, checks in raw.items():
        if not isinstance(checks, dict):
            raise FingerprintError(f"{where}.{selector}: expected a mapping of checks")
        text = _patterns(checks["text"], f"{where}.{selector}.text") if "text" in checks else ()
        attributes = _named(checks.get("attributes", {}), f"{where}.{selector}.attributes")
        if not ("exists" in checks or text or attributes):
            continue  # only JavaScript properties
        for part in _selector_group(str(selector)):
            xpath = _selector_xpath(part)
            if xpath is not None:
                literal = _selector_literal(part)
                patterns.append(DomPattern(part, xpath, literal, text, attributes))
    return tuple(patterns)


def _selector_group(selector: str) -> list[str]:
    """The selectors of a group ("a, b"), split at the commas outside brackets, parentheses
    and quotes: each gets its own literal."""
    parts, start, depth, quote = [], 0, 0, ""
    for index, char in enumerate(selector):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(selector[start:index])
            start = index + 1
    parts.append(selector[start:])
    return [part.strip() for part in parts if part.strip()]


@cache
def _selector_xpath(selector: str) -> etree.XPath | None:
    try:
        return etree.XPath(HTMLTranslator().css_to_xpath(selector))
    except (SelectorError, etree.XPathSyntaxError, ValueError):
        return None


def _named(raw: object, where: str) -> dict[str, tuple[Pattern, ...]]:
    if not isinstance(raw, dict):
        raise FingerprintError(f"{where}: expected a mapping of names to patterns")
    return {str(name): _patterns(value, f"{where}.{name}") for name, value in raw.items()}


def _names(raw: object) -> tuple[str, ...]:
    items = raw if isinstance(raw, list) else [raw] if raw else []
    return tuple(str(item).split("\\;")[0] for item in items)


def _technology(name: str, raw: object, categories: Mapping[str, str], where: str) -> Technology:
    if not isinstance(raw, dict):
        raise FingerprintError(f"{where}: expected a mapping")
    numbers = raw.get("cats", [])
    numbers = numbers if isinstance(numbers, list) else [numbers]
    cats = tuple(categories.get(str(number), f"category {number}") for number in numbers)
    return Technology(
        name=name,
        categories=cats,
        website=raw.get("website"),
        script_src=_patterns(raw.get("scriptSrc", []), f"{where}.scriptSrc"),
        scripts=_patterns(raw.get("scripts", []), f"{where}.scripts"),
        html=_patterns(raw.get("html", []), f"{where}.html"),
        url=_patterns(raw.get("url", []), f"{where}.url"),
        meta=_named(raw.get("meta", {}), f"{where}.meta"),
        headers=_named(raw.get("headers", {}), f"{where}.headers"),
        cookies=_named(raw.get("cookies", {}), f"{where}.cookies"),
        dom=_dom_patterns(raw.get("dom", {}), f"{where}.dom"),
        implies=_names(raw.get("implies")),
        requires=_names(raw.get("requires")),
        requires_category=tuple(
            categories.get(str(number), "") for number in _names(raw.get("requiresCategory"))
        ),
        excludes=_names(raw.get("excludes")),
    )


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise FingerprintError(f"{path}: cannot be read ({error.strerror or error})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise FingerprintError(f"{path}: not a JSON file ({error})") from None


@lru_cache(maxsize=4)
def load_fingerprints(user_path: Path | None = None) -> Fingerprints:
    """The bundled fingerprints, with the technologies of `user_path` (same format: an object
    of technologies, or {"technologies": ..., "categories": ...}) added over them."""
    categories = {
        number: str(category["name"])
        for number, category in _read_json(BUNDLED_DIR / "categories.json").items()
    }
    raw: dict[str, Any] = dict(_read_json(BUNDLED_DIR / "technologies.json"))
    key = "bundled"
    if user_path is not None:
        user = _read_json(user_path)
        if not isinstance(user, dict):
            raise FingerprintError(f"{user_path}: expected an object of technologies")
        if isinstance(user.get("technologies"), dict):
            extra = user.get("categories") or {}
            if not isinstance(extra, dict):
                raise FingerprintError(f"{user_path}: categories must map ids to categories")
            for number, category in extra.items():
                name = category.get("name", number) if isinstance(category, dict) else category
                categories[str(number)] = str(name)
            user = user["technologies"]
        # A user's technologies are checked here, so that a mistake in the file is reported
        # where it is loaded rather than by the first site detected (the bundled set's are
        # checked by the tests).
        for name, entry in user.items():
            _technology(name, entry, categories, f"{user_path}: {name}")
        raw.update(user)
        digest = hashlib.sha256(json.dumps(user, sort_keys=True).encode()).hexdigest()[:8]
        key = f"user-{digest}"
    return Fingerprints(raw, categories, key, user_path)
