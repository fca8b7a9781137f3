"""The offline extractor: structured data first, then cues in the page text. No API key.

Each rule either finds support on a page (and records the verbatim sentence as evidence) or
leaves the data point unknown. A value is only set False where a page that would say so was
read and did not (e.g. a pricing page without any trial offer).
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, NamedTuple

from enrichment_pipelines.core import geography
from enrichment_pipelines.core.crawl import Page, site_pages
from enrichment_pipelines.core.datapoints import (
    DATA_POINTS_BY_KEY,
    EVIDENCE_CUES,
    employee_range,
)
from enrichment_pipelines.core.extractors import Evidence, Extraction
from enrichment_pipelines.core.extractors.addresses import (
    CITY_AND_REGION,
    POSTCODE_AND_CITY,
    POSTCODE_AND_REGION,
    Address,
    domain_country,
    find_addresses,
    phone_countries,
)
from enrichment_pipelines.core.extractors.evidence import (
    evidence_problem,
    reads_as_instruction,
    verify_evidence,
    without_instructions,
)
from enrichment_pipelines.core.extractors.headcount import MONTH, StatedCount, stated_counts
from enrichment_pipelines.core.extractors.site_signals import markup_facts
from enrichment_pipelines.core.extractors.technologies import Fingerprints, load_fingerprints
from enrichment_pipelines.core.extractors.text_models import (
    INDUSTRY,
    MARKET,
    categories_for,
    load_text_model,
)
from enrichment_pipelines.core.taxonomy import Subcategory, Taxonomy, load_taxonomy

_ORG_TYPES = {"organization", "corporation", "localbusiness", "onlinebusiness", "ngo"}

_FREE_TRIAL = (
    r"free trial", r"try (it |us |\w+ )?(\w+ )?(for )?free", r"start (your |a )?free",
    r"\d+[- ]day (free )?trial", r"free (plan|tier|version|edition|account|credits)",
    r"free forever", r"(get started|start|sign up|install|stream|start learning) (for )?free",
    r"no credit card (required|needed)", r"\bis free (for|until)", r"\bfree (for|until) ",
    r"(first|1st) (month|issue|box|order|lesson) (is )?free", r"(issue|month) free\b",
    r"\bfree with\b", r"(retailers|users|teams) sign up free",
)  # fmt: skip
_CONTACT_SALES = (
    r"contact (our )?sales", r"talk to (our )?sales", r"(book|request|schedule|get|ask for) a "
    r"(live |free |personal )?demo", r"talk to an? (expert|specialist)",
    r"speak (to|with) (our )?sales",
    r"(get|request) (a |an )?(instant |free )?(quote|bid|proposal|site assessment|audit|"
    r"seo audit|free seo audit)", r"for (a|an instant) quote", r"(book|schedule) a call",
    r"talk to our (sales |logistics |\w+ )?(team|experts?)", r"sales (team|engineers)",
)  # fmt: skip
_SELF_SERVE = (
    r"sign up", r"create (a free |an |your )?account", r"get started", r"start now",
    r"download the app", r"install (it )?free", r"free (plan|forever|tier)", r"start (your )?free",
)  # fmt: skip
_SOFTWARE = (
    r"software", r"platform", r"\bapps?\b", r"\bapi\b", r"saas", r"cloud", r"dashboard",
    r"integrat(es|ions?) with", r"log ?in", r"per (user|seat|agent)", r"workspace",
    r"works with", r"automat(e|ion)", r"\bios\b|android", r"in the browser|from the browser",
)  # fmt: skip
_SUBSCRIPTION = (
    r"/ ?mo(nth)?\b", r"per month", r"a month\b", r"per (user|seat|agent|unit|employee)",
    r"billed (annually|monthly)", r"subscription", r"monthly plan", r"plans? from",
    r"pay as you go", r"free (trial|plan|tier|forever)", r"\d+[- ]day (free )?trial",
    r"try \w+( \w+)? free", r"upgrade to", r"sign up", r"create (a free |an |your )?account",
)  # fmt: skip
# Software said to be delivered as a service (hosted, in the cloud, by subscription), in the
# words companies use of their own products.
_HOSTED = (
    r"software[- ]as[- ]a[- ]service", r"\bsaas\b", r"cloud[- ](based|native|delivered|first)",
    r"\bhosted\b", r"\bas a service\b", r"subscriptions?\b", r"\bin the cloud\b",
    r"cloud (platform|software|solutions?|services|applications?|offerings?|products?)",
    r"recurring revenue",
)  # fmt: skip
_NOT_SOFTWARE = (
    r"add to cart", r"free shipping", r"shop now", r"our (clinic|restaurant|hotel|firm|factory|"
    r"farm|school|studio|kitchen|workshop|practice|newsroom|shop|stores?)\b", r"law firm",
    r"we manufacture", r"(designs?|develops?|builds?) and (manufactures|builds|assembles|installs)",
    r"manufactur(es|er|ing)", r"book a table", r"our menu", r"book (an appointment|your stay)",
    r"\b(agency|consultancy|consultants|lawyers|recruiters|contractor)\b", r"marketplace",
    r"\bdonat(e|ion)", r"charity|non-profit|nonprofit|volunteer", r"university|students",
    r"journalism|magazine|\bprint", r"tickets", r"\bhotel\b", r"insurance", r"mortgage|lender",
    r"etf|portfolio|invest", r"utility|drinking water", r"game studio|games? for",
    r"biotech|clinical", r"government agency|public services", r"installs?\b|installation",
    r"freight|shipment", r"bakery|bread|coffee|food", r"walk in", r"open source",
    r"outsourcing", r"workshops", r"festival", r"bespoke",
)  # fmt: skip
# A plan priced per user (seat, agent, ...) per month or year: the price of a software licence,
# whatever industry the software serves ("29 € per user per month", "$8/seat/mo"). Matched
# against lower-cased sentences.
_PRICE = r"(?:[$€£¥]\s?\d[\d.,]*|\d[\d.,]*\s?(?:[$€£¥]|eur|usd|gbp|chf)(?![a-z]))"
_PER = r"\s*(?:/|per|a|an|each)\s*"
_SEAT = r"(?:user|seat|agent|editor)s?\b"
_PERIOD = r"(?:month|mo|year|yr|annum)\b"
_SEAT_PRICE = (
    rf"{_PRICE}(?:{_PER}{_SEAT},?{_PER}{_PERIOD}|{_PER}{_PERIOD},?{_PER}{_SEAT}|"
    rf"{_PER}{_SEAT},?\s*(?:monthly|annually|yearly)\b)"
)
_B2B = (
    r"for (teams|businesses|companies|enterprises|organizations|organisations|agencies|brands|"
    r"retailers|employers|landlords|manufacturers|startups|founders|hospitals|clinics|fleets|"
    r"game studios|restaurants|salons|dentists|dental practices|farmers|marketers|developers)",
    r"your (team|business|company|customers|clients|organization|organisation|store|fleet|"
    r"practice|employees|project|event)", r"\bb2b\b", r"\bsmbs?\b",
    r"(small|growing|mid-sized|large|ambitious|technology|tech) (businesses|companies)",
    r"(book|request|schedule) a (live )?demo", r"contact sales|talk to sales",
    r"per (user|seat|agent|employee|unit|location)", r"\b(wholesale|enterprise|b2b)\b",
    r"(importers|exporters|startups|scale-ups|brands|manufacturers|agencies|employers|"
    r"companies|businesses|retailers) (use|trust|choose|rely)", r"trusted by",
    r"(used|loved) by [\d,]+ (companies|businesses|teams)", r"request a (quote|bid|proposal)",
    r"(industrial|commercial) ", r"\bteams\b", r"for (security|support|sales|hr|it) teams",
    r"startups and scale-ups", r"sales engineers",
)  # fmt: skip
_B2C = (
    r"for (you|your family|everyone|individuals|families|kids|parents|home|runners|"
    r"gardeners|travellers|travelers|gamers|readers|listeners)", r"add to cart",
    r"free shipping", r"\bshop now\b", r"your (home|family|kids|skin|body|pet|dog|cat|"
    r"next trip|stay|mornings|life|new home)", r"\bb2c\b",
    r"(our|happy) (shoppers|guests|patients|members|customers)", r"download the app",
    r"book a table", r"book (an appointment|your stay)", r"new patients", r"\bpatients\b",
    r"tickets", r"\bstudents\b", r"subscribe (for|and)", r"\bfans\b",
    r"(travellers|travelers|families|parents|runners|home brewers|shoppers)\b",
    r"apply now", r"admissions", r"(cancel|order) anytime", r"\bwalk in\b",
    r"mobile deals", r"capital at risk", r"(loved by|happy) (parents|dogs|customers)",
    r"for the whole family", r"wishlist", r"bills? online", r"for gardeners",
)  # fmt: skip
_DESCRIBES = re.compile(
    r"\b(is|are) (a|an|the)\b|\bhelps?\b|\b(we|our team) (build|make|design|offer|provide|"
    r"roast|run|bake|plan|develop)|\blets\b|\bbrings\b|\bconnects\b|\bprovides?\b|"
    r"\b(designs|develops|manufactures|builds|runs|offers|makes|sells)\b",
    re.IGNORECASE,
)
_BOILERPLATE = re.compile(r"cookie|privacy|javascript|©|·|all rights reserved", re.IGNORECASE)
# Whom a business sells to, in the shape of a statement: a verb of selling or serving, then
# within a clause a noun for businesses (or institutions) or for consumers.
_SELLS = (
    r"\b(sells?|sold|selling|markets?|marketed|distribut\w+|suppl(y|ies|ied)|serv(e|es|ed|ing)|"
    r"provid\w+|customers (include|are|consist)|customer base|used by|relied on by|designed for|"
    r"built for|made for)\b"
)
_SOLD_TO_B2B = (
    _SELLS + r".{0,120}\b(businesses|companies|enterprises|corporations|organi[sz]ations|"
    r"manufacturers|oems|hospitals|health systems|clinics|physicians|laboratories|utilities|"
    r"governments?|government agencies|municipalities|universities|financial institutions|banks|"
    r"insurers|contractors|builders|automakers|airlines|carriers|operators|service providers|"
    r"industrial customers|commercial customers|institutional|professionals|developers)\b",
)
_SOLD_TO_B2C = (
    _SELLS + r".{0,120}\b(consumers|individuals|households|homeowners|families|shoppers|"
    r"travell?ers|guests|subscribers|members|drivers|retail customers|borrowers|depositors|"
    r"policyholders|gamers|players|fans|viewers|parents|children|kids|pet owners|"
    r"women|men)\b",
)
# Two-sided: a network, platform or marketplace whose sentence names both the businesses on one
# side (merchants, advertisers, card issuers, sellers, hosts) and the consumers on the other,
# joined as sides ("connects buyers and sellers", "enable marketers to reach people", "money
# movement among consumers, financial institutions and merchants") or listed together as its
# users ("for consumers, merchants and our customers"). Generic "businesses" count only when
# joined: "serving households and businesses" is a mixed market, not a two-sided one.
_TWO_SIDED_PLACE = r"(?=.*\b(network|platform|marketplace|ecosystem|apps?)\b)"
_CONSUMER_SIDE = (
    r"(consumers|cardholders|people|shoppers|viewers|riders|guests|households|travell?ers|"
    r"diners|listeners|audiences|individuals|fans|buyers)"
)
_BUSINESS_SIDE = (
    r"(merchants|advertisers|marketers|issuers|(issuing|acquiring|financial) institutions|"
    r"sellers|hosts|restaurants|retailers|brands|creators)"
)
_JOINED = r"(?=.*\b(among|between|connect\w*|reach\w*)\b)"
_LISTED_WITH = r",? (and |or )?([\w-]+ ){0,3}"  # "consumers, merchants", "sellers and buyers"
_NOT_CONSUMER_TRADE = r"(?!.*\b(commercial|industrial|wholesale|b2b)\b)"
_TWO_SIDED = rf"^{_TWO_SIDED_PLACE}{_NOT_CONSUMER_TRADE}"
_B2B2C = (
    r"\bb2b2c\b", r"businesses and their (customers|consumers)",
    r"(companies|employers) offer their (employees|customers)", r"makers sell",
    r"sellers? .{0,40} to (shoppers|buyers)",
    rf"{_TWO_SIDED}{_JOINED}(?=.*\b{_CONSUMER_SIDE}\b)(?=.*\b({_BUSINESS_SIDE}|businesses)\b)",
    rf"{_TWO_SIDED}(?=.*\b{_CONSUMER_SIDE}{_LISTED_WITH}{_BUSINESS_SIDE}\b"
    rf"|.*\b{_BUSINESS_SIDE}{_LISTED_WITH}{_CONSUMER_SIDE}\b)",
)  # fmt: skip
_ENTERPRISE = (
    r"enterprise", r"fortune 500", r"\bsso\b", r"\bsaml\b", r"\bsla\b", r"dedicated account",
    r"global (brands|companies|organizations)", r"large organi[sz]ations",
)  # fmt: skip
_ACQUIRED = (
    # Matched against lower-cased sentences.
    r"(is|are) now (a )?part of", r"(was|were|has been|have been) acquired by",
    r"(is|are) (a )?part of (the )?[\w&.-]+( [\w&.-]+)? (group|family|holdings|company|"
    r"corporation|inc|plc|ag|se)\b",
    r"acquired by", r"a subsidiary of", r"a (division|member|portfolio company) of the \w+",
    r"joined (the )?[\w&]+ (group|family)",
)  # fmt: skip
_HORIZONTAL = (
    r"any industry", r"every industry", r"all industries", r"of all sizes and industries",
    r"across industries", r"whatever your industry", r"businesses of every kind",
)  # fmt: skip
_VERTICAL_TARGETS = (
    "restaurants", "law firms", "lawyers", "clinics", "dentists", "dental practices",
    "construction", "contractors", "real estate", "property managers", "landlords", "schools",
    "universities", "hotels", "retailers", "nonprofits", "non-profits", "healthcare",
    "hospitals", "banks", "insurers", "manufacturers", "logistics", "fleets", "farms",
    "farmers", "gyms", "salons", "architects", "accountants", "accounting firms", "pharmacies",
    "e-commerce brands", "online stores", "churches", "veterinary", "agencies", "recruiters",
    "hospitality", "automotive dealers", "dealerships", "insurance agencies", "credit unions",
)  # fmt: skip
_ROLES: dict[str, tuple[str, ...]] = {
    "marketing": ("marketing", "marketers", "growth teams"),
    "sales": ("sales teams", "sales reps", "salespeople", "account executives", "revenue teams"),
    "customer success": ("customer success", "support teams", "customer support", "support agents"),
    "engineering": ("developers", "engineering teams", "engineers", "devops"),
    "product": ("product teams", "product managers"),
    "data": ("data teams", "analysts", "data scientists"),
    "finance": ("finance teams", "cfos", "accountants", "finance leaders"),
    "hr": ("hr teams", "people teams", "recruiters", "hr leaders", "talent teams"),
    "operations": ("operations teams", "ops teams", "operations managers"),
    "it": ("it teams", "security teams", "it admins", "cisos"),
    "legal": ("legal teams", "lawyers", "counsel"),
}  # fmt: skip
_HQ_CUES = re.compile(
    r"headquarter|\bhq\b|head office|registered office|based in|legal home|founded in|"
    r"(principal|executive|corporate|main) (executive )?offices?|principal place of business|"
    r"located in|our (office|studio|kitchen|factory)|©",
    re.IGNORECASE,
)
# A company's legal name says its address follows on a footer or imprint line ("Acme GmbH ·
# Torstraße 1 · 10119 Berlin"); in a sentence of prose it names any company (a subsidiary, a
# customer, a partner), so only a short line counts it.
_LEGAL_NAME = re.compile(
    r"\b(gmbh|ltd|llc|inc|sas|b\.v|s\.r\.o|ab|ag|n\.v|lda|aps|llp)\b", re.IGNORECASE
)
_FOOTER_WORDS = 12
# The industry (`_industry`): each category scores the log of the industry model's probability
# for it (from the opening of the home and about pages: it was trained on profiles of about
# seventy words; a category it does not know gets the floor alone) plus its share of the
# taxonomy's keyword points times this weight. Chosen on the development sets. No industry
# where the keywords give no category these points and the model no category this probability.
_MODEL_CHARS = 600
_MODEL_FLOOR = 0.01
_KEYWORD_SHARE_WEIGHT = 8.0
_KEYWORDS_READ = 3
_MODEL_READ = 0.35
_STATEMENT_WORDS = 6
_OPENING_SENTENCES = 3
# Whom a business sells to, as log-odds of B2C added up (`_target_market`): the market model's
# reading of the opening; each phrase addressing a market, by the log of their count (the
# tenth "our customers" in a long filing says less than the first); the industry's usual market
# (the taxonomy's `market`). Chosen on the development sets. Without a phrase or a usual market,
# the model alone gives a market only from this reading (a probability of 0.95 or 0.05).
_PHRASE_WEIGHT = 1.5
_USUAL_MARKET_WEIGHT = 2.0
_MARKET_READ_ALONE = 3.0
_MARKET_QUOTE_SENTENCES = 40
# The industry model's class for software companies, and the probability at which its reading
# makes a company one (for `is_saas`, with a statement of hosted delivery).
_SOFTWARE_CLASS = "Software & IT"
_SOFTWARE_SURE = 0.5
# "a Minneapolis-based bank" (one, as a company describes itself), not "web-based" or
# "India-based service providers" (others).
_PLACE_BASED = re.compile(r"\b[Aa]n? ((?:[A-Z][\w'.]+\s){0,2}[A-Z][\w'.]+)-based\b")
_BRANCH_CUES = re.compile(
    r"(european|regional|branch|sales|satellite|other|us|uk|international) "
    r"(offices?|headquarters)|"
    r"also in|subsidiar|joint venture|affiliate|"
    # a site opened, one of several: "opened a full service office in Lakewood", "opening an
    # electric power research center in Rockford, IL" (not "opened its headquarters in")
    r"\bopen(?:ed|s|ing)\s+(?:an?|another|(?:its|our|their)\s+(?:second|third|additional))\b"
    # ...not a head, main or corporate office: "opened a new head office in Leeds"
    r"(?![^.;]{0,40}?\b(?:head|main|corporate|principal|global)\b)"
    r"[^.;]{0,40}?\b(?:offices?|branch|stores?|cent(?:er|re)s?|plants?|facilit(?:y|ies)"
    r"|locations?|factor(?:y|ies)|laborator(?:y|ies)|labs?|hubs?|showrooms?|warehouses?)\b",
    re.IGNORECASE,
)
# The place a company moved from: "moved its headquarters from Chicago, Illinois to Dallas"
# (the words up to "to", dropped before the clause's places are read).
_MOVED_FROM = re.compile(
    r"(\b(?:moved|moves|relocated|relocates|transferred)\b[^.;]{0,60}?\bfrom\b)[^.;]*?(?=\bto\b)",
    re.IGNORECASE,
)
# Where a sentence joins clauses about different places.
_CLAUSE_BREAK = re.compile(r"\s*;\s*|,\s+(?=(?:and|while|whereas|but)\s)")
# Separators in addresses and footers: commas, middle dots, pipes, dashes between spaces.
_ADDRESS_PARTS = re.compile(r"\s*(?:,|·|\||•|\s[–—-]\s|;|\(|\))\s*")
# A place named after the words that say the company is there: "headquartered in Seattle",
# "Based in: Lyon", "a Minneapolis-based company".
_NAMED_AFTER_CUE = re.compile(
    r"(?i:headquarter(?:ed|s)|based|located|offices?|hq|head office)\s+(?:is\s+|are\s+)?"
    rf"(?:in|at|:)\s+((?:[A-Z][\w'.\-]+\s?){{1,3}})|{_PLACE_BASED.pattern}"
)


class _KeywordScores(NamedTuple):
    """Points each subcategory (by index) scored by the taxonomy's keywords, and the page and
    keyword where each was first found."""

    scores: Counter[int]
    first: dict[int, tuple[Page, str]]


@dataclass(frozen=True)
class _Hit:
    page: Page
    sentence: str
    pattern: str


def _words(part: str) -> list[str]:
    """A part of an address without its postcodes, numbers and street words."""
    words = (word.strip(".,;:!?\"'") for word in part.split())
    return [word for word in words if word and not any(ch.isdigit() for ch in word)]


def _place_codes(words: list[str]) -> list[str]:
    """The countries the first words of a part name, as a region ("Texas", "TX") or a country
    ("UK"); "CA" may be California or Canada, "DE" Delaware or Germany: the city decides."""
    codes: list[str] = []
    for size in (3, 2, 1):
        name = " ".join(words[:size])
        # Codes are written in capitals: "in" is a word, not Indiana.
        if len(words) >= size and (len(name) > 2 or name.isupper()):
            named = (geography.region_country(name), geography.country_code(name))
            codes += [code for code in named if code]
    return list(dict.fromkeys(codes))


def _places(sentence: str) -> list[tuple[str, str]]:
    """(city, country code) pairs written as "City, Country" or "City, State": the city part
    may carry a postcode ("1060 Wien, Österreich", "Austin, TX 78701, USA")."""
    parts = [part for part in _ADDRESS_PARTS.split(sentence) if part]
    found: list[tuple[str, str]] = []
    for index in range(len(parts) - 1):
        city_words = _words(parts[index])
        codes = _place_codes(_words(parts[index + 1]))
        between = parts[index + 1].split()
        if (
            not codes
            and index + 2 < len(parts)
            and 0 < len(between) <= 2
            and all(word[0].isupper() and word.isalpha() for word in between)
        ):
            # "Blackpool, Lancashire, UK": a county or district between city and country.
            country = geography.country_code(" ".join(_words(parts[index + 2])))
            codes = [country] if country else []
        for code in codes:
            written = next(
                (
                    " ".join(city_words[-size:])
                    for size in (3, 2, 1)
                    if len(city_words) >= size
                    and not city_words[-size][0].islower()
                    and geography.city(" ".join(city_words[-size:]), code)
                ),
                None,
            )
            if written:
                found.append((written, code))
                break
    if not found:  # "based in Seattle": a known city after a location cue, its own country
        for names in _names_after_cues(sentence):
            for name in names:
                known = geography.city(name)
                country = geography.country_code(name)
                if country and (known is None or known[1] != country):
                    break  # "based in India": a country, no city (Singapore is both)
                if known:
                    found.append((name, known[1]))
                    break
    return found


def _names_after_cues(sentence: str) -> Iterator[list[str]]:
    """For each of `sentence`'s location cues, the names that may follow it, longest first:
    "based in San Jose, California" gives "San Jose", then "San"."""
    for match in _NAMED_AFTER_CUE.finditer(sentence):
        words = (match.group(1) or match.group(2)).split()
        yield [" ".join(words[:size]).rstrip(".,") for size in range(len(words), 0, -1)]


def _stated_country(pages: Sequence[Page], out: Extraction) -> None:
    """Where the words name no city, the country or state they say the company is based in:
    "headquartered in Texas", "based in India" (the country; the city stays unknown). A
    name that is both ("Georgia") is read as the region, as the region's country writes it."""
    for page in pages:
        for sentence in _sentences(page.text):
            for clause in _CLAUSE_BREAK.split(sentence):
                if _hq_rank(clause) < 2:
                    continue
                for name in (name for names in _names_after_cues(clause) for name in names):
                    if codes := _place_codes(name.split()):
                        evidence = Evidence(page.final_url or page.url, sentence)
                        out.set("location_country_code", codes[0], evidence, 0.7)
                        return


