"""The enrichment settings every kind of enrichment uses (which data points, into which
attributes, which go into the note), and live enrichment's settings.

Settings are stored in the warehouse's `settings` table. Saving them registers each enabled data
point's attribute definition (so `customer_360` gets a typed column for it). Every save is kept
in `settings_history` with what it changed (`is_saas.attribute: a -> b`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime

import duckdb

from enrichment_pipelines.core.datapoints import DATA_POINTS, DATA_POINTS_BY_KEY
from enrichment_pipelines.core.errors import EnrichError
from enrichment_pipelines.core.warehouse.views import refresh_customer_360

ATTRIBUTE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
ENRICHMENT_SETTINGS_KEY = "enrichment"
LIVE_SETTINGS_KEY = "live"


class SettingsError(EnrichError, ValueError):
    """Settings that cannot be saved; the message names the data point and the problem."""


@dataclass(frozen=True)
class DataPointSetting:
    enabled: bool
    attribute_name: str
    in_notes: bool
    # A value found with less confidence is held back: the attribute stays unknown, and the
    # value is kept with its evidence and the reason "low confidence" for review. 0 keeps all.
    min_confidence: float = 0.0


@dataclass(frozen=True)
class EnrichmentSettings:
    data_points: dict[str, DataPointSetting] = field(default_factory=dict)
    summary_note: bool = True

    @classmethod
    def defaults(cls) -> EnrichmentSettings:
        return cls(
            {
                point.key: DataPointSetting(True, point.attribute_name, point.in_notes_by_default)
                for point in DATA_POINTS
            }
        )

    @classmethod
    def from_json(cls, text: str) -> EnrichmentSettings:
        document = json.loads(text)
        defaults = cls.defaults().data_points
        stored = document.get("data_points", {})
        return cls(
            {
                key: DataPointSetting(**stored[key]) if key in stored else default
                for key, default in defaults.items()
            },
            summary_note=bool(document.get("summary_note", True)),
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @property
    def enabled_keys(self) -> tuple[str, ...]:
        return tuple(key for key, setting in self.data_points.items() if setting.enabled)


def _stored(connection: duckdb.DuckDBPyConnection, key: str) -> str | None:
    row = connection.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def load_settings(connection: duckdb.DuckDBPyConnection) -> EnrichmentSettings | None:
    stored = _stored(connection, ENRICHMENT_SETTINGS_KEY)
    return EnrichmentSettings.from_json(stored) if stored is not None else None


def settings_in_force(connection: duckdb.DuckDBPyConnection) -> EnrichmentSettings:
    """The settings saved, else the defaults (which enrichment saves at its first run)."""
    return load_settings(connection) or EnrichmentSettings.defaults()


def validate_settings(
    connection: duckdb.DuckDBPyConnection,
    settings: EnrichmentSettings,
    previous: EnrichmentSettings | None = None,
) -> list[str]:
    """Every problem with these settings, each naming the data point. `previous` (the settings
    in force) tells which point moved when two share an attribute: that one is named."""
    problems = []
    users: dict[str, list[str]] = {}  # attribute name -> the enabled points writing it
    # Every attribute's type, whoever created it: a user, or enrichment under an earlier
    # mapping. An attribute keeps its type, so a point of another type would write NULLs.
    existing = {
        name: (attribute_type, source)
        for name, attribute_type, source in connection.execute(
            "SELECT name, type, source FROM attribute_definitions"
        ).fetchall()
    }
    for key, setting in settings.data_points.items():
        point = DATA_POINTS_BY_KEY.get(key)
        if point is None:
            problems.append(f"{key}: not a known data point")
            continue
        name = setting.attribute_name
        if not 0.0 <= setting.min_confidence <= 1.0:  # NaN too
            problems.append(
                f"{key}: min_confidence must be between 0 and 1, not {setting.min_confidence:g}"
            )
        before = previous.data_points.get(key) if previous else None
        # A disabled point writes nothing, but mapping it onto an attribute is checked now,
        # not first when it is enabled; one left as it was does not block other changes.
        if not setting.enabled and before is not None and before.attribute_name == name:
            continue
        if setting.enabled:
            users.setdefault(name, []).append(key)
        if not ATTRIBUTE_NAME.match(name):
            problems.append(
                f"{key}: attribute name {name!r} must be lower case letters, digits and _"
            )
        if name in existing and existing[name][0] != point.type:
            attribute_type, source = existing[name]
            problems.append(
                f"{key}: existing attribute {name!r} is {attribute_type}, but {key} is "
                f"{point.type} ({name} was {_created_by(name, source, previous)})"
            )
    for name, keys in users.items():
        if len(keys) > 1:
            for key in _moved_onto(keys, settings, previous):
                others = ", ".join(other for other in keys if other != key)
                problems.append(f"{key}: attribute name {name!r} is already used by {others}")
    return problems


def _created_by(name: str, source: str, previous: EnrichmentSettings | None) -> str:
    """Who created an existing attribute, naming the data point enrichment created it for:
    the one the settings in force map onto it, else the one whose default name it is."""
    if source == "user":
        return "created by a user"
    mapped = [
        key
        for key, setting in (previous.data_points.items() if previous else ())
        if setting.attribute_name == name
    ]
    defaults = [point.key for point in DATA_POINTS if point.attribute_name == name]
    owners = mapped or defaults
    return f"created by enrichment for {', '.join(owners)}" if owners else "created by enrichment"


def _moved_onto(
    keys: list[str], settings: EnrichmentSettings, previous: EnrichmentSettings | None
) -> list[str]:
    """Of the points sharing one attribute, those to blame: the ones this change mapped onto
    it (renamed or enabled), not the one already there. When that cannot be told (no previous
    settings, or all of them moved), all but the first in registry order."""
    if previous is None:
        return keys[1:]
    moved = [
        key
        for key in keys
        if (before := previous.data_points.get(key)) is None
        or (before.enabled, before.attribute_name)
        != (True, settings.data_points[key].attribute_name)
    ]
    return moved if 0 < len(moved) < len(keys) else keys[1:]


def save_settings(
    connection: duckdb.DuckDBPyConnection, settings: EnrichmentSettings, *, updated_by: str
) -> None:
    """Validate, store (with what changed), and register the attribute definitions of enabled
    data points."""
    previous = load_settings(connection)
    problems = validate_settings(connection, settings, previous)
    if problems:
        raise SettingsError("; ".join(problems))
    _store(
        connection,
        ENRICHMENT_SETTINGS_KEY,
        settings.to_json(),
        updated_by,
        describe_change(_flat(previous) if previous else None, _flat(settings)),
    )
    define_attributes(connection, settings)
    refresh_customer_360(connection)


def define_attributes(connection: duckdb.DuckDBPyConnection, settings: EnrichmentSettings) -> bool:
    """Define the custom attribute of every enabled data point that has none yet (a point
    added by an upgrade, say); True when one was added (`customer_360` needs rebuilding)."""
    defined = {name for (name,) in connection.execute(
        "SELECT name FROM attribute_definitions").fetchall()}  # fmt: skip
    missing = [
        (setting.attribute_name, DATA_POINTS_BY_KEY[key])
        for key, setting in settings.data_points.items()
        if setting.enabled and setting.attribute_name not in defined
    ]
    for name, point in missing:
        connection.execute(
            "INSERT INTO attribute_definitions (name, type, source, description, created_at) "
            "VALUES (?, ?, 'enrichment', ?, now())",
            [name, point.type, point.description],
        )
    return bool(missing)


def _flat(settings: EnrichmentSettings) -> dict[str, object]:
    """The settings as `data_point.field` -> value, named as `enrich settings set` names them."""
    flat: dict[str, object] = {"summary_note": settings.summary_note}
    for key, setting in settings.data_points.items():
        flat[f"{key}.enabled"] = setting.enabled
        flat[f"{key}.attribute"] = setting.attribute_name
        flat[f"{key}.note"] = setting.in_notes
        flat[f"{key}.min_confidence"] = setting.min_confidence
    return flat


def _shown(value: object) -> str:
    if value is None:
        return "none"
    return str(value).lower() if isinstance(value, bool) else str(value)


def describe_change(before: Mapping[str, object] | None, after: Mapping[str, object]) -> str:
    """What a save changed, as `name: old -> new` joined by "; " ("first saved" when there was
    nothing before, "no change" when nothing differs)."""
    if before is None:
        return "first saved"
    changes = [
        f"{name}: {_shown(before.get(name))} -> {_shown(value)}"
        for name, value in after.items()
        if before.get(name) != value
    ]
    return "; ".join(changes) or "no change"


def _store(
    connection: duckdb.DuckDBPyConnection, key: str, value: str, changed_by: str, change: str
) -> None:
    """Save a setting and append the change to its history (the audit trail)."""
    # The time of this statement, not DuckDB's now() (the transaction's start): the defaults
    # and a first change saved in one transaction would otherwise share a time, and the
    # history could not tell which came first.
    at = datetime.now(UTC)
    connection.execute(
        "INSERT INTO settings (key, value, updated_at, updated_by) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (key) DO UPDATE "
        "SET value = excluded.value, updated_at = excluded.updated_at, "
        "updated_by = excluded.updated_by",
        [key, value, at, changed_by],
    )
    connection.execute(
        "INSERT INTO settings_history (key, value, changed_at, changed_by, change) "
        "VALUES (?, ?, ?, ?, ?)",
        [key, value, at, changed_by, change],
    )


def settings_saved(connection: duckdb.DuckDBPyConnection) -> tuple[object, str] | None:
    """When the enrichment settings were last saved, and by whom or what."""
    return connection.execute(
        "SELECT updated_at, updated_by FROM settings WHERE key = ?", [ENRICHMENT_SETTINGS_KEY]
    ).fetchone()


def settings_history(
    connection: duckdb.DuckDBPyConnection, limit: int = 50
) -> list[tuple[str, str, object, str, str | None]]:
    """The latest changes: (key, value, changed_at, changed_by, change), newest first. `change`
    says what changed (`is_saas.attribute: a -> b`, a segment's `created`, `match: ... -> ...`,
    `deleted`); None for changes made before schema version 8, which did not record it."""
    return connection.execute(
        "SELECT key, value, changed_at, changed_by, change FROM settings_history "
        "ORDER BY changed_at DESC LIMIT ?",
        [limit],
    ).fetchall()


def change_data_point(
    settings: EnrichmentSettings,
    key: str,
    *,
    enabled: bool | None = None,
    attribute_name: str | None = None,
    in_notes: bool | None = None,
    min_confidence: float | None = None,
) -> EnrichmentSettings:
    """These settings with one data point changed (validated when saved)."""
    if key not in settings.data_points:
        known = ", ".join(settings.data_points)
        raise SettingsError(f"{key}: not a known data point (known: {known})")
    current = settings.data_points[key]
    changed = DataPointSetting(
        enabled=current.enabled if enabled is None else enabled,
        attribute_name=current.attribute_name if attribute_name is None else attribute_name,
        in_notes=current.in_notes if in_notes is None else in_notes,
        min_confidence=current.min_confidence if min_confidence is None else min_confidence,
    )
    return replace(settings, data_points={**settings.data_points, key: changed})


def ensure_settings(connection: duckdb.DuckDBPyConnection) -> tuple[EnrichmentSettings, bool]:
    """The saved settings, saving the defaults first if there are none (returns created=True)."""
    settings = load_settings(connection)
    if settings is not None:
        # Data points this version added since the settings were saved are enabled by default
        # (`from_json`): they need their attributes.
        if define_attributes(connection, settings):
            refresh_customer_360(connection)
        return settings, False
    settings = EnrichmentSettings.defaults()
    save_settings(connection, settings, updated_by="enrich (defaults saved on first use)")
    return settings, True


@dataclass(frozen=True)
class LiveSettings:
    """Live enrichment: on or off, its target ("all" or a saved segment's name), and since when
    it has been on (customers imported or entering the segment after that are picked up)."""

    enabled: bool = False
    target: str = "all"
    since: str | None = None  # ISO date-time

    @property
    def since_time(self) -> datetime | None:
        return datetime.fromisoformat(self.since) if self.since else None


def load_live_settings(connection: duckdb.DuckDBPyConnection) -> LiveSettings:
    stored = _stored(connection, LIVE_SETTINGS_KEY)
    return LiveSettings(**json.loads(stored)) if stored is not None else LiveSettings()


def save_live_settings(
    connection: duckdb.DuckDBPyConnection, live: LiveSettings, *, updated_by: str
) -> None:
    """Store live enrichment settings (the target is checked by the caller), audited."""
    # Compared with what was in force, which is "off" before live was ever saved.
    before = asdict(load_live_settings(connection))
    change = describe_change(before, asdict(live))
    _store(connection, LIVE_SETTINGS_KEY, json.dumps(asdict(live)), updated_by, change)
