"""What ``/metrics`` reports, read from the database in a handful of grouped queries.

Only the newest run of each model version is read (and the feature results of its newest
completed one), so the cost of a scrape grows with the number of monitors and features, not with
the history. Counting events is the one scan that grows with the data; it uses the
``(model_id, id)`` index (an index-only scan on PostgreSQL).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from driftline.aggregates.stored_counts import stored_per_model
from driftline.core.storage import tables as t

__all__ = ["FeatureRow", "RunRow", "Snapshot", "VersionResults", "read_snapshot"]

# Only these reach the exposition: a row written by another version of the code with a new
# status cannot add series.
WEBHOOK_OUTCOMES = ("delivered", "failed", "suppressed")
SEVERITIES = ("info", "warning", "critical")


@dataclass(frozen=True)
class RunRow:
    id: int
    status: str
    finished_at: float  # Unix time
    duration_s: float
    n_events: int
    drift_share: float | None
    dataset_drift: bool | None
    drifted_features: int
    performance: dict[str, float | None]
    segments: dict[str, float | None]  # "tag=value" -> drift share


@dataclass(frozen=True)
class FeatureRow:
    feature: str
    key: bool  # a key feature of the model's schema: its drift alone is dataset drift
    is_prediction: bool
    method: str
    statistic: float | None
    p_value: float | None
    effect_size: float | None
    threshold: float
    drifted: bool
    psi: float | None
    reference_size: int
    current_size: int
    quality: dict[str, float | None]  # check -> share of the window's values


@dataclass
class VersionResults:
    model: str
    version: str
    latest: RunRow  # newest run of any status
    completed: RunRow | None = None  # newest run with status ok
    features: list[FeatureRow] = field(default_factory=list)


@dataclass
class Snapshot:
    versions: list[VersionResults]
    events_stored: dict[str, int]  # every registered model, 0 when it has none
    alerts_firing: dict[tuple[str, str], int]  # (model, severity), zeros included
    webhook_outcomes: dict[tuple[str, str], int]  # (endpoint, outcome), zeros included
    webhook_pending: dict[str, int]


def _run_row(run: t.DetectionRun) -> RunRow:
    return RunRow(
        id=run.id,
        status=run.status,
        finished_at=run.started_at.timestamp() + run.duration_s,
        duration_s=run.duration_s,
        n_events=run.n_events,
        drift_share=run.drift_share,
        dataset_drift=run.dataset_drift,
        drifted_features=len(run.drifted_features or ()),
        performance=dict(run.performance or {}),
        segments={name: seg.get("drift_share") for name, seg in (run.segments or {}).items()},
    )


def _feature_row(row: t.FeatureResultRow, keys: frozenset[str]) -> FeatureRow:
    return FeatureRow(
        feature=row.feature,
        key=row.feature in keys and not row.is_prediction,
        is_prediction=row.is_prediction,
        method=row.method,
        statistic=row.statistic,
        p_value=row.p_value,
        effect_size=row.effect_size,
        threshold=row.threshold,
        drifted=row.drifted,
        psi=row.psi,
        reference_size=row.reference_size,
        current_size=row.current_size,
        quality={
            "missing": row.missing_rate,
            "type_violation": row.type_violation_rate,
            "out_of_range": row.out_of_range_share,
            "unseen_category": row.unseen_share,
        },
    )


def _versions(session: Session) -> list[VersionResults]:
    run = t.DetectionRun
    newest = select(func.max(run.id)).group_by(run.version_id)
    newest_ok = select(func.max(run.id)).where(run.status == "ok").group_by(run.version_id)
    ids = set(session.scalars(newest)) | set(session.scalars(newest_ok))
    rows = session.execute(
        select(run, t.Model.name, t.ModelVersion.version, t.Model.features)
        .join(t.Model, t.Model.id == run.model_id)
        .join(t.ModelVersion, t.ModelVersion.id == run.version_id)
        .where(run.id.in_(ids))
        .order_by(run.id)
    ).all()
    by_version: dict[int, VersionResults] = {}
    completed: dict[int, VersionResults] = {}
    keys: dict[int, frozenset[str]] = {}
    for found, model, version, schema in rows:  # ascending ids: a version's newest comes last
        entry = by_version.setdefault(
            found.version_id, VersionResults(model, version, _run_row(found))
        )
        entry.latest = _run_row(found)
        if found.status == "ok":
            entry.completed = entry.latest
            completed[found.id] = entry
            keys[found.id] = frozenset(f["name"] for f in schema if f.get("key"))
    for row in session.scalars(
        select(t.FeatureResultRow)
        .where(t.FeatureResultRow.run_id.in_(completed), t.FeatureResultRow.segment.is_(None))
        .order_by(t.FeatureResultRow.id)
    ):
        completed[row.run_id].features.append(_feature_row(row, keys[row.run_id]))
    return sorted(by_version.values(), key=lambda v: (v.model, v.version))


def _alerts(session: Session, names: dict[int, str]) -> dict[tuple[str, str], int]:
    firing = {(names[m], severity): 0 for m in names for severity in SEVERITIES}
    for model_id, severity, n in session.execute(
        select(t.Alert.model_id, t.Alert.severity, func.count())
        .where(t.Alert.state == "firing")
        .group_by(t.Alert.model_id, t.Alert.severity)
    ):
        if (names.get(model_id), severity) in firing:
            firing[(names[model_id], severity)] = n
    return firing


def _webhooks(session: Session) -> tuple[dict[tuple[str, str], int], dict[str, int]]:
    endpoints = {
        i: name for i, name in session.execute(select(t.WebhookEndpoint.id, t.WebhookEndpoint.name))
    }
    outcomes = {(name, o): 0 for name in endpoints.values() for o in WEBHOOK_OUTCOMES}
    pending = {name: 0 for name in endpoints.values()}
    delivery = t.WebhookDelivery
    for endpoint_id, status, n in session.execute(
        select(delivery.endpoint_id, delivery.status, func.count()).group_by(
            delivery.endpoint_id, delivery.status
        )
    ):
        name = endpoints.get(endpoint_id)
        if name is None:
            continue
        if status == "pending":
            pending[name] += n
        elif (name, status) in outcomes:
            outcomes[(name, status)] += n
    return outcomes, pending


def read_snapshot(session: Session) -> Snapshot:
    names = {i: name for i, name in session.execute(select(t.Model.id, t.Model.name))}
    events = {name: 0 for name in names.values()}
    # Counted at ingest, never lowered by retention (see driftline.aggregates.stored_counts).
    for model_id, n in stored_per_model(session).items():
        if model_id in names:
            events[names[model_id]] = n
    outcomes, pending = _webhooks(session)
    return Snapshot(_versions(session), events, _alerts(session, names), outcomes, pending)
