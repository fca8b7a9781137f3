"""The segment language: fields, operators and values checked, then compiled to SQL.

Everything here needs at most a connection to read the warehouse's custom attributes and to
try the compiled SQL once; storing segments and their memberships is `store`'s business.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import duckdb
import yaml

from enrichment_pipelines.core.customers import COLUMN_ALIASES
from enrichment_pipelines.core.datapoints import VALUE_COLUMN_BY_TYPE
from enrichment_pipelines.core.errors import EnrichError

SEGMENT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
EXTRA_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_ .-]{0,63}$")
MAX_CONDITIONS = 200

# Customer columns a segment may filter on, and their types.
CUSTOMER_FIELDS: dict[str, str] = {
    "customer_id": "string",
    "source": "string",
    "external_id": "string",
    "name": "string",
    "email": "string",
    "website_url": "string",
    "website_domain": "string",
    "billing_country_code": "string",
    "imported_at": "timestamp",
    "updated_at": "timestamp",
}
DERIVED_FIELDS: dict[str, tuple[str, str]] = {
    "last_enriched_at": (
        "timestamp",
        "(SELECT max(e.created_at) FROM enrichments AS e "
        "WHERE e.customer_id = c.customer_id AND e.status = 'enriched')",
    ),
    "last_outcome": (
        "string",
        "(SELECT arg_max(e.status, e.created_at) FROM enrichments AS e "
        "WHERE e.customer_id = c.customer_id)",
    ),
}
# The field an import column lands in when its header is one of the importer's aliases (so it
# is not an `extra.` column).
IMPORTED_AS: dict[str, str] = {
    alias: {"website": "website_url", "country": "billing_country_code"}.get(target, target)
    for target, aliases in COLUMN_ALIASES.items()
    for alias in aliases
}
# The kind of a custom attribute of each type (String is "string").
_ATTRIBUTE_KINDS = {"Boolean": "boolean", "Integer": "number"}
NULL_OPS = ("is null", "is not null")
OPERATORS: dict[str, tuple[str, ...]] = {
    "string": ("=", "!=", "<", ">", "<=", ">=", "in", "not in", "contains", "not contains",
               "starts with", *NULL_OPS),
    "number": ("=", "!=", "<", ">", "<=", ">=", "in", "not in", *NULL_OPS),
    "timestamp": ("before", "after", "<", ">", "<=", ">=", *NULL_OPS),
    "boolean": ("=", "!=", *NULL_OPS),
    "tags": ("contains", "not contains", "in", "not in", *NULL_OPS),
}  # fmt: skip
_COMPARISONS = {"=": "=", "!=": "<>", "<": "<", ">": ">", "<=": "<=", ">=": ">=",
                "before": "<", "after": ">"}  # fmt: skip


class SegmentError(EnrichError, ValueError):
    """A segment that cannot be saved or used; the message names the bad part."""


@dataclass(frozen=True)
class CompiledSegment:
    """A boolean SQL expression over `customers AS c`, with its bound parameters."""

    where: str
    parameters: dict[str, object]
    extra_columns: dict[str, str] = field(default_factory=dict)  # imported column -> its path

    def members_sql(self) -> str:
        return f"SELECT c.customer_id FROM customers AS c WHERE {self.where}"


@dataclass
class _Compiler:
    attribute_types: dict[str, str]
    prefix: str
    parameters: dict[str, object] = field(default_factory=dict)
    extra_columns: dict[str, str] = field(default_factory=dict)
    conditions: int = 0

    def bind(self, value: object) -> str:
        name = f"{self.prefix}{len(self.parameters)}"
        self.parameters[name] = value
        return f"${name}"

    def condition(self, node: Any, path: str) -> str:
        self.conditions += 1
        if self.conditions > MAX_CONDITIONS:
            raise SegmentError(f"{path}: more than {MAX_CONDITIONS} conditions")
        if not isinstance(node, dict):
            raise SegmentError(f"{path}: expected a condition (a mapping), got {_show(node)}")
        groups = [key for key in ("all", "any", "not") if key in node]
        if groups:
            if len(node) != 1:
                extra = ", ".join(sorted(str(key) for key in node if key != groups[0]))
                raise SegmentError(f"{path}: '{groups[0]}' cannot be combined with {extra}")
            return self.group(groups[0], node[groups[0]], f"{path}.{groups[0]}")
        return self.leaf(node, path)

    def group(self, kind: str, children: Any, path: str) -> str:
        if kind == "not":
            return f"NOT coalesce({self.condition(children, path)}, false)"
        if not isinstance(children, list) or not children:
            raise SegmentError(f"{path}: expected a non-empty list of conditions")
        parts = [self.condition(child, f"{path}[{i}]") for i, child in enumerate(children)]
        joiner = " AND " if kind == "all" else " OR "
        return "(" + joiner.join(parts) + ")"

    def leaf(self, node: dict[str, Any], path: str) -> str:
        unknown = sorted(str(key) for key in node if key not in ("field", "op", "value"))
        if unknown:
            raise SegmentError(
                f"{path}: unknown key(s) {', '.join(unknown)} (a condition has field, op, value; "
                "or all / any / not)"
            )
        if "field" not in node or "op" not in node:
            raise SegmentError(f"{path}: a condition needs 'field' and 'op'")
        name, op = node["field"], node["op"]
        if not isinstance(name, str):
            raise SegmentError(f"{path}.field: expected a field name, got {_show(name)}")
        if not isinstance(op, str):
            raise SegmentError(f"{path}.op: expected an operator, got {_show(op)}")
        op = " ".join(op.lower().split())
        kind, column = self.field(name, f"{path}.field")
        value = node.get("value")
        if kind == "string" and column.startswith("json_extract_string") and _is_number(value):
            kind, column = "number", f"TRY_CAST({column} AS DOUBLE)"
        if op not in OPERATORS[kind]:
            raise SegmentError(
                f"{path}.op: {op!r} does not apply to {name} ({kind}); use one of "
                + ", ".join(OPERATORS[kind])
            )
        if op in NULL_OPS:
            if "value" in node:
                raise SegmentError(f"{path}.value: '{op}' takes no value")
            return self.null_test(kind, column, op == "is null")
        if "value" not in node:
            raise SegmentError(f"{path}.value: '{op}' needs a value")
        if kind == "tags":
            return self.tags_test(op, value, f"{path}.value")
        if op in ("in", "not in"):
            values = _list_of(value, f"{path}.value")
            bound = self.bind([_typed(v, kind, f"{path}.value[{i}]") for i, v in enumerate(values)])
            test = f"list_contains({bound}, {column})"
            return test if op == "in" else f"(NOT {test})"
        typed = _typed(value, kind, f"{path}.value")
        if op in ("contains", "not contains"):
            test = f"contains(lower({column}), lower({self.bind(typed)}))"
            return test if op == "contains" else f"(NOT {test})"
        if op == "starts with":
            return f"starts_with(lower({column}), lower({self.bind(typed)}))"
        return f"({column} {_COMPARISONS[op]} {self.bind(typed)})"

    def field(self, name: str, path: str) -> tuple[str, str]:
        """(type, SQL expression) of a field name; unknown names are refused."""
        if name in CUSTOMER_FIELDS:
            return CUSTOMER_FIELDS[name], f"c.{name}"
        if name in DERIVED_FIELDS:
            return DERIVED_FIELDS[name]
        if name == "tags":
            return "tags", ""
        if name.startswith("attributes."):
            attribute = name.removeprefix("attributes.")
            if attribute not in self.attribute_types:
                known = ", ".join(sorted(self.attribute_types)) or "none yet"
                raise SegmentError(
                    f"{path}: no custom attribute named {attribute!r} (known: {known})"
                )
            attribute_type = self.attribute_types[attribute]
            value_column = VALUE_COLUMN_BY_TYPE.get(attribute_type, "value_string")
            sql = (
                f"(SELECT a.{value_column} FROM custom_attributes AS a "
                f"WHERE a.customer_id = c.customer_id AND a.name = {self.bind(attribute)})"
            )
            return _ATTRIBUTE_KINDS.get(attribute_type, "string"), sql
        if name.startswith("extra."):
            key = name.removeprefix("extra.")
            if not EXTRA_KEY.match(key):
                raise SegmentError(f"{path}: {key!r} is not a usable imported column name")
            self.extra_columns.setdefault(key, path)
            return "string", f"json_extract_string(c.extra, {self.bind('$.' + json.dumps(key))})"
        known = ", ".join([*CUSTOMER_FIELDS, *DERIVED_FIELDS, "tags"])
        raise SegmentError(
            f"{path}: unknown field {name!r} (known: {known}, attributes.<name>, extra.<column>)"
        )

    def null_test(self, kind: str, column: str, is_null: bool) -> str:
        if kind == "tags":
            column = (
                "(SELECT min(t.tag) FROM customer_tags AS t WHERE t.customer_id = c.customer_id)"
            )
        return f"({column} IS {'' if is_null else 'NOT '}NULL)"

    def tags_test(self, op: str, value: Any, path: str) -> str:
        values = _list_of(value, path) if op in ("in", "not in") else [value]
        tags = [_typed(v, "string", path) for v in values]
        test = (
            "EXISTS (SELECT 1 FROM customer_tags AS t WHERE t.customer_id = c.customer_id "
            f"AND list_contains({self.bind(tags)}, t.tag))"
        )
        return f"(NOT {test})" if op.startswith("not") else test


def _show(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_number(value: Any) -> bool:
    if isinstance(value, list):
        return bool(value) and all(_is_number(v) for v in value)
    return isinstance(value, int | float) and not isinstance(value, bool)


def _list_of(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise SegmentError(f"{path}: expected a non-empty list, got {_show(value)}")
    return value


def _typed(value: Any, kind: str, path: str) -> object:
    """The value as the field's type, or a SegmentError naming where it is."""
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        raise SegmentError(f"{path}: expected true or false, got {_show(value)}")
    if kind == "number":
        if _is_number(value):
            return float(value)
        raise SegmentError(f"{path}: expected a number, got {_show(value)}")
    if kind == "timestamp":
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, date):
            moment = datetime(value.year, value.month, value.day)
        else:
            try:
                moment = datetime.fromisoformat(str(value))
            except ValueError:
                raise SegmentError(
                    f"{path}: expected an ISO date or date-time (e.g. 2026-11-01), got "
                    f"{_show(value)}"
                ) from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return str(value)
    raise SegmentError(f"{path}: expected text, got {_show(value)}")


