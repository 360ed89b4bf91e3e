"""Alerts as the API shows them: listing with filters, one alert with its history, and acks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.muting import alert_labels, is_inhibited
from alerting.silences import active_silences, is_silenced
from driftline.core.errors import NotFoundError
from driftline.core.storage import tables as t

__all__ = ["AckRequest", "AlertRecord", "Transition", "ack_alert", "get_alert", "list_alerts"]


class Transition(BaseModel):
    from_state: str
    to_state: str
    at: datetime
    run_id: int | None
    value: float | None


class AlertRecord(BaseModel):
    id: int
    fingerprint: str
    model: str
    version: str
    rule: str
    rule_kind: str
    subject: str | None
    state: str
    severity: str
    labels: dict[str, str]
    value: float | None
    summary: str
    details: dict[str, Any]
    last_run_id: int | None
    pending_since: datetime | None
    firing_since: datetime | None
    resolved_at: datetime | None
    acked_at: datetime | None
    acked_by: str | None
    silenced: bool = Field(description="A silence or the model's firing 'no data' alert mutes it.")
    updated_at: datetime
    history: list[Transition] | None = None


class AckRequest(BaseModel):
    by: str = Field("api", min_length=1, max_length=128)


def _records(
    session: Session, rows: list[tuple[t.Alert, t.AlertRule, str]], now: datetime
) -> list[AlertRecord]:
    silences = active_silences(session, now)
    inhibited: dict[int, bool] = {}
    out = []
    for alert, rule, model in rows:
        if rule.id not in inhibited:
            inhibited[rule.id] = is_inhibited(session, rule)
        muted = inhibited[rule.id] or is_silenced(alert_labels(alert, model, rule.name), silences)
        out.append(
            AlertRecord(
                id=alert.id,
                fingerprint=alert.fingerprint,
                model=model,
                version=alert.version,
                rule=rule.name,
                rule_kind=rule.kind,
                subject=alert.subject,
                state=alert.state,
                severity=alert.severity,
                labels=alert.labels,
                value=alert.value,
                summary=alert.summary,
                details=alert.details,
                last_run_id=alert.last_run_id,
                pending_since=alert.pending_since,
                firing_since=alert.firing_since,
                resolved_at=alert.resolved_at,
                acked_at=alert.acked_at,
                acked_by=alert.acked_by,
                silenced=muted,
                updated_at=alert.updated_at,
            )
        )
    return out


def _query() -> Any:
    return (
        select(t.Alert, t.AlertRule, t.Model.name)
        .join(t.AlertRule, t.AlertRule.id == t.Alert.rule_id)
        .join(t.Model, t.Model.id == t.Alert.model_id)
    )


def list_alerts(
    session: Session,
    now: datetime,
    *,
    state: str | None = None,
    model: str | None = None,
    severity: str | None = None,
    limit: int = 100,
) -> list[AlertRecord]:
    """Newest change first."""
    query = _query().order_by(t.Alert.updated_at.desc(), t.Alert.id.desc()).limit(limit)
    if state is not None:
        query = query.where(t.Alert.state == state)
    if model is not None:
        query = query.where(t.Model.name == model)
    if severity is not None:
        query = query.where(t.Alert.severity == severity)
    return _records(session, [tuple(r) for r in session.execute(query)], now)


def get_alert(session: Session, alert_id: int, now: datetime) -> AlertRecord:
    row = session.execute(_query().where(t.Alert.id == alert_id)).first()
    if row is None:
        raise NotFoundError(f"alert {alert_id} does not exist")
    record = _records(session, [tuple(row)], now)[0]
    history = session.scalars(
        select(t.AlertTransition)
        .where(t.AlertTransition.alert_id == alert_id)
        .order_by(t.AlertTransition.id.desc())
        .limit(200)
    )
    record.history = [
        Transition(
            from_state=h.from_state, to_state=h.to_state, at=h.at, run_id=h.run_id, value=h.value
        )
        for h in history
    ]
    return record


def ack_alert(session: Session, alert_id: int, by: str, now: datetime) -> AlertRecord:
    """Acknowledged: no repeat notifications until it resolves (state is unchanged)."""
    alert = session.get(t.Alert, alert_id)
    if alert is None:
        raise NotFoundError(f"alert {alert_id} does not exist")
    alert.acked_at, alert.acked_by = now, by
    session.flush()
    return get_alert(session, alert_id, now)
