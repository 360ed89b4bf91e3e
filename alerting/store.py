"""Applying one observation to its stored alert: state change, history, and the notification it
owes (marked in the same transaction, so a state change can never lose its notification)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.conditions import Observation
from alerting.lifecycle import Step
from driftline.core.settings import AlertingSettings
from driftline.core.storage import tables as t

__all__ = ["AlertBook", "fingerprint", "group_key"]


def fingerprint(model: str, version: str, rule: str, subject: str | None) -> str:
    """Stable across restarts and rule edits: 16 hex digits, like Alertmanager's.

    >>> fingerprint("churn", "v1", "dataset_drift", None)
    '485ba782723f3bd2'
    """
    key = "\x1f".join((model, version, rule, subject or ""))
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def group_key(model: str, rule: str) -> str:
    return f"{model}/{rule}"


class AlertBook:
    """The alerts of one model within one transaction, looked up by fingerprint."""

    def __init__(self, session: Session, model: t.Model, settings: AlertingSettings) -> None:
        self.session = session
        self.model = model
        self.settings = settings
        rows = session.scalars(select(t.Alert).where(t.Alert.model_id == model.id))
        self.alerts = {a.fingerprint: a for a in rows}
        self.transitions = 0

    def apply(
        self,
        rule: t.AlertRule,
        version: str,
        observation: Observation,
        run_id: int | None,
        now: datetime,
    ) -> None:
        fp = fingerprint(self.model.name, version, rule.name, observation.subject)
        alert = self.alerts.get(fp)
        if alert is None:
            if not observation.active:
                return  # nothing to clear, nothing to remember
            alert = t.Alert(
                fingerprint=fp,
                rule_id=rule.id,
                model_id=self.model.id,
                version=version,
                subject=observation.subject,
                state="inactive",
                recent=[],
                clear_streak=0,
            )
            self.session.add(alert)
            self.alerts[fp] = alert
        before = Step(alert.state, tuple(alert.recent), alert.clear_streak)  # type: ignore[arg-type]
        after = before.next(
            observation.active,
            for_runs=rule.for_runs,
            of_runs=rule.of_runs,
            clear_runs=rule.clear_runs,
        )
        alert.state, alert.recent, alert.clear_streak = (
            after.state,
            list(after.recent),
            after.clear_streak,
        )
        alert.severity, alert.labels, alert.rule_id = rule.severity, dict(rule.labels), rule.id
        alert.value, alert.summary, alert.details = (
            observation.value,
            observation.summary,
            observation.details,
        )
        alert.last_run_id = run_id if run_id is not None else alert.last_run_id
        alert.updated_at = now
        if after.state == before.state:
            return
        self.transitions += 1
        if after.state == "pending":
            alert.pending_since = now
        elif after.state == "firing":
            alert.firing_since, alert.resolved_at = now, None
        elif after.state == "resolved":
            alert.resolved_at, alert.acked_at, alert.acked_by = now, None, None
        self.session.flush()  # the alert needs its id for the history row
        self.session.add(
            t.AlertTransition(
                alert_id=alert.id,
                from_state=before.state,
                to_state=after.state,
                at=now,
                run_id=run_id,
                value=observation.value,
            )
        )
        if after.notifies:
            self._mark_due(rule, now)

    def _mark_due(self, rule: t.AlertRule, now: datetime) -> None:
        """Alertmanager timing: a group's first notification waits ``group_wait`` to batch
        alerts; changes to a notified group wait until ``group_interval`` after the last one."""
        key = group_key(self.model.name, rule.name)
        group = self.session.get(t.NotificationGroup, key)
        if group is None:
            group = t.NotificationGroup(group_key=key, model_id=self.model.id, rule_id=rule.id)
            self.session.add(group)
        if group.last_notified_at is None or not group.last_digest:
            due = now + timedelta(seconds=self.settings.group_wait_s)
        else:
            due = max(
                now, group.last_notified_at + timedelta(seconds=self.settings.group_interval_s)
            )
        group.due_at = due if group.due_at is None else min(group.due_at, due)
