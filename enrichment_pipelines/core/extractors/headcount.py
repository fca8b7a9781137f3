"""Head counts as sites state them: one grammar for finding them (the extractor) and for
checking a quote supports a range (the evidence check), so the two cannot disagree.

A stated count is a number ("1,200", "1.2k", "40+", "over 500", "nearly 50", "50-100") or a
count in words ("hundreds of"), next to a word for people: after it ("40 engineers", "a
95-person company", "Our 40+ person team", "we are 230 people") or before it ("a team of 40",
"a crew of 12", "employs 250", "Employees: 45"). A count of someone else's people ("trusted
by 1,500 companies", "companies with 10 to 500 employees") is not the company's, and a date's
day or year ("As of December 31, 2024, we employed ...") is no count at all.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

# Words for the people a head count counts, after the number ("staff" words: these alone say
# the people are the company's; "role" words do only after "our", "we are", "team of"...).
_EMPLOY = r"employ(?!ers?\b)"  # employees, employed; not employers (other companies)
_STAFF_WORDS = (
    _EMPLOY + r"|people|person(?!al)|staff|team|colleague|member|worker|workforce|"
    r"head ?count|crew|strong|\bfte|professional|associate"
)
_STAFF = re.compile(_STAFF_WORDS, re.IGNORECASE)
# A million people or more are the company's only where the text says it employs them ("2.1
# million associates"); otherwise they are its users, members or the people it serves.
_MILLION = 1_000_000
_EMPLOYED = rf"\b{_EMPLOY}|\bassociates\b|\bworkforce\b|\bstaff\b"
_EMPLOYS = re.compile(_EMPLOYED, re.IGNORECASE)
# A number that is part of a date: the day after a month's name ("May 3"), or a year after a
# month and day, after "fiscal" or "in", or before a comma ("As of December 31, 2024, we
# employed ...": neither 31 nor 2024 is a head count).
# A month's name or abbreviation, as dates write it (the founding rules use it too).
MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
         r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")  # fmt: skip
_DAY_BEFORE = re.compile(rf"\b{MONTH}\s*$", re.IGNORECASE)
_YEAR_BEFORE = re.compile(
    rf"(\b{MONTH}\s+\d{{1,2}}(st|nd|rd|th)?,?|\b(fiscal( year)?|fy|in|since|during|until|"
    r"through|year( ended| ending)?))\s*$",
    re.IGNORECASE,
)
_PEOPLE = re.compile(
    _STAFF_WORDS + r"|engineer|developer|designer|expert|specialist|consultant|hires|humans|"
    r"journalist|recruiter|artist|scientist|lawyer|attorney|architect|agronomist|installer|"
    r"strategist|nurse|doctor|teacher|researcher|scholar|operator",
    re.IGNORECASE,
)
# ...or before it.
_PEOPLE_BEFORE = re.compile(
    r"(\b(team|staff|company|crew|workforce|newsroom|studio|firm|practice) of|"
    r"\b(employs?|employing|employed|headcount|head count|employees|staff|team size|team)|"
    # "our employee headcount worldwide was 125,665", "the workforce totaled 3,100"
    r"\b(employees|headcount|head count|workforce)(\s+[a-z]+){0,2}\s+(was|were|is|are|"
    r"totall?ed|numbered|stood at|reached))"
    r"\W*$",
    re.IGNORECASE,
)
# ...unless the number counts someone else's people: "trusted by 1,500 companies", "clean
# water for 1.2 million people", "companies with 10 to 500 employees".
_NOT_OURS_BEFORE = re.compile(
    r"(\b(for|serv(e|es|ing)|help(s|ing|ed)?|(trusted|used|loved|chosen) by|their|whose|"
    r"reach(es|ing)?)|customers'?|(companies|businesses|employers|organi[sz]ations|teams|firms) "
    r"(with|of)( up to| between)?( [\d,.]+ (to|and|-))?)\s*$",
    re.IGNORECASE,
)
# Numbers in words, two to ninety-nine ("twenty-four full-time employees"): each word's value.
_UNITS = (
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
)  # fmt: skip
_TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_WORD_VALUES = {word: value for value, word in enumerate(_UNITS, start=1)} | {
    word: 10 * value for value, word in enumerate(_TENS, start=2)
}
_SPELLED = (
    rf"(?:{'|'.join(_TENS)})(?:[- ](?:{'|'.join(_UNITS[:9])}))?(?![\w-])|"
    rf"(?:{'|'.join(_UNITS[1:])})(?![\w-])"
)
_NUMBER = re.compile(
    r"(?<![\w.,$€£¥])(?P<qualifier>(?:over|more than|above|at least|upwards of|nearly|almost|"
    r"approximately|about|around|roughly|some|under|fewer than|less than|up to)\s+)?"
    rf"(?P<number>\d{{1,3}}(?:[,.'\u00a0\u202f]\d{{3}})+|\d+(?:[.,]\d+)?|{_SPELLED})(?!\d)"
    r"(?:\s*(?:-|–|to)\s*(?P<upper>\d{1,3}(?:[,.'\u00a0\u202f]\d{3})+|\d+))?"
    r"\s*(?P<scale>k\b|thousand\b|million\b)?(?P<plus>\+)?(?!\s*(?:%|per ?cent\b)|[\w.,]\d)",
    re.IGNORECASE,
)
# A number in words counts the staff only as their employer counts them: "twenty-four full
# time employees", not "two people" (who may be its founders).
_EMPLOYED_AFTER = re.compile(rf"\s*(?:[\w-]+\s+){{0,2}}?(?:{_EMPLOYED})", re.IGNORECASE)
# Our own: what makes a role word ("150 artists") count the company's people.
_OURS_BEFORE = re.compile(r"\b(our|we are|we're|we have|has|have|employs?|of)\W*$", re.IGNORECASE)
_WE_ARE = re.compile(r"\bwe(?: are|'re)(?: now)?\W*$", re.IGNORECASE)
_NOT_PEOPLE_UNITS = re.compile(r"(years?|months?|days?|times|percent)\b", re.IGNORECASE)
# Words that end the search for a noun after the number ("2019 by two designers", "20 sites
# in 3 countries"), as does another number ("2018 and 75 employees").
_STOP_WORDS = frozenset(
    {"by", "in", "of", "for", "with", "from", "to", "across", "at", "per", "than", "on", "as",
     "who", "which", "that", "has", "have", "is", "are", "was", "were"}
)  # fmt: skip
_EMPLOY_VERBS = frozenset({"employ", "employs", "employing"})
_AT_LEAST = ("over", "more than", "above", "at least", "upwards of")
_AT_MOST = ("nearly", "almost", "under", "fewer than", "less than", "up to")
# Counts in words, each as the head counts it can mean; only before a word for people.
_COUNT_WORDS = tuple(
    (re.compile(rf"\b{words}\b(?: of)?", re.IGNORECASE), most_low, most_high)
    for words, most_low, most_high in (
        (r"hundreds of thousands", 200_000, math.inf),
        (r"tens of thousands", 20_000, 999_999),
        (r"thousands", 2_000, 99_999),
        (r"hundreds", 200, 9_999),
        (r"dozens", 24, 999),
        (r"a dozen", 12, 12),
        (r"a handful", 2, 10),
    )
)
_WHOLE = r"\d{1,3}(?:,\d{3})+|\d+"
_STAFF_NOUN = r"(?:employees|staff|associates|persons|people|workers)"
_FULL_AND_PART = re.compile(
    rf"(?<![\w.,])(?P<full>{_WHOLE})\s+full[- ]time(?P<noun>\s+{_STAFF_NOUN})?,?\s+(?:and|plus)\s+"
    rf"(?:approximately\s+|about\s+)?(?P<part>{_WHOLE})\s+(?:part[- ]time|temporary|seasonal)"
    rf"(?(noun)|\s+{_STAFF_NOUN})",
    re.IGNORECASE,
)
_SCALES = {"k": 1e3, "thousand": 1e3, "million": 1e6}


@dataclass(frozen=True)
class StatedCount:
    """A head count a text states, as the range it allows, and where it stands."""

    low: float
    high: float
    estimate: int  # one number for it: "40+" and "over 40" are 40 and 41, "50-100" is 75
    start: int
    end: int
    by_role: bool = False  # "1,700 scientists": people of one role, perhaps not all of them


def _value(raw: str) -> float:
    if raw[0].isalpha():  # "twenty-four"
        return float(sum(_WORD_VALUES[word] for word in re.split(r"[- ]", raw.lower())))
    if re.fullmatch(r"\d{1,3}(?:[,.'\u00a0\u202f]\d{3})+", raw):
        return float(re.sub(r"\D", "", raw))
    return float(raw.replace(",", "."))


_STAFF_COUNT, _ROLE_COUNT = "staff", "role"


def _people_named(before: str, after: str, *, strict: bool) -> str | None:
    """Whether a number with `before` and `after` around it counts people: as the staff
    ("40 employees", "a team of 40", "we are 40"), or by a role ("40 engineers"), which may be
    only part of them; None when it does not. Leniently (the evidence check), a word for
    people among the next four words will do; strictly (finding a head count), it must come
    before any word such as "and", "by" or "in", and a role word must follow "our", "we
    have", "team of"..."""
    if _NOT_OURS_BEFORE.search(before):
        return None
    if _PEOPLE_BEFORE.search(before):
        return _STAFF_COUNT
    words = after.split()[:4]
    # "We are 22 coffee lovers": a number "we" are counts people, unless it is an age.
    if _WE_ARE.search(before) and not (words and _NOT_PEOPLE_UNITS.match(words[0])):
        return _STAFF_COUNT
    if not strict:
        return _STAFF_COUNT if _PEOPLE.search(" ".join(words)) else None
    for word in words:
        bare = word.strip(".,;:!?()\"'").lower()
        if bare in _EMPLOY_VERBS:  # it takes the number after it: "8 countries and employs"
            return None
        if _STAFF.search(bare):
            return _STAFF_COUNT
        if _PEOPLE.search(bare) and _OURS_BEFORE.search(before):
            return _ROLE_COUNT
        if bare in _STOP_WORDS or any(ch.isdigit() for ch in bare):
            return None
    return None


