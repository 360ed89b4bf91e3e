"""What a monitor checks and when it calls drift: methods, thresholds, windows.

Defaults follow Evidently's widely used rule (see ``docs/statistics.md``):

| feature | reference rows <= 1000 | reference rows > 1000 |
| --- | --- | --- |
| numeric | KS, drift when p <= 0.05 | Wasserstein / reference std, drift when >= 0.1 |
| categorical, boolean | chi-square (Z-test for two categories), p <= 0.05 | Jensen-Shannon >= 0.1 |

PSI is reported alongside every feature (warn at 0.1, alert at 0.25). Large samples make p-values
flag negligible shifts, so a p-value test flags drift only when its effect size (the KS statistic,
Cramér's V, Cohen's h) also reaches ``min_effect_size``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["FeatureOverride", "Method", "MonitorConfig"]

Method = Literal["ks", "wasserstein", "chi_square", "z_test", "jensen_shannon", "psi"]
P_VALUE_METHODS = frozenset({"ks", "chi_square", "z_test"})


class FeatureOverride(BaseModel):
    """Per-feature choices; unset fields fall back to the monitor's."""

    model_config = ConfigDict(extra="forbid")

    method: Method | None = None
    threshold: float | None = Field(None, gt=0)
    min_effect_size: float | None = Field(None, ge=0)


class MonitorConfig(BaseModel):
    """A model version's monitor. Every threshold can be overridden per feature."""

    model_config = ConfigDict(extra="forbid")

    small_reference_rows: int = Field(1000, ge=1, description="At or below: p-value tests.")
    p_value: float = Field(0.05, gt=0, lt=1, description="Drift when p <= this.")
    distance_threshold: float = Field(
        0.1, gt=0, description="Drift when Wasserstein/std or Jensen-Shannon >= this."
    )
    min_effect_size: float = Field(
        0.1, ge=0, description="A p-value test also needs at least this effect size."
    )
    psi_warn: float = Field(0.1, gt=0)
    psi_alert: float = Field(0.25, gt=0)
    drift_share: float = Field(
        0.5, gt=0, le=1, description="Dataset drift when this share of features drifted."
    )
    benjamini_hochberg: bool = Field(
        False, description="Adjust p-values across features (false discovery rate)."
    )
    n_bins: int = Field(10, ge=2, le=1000, description="Reference-quantile bins for PSI/JS.")
    min_events: int = Field(100, ge=1, description="Below: 'insufficient data', no verdict.")
    window: timedelta = Field(timedelta(hours=1), description="Length of the evaluated window.")
    interval: timedelta = Field(timedelta(minutes=5), description="Time between runs.")
    segment_tags: list[str] = Field(
        default_factory=list,
        max_length=10,
        description="Tags (from events' `tags`) whose values each get their own checks.",
    )
    max_segment_values: int = Field(
        20, ge=1, le=100, description="Most frequent values per tag checked; the rest are not."
    )
    rolling_reference: bool = Field(
        False, description="Also compare each window with the window of the same length before it."
    )
    features: dict[str, FeatureOverride] = Field(default_factory=dict)

    def override(self, feature: str) -> FeatureOverride:
        return self.features.get(feature) or FeatureOverride()
