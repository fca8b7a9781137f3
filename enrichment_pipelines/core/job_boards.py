"""Job boards (applicant tracking systems) by their addresses: which board a link or script is
on, whether it is a single posting, and the board's listing of a company's open roles.

The crawl fetches the listing a careers page links to or embeds (one page, on the board's own
host, through the same guarded client as the site); the open positions extractor counts the
postings on it. A board whose listing is drawn by scripts (Workday, iCIMS, BambooHR) has no
listing to fetch: its roles stay uncounted, with the board named.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class JobBoard:
    name: str
    host: re.Pattern[str]  # the board's host names
    posting: re.Pattern[str]  # the path of one posting
    listing: re.Pattern[str] | None  # the path of a company's listing; None: drawn by scripts


def _board(name: str, host: str, posting: str, listing: str | None) -> JobBoard:
    return JobBoard(
        name, re.compile(host), re.compile(posting), re.compile(listing) if listing else None
    )


JOB_BOARDS: tuple[JobBoard, ...] = (
    _board("Greenhouse", r"(?:boards|job-boards)(?:\.eu)?\.greenhouse\.io", r"/[^/]+/jobs/\d+",
           r"/(?!embed/)[^/]+/?"),
    _board("Lever", r"jobs(?:\.eu)?\.lever\.co", r"/[^/]+/[0-9a-f-]{36}", r"/[^/]+/?"),
    _board("Ashby", r"jobs\.ashbyhq\.com", r"/[^/]+/[0-9a-f-]{36}", r"/[^/]+/?"),
    _board("Workable", r"(?:apply\.workable\.com|[\w-]+\.workable\.com)",
           r"/(?:[^/]+/)?j/[0-9A-F]+", r"/(?:[^/]+/?)?"),
    _board("Personio", r"[\w-]+\.jobs\.personio\.(?:de|com)", r"/job/\d+", r"/?"),
    _board("SmartRecruiters", r"(?:jobs|careers)\.smartrecruiters\.com", r"/[^/]+/\d+",
           r"/[^/]+/?"),
    _board("Recruitee", r"[\w-]+\.recruitee\.com", r"/o/[\w-]+", r"/?"),
    _board("Teamtailor", r"[\w-]+\.teamtailor\.com", r"/jobs/\d+", r"/(?:jobs/?)?"),
    _board("BambooHR", r"[\w-]+\.bamboohr\.com", r"/(?:careers|jobs)/\d+", None),
    _board("Jobvite", r"jobs\.jobvite\.com", r"/[^/]+/job/\w+", r"/[^/]+/?(?:jobs/?)?"),
    _board("Breezy HR", r"[\w-]+\.breezy\.hr", r"/p/[\w-]+", r"/?"),
    _board("Workday", r"[\w-]+\.wd\d+\.myworkdayjobs\.com", r"/.+/job/.+", None),
    _board("iCIMS", r"[\w-]+\.icims\.com", r"/jobs/\d+", None),
    _board("JOIN", r"join\.com", r"/companies/[^/]+/\d+", r"/companies/[^/]+/?"),
)  # fmt: skip


def job_postings(structured_data: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The JobPosting items of a page's structured data (JSON-LD or microdata)."""
    postings = []
    for item in structured_data:
        types = item.get("@type")
        named = {str(kind).lower() for kind in (types if isinstance(types, list) else [types])}
        if "jobposting" in named:
            postings.append(item)
    return postings


def board_of(address: str) -> JobBoard | None:
    """The job board whose host `address` is on."""
    host = urlsplit(address).hostname or ""
    return next((board for board in JOB_BOARDS if board.host.fullmatch(host)), None)


def is_posting(address: str) -> bool:
    """Whether `address` is one posting on a job board."""
    board = board_of(address)
    return board is not None and bool(board.posting.match(urlsplit(address).path))


def listing_of(address: str) -> str | None:
    """The board listing `address` is, or names: a link to the listing itself
    (`boards.greenhouse.io/acme`), or Greenhouse's embed script, whose `for` names the
    company (`boards.greenhouse.io/embed/job_board/js?for=acme`). None for anything else."""
    board = board_of(address)
    if board is None or board.listing is None:
        return None
    parts = urlsplit(address)
    if board.name == "Greenhouse" and parts.path.startswith("/embed/"):
        company = parse_qs(parts.query).get("for", [""])[0]
        if re.fullmatch(r"[\w-]+", company):
            return f"{parts.scheme}://{parts.netloc}/{company}"
        return None
    if board.listing.fullmatch(parts.path or "/"):
        return parts._replace(query="", fragment="").geturl()
    return None
