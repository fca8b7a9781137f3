"""How long to wait before trying an HTTP request again: what the server asked for
(`Retry-After`, in seconds or as a date), else exponential backoff with jitter. One rule for the
crawler and the ChartMogul client."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def retry_after_seconds(value: str | None) -> float | None:
    """A `Retry-After` header in seconds from now (None: absent or unreadable)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


def backoff_seconds(attempt: int, base_seconds: float, retry_after: float | None = None) -> float:
    """The wait before attempt `attempt` + 1: the server's `retry_after` when it gave one, else
    `base_seconds` doubled per attempt, with up to half again at random (so that clients
    turned away together do not come back together)."""
    if retry_after is not None:
        return retry_after
    return base_seconds * 2 ** (attempt - 1) * (1 + random.random() / 2)
