"""The outbox: webhook deliveries written in the caller's transaction, sent later.

Writing the delivery row in the same transaction as the alert state change that causes it means
neither can exist without the other: a crash before the commit loses both, after it the
dispatcher (:mod:`alerting.webhooks.dispatcher`) finds the row and sends it. Status of a
delivery: ``pending`` (to send), ``delivered`` (a 2xx answer), ``failed`` (gave up, or its
endpoint was disabled), ``suppressed`` (written for the record, never sent).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from driftline.core.storage.tables import WebhookDelivery, WebhookEndpoint

__all__ = ["PENDING", "STATUSES", "disable_endpoint", "enqueue", "new_message_id"]

PENDING = "pending"
STATUSES = ("pending", "delivered", "failed", "suppressed")


def new_message_id() -> str:
    """A ``webhook-id``: no dots (they delimit the signed content), unique per message."""
    return "msg_" + uuid.uuid4().hex


def enqueue(
    session: Session,
    endpoint: WebhookEndpoint,
    *,
    event: str,
    body: bytes,
    group_key: str | None,
    model_id: int | None,
    now: datetime,
    status: str = PENDING,
    reason: str | None = None,
) -> WebhookDelivery:
    """Add one message for ``endpoint``, due at once (``status="suppressed"``: never sent,
    ``reason`` says why). Nothing is committed here: the caller's transaction decides."""
    if status not in (PENDING, "suppressed"):
        raise ValueError(f"a new delivery is pending or suppressed, not {status!r}")
    delivery = WebhookDelivery(
        endpoint_id=endpoint.id,
        message_id=new_message_id(),
        group_key=group_key,
        model_id=model_id,
        event=event,
        status=status,
        body=body,
        attempts=0,
        next_attempt_at=now,
        leased_until=None,
        created_at=now,
        delivered_at=None,
        last_error=reason,
    )
    session.add(delivery)
    session.flush()
    return delivery


def disable_endpoint(
    session: Session, endpoint: WebhookEndpoint, *, reason: str, now: datetime
) -> int:
    """Disable ``endpoint`` and fail its pending deliveries (they can be redelivered once it is
    enabled again); the number failed."""
    endpoint.enabled = False
    endpoint.disabled_reason = reason
    endpoint.updated_at = now
    result = session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status == PENDING)
        .values(status="failed", leased_until=None, last_error=f"endpoint disabled: {reason}")
        .execution_options(synchronize_session="fetch")
    )
    return int(getattr(result, "rowcount", 0) or 0)
