"""Live enrichment sensors."""

from enrichment_pipelines.sensors.live import (
    SEGMENT_CHECK_SECONDS,
    new_customers_sensor,
    segment_entrants_sensor,
)

__all__ = ["SEGMENT_CHECK_SECONDS", "new_customers_sensor", "segment_entrants_sensor"]
