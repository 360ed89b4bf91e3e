"""What runs look like outside: pydantic records shared by the API and the scheduler."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["FeatureRecord", "RunRecord"]


class FeatureRecord(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    feature: str
    segment: str | None = None
    is_prediction: bool
    kind: str
    status: str
    method: str
    statistic: float | None
    p_value: float | None
    p_value_adjusted: float | None
    effect_size: float | None
    threshold: float
    drifted: bool
    psi: float | None
    psi_level: str
    reference_size: int
    current_size: int
    missing_rate: float
    reference_missing_rate: float
    type_violation_rate: float
    out_of_range_share: float | None
    unseen_share: float | None
    unseen_examples: list[str] | None
    statistic_bound: float | None = None  # aggregate path: largest possible error of statistic


class RunRecord(BaseModel):
    id: int
    model: str
    version: str
    reference_id: int
    reference_hash: str
    trigger: str
    path: str
    window_start: datetime
    window_end: datetime
    status: str
    n_events: int
    drift_share: float | None
    dataset_drift: bool | None
    drifted_features: list[str] | None
    performance: dict[str, float | None] | None = None
    segments: dict[str, Any] | None = None
    # Monitor option rolling_reference: the window compared with the one before it.
    previous_window: dict[str, Any] | None = None
    error: str | None
    started_at: datetime
    duration_s: float
    features: list[FeatureRecord] = []