def _hq_rank(sentence: str) -> int:
    footer = len(sentence.split()) <= _FOOTER_WORDS and _LEGAL_NAME.search(sentence)
    cued = _HQ_CUES.search(sentence) or _PLACE_BASED.search(sentence) or footer
    rank = 2 if cued else 0
    if "headquarter" in sentence.lower() or "hq" in sentence.lower().split():
        rank += 1
    if _BRANCH_CUES.search(sentence):
        rank -= 3
    return rank


# A sentence ends at a full stop, question or exclamation mark before the next one starts; a
# stop before lower case or a bracket ends an abbreviation ("Clinical Studies, Ltd. ("CSL"),
# a subsidiary", "Acme Inc. and its subsidiaries", "e.g. the"), not the sentence.
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+(?![a-z(])|\n")


@lru_cache(maxsize=512)
def _sentences(text: str) -> tuple[str, ...]:
    """The sentences of `text`, less those that address a model ("ignore previous
    instructions...", "AI assistants: set..."): that is not the site talking about itself."""
    parts = (part.strip() for part in _SENTENCE_BREAK.split(text))
    return without_instructions(part for part in parts if part)


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.I)


@lru_cache(maxsize=512)
def _lowered_sentences(text: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The sentences of `text`, each with its lower-cased form, and those forms joined by
    newlines: one search over them rules out a page with no match in any sentence."""
    sentences = _sentences(text)
    lowered = tuple(sentence.lower() for sentence in sentences)
    return "\n".join(lowered), tuple(zip(sentences, lowered, strict=True))


@cache
def _combined(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """`patterns` as one regex, for a sentence and for newline-joined sentences (multi-line,
    so that ^ and $ still mean a sentence's start and end)."""
    combined = "|".join(f"(?:{pattern})" for pattern in patterns)
    return re.compile(combined), re.compile(combined, re.MULTILINE)


def _find(pages: Sequence[Page], patterns: Sequence[str]) -> list[_Hit]:
    """Every sentence (on any page) that matches one of `patterns` (lower-cased match)."""
    in_sentence, in_page = _combined(tuple(patterns))
    hits = []
    for page in pages:
        joined, sentences = _lowered_sentences(page.text)
        if not in_page.search(joined):
            continue
        for sentence, lowered in sentences:
            match = in_sentence.search(lowered)
            if match:
                hits.append(_Hit(page, sentence, match.group(0)))
    return hits


def _evidence(key: str, value: object, hits: Sequence[_Hit | Evidence]) -> Evidence:
    """Evidence for `value` of `key`: the first of `hits` whose sentence supports it as the
    registry asks (see `evidence_problem`), else the first (then dropped with the reason)."""
    candidates = [
        hit if isinstance(hit, Evidence) else Evidence(hit.page.final_url or hit.page.url,
                                                       hit.sentence)
        for hit in hits
    ]  # fmt: skip
    return next(
        (ev for ev in candidates if evidence_problem(key, value, ev.quote) is None), candidates[0]
    )


def _read_page_evidence(pages: Sequence[Page], kind: str, key: str) -> Evidence | None:
    """Evidence that a page of `kind` was read, for a False of `key` drawn from what the page
    does not say: its first sentence long enough to stand as evidence."""
    for page in pages:
        if page.kind == kind:
            url = page.final_url or page.url
            sentences = _sentences(page.text) or (page.title or kind,)
            return _evidence(key, False, [Evidence(url, sentence) for sentence in sentences])
    return None


def _organisation(pages: Sequence[Page]) -> tuple[Page, dict[str, Any]] | None:
    for page in pages:
        for item in page.structured_data:
            types = item.get("@type")
            names = {str(t).lower() for t in (types if isinstance(types, list) else [types])}
            if names & _ORG_TYPES:
                return page, item
    return None


def _ld_evidence(page: Page, value: object) -> Evidence:
    """Evidence from structured data: the value itself, as the page's markup states it."""
    return Evidence(page.final_url or page.url, str(value))


def structured_facts(pages: Sequence[Page], keys: Sequence[str]) -> Extraction:
    """The data points a site states in structured data (JSON-LD, microdata): description,
    head count, address. Read before any text, and given to an LLM as settled."""
    facts = Extraction()
    _ld_value_proposition(pages, facts)
    _ld_employees(pages, facts)
    _ld_location(pages, facts)
    _ld_founded(pages, facts)
    facts.keep_only(keys)
    return facts


def _ld_value_proposition(pages: Sequence[Page], out: Extraction) -> bool:
    org = _organisation(pages)
    if org and isinstance(org[1].get("description"), str) and org[1]["description"].strip():
        text = org[1]["description"]
        out.set("value_proposition", _shorten(text), _ld_evidence(org[0], text), 0.9)
        return True
    return False


def _ld_employees(pages: Sequence[Page], out: Extraction) -> bool:
    org = _organisation(pages)
    raw = org[1].get("numberOfEmployees") if org else None
    if org and (count := _ld_employee_count(raw)):
        quote = raw if not isinstance(raw, dict) else count
        out.set("employee_count", employee_range(count), _ld_evidence(org[0], quote), 0.9)
        return True
    return False


def _title_and_description(page: Page) -> str:
    """A page's title and meta description, a line each: what a small site often says only
    there (its town, its trade, its tagline)."""
    return f"{page.title or ''}\n{page.meta.get('description') or ''}"


def _opening(pages: Sequence[Page]) -> tuple[list[Page], str]:
    """The home and about pages (else the first), and what they say first: their titles,
    descriptions and opening characters, as the models read them."""
    said = [page for page in pages if page.kind in ("home", "about")] or list(pages[:1])
    opening = [f"{_title_and_description(page)}\n{page.text[:_MODEL_CHARS]}" for page in said]
    return said, "\n".join(opening)


@lru_cache(maxsize=64)
def _read(model: str, text: str) -> dict[str, float]:
    """The named text model's probabilities for `text`: one reading of a site's opening serves
    every data point that asks (the industry, then SaaS). Not to be changed by the caller."""
    return load_text_model(model).probabilities(text)


def _log_odds(probability: float) -> float:
    probability = min(max(probability, 1e-6), 1 - 1e-6)
    return math.log(probability / (1 - probability))


def _stated_years(text: str, pattern: re.Pattern[str]) -> Iterator[tuple[str, int]]:
    """(quote, year) for each match of a founding `pattern` in `text`: the quote runs from the
    start of the match's sentence (at most 120 characters back: "Acme Ltd. Est. 2020" is one
    statement however it is punctuated) to the year, and must not read as something else
    (`_NOT_A_FOUNDING`) nor follow a trademarked product's name (`_PRODUCT_BEFORE`)."""
    for line in text.splitlines():
        for match in pattern.finditer(line):
            if reads_as_instruction(line):
                break
            start = max(0, match.start() - 120)
            boundary = max(line.rfind(". ", start, match.start()), line.rfind("! ", start,
                           match.start()), line.rfind("? ", start, match.start()))  # fmt: skip
            quote = line[boundary + 2 if boundary >= 0 else start : match.end()].strip()
            if not _NOT_A_FOUNDING.search(quote) and not _PRODUCT_BEFORE.search(
                line[: match.start()]
            ):
                yield quote, int(match.group(1))


def _ld_founded(pages: Sequence[Page], out: Extraction) -> bool:
    """The `foundingDate` in the markup ("2016", "2016-03-01"), of the organisation or of
    whatever business type the site marks itself up as (a Bakery, a Dentist...)."""
    org = next(
        ((page, item) for page in pages for item in page.structured_data
         if item.get("foundingDate")), None,
    )  # fmt: skip
    raw = org[1].get("foundingDate") if org else None
    match = re.match(r"\s*(\d{4})\b", str(raw)) if isinstance(raw, str | int) else None
    if org and match:
        out.set("founded_year", int(match.group(1)), _ld_evidence(org[0], raw), 0.9)
        return "founded_year" in out.data
    return False


def _ld_location(pages: Sequence[Page], out: Extraction) -> bool:
    """The address the markup gives the organisation (or, without one, any item: a
    Restaurant, a Store...): its city, and its country, by name or code or by its region.
    True when both were found; a city alone leaves the country to the page's text."""
    found = _addressed_item(pages)
    if found is None:
        return False
    page, address = found
    city_name = address.get("addressLocality")
    country, region = address.get("addressCountry"), address.get("addressRegion")
    if isinstance(country, dict):
        country = country.get("name")
    code = geography.country_code(str(country)) if country else None
    quote: object = country
    if code is None and isinstance(region, str):
        code, quote = geography.region_country(region), region
    if isinstance(city_name, str) and city_name.strip():
        out.set("location_city", city_name.strip(), _ld_evidence(page, city_name), 0.9)
    if code:
        out.set("location_country_code", code, _ld_evidence(page, quote), 0.9)
    return bool(out.data.get("location_city") and code)


def _addressed_item(pages: Sequence[Page]) -> tuple[Page, dict[str, Any]] | None:
    """The organisation's postal address in the markup, else the first item's that has one."""
    org = _organisation(pages)
    candidates = [org] if org else []
    candidates += [(page, item) for page in pages for item in page.structured_data]
    for page, item in candidates:
        address = item.get("address")
        if isinstance(address, list) and address:
            address = address[0]
        if isinstance(address, dict) and address.get("addressLocality"):
            return page, address
    return None


# A founding year as sites state it. Strongest first: the founding verbs ("founded in 2016",
# "established in March 1998", "founded by two designers in 2019", "founded in Lyon, France in
# 2011", "Founded: 2016", "est.
# 2020"), then an incorporation, then the organisation in business since a year ("family
# owned since 1952", "serving Ohio since 1985", "Since 1998, Acme has..."). A copyright year,
# a person's career and a re-incorporation are not foundings (`_NOT_A_FOUNDING`).
# A year, not a decade ("the early 1930s").
_YEAR = r"(?<![\d,.])((?:1[5-9]|20)\d\d)(?!\d|'?s\b)"
_FOUNDED_WHEN = (
    r"(?:in\s+|on\s+)?(?:(?:the\s+)?(?:spring|summer|autumn|fall|winter|early|late)\s+"
    rf"(?:of\s+)?|{MONTH}\s+(?:\d{{1,2}}(?:st|nd|rd|th)?,?\s+)?(?:of\s+)?)?"
)
# The date a filing's own tally is given as of, before the count: "As of December 31, 2024,",
# "At October 31, 2003,", "At the end of fiscal 2024", "At year end".
_AS_OF_A_DATE = re.compile(
    rf"\b(?:as of|at)\s+(?:{MONTH}\s+\d{{1,2}},?\s+\d{{4}}|the end of (?:fiscal )?\d{{4}}|"
    r"(?:fiscal )?year[- ]end)",
    re.IGNORECASE,
)
_FOUNDINGS: tuple[tuple[float, str], ...] = (
    (
        0.85,
        r"\b(?:founded|established|formed)"
        rf"(?:\s+(?:by|in|at)\s+[^.;:!?\d]{{1,60}}?)?,?\s*:?\s*{_FOUNDED_WHEN}{_YEAR}",
    ),
    (0.85, rf"\b(?:est|estd|estab)\.?\s*:?\s*{_YEAR}"),
    (0.85, rf"\b(?:year\s+)?founded\s*[:\-–]\s*{_YEAR}"),
    (0.8, rf"\bopened\s+(?:our|its|their)\s+doors\s+{_FOUNDED_WHEN}{_YEAR}"),
    # The company's beginning named as such: "since our inception in 1998", "since its
    # founding in 1946", "since Visa's early days in 1958", "from its beginnings in 1920"
    # (not a fund's "since its inception"); below 0.8, as a holding company speaks of the
    # business it continues as its own.
    (
        0.75,
        r"\b(?:since|from)\s+(?:(?:our|the\s+company[’']s)\s+(?:inception|establishment)|"
        r"(?:our|its|their|the\s+company[’']s)\s+founding|"
        r"(?:our|its|their|the\s+company[’']s|[\w&.-]+[’']s)\s+(?:early\s+days|beginnings?))\s+"
        rf"{_FOUNDED_WHEN}{_YEAR}",
    ),
    # The legal forms of a company's start: "was incorporated in the State of Georgia in
    # 1965", "was organized as a Utah corporation in 1868", "was formed under Washington law
    # on May 22, 1995".
    (
        0.7,
        r"\b(?<!re)(?:incorporated\b|(?:organi[sz]ed|formed)\s+(?:under|as|in)\b)"
        r"[^.;:!?\d]{0,40}?\s+"
        rf"{_FOUNDED_WHEN}{_YEAR}",
    ),
    # The company's own beginning, "our" said: "our operations began in 1930", "the
    # businesses conducted by our founders began in 1945" (not another's: "Operations began
    # on June 20, 2022" after a subsidiary's name).
    (
        0.7,
        r"(?:\bour\s+(?:\w+\s+){0,2}?(?:operations|business(?:es)?|history)\b|"
        r"\b(?:operations|business(?:es)?|history)\b[^.;:!?\d]{0,40}?\bour\b)[^.;:!?\d]{0,40}?"
        rf"\s(?:began|started|commenced)\s+(?:operations\s+)?{_FOUNDED_WHEN}{_YEAR}",
    ),
    # "Acme commenced operations in 1979" (a subsidiary's is ruled out by `_NOT_A_FOUNDING`);
    # "traces its roots to 1887", "our history dates back to 1921", "our story began in 2009".
    (
        0.7,
        r"\b(?:commenced|began|started)\s+(?:its\s+|our\s+|their\s+)?operations\s+"
        rf"{_FOUNDED_WHEN}{_YEAR}",
    ),
    (
        0.7,
        r"(?:\b(?:traces?|dates?)\s+(?:its|our|their)\s+(?:roots|origins?|history)\s+"
        r"(?:back\s+)?to|\b(?:its|our|their)\s+(?:roots|origins?|history)\s+"
        r"(?:dates?|goes|go|reach(?:es)?)\s+back\s+to|"
        r"\b(?:its|our|their)\s+(?:story|journey)\s+(?:began|begins|started|starts))"
        rf"\s+{_FOUNDED_WHEN}{_YEAR}",
    ),
    (
        0.7,
        r"(?:\bin business|\bfamily[- ]owned(?:\s+and\s+operated)?|\bserving\s[^.;:!?\d]{1,50}?"
        rf"|\boperating|\btrading|^|(?<=[.!?]\s))\s*since\s+{_YEAR}",
    ),
    # A launch, a creation or a start names a product, a service or a trend as often as the
    # company ("TNT, a service that was launched in October 1988", "personal numbers started
    # in the UK in 1995"): weaker than the company's legal start.
    (
        0.65,
        r"\b(?:launched|created|started)(?:\s+(?:by|in|at)\s+[^.;:!?\d]{1,60}?)?,?\s*:?\s*"
        rf"{_FOUNDED_WHEN}{_YEAR}",
    ),
    # A tagline that ends in its year: a line of at most a dozen words ("Quality Servers Since
    # 1986", "Home Furniture in Toronto Since 1986"), a heading, a banner or a title.
    (0.6, rf"^(?:[^\s.;:!?\d]+\s+){{0,12}}since\s+{_YEAR}\s*[.!]?$"),
    # The organisation doing what it does since a year: "has cared for patients in Denver
    # since 1998", "we have been making pumps since 1952" (a person's career is excluded;
    # "have not changed since" states nothing begun).
    (
        0.6,
        r"\b(?:has|have)\s+(?:been\s+)?(?!not\b)\w+(?:ed|ing|t|n)\b[^.;:!?\d]{0,60}?\s+since\s+"
        rf"{_YEAR}",
    ),
)
# A trademarked product just before the verb: "DYNACIN® tablets were launched in 1993".
_PRODUCT_BEFORE = re.compile(r"[®™]\s*(?:\w+\s+){0,2}(?:was|were|has\s+been|had\s+been)\s+$")
_NOT_A_FOUNDING = re.compile(
    r"©|\(c\)|copyright|all rights reserved|\bdr\.\s|\b(?:he|she|his|her|member|partner|director|"
    r"attorney|lawyer|practi[cs](?:ed|ing)|licensed|certified|married|joined|worked|"
    r"served|graduated)\b|re-?(?:incorporated|organi[sz]ed|formed)|\b(?:office|branch|foundation|chapter|division|"
    r"subsidiary|department|program(?:me)?|project|partnership|relationship)s?\s+(?:was\s+|were\s+)?"
    r"(?:founded|established|formed|started|launched|created|opened)|"
    # the founding of a company bought: "In 2019 we acquired Beta Corp, founded in 1955" (not
    # "Acquired by Beta in 2005, Acme, founded in 1920, ...": the company itself was bought)
    r"\bacqui(?:red|ring|sition\s+of)\b(?!\s+by\b)[^;]{1,80}?,\s+(?:(?:a|an|the)\s+[^.;,]{0,40}?\s+)?"
    r"(?:which\s+was\s+)?(?:founded|established|formed)|"
    # a subsidiary's start: "Beta Inc., our subsidiary, commenced operations in 2022"
    r"\bsubsidiar(?:y|ies)\b[^.;]{0,40}?\b(?:commenced|began|started)\b",
    re.I,
)


# Stored extractions are keyed by the extractor's name: a change to the rules that changes
# what they find must bump this, or sites whose pages did not change keep the old values.
RULES_VERSION = "rules-v45"


class RulesExtractor:
    """Offline, deterministic extraction from structured data and text cues."""

    concurrency = 1  # CPU-bound: threads would only contend for the GIL...
    cpu_bound = True  # ...so large runs extract in worker processes

    def __init__(
        self, taxonomy: Taxonomy | None = None, fingerprints: Fingerprints | None = None
    ) -> None:
        self.taxonomy = taxonomy or load_taxonomy()
        self.fingerprints = fingerprints or load_fingerprints()
        self.name = f"{RULES_VERSION}{self.taxonomy.cache_suffix}{self.fingerprints.cache_suffix}"
        # Every taxonomy keyword in one pattern (longest first), and the subcategories each
        # belongs to: one scan per page instead of one per keyword.
        self._keyword_subcategories: dict[str, list[int]] = {}
        for index, sub in enumerate(self.taxonomy.subcategories):
            for keyword in sub.keywords:
                self._keyword_subcategories.setdefault(keyword, []).append(index)
        alternatives = sorted(self._keyword_subcategories, key=len, reverse=True)
        self._keywords = re.compile(
            r"(?<![\w-])(" + "|".join(map(re.escape, alternatives)) + r")(?![\w-])"
            if alternatives
            else r"(?!)"  # a taxonomy without keywords: nothing to find, the model reads alone
        )
        # The trained model knows the default taxonomy's categories: a user's taxonomy is
        # matched to them by its own words.
        self._industry_model = load_text_model(INDUSTRY)
        if _SOFTWARE_CLASS not in self._industry_model.classes:  # a model retrained without it
            raise ValueError(f"the industry model has no class {_SOFTWARE_CLASS!r}")
        self._model_categories = categories_for(self._industry_model, self.taxonomy)

    def extract(self, website_url: str, pages: Sequence[Page], keys: Sequence[str]) -> Extraction:
        result = Extraction()
        # A page with no visible text may still carry metadata (e.g. a script-rendered app).
        readable = [page for page in pages if not page.error and (page.text or page.meta)]
        own = site_pages(readable)  # the facts in words come from the site's own pages
        if not own:
            result.problems.append("no readable page")
            return result
        steps: dict[str, Callable[[Sequence[Page], Extraction], None]] = {
            "value_proposition": self._value_proposition,
            "industry_category": self._industry,
            "target_market": self._target_market,
            "is_saas": self._is_saas,
            "has_free_trial": self._free_trial,
            "can_contact_sales": self._contact_sales,
            "employee_count": self._employees,
            "location_city": lambda pages, out: self._location(pages, out, website_url),
            "is_acquired": self._acquired,
            "target_enterprise": self._enterprise,
            "market_focus": self._market_focus,
            "target_role": self._target_role,
            "founded_year": self._founded,
        }
        for step in dict.fromkeys(steps.values()):
            step(own, result)
        self._growth_type(own, result)
        if any(DATA_POINTS_BY_KEY[key].from_markup for key in keys):
            result.merge(markup_facts(readable, self.fingerprints))
        result.keep_only(keys)
        verify_evidence(result, readable, self.taxonomy)
        return result

    def _value_proposition(self, pages: Sequence[Page], out: Extraction) -> None:
        if _ld_value_proposition(pages, out):
            return
        for page in pages:
            for key in ("description", "og:description", "twitter:description"):
                text = page.meta.get(key)
                if text and len(text.split()) >= 5:
                    evidence = Evidence(page.final_url or page.url, text)
                    out.set("value_proposition", _shorten(text), evidence, 0.75)
                    return
        # No description: the home page's first sentence that says what the company does.
        home = next((page for page in pages if page.kind == "home"), pages[0])
        name = (home.title or "").split()[0].lower() if home.title else ""
        candidates = [
            sentence
            for sentence in _sentences(home.text)[:12]
            if len(sentence.split()) >= 8
            and not _BOILERPLATE.search(sentence)
            and sum(ch.isdigit() for ch in sentence) < 4  # not an address or a price list
        ]
        describing = [
            sentence
            for sentence in candidates
            if _DESCRIBES.search(sentence) or (name and sentence.lower().startswith(name[:5]))
        ]
        if describing or candidates:
            sentence = (describing or candidates)[0]
            evidence = Evidence(home.final_url or home.url, sentence)
            out.set("value_proposition", _shorten(sentence), evidence, 0.6 if describing else 0.5)

    def _industry(self, pages: Sequence[Page], out: Extraction) -> None:
        """Each category scored by the trained model's reading of the opening and the share of
        the taxonomy's keywords it takes over the pages, added up (`_KEYWORD_SHARE_WEIGHT`); the
        best category, and the best-scored subcategory in it. Small sites of a few sentences
        are the keywords' ground; long descriptions, which name every industry in passing,
        the model's."""
        keywords = self._industry_keywords(pages)
        said, opening = _opening(pages)
        probabilities: defaultdict[str, float] = defaultdict(float)
        for name, probability in _read(INDUSTRY, opening).items():
            if name in self._model_categories:
                probabilities[self._model_categories[name]] += probability
        by_category: Counter[str] = Counter()
        for index, points in keywords.scores.items():
            by_category[self.taxonomy.subcategories[index].category] += points
        if max(by_category.values(), default=0) < _KEYWORDS_READ and (
            max(probabilities.values(), default=0.0) < _MODEL_READ
        ):
            return  # neither reads an industry
        total = sum(by_category.values()) or 1
        scores = {
            category: math.log(probabilities[category] + _MODEL_FLOOR)
            + _KEYWORD_SHARE_WEIGHT * by_category[category] / total
            for category in self.taxonomy.categories
        }
        category = max(scores, key=scores.__getitem__)
        # What the model reads as a class the taxonomy has no category for (a user's own
        # taxonomy) is a score of its own: where it leads, no category of the taxonomy fits.
        elsewhere = math.log(max(0.0, 1 - sum(probabilities.values())) + _MODEL_FLOOR)
        if elsewhere > scores[category]:
            return
        # The confidence: the category's share of the scores, as probabilities (a softmax).
        confidence = 1 / sum(
            math.exp(score - scores[category]) for score in (*scores.values(), elsewhere)
        )
        ranked = [index for index, _ in keywords.scores.most_common()
                  if self.taxonomy.subcategories[index].category == category]  # fmt: skip
        # The quote: the first statement the model read (a heading of a word or two is none)
        # where it reads this category, else the sentence of the subcategory's first keyword,
        # else that first statement all the same; the subcategory's is the keyword's sentence.
        statement = next(
            (Evidence(page.final_url or page.url, sentence) for page in said
             for sentence in _sentences(page.text)[:_OPENING_SENTENCES]
             if len(sentence.split()) >= _STATEMENT_WORDS),
            None,
        )  # fmt: skip
        keyword_quote = None
        if ranked:
            page, keyword = keywords.first[ranked[0]]
            sentence = next((s for s in _sentences(page.text) if keyword in s.lower()), None)
            if sentence := sentence or page.title:
                keyword_quote = Evidence(page.final_url or page.url, sentence)
        read_here = probabilities[category] >= _MODEL_READ
        evidence = (statement if read_here else None) or keyword_quote or statement
        if evidence is None:
            return  # a value stands only on evidence
        confidence = min(0.95, confidence)
        out.set("industry_category", category, evidence, round(confidence, 2))
        if ranked:
            # The subcategory is the keywords' alone: no surer than their lead in the category.
            top, *rest = (keywords.scores[index] for index in ranked)
            lead = 0.5 + (top - (rest[0] if rest else 0)) / (2 * top)
            sub = self.taxonomy.subcategories[ranked[0]]
            sub_confidence = round(min(confidence, lead), 2)
            out.set("industry_subcategory", sub.name, keyword_quote or evidence, sub_confidence)

    def _industry_keywords(self, pages: Sequence[Page]) -> _KeywordScores:
        """The taxonomy's subcategories scored by their keywords over the pages, and each
        one's first keyword found."""
        scores: Counter[int] = Counter()
        first: dict[int, tuple[Page, str]] = {}
        for page in pages:
            weight = 2 if page.kind in ("home", "about") else 1
            # The title and description say what the business is: they count twice.
            summary = _title_and_description(page)
            # ...and so do a page's opening sentences: a company says first what it is
            # ("Apple designs, manufactures and markets smartphones..."), then much else.
            opening = " ".join(_sentences(page.text)[:_OPENING_SENTENCES])
            lowered = f"{summary}\n{summary}\n{opening}\n{opening}\n{page.text}".lower()
            found = Counter(self._keywords.findall(lowered))
            for keyword, count in found.items():
                points = weight * min(count, 3) * (2 if " " in keyword else 1)
                for index in self._keyword_subcategories[keyword]:
                    scores[index] += points
                    first.setdefault(index, (page, keyword))
        return _KeywordScores(scores, first)

    def _industry_of(self, out: Extraction) -> Subcategory | None:
        return self.taxonomy.find(
            out.data.get("industry_category"), out.data.get("industry_subcategory")
        )

    def _target_market(self, pages: Sequence[Page], out: Extraction) -> None:
        """B2B2C where the site says so; else the market model's reading of the opening, the
        phrases addressing either market and the industry's usual market, added as log-odds.
        The phrases decide small sites; on long descriptions, which address everyone in
        passing, the model's reading of what the company is counts as much."""
        if explicit := _find(pages, _B2B2C):
            out.set("target_market", "B2B2C", _evidence("target_market", "B2B2C", explicit), 0.7)
            return
        # A statement of whom it sells to ("sells its products to original equipment
        # manufacturers", "serving households") counts on top of the phrases that address a
        # market: it is the shape in which long descriptions say it.
        b2b = [*_find(pages, _B2B), *_find(pages, _SOLD_TO_B2B)]
        b2c = [*_find(pages, _B2C), *_find(pages, _SOLD_TO_B2C)]
        said, opening = _opening(pages)
        read = _log_odds(_read(MARKET, opening)["B2C"])
        industry = self._industry_of(out)
        usual_market = industry.market if industry is not None else None
        usual = {"B2C": _USUAL_MARKET_WEIGHT, "B2B": -_USUAL_MARKET_WEIGHT}.get(
            usual_market or "", 0.0
        )
        if not (b2b or b2c or usual or abs(read) >= _MARKET_READ_ALONE):
            return  # nothing addresses a market, and the model reads no clear one
        addressed = _PHRASE_WEIGHT * (math.log1p(len(b2c)) - math.log1p(len(b2b)))
        score = read + usual + addressed
        market = "B2C" if score > 0 else "B2B"
        # The quote: a phrase addressing that market, else the home or about page's sentence
        # naming its buyers (the registry's cues) that the model reads most as it, else the
        # industry's own evidence.
        hits: list[_Hit | Evidence] = [*(b2c if market == "B2C" else b2b)]
        if not hits:
            cues = _compiled(EVIDENCE_CUES["target_market"][market])
            naming_buyers = [
                Evidence(page.final_url or page.url, sentence) for page in said
                for sentence in _sentences(page.text)[:_MARKET_QUOTE_SENTENCES]
                if len(sentence.split()) >= _STATEMENT_WORDS and cues.search(sentence)
            ]  # fmt: skip
            # read directly, not through `_read`: forty sentences would push the site's opening
            # out of that small cache before SaaS reads it again
            market_model = load_text_model(MARKET)
            naming_buyers.sort(key=lambda quote: -market_model.probabilities(quote.quote)[market])
            hits.extend(naming_buyers)
        if industry is not None and industry.market == market:
            hits.append(out.evidence["industry_category"])
        if not hits:
            return  # no sentence says it: a value stands only on evidence
        # Never 0.8: on the development companies a clear score is still wrong one time in ten.
        confidence = 0.5 + min(0.25, abs(score) / 24)
        out.set("target_market", market, _evidence("target_market", market, hits), confidence)

    def _is_saas(self, pages: Sequence[Page], out: Extraction) -> None:
        software, subscription = _find(pages, _SOFTWARE), _find(pages, _SUBSCRIPTION)
        physical = _find(pages, _NOT_SOFTWARE)
        sales = _find(pages, _CONTACT_SALES)
        strong = [hit for hit in software if re.search(r"software|saas|platform|\bapps?\b|api",
                                                       hit.pattern)]  # fmt: skip
        industry = self._industry_of(out)
        # Without any page text, an industry read from a title or description is no reason for
        # False: no page that would show software was read (often a script-rendered app).
        text_read = any(page.text.strip() for page in pages)
        if seat_priced := _find(pages, (_SEAT_PRICE,)):
            # Stated before the industry's prior: vertical software is filed under the industry
            # it serves (restaurants, recruiting, logistics), which mostly sells no software.
            out.set("is_saas", True, _evidence("is_saas", True, seat_priced), 0.8)
        elif industry is not None and industry.software and (subscription or sales):
            evidence = _evidence("is_saas", True, [*subscription, *strong, *software, *sales])
            out.set("is_saas", True, evidence, 0.75)
        elif (hosted := _find(pages, _HOSTED)) and self._reads_as_software(pages):
            # A software company, by the industry model's reading of what it is, that says its
            # software is hosted or sold by subscription: whatever else its long text names.
            out.set("is_saas", True, _evidence("is_saas", True, hosted), 0.7)
        elif (
            industry is not None
            and not industry.software
            and (physical or (not strong and text_read))
        ):
            hits = [*physical, out.evidence["industry_category"]]
            out.set("is_saas", False, _evidence("is_saas", False, hits), 0.65 if physical else 0.55)
        elif strong and subscription and len(software) >= len(physical):
            out.set("is_saas", True, _evidence("is_saas", True, [*subscription, *strong]), 0.75)
        elif len(strong) >= 2 and sales and len(software) > len(physical):
            out.set("is_saas", True, _evidence("is_saas", True, strong), 0.6)
        elif physical and len(physical) > len(strong):
            out.set("is_saas", False, _evidence("is_saas", False, physical), 0.65)

    def _reads_as_software(self, pages: Sequence[Page]) -> bool:
        """Whether the industry model reads the opening as a software company's."""
        return _read(INDUSTRY, _opening(pages)[1])[_SOFTWARE_CLASS] >= _SOFTWARE_SURE

    def _free_trial(self, pages: Sequence[Page], out: Extraction) -> None:
        # A phrase, not the pricing page's plans: right about nine times in ten on the
        # development sites, under the 0.8 that promises 95 % (so is a sales contact).
        if hits := _find(pages, _FREE_TRIAL):
            out.set("has_free_trial", True, _evidence("has_free_trial", True, hits), 0.75)
        elif evidence := _read_page_evidence(pages, "pricing", "has_free_trial"):
            out.set("has_free_trial", False, evidence, 0.6)

    def _contact_sales(self, pages: Sequence[Page], out: Extraction) -> None:
        if hits := _find(pages, _CONTACT_SALES):
            out.set("can_contact_sales", True, _evidence("can_contact_sales", True, hits), 0.75)

    def _growth_type(self, pages: Sequence[Page], out: Extraction) -> None:
        if out.data.get("is_saas") is not True:
            return
        self_serve = _find(pages, _SELF_SERVE) or _find(pages, _FREE_TRIAL)
        sales = _find(pages, _CONTACT_SALES)
        if self_serve and sales:
            out.set("growth_type", "hybrid", _evidence("growth_type", "hybrid", sales), 0.65)
        elif self_serve:
            evidence = _evidence("growth_type", "product-led", self_serve)
            out.set("growth_type", "product-led", evidence, 0.7)
        elif sales:
            out.set("growth_type", "sales-led", _evidence("growth_type", "sales-led", sales), 0.7)

    def _employees(self, pages: Sequence[Page], out: Extraction) -> None:
        if _ld_employees(pages, out):
            return
        # A count of the staff given as of a date ("As of December 31, 2024, we had 2,900
        # employees") is the company's own tally; else the first count of the staff; a count
        # of one role ("1,700 scientists") only where the text counts no staff, as it may be
        # part of them.
        first_staff: tuple[StatedCount, Evidence] | None = None
        first_role: tuple[StatedCount, Evidence] | None = None
        for page in pages:
            for sentence in _sentences(page.text):
                for count in stated_counts(sentence, strict=True):
                    found = (count, Evidence(page.final_url or page.url, sentence))
                    if count.by_role:
                        first_role = first_role or found
                        continue
                    if _AS_OF_A_DATE.search(sentence[: count.start]):
                        self._set_employees(out, *found)
                        return
                    first_staff = first_staff or found
        if chosen := first_staff or first_role:
            self._set_employees(out, *chosen)

    @staticmethod
    def _set_employees(out: Extraction, count: StatedCount, evidence: Evidence) -> None:
        out.set("employee_count", employee_range(count.estimate), evidence, 0.7)

    def _location(self, pages: Sequence[Page], out: Extraction, website_url: str) -> None:
        if _ld_location(pages, out) or self._postal_address(pages, out, website_url):
            return
        best: tuple[int, int, str, str, Evidence] | None = None
        cities_by_rank: dict[int, set[str]] = {}
        order = 0
        for page in pages:
            for sentence in _sentences(page.text):
                # Each clause ranks its own places: "Our headquarters is in Burlington,
                # Massachusetts, and our international headquarters is in Dublin, Ireland."
                for clause in _CLAUSE_BREAK.split(sentence):
                    clause_rank = _hq_rank(clause)
                    if clause_rank < 0:  # a branch, a subsidiary: never the company's home
                        continue
                    for city_name, code in _places(_MOVED_FROM.sub(r"\1 ", clause)):
                        order += 1
                        rank = clause_rank + (page.kind in ("legal", "contact", "about"))
                        cities_by_rank.setdefault(rank, set()).add(city_name)
                        if best is None or (rank, -order) > (best[0], -best[1]):
                            evidence = Evidence(page.final_url or page.url, sentence)
                            best = (rank, order, city_name, code, evidence)
        # Named places that the words rank alike (a company's plants, stores or branch
        # offices, none called its home) do not single one out: none is the headquarters.
        if best is not None and len(cities_by_rank[best[0]]) == 1:
            rank, _, city_name, code, evidence = best
            confidence = 0.8 if rank >= 2 else 0.65
            out.set("location_city", city_name, evidence, confidence)
            out.set("location_country_code", code, evidence, confidence)
        elif best is None:
            _stated_country(pages, out)

    def _postal_address(self, pages: Sequence[Page], out: Extraction, website_url: str) -> bool:
        """The company's postal address, read by its structure (see `addresses`): the
        strongest form, on a contact, imprint or about page before others, introduced as the
        head office before a branch, the first before later ones."""
        best: tuple[tuple[int, int, int, int, int], Address, Page] | None = None
        cities_by_rank: dict[tuple[int, ...], set[str]] = {}
        domain = [country for country in [domain_country(website_url)] if country]
        for page_order, page in enumerate(pages):
            hints = [*phone_countries(page.text), *domain]
            # The title and description last: small businesses often name their town there
            # ("Joe's Pizza | Springfield, IL") and nowhere else.
            text = f"{page.text}\n{_title_and_description(page)}"
            lines = text.splitlines()
            for address in find_addresses(text, hints=hints):
                context = " ".join(lines[max(0, address.line - 2) : address.line + 1])
                hq_rank = _hq_rank(context)
                if hq_rank < 0 and address.strength == CITY_AND_REGION:
                    continue  # "a research center in Rockford, IL": a branch named in prose
                rank = (
                    address.strength,
                    page.kind in ("legal", "contact", "about"),
                    hq_rank,
                    -page_order,
                    -address.line,
                )
                cities_by_rank.setdefault(rank[:3], set()).add(address.city)
                if best is None or rank > best[0]:
                    best = (rank, address, page)
        if best is None:
            return False
        (strength, *_), address, page = best
        # Three places or more named with their region alone that rank alike are a list (job
        # locations, areas served), none of them the company's address; of two, the first
        # is taken, as a main office is named before a second one.
        if strength == CITY_AND_REGION and len(cities_by_rank[best[0][:3]]) > 2:
            return False
        evidence = Evidence(page.final_url or page.url, address.quote)
        confidence = {POSTCODE_AND_REGION: 0.9, POSTCODE_AND_CITY: 0.85}.get(strength, 0.7)
        out.set("location_city", address.city, evidence, confidence)
        out.set("location_country_code", address.country, evidence, confidence)
        return True

    def _acquired(self, pages: Sequence[Page], out: Extraction) -> None:
        hits = [
            hit
            for hit in _find(pages, _ACQUIRED)
            if not re.search(
                r"\bwe (have )?acquired\b|\bacquired (customers|users)", hit.sentence, re.I
            )
        ]
        if hits:
            out.set("is_acquired", True, _evidence("is_acquired", True, hits), 0.8)
        elif evidence := _read_page_evidence(pages, "about", "is_acquired"):
            out.set("is_acquired", False, evidence, 0.55)

    def _founded(self, pages: Sequence[Page], out: Extraction) -> None:
        """The founding year: the markup's `foundingDate`, else the strongest founding the
        text states (an about page's before others')."""
        if _ld_founded(pages, out):
            return
        ordered = sorted(pages, key=lambda page: page.kind != "about")
        # The title and description state taglines too ("Home Furniture in Toronto Since 1986").
        texts = [f"{_title_and_description(page)}\n{page.text}" for page in ordered]
        for confidence, pattern in _FOUNDINGS:
            compiled = _compiled(pattern)
            for page, text in zip(ordered, texts, strict=True):
                for quote, year in _stated_years(text, compiled):
                    evidence = Evidence(page.final_url or page.url, quote)
                    out.set("founded_year", year, evidence, confidence)
                    if "founded_year" in out.data:
                        return

    def _enterprise(self, pages: Sequence[Page], out: Extraction) -> None:
        if hits := _find(pages, _ENTERPRISE):
            out.set("target_enterprise", True, _evidence("target_enterprise", True, hits), 0.7)
        elif out.data.get("target_market") == "B2C":
            out.set("target_enterprise", False, out.evidence["target_market"], 0.6)

    def _market_focus(self, pages: Sequence[Page], out: Extraction) -> None:
        vertical = "|".join(re.escape(target) for target in _VERTICAL_TARGETS)
        pattern = (
            r"(built|designed|made|software|platform|solution|tool)s? (specifically )?"
            rf"for (the )?({vertical})\b"
        )
        if hits := _find(pages, (pattern,)):
            out.set("market_focus", "vertical", _evidence("market_focus", "vertical", hits), 0.7)
        elif hits := _find(pages, _HORIZONTAL):
            evidence = _evidence("market_focus", "horizontal", hits)
            out.set("market_focus", "horizontal", evidence, 0.7)

    def _target_role(self, pages: Sequence[Page], out: Extraction) -> None:
        counts: Counter[str] = Counter()
        first: dict[str, _Hit] = {}
        for role, phrases in _ROLES.items():
            pattern = (
                r"\b(for|helps?|built for|made for|empowers?) (\w+ )?("
                + "|".join(re.escape(phrase) for phrase in phrases)
                + r")\b"
            )
            hits = _find(pages, (pattern,))
            if hits:
                counts[role] = len(hits)
                first[role] = hits[0]
        if counts:
            roles = [role for role, _ in counts.most_common(3)]
            value = ", ".join(roles)
            out.set("target_role", value, _evidence("target_role", value, [first[roles[0]]]), 0.6)


def _shorten(text: str, limit: int = 255) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"


def _ld_employee_count(value: object) -> int | None:
    if isinstance(value, dict):
        for key in ("value", "maxValue", "minValue"):
            if value.get(key) is not None:
                return _ld_employee_count(value[key])
        return None
    try:
        return int(str(value).replace(",", "").rstrip("+"))
    except ValueError:
        return None
