"""Customer import: CSV, Parquet and JSONL files into the `customers` table.

Each row is checked on its own: a bad row (invalid UTF-8 included) is reported with its line
number and reason and left out, the good rows are written together in one transaction (all or
nothing), upserted by (source, external_id). A website that is not a usable web address (too
long, not http(s), an invalid host, ...) does not stop the import: the customer is imported
with the reason in `website_error` and is skipped at enrichment time. A private address is
imported with a warning and checked when it is fetched, under that run's allow-list.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pycountry

from enrichment_pipelines.core.errors import EnrichError
from enrichment_pipelines.core.warehouse import Warehouse, insert_rows
from enrichment_pipelines.core.websites import (
    Network,
    WebsiteError,
    normalise_website,
    private_host_problem,
)

# Accepted header names for each field, first match wins (case-insensitive).
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "external_id": ("external_id", "id", "customer_id", "uuid"),
    "name": ("name", "company", "company_name", "customer_name"),
    "website": ("website", "website_url", "url", "domain", "homepage"),
    "email": ("email", "primary_email"),
    "country": ("country", "billing_country", "country_code"),
    "tags": ("tags",),
    "chartmogul_uuid": ("chartmogul_uuid",),
}
SUPPORTED_SUFFIXES = (".csv", ".parquet", ".jsonl", ".ndjson")
# Text files are decoded with "surrogateescape": a byte that is not UTF-8 becomes one of
# these code points, so the line that holds it can be named and left out alone.
_UNDECODABLE = re.compile("[\udc80-\udcff]")


Record = tuple[int, dict[str, Any] | None, str | None]  # line, record or None, its problem


class ImportFileError(EnrichError, ValueError):
    """The file as a whole cannot be read (missing, unknown format, no id column...)."""


@dataclass(frozen=True)
class RowProblem:
    line: int
    reason: str
    rejected: bool  # True: the row was left out; False: imported with a warning

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(frozen=True)
class CustomerRow:
    line: int
    external_id: str
    name: str | None
    email: str | None
    website_raw: str | None
    website_url: str | None
    website_domain: str | None
    website_error: str | None
    billing_country_code: str | None
    tags: tuple[str, ...]
    extra: dict[str, Any]
    chartmogul_uuid: str | None = None  # the customer's id in ChartMogul, where it is known


@dataclass
class ImportReport:
    path: str
    source: str
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return sum(problem.rejected for problem in self.problems)

    @property
    def imported(self) -> int:
        return self.inserted + self.updated + self.unchanged


def read_records(path: Path) -> list[Record]:
    """(line number, record or None, parse problem or None) for every record of the file."""
    if not path.exists():
        raise ImportFileError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path)
    if suffix in (".jsonl", ".ndjson"):
        return _read_jsonl(path)
    if suffix == ".parquet":
        return _read_parquet(path)
    raise ImportFileError(
        f"{path}: unsupported file type {suffix or '(none)'}; use one of "
        + ", ".join(SUPPORTED_SUFFIXES)
    )


def _undecodable(text: str) -> str | None:
    """Where `text` (decoded with surrogateescape) held a byte that is not UTF-8, or None."""
    if text.isascii():
        return None
    match = _UNDECODABLE.search(text)
    if match is None:
        return None
    return f"byte 0x{ord(match.group()) - 0xDC00:02x} at column {match.start() + 1}"


def _not_utf8(where: str) -> str:
    return f"not UTF-8 text: {where} (save the file as UTF-8)"


def _read_csv(path: Path) -> list[Record]:
    records: list[tuple[int, dict[str, Any] | None, str | None]] = []
    undecodable: dict[int, str] = {}  # physical line -> where its bad byte is

    def lines(handle: Iterable[str]) -> Iterator[str]:
        for number, text in enumerate(handle, start=1):
            where = _undecodable(text)
            if where is not None:
                undecodable[number] = where
            yield text

    def problem(first: int, last: int) -> str | None:
        """The first undecodable byte of a record on lines first..last (quotes can span)."""
        for number in range(first, last + 1):
            if number in undecodable:
                on_line = "" if number == first else f"on line {number} "
                where = undecodable[number]
                return _not_utf8(where.replace("at column", f"{on_line}at column", 1))
        return None

    with path.open(newline="", encoding="utf-8-sig", errors="surrogateescape") as handle:
        reader = csv.reader(lines(handle), strict=True)
        header = next(reader, None)
        if not header:
            raise ImportFileError(f"{path}: the file is empty (no header line)")
        header_problem = problem(1, reader.line_num)
        if header_problem is not None:
            raise ImportFileError(f"{path}: line 1 (the header) is {header_problem}")
        names = [column.strip() for column in header]
        line = reader.line_num + 1
        while True:
            try:
                values = next(reader)
            except StopIteration:
                break
            except csv.Error as error:
                records.append((line, None, f"malformed CSV: {error}"))
                break  # the csv module cannot resynchronise after a broken quote
            if not any(value.strip() for value in values):
                line = reader.line_num + 1
                continue
            bad_bytes = problem(line, reader.line_num)
            if bad_bytes is not None:
                records.append((line, None, bad_bytes))
            elif len(values) != len(names):
                records.append((line, None, f"expected {len(names)} columns, found {len(values)}"))
            else:
                records.append((line, dict(zip(names, values, strict=True)), None))
            line = reader.line_num + 1
    return records


def _read_jsonl(path: Path) -> list[Record]:
    records: list[tuple[int, dict[str, Any] | None, str | None]] = []
    lines = path.read_text(encoding="utf-8-sig", errors="surrogateescape").splitlines()
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        where = _undecodable(text)
        if where is not None:
            records.append((number, None, _not_utf8(where)))
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as error:
            records.append((number, None, f"invalid JSON: {error.msg}"))
            continue
        if not isinstance(record, dict):
            records.append((number, None, "expected a JSON object"))
            continue
        records.append((number, record, None))
    return records


def _read_parquet(path: Path) -> list[Record]:
    try:
        with duckdb.connect() as connection:
            relation = connection.read_parquet(str(path))
            names = relation.columns
            rows = relation.fetchall()
    except duckdb.Error as error:
        raise ImportFileError(f"{path}: cannot read Parquet: {error}") from error
    # Parquet has no lines: row N (1-based) is reported as "line N".
    return [
        (number, dict(zip(names, row, strict=True)), None)
        for number, row in enumerate(rows, start=1)
    ]


def _pick(record: dict[str, Any], field_name: str) -> Any:
    lowered = {str(key).strip().lower(): value for key, value in record.items()}
    for alias in COLUMN_ALIASES[field_name]:
        if alias in lowered:
            return lowered[alias]
    return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _country_code(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return pycountry.countries.lookup(value).alpha_2
    except LookupError:
        return None


def _tags(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list | tuple) else str(value).replace(";", ",").split(",")
    return tuple(sorted({str(item).strip() for item in items if str(item).strip()}))


def parse_customers(
    records: Sequence[Record], origin: str, *, allowed_networks: Sequence[Network] = ()
) -> tuple[list[CustomerRow], list[RowProblem]]:
    """Check every record (read from `origin`: a file, say); return the good rows and the
    problems by line."""
    rows: list[CustomerRow] = []
    problems: list[RowProblem] = []
    first_line_of: dict[str, int] = {}
    if records and all(record is not None for _, record, _ in records):
        headers = {str(key).strip().lower() for _, record, _ in records for key in record or {}}
        if not headers & set(COLUMN_ALIASES["external_id"]):
            raise ImportFileError(
                f"{origin}: no id column; name one of " + ", ".join(COLUMN_ALIASES["external_id"])
            )
    known_columns = {alias for aliases in COLUMN_ALIASES.values() for alias in aliases}
    for line, record, parse_problem in records:
        if record is None:
            problems.append(RowProblem(line, parse_problem or "unreadable", rejected=True))
            continue
        external_id = _text(_pick(record, "external_id"))
        if external_id is None:
            problems.append(RowProblem(line, "missing id", rejected=True))
            continue
        if external_id in first_line_of:
            problems.append(
                RowProblem(
                    line,
                    f"duplicate id {external_id!r} (first on line {first_line_of[external_id]})",
                    rejected=True,
                )
            )
            continue
        first_line_of[external_id] = line
        website_raw = _text(_pick(record, "website"))
        website_url = website_domain = website_error = None
        try:
            website = normalise_website(website_raw)
            website_url, website_domain = website.url, website.domain
            # Imported all the same: the address is checked again when it is fetched, under
            # the settings of that run.
            private = private_host_problem(website.host, allowed_networks)
            if private:
                problems.append(
                    RowProblem(line, f"customer {external_id}: {private}", rejected=False)
                )
        except WebsiteError as error:
            website_error = str(error)
            if website_raw is not None:
                problems.append(
                    RowProblem(line, f"customer {external_id}: {error}", rejected=False)
                )
        country_raw = _text(_pick(record, "country"))
        country = _country_code(country_raw)
        if country_raw and country is None:
            problems.append(
                RowProblem(
                    line,
                    f"customer {external_id}: unknown country {country_raw!r} (left empty)",
                    rejected=False,
                )
            )
        rows.append(
            CustomerRow(
                line=line,
                external_id=external_id,
                name=_text(_pick(record, "name")),
                email=_text(_pick(record, "email")),
                website_raw=website_raw,
                website_url=website_url,
                website_domain=website_domain,
                website_error=website_error,
                billing_country_code=country,
                tags=_tags(_pick(record, "tags")),
                chartmogul_uuid=_text(_pick(record, "chartmogul_uuid")),
                extra={
                    str(key): value
                    for key, value in record.items()
                    if str(key).strip().lower() not in known_columns
                },
            )
        )
    return rows, problems


def customer_id_for(source: str, external_id: str) -> str:
    return f"{source}:{external_id}"


class UnknownCustomerError(EnrichError, LookupError):
    """An id that names no customer, or several: the message lists what the user can type."""


def resolve_customer_id(connection: duckdb.DuckDBPyConnection, typed: str) -> str:
    """The customer a user means by `typed`: the full id (`crm:42`), or the id in its source
    (`42`) when exactly one source has it. Several sources with it: the error lists them."""
    exact = connection.execute(
        "SELECT customer_id FROM customers WHERE customer_id = ?", [typed]
    ).fetchone()
    if exact is not None:
        return str(exact[0])
    candidates = [
        str(customer_id)
        for (customer_id,) in connection.execute(
            "SELECT customer_id FROM customers WHERE external_id = ? ORDER BY 1", [typed]
        ).fetchall()
    ]
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        raise UnknownCustomerError(
            f"{typed!r} is the id of {len(candidates)} customers, one per source: "
            f"{', '.join(candidates)}; type one of those"
        )
    raise UnknownCustomerError(f"no customer with id {typed!r}")


# What an import writes of a row, in the order `_stored_form` gives it.
_STORED_COLUMNS = (
    "name",
    "email",
    "website_raw",
    "website_url",
    "website_domain",
    "website_error",
    "billing_country_code",
    "extra",
    "chartmogul_uuid",
)


def _stored_form(row: CustomerRow) -> tuple[object, ...]:
    """A row as the warehouse holds it (the `_STORED_COLUMNS`, then its tags)."""
    extra = json.loads(json.dumps(row.extra, default=str))
    return (
        row.name,
        row.email,
        row.website_raw,
        row.website_url,
        row.website_domain,
        row.website_error,
        row.billing_country_code,
        extra,
        row.chartmogul_uuid,
        row.tags,
    )


def _written(stored: tuple[object, ...]) -> list[object]:
    """The `_STORED_COLUMNS` values of a `_stored_form` as they are inserted."""
    extra_at = _STORED_COLUMNS.index("extra")
    values = list(stored[: len(_STORED_COLUMNS)])
    values[extra_at] = json.dumps(values[extra_at])
    return values


def _stored_rows(
    connection: duckdb.DuckDBPyConnection, ids: list[str]
) -> dict[str, tuple[object, ...]]:
    """The customers of `ids` already stored, in `_stored_form`."""
    rows = connection.execute(
        f"""
        SELECT c.customer_id, {", ".join(f"c.{column}" for column in _STORED_COLUMNS)},
               coalesce((SELECT list(t.tag ORDER BY t.tag) FROM customer_tags AS t
                         WHERE t.customer_id = c.customer_id), [])
        FROM customers AS c WHERE list_contains(?, c.customer_id)
        """,
        [ids],
    ).fetchall()
    extra_at = 1 + _STORED_COLUMNS.index("extra")
    return {
        row[0]: (*row[1:extra_at], json.loads(row[extra_at] or "{}"), *row[extra_at + 1 : -1],
                 tuple(row[-1]))
        for row in rows
    }  # fmt: skip


def upsert_customers(
    connection: duckdb.DuckDBPyConnection, rows: list[CustomerRow], source: str
) -> tuple[int, int, int]:
    """Insert new `rows` and update those that changed (call inside a transaction); a row as
    stored is left alone, `updated_at` included. Returns (inserted, updated, unchanged)."""
    ids = [customer_id_for(source, row.external_id) for row in rows]
    stored = _stored_rows(connection, ids)
    changed = [
        (customer_id, row)
        for customer_id, row in zip(ids, rows, strict=True)
        if stored.get(customer_id) != _stored_form(row)
    ]
    now = datetime.now(UTC)
    insert_rows(
        connection,
        "customers",
        ("customer_id", "source", "external_id", *_STORED_COLUMNS, "imported_at", "updated_at"),
        [
            [customer_id, source, row.external_id, *_written(_stored_form(row)), now, now]
            for customer_id, row in changed
        ],
        conflict="ON CONFLICT (customer_id) DO UPDATE SET "
        + ", ".join(f"{column} = excluded.{column}" for column in _STORED_COLUMNS)
        + ", updated_at = excluded.updated_at",
    )
    changed_ids = [customer_id for customer_id, _ in changed]
    connection.execute(
        "DELETE FROM customer_tags WHERE list_contains(?, customer_id)", [changed_ids]
    )
    insert_rows(
        connection,
        "customer_tags",
        ("customer_id", "tag"),
        [[customer_id, tag] for customer_id, row in changed for tag in row.tags],
    )
    updated = sum(customer_id in stored for customer_id in changed_ids)
    return len(changed) - updated, updated, len(rows) - len(changed)


def customer_count(connection: duckdb.DuckDBPyConnection) -> int:
    row = connection.execute("SELECT count(*) FROM customers").fetchone()
    return int(row[0]) if row else 0


def import_customers(
    warehouse: Warehouse,
    path: Path,
    *,
    source: str = "import",
    allowed_networks: Sequence[Network] = (),
) -> ImportReport:
    """Read `path` and upsert its good rows in one transaction; report every problem.

    `warehouse` must be migrated (as `WarehouseResource` and the CLI hand it over)."""
    return import_records(
        warehouse, read_records(path), str(path), source=source, allowed_networks=allowed_networks
    )


def import_records(
    warehouse: Warehouse,
    records: Sequence[Record],
    origin: str,
    *,
    source: str,
    allowed_networks: Sequence[Network] = (),
) -> ImportReport:
    """Check `records` (read from `origin`) and upsert the good ones in one transaction;
    report every problem. A file and a connector's listing are imported the same way."""
    if not source or not source.replace("-", "").replace("_", "").isalnum():
        raise ImportFileError(f"source {source!r} must be letters, digits, '-' or '_'")
    rows, problems = parse_customers(records, origin, allowed_networks=allowed_networks)
    report = ImportReport(
        path=origin,
        source=source,
        rows_read=len(rows) + sum(p.rejected for p in problems),
        problems=problems,
    )
    if rows:
        with warehouse.transaction() as connection:
            report.inserted, report.updated, report.unchanged = upsert_customers(
                connection, rows, source
            )
    return report
