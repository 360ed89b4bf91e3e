"""Turning due notification groups into webhook deliveries (the outbox).

A group (one model and rule) is due when an alert in it changed to firing or resolved
(``alerting.store`` marks it in the same transaction as the change), or when it still fires and
the repeat interval has passed. Flushing a group writes one delivery per interested endpoint in
one transaction, so nothing is lost between deciding to notify and sending.

Muted: silenced alerts; drift alerts of a model whose "no data" alert fires (inhibition); repeats
of acknowledged alerts. The retraining guardrail suppresses a firing notification to an endpoint
that got one for the same model less than its minimum interval ago (stored as ``suppressed``,
with the reason, so the decision is visible).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from alerting.muting import alert_labels, is_inhibited
from alerting.payloads import GroupSnapshot, Links, render
from alerting.silences import active_silences, is_silenced
from alerting.webhooks.outbox import enqueue
from driftline.core.settings import Settings
from driftline.core.storage import Database
from driftline.core.storage import tables as t

__all__ = ["flush_due"]


def _digest(alerts: list[t.Alert]) -> str:
    firing = sorted(a.fingerprint for a in alerts if a.state == "firing")
    return hashlib.sha256(",".join(firing).encode()).hexdigest()[:32] if firing else ""


def _endpoints(session: Session, model: str, severity: str, event: str) -> list[t.WebhookEndpoint]:
    rows = session.scalars(select(t.WebhookEndpoint).where(t.WebhookEndpoint.enabled.is_(True)))
    return [
        e
        for e in rows
        if (e.models is None or model in e.models)
        and (e.severities is None or severity in e.severities)
        and event in e.events
    ]


def _recently_triggered(
    session: Session, endpoint: t.WebhookEndpoint, model_id: int, now: datetime
) -> datetime | None:
    since = now - timedelta(seconds=endpoint.min_retrain_interval_s)
    return session.scalar(
        select(func.max(t.WebhookDelivery.created_at)).where(
            t.WebhookDelivery.endpoint_id == endpoint.id,
            t.WebhookDelivery.model_id == model_id,
            t.WebhookDelivery.event == "firing",
            t.WebhookDelivery.status.in_(("pending", "delivered")),
            t.WebhookDelivery.created_at > since,
        )
    )


def _flush_group(
    session: Session, group: t.NotificationGroup, settings: Settings, now: datetime
) -> int:
    repeat = group.due_at is None
    group.due_at = None
    rule = session.get(t.AlertRule, group.rule_id)
    model = session.get(t.Model, group.model_id)
    if rule is None or model is None:
        return 0
    since = group.last_notified_at
    candidates = session.scalars(
        select(t.Alert)
        .where(
            t.Alert.rule_id == rule.id,
            or_(
                t.Alert.state == "firing",
                and_(
                    t.Alert.state == "resolved",
                    t.Alert.resolved_at > since if since else t.Alert.resolved_at.is_not(None),
                ),
            ),
        )
        .order_by(t.Alert.id)
    ).all()
    silences = active_silences(session, now)
    inhibited = is_inhibited(session, rule)
    alerts = [
        a
        for a in candidates
        if not inhibited and not is_silenced(alert_labels(a, model.name, rule.name), silences)
    ]
    if repeat:
        alerts = [a for a in alerts if a.state == "firing" and a.acked_at is None]
    digest = _digest(alerts)
    if not alerts and any(a.state == "firing" for a in candidates) and not repeat:
        # Firing but muted: look again later, so it is notified once the silence expires.
        group.due_at = now + timedelta(seconds=settings.alerting.group_interval_s)
        return 0
    if not alerts or (not repeat and digest == group.last_digest and digest):
        return 0
    status = "firing" if digest else "resolved"
    run_ids = [a.last_run_id for a in alerts if a.last_run_id is not None]
    run = session.get(t.DetectionRun, max(run_ids)) if run_ids else None
    snap = GroupSnapshot(group.group_key, status, model.name, rule, alerts, run)
    api_base = settings.api.public_url or f"http://{settings.api.host}:{settings.api.port}"
    links = Links(api_base, settings.alerting.grafana_url)
    sent = 0
    for endpoint in _endpoints(session, model.name, rule.severity, status):
        body = render(endpoint.payload_format, snap, links, endpoint.name)
        last = _recently_triggered(session, endpoint, model.id, now) if status == "firing" else None
        reason = None
        if last is not None:
            reason = (
                f"retraining guardrail: model {model.name} triggered this endpoint at "
                f"{last.isoformat()}, less than {endpoint.min_retrain_interval_s:.0f} s ago"
            )
        enqueue(
            session,
            endpoint,
            event=status,
            body=body,
            group_key=group.group_key,
            model_id=model.id,
            now=now,
            status="suppressed" if reason else "pending",
            reason=reason,
        )
        sent += 0 if reason else 1
    group.last_notified_at, group.last_digest = now, digest
    return sent


def flush_due(database: Database, settings: Settings, now: datetime) -> int:
    """Notify every due group; returns the number of deliveries queued for sending."""
    repeat_before = now - timedelta(seconds=settings.alerting.repeat_interval_s)
    with database.read() as session:
        keys = list(
            session.scalars(
                select(t.NotificationGroup.group_key).where(
                    or_(
                        t.NotificationGroup.due_at <= now,
                        and_(
                            t.NotificationGroup.due_at.is_(None),
                            t.NotificationGroup.last_digest != "",
                            t.NotificationGroup.last_notified_at <= repeat_before,
                        ),
                    )
                )
            )
        )
    queued = 0
    for key in keys:
        with database.write() as session:
            group = session.get(t.NotificationGroup, key, with_for_update=True)
            if group is None:
                continue
            # Re-check under the lock: another scheduler may have flushed it meanwhile.
            due = group.due_at is not None and group.due_at <= now
            repeat_due = (
                group.due_at is None
                and bool(group.last_digest)
                and group.last_notified_at is not None
                and group.last_notified_at <= repeat_before
            )
            if due or repeat_due:
                queued += _flush_group(session, group, settings, now)
    return queued