def _in_a_date(match: re.Match[str], before: str, after: str) -> bool:
    raw = match.group("number")
    if match.group("qualifier") or match.group("upper") or match.group("scale"):
        return False
    if len(raw) <= 2 and int(raw) <= 31 and _DAY_BEFORE.search(before):
        return True
    return re.fullmatch(r"(18|19|20)\d\d", raw) is not None and (
        _YEAR_BEFORE.search(before) is not None or re.match(r"\s*[,;)]", after) is not None
    )


def stated_counts(text: str, *, people: bool = True, strict: bool = False) -> list[StatedCount]:
    """The head counts `text` states, in order. With `people` a number must stand next to a
    word for people (see `_people_named`; `strict` when finding rather than checking);
    without it (the value of markup's numberOfEmployees) a bare number does."""
    counts: list[StatedCount] = []
    # "25 full-time and 3 part-time employees" are 28 people.
    totals = [
        match
        for match in (_FULL_AND_PART.finditer(text) if people else ())
        if not _NOT_OURS_BEFORE.search(text[: match.start()])
    ]
    for match in totals:
        total = _value(match.group("full")) + _value(match.group("part"))
        counts.append(StatedCount(total, total, round(total), match.start(), match.end()))
    for match in _NUMBER.finditer(text):
        if any(total.start() <= match.start() < total.end() for total in totals):
            continue
        before, after = text[: match.start()], text[match.end() :]
        if _in_a_date(match, before, after):
            continue
        named = _people_named(before, after, strict=strict) if people else _STAFF_COUNT
        if named is None:
            continue
        # Narratives count their people in words ("founded by two engineers", "the three
        # partners"): a number in words is a head count only as the company's staff.
        spelled = match.group("number")[0].isalpha()
        if spelled and not (
            _PEOPLE_BEFORE.search(before) or _WE_ARE.search(before) or _EMPLOYED_AFTER.match(after)
        ):
            continue
        scale = _SCALES.get((match.group("scale") or "").lower(), 1)
        number = _value(match.group("number")) * scale
        qualifier = " ".join((match.group("qualifier") or "").lower().split())
        if match.group("upper"):
            low, high = number, _value(match.group("upper")) * scale
            estimate = (low + high) / 2
        elif match.group("plus") or qualifier in _AT_LEAST:
            low, high = number + (0 if match.group("plus") else 1), number * 2
            estimate = low
        elif qualifier in _AT_MOST:
            low, high = number / 2, number
            estimate = high
        else:
            low = high = estimate = number
        if people and estimate >= _MILLION and not _EMPLOYS.search(text):
            continue
        if 0 < low <= high:
            counts.append(
                StatedCount(low, high, round(estimate), match.start(), match.end(),
                            by_role=named == _ROLE_COUNT)
            )  # fmt: skip
    # A count in words is too vague to choose a range by ("hundreds": 201-500 or 5001-10000?):
    # it supports a range, it does not find one.
    for words, most_low, most_high in () if strict else _COUNT_WORDS:
        for match in words.finditer(text):
            nearby = " ".join(text[match.end() :].split()[:3])
            if not people or _PEOPLE.search(nearby):
                counts.append(
                    StatedCount(most_low, most_high, round(most_low), match.start(), match.end())
                )
    return sorted(counts, key=lambda count: count.start)


def range_bounds(label: str) -> tuple[float, float] | None:
    """The head counts an employee range label allows: "11-50" is (11, 50), "10001+" is
    (10001, inf)."""
    if match := re.fullmatch(r"(\d+)-(\d+)", label):
        return float(match.group(1)), float(match.group(2))
    if match := re.fullmatch(r"(\d+)\+", label):
        return float(match.group(1)), math.inf
    return None