@dataclass(frozen=True)
class Segment:
    name: str
    description: str
    match: dict[str, Any]

    def to_json(self) -> str:
        return json.dumps({"description": self.description, "match": self.match}, default=str)

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:12]


def parse_segment(name: str, text: str) -> Segment:
    """A segment from its YAML or JSON text (validated for shape; fields are checked when
    compiled against a warehouse)."""
    if not SEGMENT_NAME.match(name):
        raise SegmentError(
            f"segment name {name!r}: use lower-case letters, digits, '-' or '_' (max 63)"
        )
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise SegmentError(f"segment {name}: not valid YAML or JSON: {error}") from None
    if not isinstance(document, dict) or "match" not in document:
        raise SegmentError(f"segment {name}: expected a mapping with 'match' (and 'description')")
    unknown = sorted(str(key) for key in document if key not in ("match", "description"))
    if unknown:
        raise SegmentError(f"segment {name}: unknown key(s) {', '.join(unknown)}")
    description = document.get("description") or ""
    if not isinstance(description, str):
        raise SegmentError(f"segment {name}: description must be text")
    # Round-trip through JSON so that dates in YAML are kept as ISO text.
    match = json.loads(json.dumps(document["match"], default=str))
    return Segment(name=name, description=description, match=match)


def compile_segment(
    connection: duckdb.DuckDBPyConnection, segment: Segment, prefix: str = "seg_"
) -> CompiledSegment:
    """The segment as SQL, checked against this warehouse's custom attributes."""
    attribute_types = dict(
        connection.execute("SELECT name, type FROM attribute_definitions").fetchall()
    )
    compiler = _Compiler(attribute_types=attribute_types, prefix=prefix)
    try:
        where = compiler.condition(segment.match, "match")
    except SegmentError as error:
        raise SegmentError(f"segment {segment.name}: {error}") from None
    return CompiledSegment(
        where=where, parameters=compiler.parameters, extra_columns=compiler.extra_columns
    )


