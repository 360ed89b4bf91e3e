"""An endpoint's deliveries: the history with every attempt, test messages and redelivery."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.webhooks.endpoints import find_endpoint
from alerting.webhooks.outbox import PENDING, enqueue
from alerting.webhooks.records import AttemptRecord, DeliveryRecord
from driftline.core.errors import ConflictError, NotFoundError
from driftline.core.storage.tables import WebhookAttempt, WebhookDelivery, WebhookEndpoint

__all__ = ["list_deliveries", "probe_body", "redeliver", "send_test"]

_ZERO_TIME = "0001-01-01T00:00:00Z"  # Alertmanager's "not ended"


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def probe_body(endpoint: WebhookEndpoint, now: datetime) -> bytes:
    """A harmless message in the endpoint's payload format, to check the receiver."""
    summary = "Test message from Driftline: the endpoint is reachable and the signature verifies."
    body: dict[str, Any]
    if endpoint.payload_format == "alertmanager":
        labels = {"alertname": "DriftlineWebhookTest", "severity": "info"}
        fingerprint = hashlib.sha256(f"test:{endpoint.id}".encode()).hexdigest()[:16]
        body = {
            "version": "4",
            "groupKey": '{}:{alertname="DriftlineWebhookTest"}',
            "truncatedAlerts": 0,
            "status": "firing",
            "receiver": endpoint.name,
            "groupLabels": {"alertname": "DriftlineWebhookTest"},
            "commonLabels": labels,
            "commonAnnotations": {"summary": summary},
            "externalURL": "",
            "alerts": [
                {
                    "status": "firing",
                    "labels": labels,
                    "annotations": {"summary": summary},
                    "startsAt": _iso(now),
                    "endsAt": _ZERO_TIME,
                    "generatorURL": "",
                    "fingerprint": fingerprint,
                }
            ],
        }
    else:
        body = {"type": "webhook.test", "status": "test", "endpoint": endpoint.name}
        body |= {"summary": summary, "sent_at": _iso(now)}
    return json.dumps(body, separators=(",", ":")).encode()


def _record(delivery: WebhookDelivery, attempts: list[WebhookAttempt]) -> DeliveryRecord:
    return DeliveryRecord(
        id=delivery.id,
        message_id=delivery.message_id,
        event=delivery.event,
        status=delivery.status,
        group_key=delivery.group_key,
        model_id=delivery.model_id,
        scheduled_attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at,
        created_at=delivery.created_at,
        delivered_at=delivery.delivered_at,
        last_error=delivery.last_error,
        attempts=[
            AttemptRecord(
                attempted_at=a.attempted_at,
                status_code=a.status_code,
                latency_s=a.latency_s,
                error=a.error,
            )
            for a in attempts
        ],
    )


def list_deliveries(
    session: Session,
    endpoint_id: int,
    *,
    limit: int = 50,
    before: int | None = None,
    status: str | None = None,
) -> list[DeliveryRecord]:
    """Newest first, each with all its attempts; ``before`` (a delivery id) pages back."""
    find_endpoint(session, endpoint_id)
    query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
    if before is not None:
        query = query.where(WebhookDelivery.id < before)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    deliveries = list(session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(limit)))
    by_delivery: dict[int, list[WebhookAttempt]] = {d.id: [] for d in deliveries}
    if deliveries:
        rows = session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_(by_delivery))
            .order_by(WebhookAttempt.id)
        )
        for attempt in rows:
            by_delivery[attempt.delivery_id].append(attempt)
    return [_record(d, by_delivery[d.id]) for d in deliveries]


def _find_delivery(session: Session, endpoint_id: int, delivery_id: int) -> WebhookDelivery:
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.endpoint_id != endpoint_id:
        raise NotFoundError(f"delivery {delivery_id} of webhook {endpoint_id} does not exist")
    return delivery


def _attempts(session: Session, delivery_id: int) -> list[WebhookAttempt]:
    query = select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery_id)
    return list(session.scalars(query.order_by(WebhookAttempt.id)))


def send_test(session: Session, endpoint_id: int, *, now: datetime) -> DeliveryRecord:
    """Queue a test message (event ``test``) for the endpoint, whatever its filters."""
    endpoint = find_endpoint(session, endpoint_id)
    if not endpoint.enabled:
        raise ConflictError(f"webhook {endpoint_id} is disabled; enable it first")
    body = probe_body(endpoint, now)
    delivery = enqueue(
        session, endpoint, event="test", body=body, group_key=None, model_id=None, now=now
    )
    return _record(delivery, [])


def redeliver(
    session: Session, endpoint_id: int, delivery_id: int, *, now: datetime
) -> DeliveryRecord:
    """Send the message again with the same ``webhook-id`` and a fresh retry schedule (its
    past attempts stay in the history)."""
    endpoint = find_endpoint(session, endpoint_id)
    delivery = _find_delivery(session, endpoint_id, delivery_id)
    if not endpoint.enabled:
        raise ConflictError(f"webhook {endpoint_id} is disabled; enable it first")
    delivery.status, delivery.attempts, delivery.next_attempt_at = PENDING, 0, now
    delivery.leased_until = delivery.delivered_at = delivery.last_error = None
    session.flush()
    return _record(delivery, _attempts(session, delivery.id))
