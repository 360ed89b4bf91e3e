"""Builders shared by the webhook tests: settings, an endpoint, a queued message, reads."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime
from typing import Any

from sqlalchemy import select

from alerting.webhooks.endpoints import create_endpoint
from alerting.webhooks.outbox import enqueue
from alerting.webhooks.records import EndpointSpec
from alerting.webhooks.secrets import load_box
from driftline.core.settings import DatabaseSettings, Settings
from driftline.core.storage import Database
from driftline.core.storage.tables import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from driftline.core.webhook_settings import WebhookSettings

__all__ = [
    "TEST_SECRET_KEY",
    "attempts",
    "delivery",
    "endpoint_row",
    "hmac_ok",
    "make_endpoint",
    "queue",
    "webhook_settings",
]

# A fixed Fernet key (32 zero-free bytes, url-safe base64) so tests never write a key file.
TEST_SECRET_KEY = base64.urlsafe_b64encode(bytes(range(1, 33))).decode()


def webhook_settings(database_url: str, **webhooks: Any) -> Settings:
    webhooks.setdefault("allowed_hosts", ["127.0.0.1"])
    return Settings(
        database=DatabaseSettings(url=database_url),
        secret_key=TEST_SECRET_KEY,
        webhooks=WebhookSettings(**webhooks),
    )


def make_endpoint(database: Database, settings: Settings, url: str, **spec: Any) -> tuple[int, str]:
    """A stored endpoint's id and its signing secret."""
    with database.write() as session:
        created = create_endpoint(
            session,
            EndpointSpec(url=url, **spec),
            box=load_box(settings),
            allowed_hosts=settings.webhooks.allowed_hosts,
            now=datetime.now().astimezone(),
        )
    return created.id, created.secret


def queue(database: Database, endpoint_id: int, now: datetime, body: bytes = b"{}") -> str:
    """Queue one firing message; its webhook-id."""
    with database.write() as session:
        endpoint = session.get(WebhookEndpoint, endpoint_id)
        assert endpoint is not None
        row = enqueue(
            session, endpoint, event="firing", body=body, group_key="g", model_id=None, now=now
        )
        return row.message_id


def delivery(database: Database, message_id: str) -> WebhookDelivery:
    with database.read() as session:
        row = session.scalar(
            select(WebhookDelivery).where(WebhookDelivery.message_id == message_id)
        )
        assert row is not None
        return row


def attempts(database: Database, message_id: str) -> list[WebhookAttempt]:
    with database.read() as session:
        query = (
            select(WebhookAttempt)
            .join(WebhookDelivery, WebhookDelivery.id == WebhookAttempt.delivery_id)
            .where(WebhookDelivery.message_id == message_id)
            .order_by(WebhookAttempt.id)
        )
        return list(session.scalars(query))


def endpoint_row(database: Database, endpoint_id: int) -> WebhookEndpoint:
    with database.read() as session:
        row = session.get(WebhookEndpoint, endpoint_id)
        assert row is not None
        return row


def hmac_ok(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """An independent check of the signature, written from the specification."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    content = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    return any(
        hmac.compare_digest(sig, f"v1,{expected}") for sig in headers["webhook-signature"].split()
    )
