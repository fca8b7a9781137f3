"""The enrichment settings every kind of enrichment uses (which data points, into which
attributes, which go into the note), and live enrichment's settings.

Settings are stored in the warehouse's `settings` table. Saving them registers each enabled data
point's attribute definition (so `customer_360` gets a typed column for it).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime

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


def load_settings(connection: duckdb.DuckDBPyConnection) -> EnrichmentSettings | None:
    row = connection.execute(
        "SELECT value FROM settings WHERE key = ?", [ENRICHMENT_SETTINGS_KEY]
    ).fetchone()
    return EnrichmentSettings.from_json(row[0]) if row else None


def validate_settings(
    connection: duckdb.DuckDBPyConnection, settings: EnrichmentSettings
) -> list[str]:
    """Every problem with these settings, each naming the data point."""
    problems = []
    owners: dict[str, str] = {}
    existing = dict(
        connection.execute(
            "SELECT name, type FROM attribute_definitions WHERE source = 'user'"
        ).fetchall()
    )
    for key, setting in settings.data_points.items():
        point = DATA_POINTS_BY_KEY.get(key)
        if point is None:
            problems.append(f"{key}: not a known data point")
            continue
        if not setting.enabled:
            continue
        name = setting.attribute_name
        if not ATTRIBUTE_NAME.match(name):
            problems.append(
                f"{key}: attribute name {name!r} must be lower case letters, digits and _"
            )
        if name in owners:
            problems.append(f"{key}: attribute name {name!r} is already used by {owners[name]}")
        owners[name] = key
        if name in existing and existing[name] != point.type:
            problems.append(
                f"{key}: existing attribute {name!r} is {existing[name]}, but {key} is {point.type}"
            )
    return problems


def save_settings(
    connection: duckdb.DuckDBPyConnection, settings: EnrichmentSettings, *, updated_by: str
) -> None:
    """Validate, store, and register the attribute definitions of enabled data points."""
    problems = validate_settings(connection, settings)
    if problems:
        raise SettingsError("; ".join(problems))
    _store(connection, ENRICHMENT_SETTINGS_KEY, settings.to_json(), updated_by)
    for key, setting in settings.data_points.items():
        if setting.enabled:
            point = DATA_POINTS_BY_KEY[key]
            connection.execute(
                "INSERT INTO attribute_definitions (name, type, source, description, created_at) "
                "VALUES (?, ?, 'enrichment', ?, now()) ON CONFLICT (name) DO NOTHING",
                [setting.attribute_name, point.type, point.description],
            )
    refresh_customer_360(connection)


def _store(connection: duckdb.DuckDBPyConnection, key: str, value: str, changed_by: str) -> None:
    """Save a setting and append the change to its history (the audit trail)."""
    connection.execute(
        "INSERT INTO settings (key, value, updated_at, updated_by) VALUES (?, ?, now(), ?) "
        "ON CONFLICT (key) DO UPDATE "
        "SET value = excluded.value, updated_at = excluded.updated_at, "
        "updated_by = excluded.updated_by",
        [key, value, changed_by],
    )
    connection.execute(
        "INSERT INTO settings_history (key, value, changed_at, changed_by) VALUES (?, ?, now(), ?)",
        [key, value, changed_by],
    )


def settings_saved(connection: duckdb.DuckDBPyConnection) -> tuple[object, str] | None:
    """When the enrichment settings were last saved, and by whom or what."""
    return connection.execute(
        "SELECT updated_at, updated_by FROM settings WHERE key = ?", [ENRICHMENT_SETTINGS_KEY]
    ).fetchone()


def settings_history(
    connection: duckdb.DuckDBPyConnection, limit: int = 50
) -> list[tuple[str, str, object, str]]:
    """The latest changes: (key, value, changed_at, changed_by), newest first."""
    return connection.execute(
        "SELECT key, value, changed_at, changed_by FROM settings_history "
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
    )
    return replace(settings, data_points={**settings.data_points, key: changed})


def ensure_settings(connection: duckdb.DuckDBPyConnection) -> tuple[EnrichmentSettings, bool]:
    """The saved settings, saving the defaults first if there are none (returns created=True)."""
    settings = load_settings(connection)
    if settings is not None:
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
    row = connection.execute(
        "SELECT value FROM settings WHERE key = ?", [LIVE_SETTINGS_KEY]
    ).fetchone()
    return LiveSettings(**json.loads(row[0])) if row else LiveSettings()


def save_live_settings(
    connection: duckdb.DuckDBPyConnection, live: LiveSettings, *, updated_by: str
) -> None:
    """Store live enrichment settings (the target is checked by the caller), audited."""
    _store(connection, LIVE_SETTINGS_KEY, json.dumps(asdict(live)), updated_by)
