"""Settings of the window aggregates and retention (``DRIFTLINE_AGGREGATES__*``).

Kept apart from :mod:`driftline.core.settings` so the knobs read as one page;
``docs/architecture.md`` (section "Window aggregates") explains them.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["AggregateSettings"]


class AggregateSettings(BaseModel):
    """Aggregates kept at ingest, the scheduled maintenance and the retention of raw events."""

    enabled: bool = Field(
        True,
        description="Build aggregates for versions with a reference (the scheduler creates "
        "their layouts); off: ingest stores raw events only and runs use the raw path.",
    )
    bucket_seconds: int = Field(60, ge=1, le=3600, description="Length of one time bucket.")
    fine_bins: int = Field(
        200, ge=100, le=2000, description="Quantile bins per numeric feature (KS, Wasserstein)."
    )
    allowed_lateness_s: float = Field(
        300.0,
        ge=0,
        description="A scheduled window is evaluated once this long past its end (watermark); "
        "later events update their buckets and mark the window's runs for re-evaluation.",
    )
    raw_path_max_events: int = Field(
        50_000,
        ge=0,
        description="Windows with at most this many events are evaluated on raw events "
        "(exact) while those are retained; larger ones on the aggregates.",
    )
    maintenance_seconds: float = Field(
        30.0, gt=0, description="How often the scheduler compacts, rebuilds and re-evaluates."
    )
    rebuild_chunk_events: int = Field(
        20_000, ge=100, description="Raw events re-aggregated per rebuild transaction."
    )
    raw_retention_days: float = Field(
        30.0, gt=0, description="Raw events (and labels) older than this are deleted."
    )
    aggregate_retention_days: float = Field(
        400.0, gt=0, description="Aggregate buckets older than this are deleted."
    )
    retention_seconds: float = Field(3600.0, gt=0, description="How often the retention job runs.")
