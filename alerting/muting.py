"""Muting: which alerts are silenced or inhibited (notifications only; states still change)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.rules import DRIFT_KINDS
from driftline.core.storage import tables as t

__all__ = ["alert_labels", "is_inhibited"]


def alert_labels(alert: t.Alert, model: str, rule: str) -> dict[str, str]:
    """What silences match against."""
    return {
        "model": model,
        "version": alert.version,
        "rule": rule,
        "severity": alert.severity,
        "subject": alert.subject or "",
        "fingerprint": alert.fingerprint,
    }


def is_inhibited(session: Session, rule: t.AlertRule) -> bool:
    """Drift alerts mean nothing while their model receives no data."""
    if rule.kind not in DRIFT_KINDS:
        return False
    no_data = session.scalar(
        select(t.Alert.id)
        .join(t.AlertRule, t.AlertRule.id == t.Alert.rule_id)
        .where(
            t.Alert.model_id == rule.model_id,
            t.AlertRule.kind == "no_data",
            t.Alert.state == "firing",
        )
        .limit(1)
    )
    return no_data is not None