def segment_warnings(connection: duckdb.DuckDBPyConnection, segment: Segment) -> list[str]:
    """What in a valid segment is probably a mistake: an `extra.` column no customer has (it
    matches nothing until an import brings it), say because the importer files that header
    under a field of its own."""
    compiled = compile_segment(connection, segment)
    if not compiled.extra_columns:
        return []
    imported = {
        key
        for (key,) in connection.execute(
            "SELECT DISTINCT unnest(json_keys(extra)) FROM customers WHERE extra IS NOT NULL"
        ).fetchall()
    }
    warnings = []
    for column, path in compiled.extra_columns.items():
        if column in imported:
            continue
        warning = f"segment {segment.name}: {path}: no customer has an imported column {column!r}"
        same_but_case = [key for key in imported if key.lower() == column.lower()]
        if (field_name := IMPORTED_AS.get(column.lower())) is not None:
            warning += f"; a {column!r} column is imported as the field {field_name!r}"
        elif same_but_case:
            warning += f"; did you mean {same_but_case[0]!r}?"
        else:
            shown = sorted(imported)[:20]
            more = ", ..." if len(imported) > len(shown) else ""
            warning += f" (imported columns: {', '.join(shown) or 'none'}{more})"
        warnings.append(warning)
    return warnings


def validate_segment(connection: duckdb.DuckDBPyConnection, segment: Segment) -> int:
    """Compile and run the segment once; returns how many customers it matches now."""
    compiled = compile_segment(connection, segment)
    try:
        row = connection.execute(
            f"SELECT count(*) FROM ({compiled.members_sql()})", compiled.parameters
        ).fetchone()
    except duckdb.Error as error:  # e.g. a value DuckDB cannot compare with the column
        raise SegmentError(f"segment {segment.name}: cannot be evaluated: {error}") from None
    return int(row[0]) if row else 0
