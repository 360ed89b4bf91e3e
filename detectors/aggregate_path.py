"""Which path a run takes, and the aggregate path itself.

A run uses the aggregates when the version's aggregates are ready for its current reference
and the window is large (more than ``raw_path_max_events`` events) or older than the raw
events' retention; otherwise it reads the raw events (exact, and what the HTML report and the
per-segment checks need). ``path`` forces either. On the aggregate path the window is aligned
to whole buckets (both ends rounded down), and the run records that window.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import numpy as np
from sqlalchemy.orm import Session

from detectors.binned_detect import Bounds, detect_aggregate
from detectors.binned_performance import performance_from
from detectors.config import MonitorConfig
from detectors.drift import DatasetResult
from detectors.profile import ModelProfile
from driftline.aggregates.accumulate import bucket_of
from driftline.aggregates.layout import Layout
from driftline.aggregates.read import count_events, load_total
from driftline.aggregates.states import layout_of
from driftline.core.aggregate_settings import AggregateSettings
from driftline.core.errors import ConflictError
from driftline.core.storage.aggregate_tables import AggregateState

__all__ = ["Path", "Plan", "evaluate", "plan"]

Path = Literal["auto", "raw", "aggregates"]


@dataclass(frozen=True)
class Plan:
    layout: Layout
    version_id: int
    start: datetime
    end: datetime
    coarse: dict[str, np.ndarray] | None  # PSI-bin positions when n_bins differs from the layout


@dataclass(frozen=True)
class Evaluated:
    result: DatasetResult
    bounds: Bounds
    performance: dict[str, float | None]


def _coarse(layout: Layout, profile: ModelProfile) -> dict[str, np.ndarray] | None:
    """Each numeric feature's PSI edges as positions among its fine edges (None: some are not)."""
    out = {}
    for slot in layout.features:
        feature = profile.features.get(slot.name)
        if not slot.is_numeric or feature is None or feature.numeric is None:
            continue
        assert slot.edges is not None
        edges = feature.numeric.edges
        positions = np.searchsorted(slot.edges, edges)
        if positions.size and (positions.max() >= slot.edges.size):
            return None
        if not np.array_equal(slot.edges[positions], edges):
            return None
        out[slot.name] = positions
    return out


def plan(
    session: Session,
    version_id: int,
    reference_id: int,
    config: MonitorConfig,
    window: tuple[datetime, datetime],
    settings: AggregateSettings,
    now: datetime,
    profile: Callable[[], ModelProfile],
    path: Path = "auto",
) -> Plan | None:
    """The aggregate plan for this window, or None for the raw path."""
    if path == "raw" or (path == "auto" and not settings.enabled):
        return None
    state = session.get(AggregateState, version_id)
    layout = layout_of(session, reference_id) if state is not None else None
    ready = state is not None and state.reference_id == reference_id and state.status == "ready"
    if layout is None or not ready:
        if path == "aggregates":
            raise ConflictError(
                "this version's aggregates are not ready for its current reference "
                "(see GET .../aggregates for the rebuild's progress)"
            )
        return None
    coarse = None
    if config.n_bins != layout.n_bins:
        coarse = _coarse(layout, profile())
        if coarse is None:
            if path == "aggregates":
                raise ConflictError("the monitor's n_bins does not match the aggregates' bins")
            return None
    step = layout.bucket_seconds
    start, end = bucket_of(window[0], step), bucket_of(window[1], step)
    if end <= start:
        end = start + timedelta(seconds=step)
    chosen = Plan(layout, version_id, start, end, coarse)
    if path == "aggregates":
        return chosen
    if start < now - timedelta(days=settings.raw_retention_days):
        return chosen  # raw events of this window may be gone
    n_events = count_events(session, version_id, reference_id, start, end)
    return chosen if n_events > settings.raw_path_max_events else None


def evaluate(
    session: Session, chosen: Plan, task: str, config: MonitorConfig, keys: frozenset[str]
) -> Evaluated:
    """Detection and performance from the window's summed buckets."""
    total = load_total(session, chosen.layout, chosen.version_id, chosen.start, chosen.end)
    result, bounds = detect_aggregate(
        chosen.layout, total, config, key_features=keys, coarse=chosen.coarse
    )
    return Evaluated(result, bounds, performance_from(task, total.performance, total.n_events))
