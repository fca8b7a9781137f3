"""Resources whose fields mirror a core configuration dataclass, field for field.

The dataclass in `core.config` holds each default once; a resource declares the same names
(defaulting to the dataclass's values) so that the Dagster UI and launchpad show them and can
override them. These two functions carry values across without a hand-kept list of fields.

The definitions set a resource's values with `configure_at_launch`, not the constructor: run
config that overrides one field (the launchpad, a test) then keeps the configured values of
the others, where a constructed resource would fall back to the class defaults for all.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

# What `configure_at_launch` returns: a resource whose values are launch-time defaults. Dagster
# does not export the name.
from dagster._config.pythonic_config import PartialResource as LaunchDefaults

__all__ = ["LaunchDefaults", "config_values", "to_config"]

T = TypeVar("T")


def config_values(config: Any) -> dict[str, Any]:
    """The values of a flat configuration dataclass, by field name."""
    return {spec.name: getattr(config, spec.name) for spec in dataclasses.fields(config)}


def to_config(resource: object, kind: type[T]) -> T:
    """The dataclass `kind` built from the resource's fields of the same names."""
    names = [spec.name for spec in dataclasses.fields(kind)]  # type: ignore[arg-type]
    return kind(**{name: getattr(resource, name) for name in names})
