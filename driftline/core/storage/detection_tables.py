"""Tables of detection: monitor configs, runs and their feature results, claims, reports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from driftline.core.storage.base import Base, BigId, Json, Timestamp

__all__ = ["MonitorSettings", "DetectionRun", "FeatureResultRow", "RunClaim", "RunReport"]


class MonitorSettings(Base):
    """A model version's monitor config (``detectors.config.MonitorConfig`` as JSON)."""

    __tablename__ = "monitor_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE"), unique=True
    )
    config: Mapped[dict[str, Any]] = mapped_column(Json)
    updated_at: Mapped[datetime] = mapped_column(Timestamp)


class DetectionRun(Base):
    """One comparison of a window of events with a reference."""

    __tablename__ = "detection_runs"
    __table_args__ = (Index(None, "version_id", "window_end"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"))
    reference_id: Mapped[int] = mapped_column(
        ForeignKey("reference_datasets.id", ondelete="CASCADE")
    )
    reference_hash: Mapped[str] = mapped_column(String(71))
    trigger: Mapped[str] = mapped_column(String(16))  # manual | schedule
    # Scheduled runs of one window share a key, so two schedulers cannot both store it.
    schedule_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    path: Mapped[str] = mapped_column(String(16))  # raw | aggregates
    window_start: Mapped[datetime] = mapped_column(Timestamp)
    window_end: Mapped[datetime] = mapped_column(Timestamp)
    status: Mapped[str] = mapped_column(String(32))  # ok | insufficient_data | failed
    n_events: Mapped[int] = mapped_column(Integer)
    drift_share: Mapped[float | None] = mapped_column(Float)
    dataset_drift: Mapped[bool | None] = mapped_column(Boolean)
    drifted_features: Mapped[list[str] | None] = mapped_column(Json)
    # Metrics on the window's labelled events, with label_coverage (detectors.performance).
    performance: Mapped[dict[str, float | None] | None] = mapped_column(Json)
    # Per segment ("tag=value"): n_events, status, drift_share, dataset_drift, drifted features.
    segments: Mapped[dict[str, Any] | None] = mapped_column(Json)
    # Monitor option rolling_reference: the window compared with the window before it, as one
    # document (detectors.rolling); null when the option is off.
    previous_window: Mapped[dict[str, Any] | None] = mapped_column(Json)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(Timestamp)
    duration_s: Mapped[float] = mapped_column(Float)


class FeatureResultRow(Base):
    """Per-feature outcome of a run (the prediction's has ``is_prediction``)."""

    __tablename__ = "feature_results"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("detection_runs.id", ondelete="CASCADE"), index=True
    )
    feature: Mapped[str] = mapped_column(String(128))
    # "tag=value" for a segment's results, null for the whole window.
    segment: Mapped[str | None] = mapped_column(String(400))
    is_prediction: Mapped[bool] = mapped_column(Boolean, default=False)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(32))
    statistic: Mapped[float | None] = mapped_column(Float)
    p_value: Mapped[float | None] = mapped_column(Float)
    p_value_adjusted: Mapped[float | None] = mapped_column(Float)
    effect_size: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)
    drifted: Mapped[bool] = mapped_column(Boolean)
    psi: Mapped[float | None] = mapped_column(Float)
    psi_level: Mapped[str] = mapped_column(String(8))
    reference_size: Mapped[int] = mapped_column(Integer)
    current_size: Mapped[int] = mapped_column(Integer)
    missing_rate: Mapped[float] = mapped_column(Float)
    reference_missing_rate: Mapped[float] = mapped_column(Float)
    type_violation_rate: Mapped[float] = mapped_column(Float)
    out_of_range_share: Mapped[float | None] = mapped_column(Float)
    unseen_share: Mapped[float | None] = mapped_column(Float)
    unseen_examples: Mapped[list[str] | None] = mapped_column(Json)
    # Aggregate path: the largest possible distance of ``statistic`` from its exact value.
    statistic_bound: Mapped[float | None] = mapped_column(Float)


class RunClaim(Base):
    """A scheduler's claim on one monitor window: the first insert wins, so among several
    schedulers exactly one computes it. A claim older than the lease can be taken over (its
    owner died mid-run)."""

    __tablename__ = "run_claims"

    schedule_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    owner: Mapped[str] = mapped_column(String(100))
    claimed_at: Mapped[datetime] = mapped_column(Timestamp)


class RunReport(Base):
    """A run's Evidently HTML report, rendered on first request and kept (zlib-compressed)."""

    __tablename__ = "run_reports"

    run_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("detection_runs.id", ondelete="CASCADE"), primary_key=True
    )
    html: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
