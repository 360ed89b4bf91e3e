"""Feeding stored detection runs (and the passage of time) to the alert rules.

Each model has a cursor: the newest run its rules have seen. Evaluation takes the runs after it,
in order, and moves it in the same transaction as the alert changes, so a crash between storing a
run and evaluating it loses nothing and evaluates nothing twice. The cursor row is locked while a
model is evaluated, so any number of scheduler processes may call :func:`evaluate_runs`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.conditions import FeatureView, Observation, RunView, observe
from alerting.rules import create_default_rules
from alerting.store import AlertBook
from driftline.core.settings import AlertingSettings
from driftline.core.storage import Database
from driftline.core.storage import tables as t

__all__ = ["EvaluationResult", "evaluate_no_data", "evaluate_runs"]

BATCH_RUNS = 200
# A model seen for the first time (say, after an upgrade) has its recent runs evaluated, not
# its whole history: old windows should not page anybody today.
FIRST_LOOK_RUNS = 10
BASELINE_RUNS = 20


@dataclass
class EvaluationResult:
    runs: int = 0
    transitions: int = 0


def _cursor(
    session: Session, model: t.Model, settings: AlertingSettings, now: datetime
) -> t.AlertCursor:
    cursor = session.scalar(
        select(t.AlertCursor).where(t.AlertCursor.model_id == model.id).with_for_update()
    )
    if cursor is not None:
        return cursor
    if session.scalar(select(t.AlertRule.id).where(t.AlertRule.model_id == model.id)) is None:
        create_default_rules(session, model.id, model.task, now, settings.no_data_minutes)
    recent = session.scalars(
        select(t.DetectionRun.id)
        .where(t.DetectionRun.model_id == model.id)
        .order_by(t.DetectionRun.id.desc())
        .limit(FIRST_LOOK_RUNS + 1)
    ).all()
    start = recent[FIRST_LOOK_RUNS] if len(recent) > FIRST_LOOK_RUNS else 0
    cursor = t.AlertCursor(model_id=model.id, last_run_id=start)
    session.add(cursor)
    session.flush()
    return cursor


def _view(session: Session, run: t.DetectionRun, model: t.Model, history: bool) -> RunView:
    rows = session.scalars(
        select(t.FeatureResultRow).where(
            t.FeatureResultRow.run_id == run.id, t.FeatureResultRow.segment.is_(None)
        )
    ).all()
    views = {
        r.is_prediction or r.feature: FeatureView(
            r.feature,
            r.status,
            r.method,
            r.statistic,
            r.p_value,
            r.effect_size,
            r.threshold,
            r.drifted,
            r.psi,
            r.missing_rate,
            r.reference_missing_rate,
            r.type_violation_rate,
            r.unseen_share,
        )
        for r in rows
    }
    previous: list[dict[str, Any]] = []
    if history:
        previous = list(
            session.scalars(
                select(t.DetectionRun.performance)
                .where(
                    t.DetectionRun.version_id == run.version_id,
                    t.DetectionRun.id < run.id,
                    t.DetectionRun.status == "ok",
                )
                .order_by(t.DetectionRun.id.desc())
                .limit(BASELINE_RUNS)
            )
        )
        previous = [p for p in reversed(previous) if p]
    return RunView(
        id=run.id,
        status=run.status,
        drift_share=run.drift_share,
        dataset_drift=run.dataset_drift,
        features=[v for k, v in views.items() if k is not True],
        prediction=views.get(True),
        key_features=frozenset(f["name"] for f in model.features if f.get("key")),
        performance=run.performance,
        segments=run.segments or {},
        previous_performance=previous,
    )


def _evaluate_model(
    session: Session, model: t.Model, settings: AlertingSettings, now: datetime
) -> EvaluationResult:
    result = EvaluationResult()
    cursor = _cursor(session, model, settings, now)
    runs = session.execute(
        select(t.DetectionRun, t.ModelVersion.version)
        .join(t.ModelVersion, t.ModelVersion.id == t.DetectionRun.version_id)
        .where(t.DetectionRun.model_id == model.id, t.DetectionRun.id > cursor.last_run_id)
        .order_by(t.DetectionRun.id)
        .limit(BATCH_RUNS)
    ).all()
    if not runs:
        return result
    rules = session.scalars(
        select(t.AlertRule).where(
            t.AlertRule.model_id == model.id,
            t.AlertRule.enabled.is_(True),
            t.AlertRule.kind != "no_data",
        )
    ).all()
    book = AlertBook(session, model, settings)
    for run, version in runs:
        applicable = [r for r in rules if r.version in (None, version)]
        needs_history = any(
            r.kind == "performance" and r.params.get("baseline") is None for r in applicable
        )
        view = _view(session, run, model, needs_history)
        for rule in applicable:
            for observation in observe(rule.kind, rule.params, view):
                book.apply(rule, version, observation, run.id, now)
        cursor.last_run_id = run.id
        result.runs += 1
    result.transitions = book.transitions
    return result


def evaluate_runs(
    database: Database, settings: AlertingSettings, now: datetime
) -> EvaluationResult:
    """Evaluate every model's runs stored since its cursor; one transaction per model."""
    total = EvaluationResult()
    with database.read() as session:
        model_ids = list(session.scalars(select(t.Model.id).order_by(t.Model.id)))
    for model_id in model_ids:
        with database.write() as session:
            model = session.get(t.Model, model_id)
            if model is None:
                continue  # deleted meanwhile
            part = _evaluate_model(session, model, settings, now)
        total.runs += part.runs
        total.transitions += part.transitions
    return total


def evaluate_no_data(database: Database, settings: AlertingSettings, now: datetime) -> int:
    """The time-based rule: a model whose newest event is older than the rule's minutes.

    A model that never received an event is not "silent": nothing was ever expected of it.
    """
    transitions = 0
    with database.write() as session:
        rules = session.execute(
            select(t.AlertRule, t.Model)
            .join(t.Model, t.Model.id == t.AlertRule.model_id)
            .where(t.AlertRule.kind == "no_data", t.AlertRule.enabled.is_(True))
        ).all()
        for rule, model in rules:
            last = session.scalar(
                select(t.PredictionEvent.received_at)
                .where(t.PredictionEvent.model_id == model.id)
                .order_by(t.PredictionEvent.id.desc())
                .limit(1)
            )
            if last is None:
                continue
            minutes = float(rule.params.get("minutes") or settings.no_data_minutes)
            silent = now - last > timedelta(minutes=minutes)
            summary = (
                f"no events for {(now - last).total_seconds() / 60:.0f} minutes"
                if silent
                else "events arriving"
            )
            observation = Observation(
                None,
                silent,
                (now - last).total_seconds(),
                summary,
                {"last_event_at": last.isoformat()},
            )
            book = AlertBook(session, model, settings)
            book.apply(rule, rule.version or "*", observation, None, now)
            transitions += book.transitions
    return transitions
