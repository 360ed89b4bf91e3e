"""Notification bodies: Driftline's own JSON (default) and Alertmanager's webhook format
(``version: "4"``), so receivers written for Alertmanager work unchanged. Field lists are in
``docs/webhooks.md``."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from driftline.core.storage import tables as t

__all__ = ["GroupSnapshot", "Links", "render"]


@dataclass(frozen=True)
class Links:
    api_base: str
    grafana_url: str | None = None

    def of(self, model: str, version: str, run_id: int | None) -> dict[str, str | None]:
        base = self.api_base.rstrip("/")
        dashboard = None
        if self.grafana_url:
            query = urlencode({"var-model": model, "var-version": version})
            dashboard = f"{self.grafana_url.rstrip('/')}/d/driftline-model-detail?{query}"
        return {
            "run": f"{base}/v1/runs/{run_id}" if run_id else None,
            "report": f"{base}/v1/runs/{run_id}/report" if run_id else None,
            "alerts": f"{base}/v1/alerts?model={quote(model)}",
            "dashboard": dashboard,
        }


@dataclass(frozen=True)
class GroupSnapshot:
    """A group's alerts as one notification describes them."""

    group_key: str
    status: str  # firing | resolved
    model: str
    rule: t.AlertRule
    alerts: Sequence[t.Alert]
    run: t.DetectionRun | None  # the newest run among the alerts'

    @property
    def version(self) -> str:
        firing = [a for a in self.alerts if a.state == "firing"]
        return (firing or list(self.alerts))[0].version


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _labels(snap: GroupSnapshot, alert: t.Alert) -> dict[str, str]:
    labels = {
        "alertname": snap.rule.name,
        "model": snap.model,
        "version": alert.version,
        "severity": alert.severity,
        "rule_kind": snap.rule.kind,
        **alert.labels,
    }
    if alert.subject:
        labels["subject"] = alert.subject
    return labels


def _driftline(snap: GroupSnapshot, links: Links) -> dict[str, Any]:
    run = snap.run
    drifted: list[dict[str, Any]] = []
    for alert in snap.alerts:
        if alert.state == "firing":
            drifted.extend(alert.details.get("drifted_features") or [])
    unique = {d["feature"]: d for d in drifted}
    return {
        "type": f"alert.{snap.status}",
        "status": snap.status,
        "group_key": snap.group_key,
        "model": snap.model,
        "version": snap.version,
        "rule": snap.rule.name,
        "rule_kind": snap.rule.kind,
        "severity": snap.rule.severity,
        "run": None
        if run is None
        else {
            "id": run.id,
            "window_start": _iso(run.window_start),
            "window_end": _iso(run.window_end),
            "reference_hash": run.reference_hash,
            "n_events": run.n_events,
            "drift_share": run.drift_share,
        },
        "drifted_features": list(unique.values()),
        "alerts": [
            {
                "fingerprint": a.fingerprint,
                "status": "firing" if a.state == "firing" else "resolved",
                "subject": a.subject,
                "severity": a.severity,
                "value": a.value,
                "summary": a.summary,
                "details": a.details,
                "labels": _labels(snap, a),
                "starts_at": _iso(a.firing_since),
                "ends_at": _iso(a.resolved_at) if a.state != "firing" else None,
                "run_id": a.last_run_id,
            }
            for a in snap.alerts
        ],
        "links": links.of(snap.model, snap.version, run.id if run else None),
    }


def _alertmanager(snap: GroupSnapshot, links: Links, receiver: str) -> dict[str, Any]:
    alerts: list[dict[str, Any]] = []
    all_labels: list[dict[str, str]] = []
    for a in snap.alerts:
        url = links.of(snap.model, a.version, a.last_run_id)
        annotations = {"summary": a.summary}
        annotations.update({f"{k}_url": v for k, v in url.items() if v})
        labels = _labels(snap, a)
        all_labels.append(labels)
        alerts.append(
            {
                "status": "firing" if a.state == "firing" else "resolved",
                "labels": labels,
                "annotations": annotations,
                "startsAt": _iso(a.firing_since) or "0001-01-01T00:00:00Z",
                # Alertmanager's zero time for "not ended yet".
                "endsAt": _iso(a.resolved_at) if a.state != "firing" else "0001-01-01T00:00:00Z",
                "generatorURL": url["run"] or url["alerts"],
                "fingerprint": a.fingerprint,
            }
        )
    common = {k: v for k, v in all_labels[0].items() if all(x.get(k) == v for x in all_labels)}
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{snap.rule.name}", model="{snap.model}"}}',
        "truncatedAlerts": 0,
        "status": snap.status,
        "receiver": receiver,
        "groupLabels": {"alertname": snap.rule.name, "model": snap.model},
        "commonLabels": common,
        "commonAnnotations": {},
        "externalURL": links.api_base,
        "alerts": alerts,
    }


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity: such statistics are sent as null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def render(fmt: str, snap: GroupSnapshot, links: Links, receiver: str) -> bytes:
    """The body for an endpoint of payload format ``fmt`` (``driftline`` or ``alertmanager``)."""
    body = (
        _alertmanager(snap, links, receiver) if fmt == "alertmanager" else _driftline(snap, links)
    )
    return json.dumps(_finite(body), separators=(",", ":"), allow_nan=False).encode()
