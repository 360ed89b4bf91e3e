"""Tables of alerting: rules, alerts and their history, silences, notification groups,
webhook endpoints, deliveries and attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from driftline.core.storage.base import Base, BigId, Json, Timestamp

__all__ = [
    "AlertRule",
    "Alert",
    "AlertTransition",
    "AlertCursor",
    "Silence",
    "NotificationGroup",
    "WebhookEndpoint",
    "WebhookDelivery",
    "WebhookAttempt",
]


class AlertRule(Base):
    """A condition on a model's runs (``alerting.rules``), created with defaults per model."""

    __tablename__ = "alert_rules"
    __table_args__ = (UniqueConstraint("model_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"), index=True)
    version: Mapped[str | None] = mapped_column(String(64))  # null: every version
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))  # info | warning | critical
    params: Mapped[dict[str, Any]] = mapped_column(Json)
    # Fire when the condition held in ``for_runs`` of the last ``of_runs`` evaluations; resolve
    # after ``clear_runs`` consecutive clear ones (hysteresis both ways).
    for_runs: Mapped[int] = mapped_column(Integer)
    of_runs: Mapped[int] = mapped_column(Integer)
    clear_runs: Mapped[int] = mapped_column(Integer)
    labels: Mapped[dict[str, str]] = mapped_column(Json)
    enabled: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    updated_at: Mapped[datetime] = mapped_column(Timestamp)


class Alert(Base):
    """One alert per fingerprint (rule, model, version, subject); its history is in
    ``alert_transitions``. States: inactive | pending | firing | resolved."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("alert_rules.id", ondelete="CASCADE"))
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"), index=True)
    version: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(400))  # feature or segment, if any
    state: Mapped[str] = mapped_column(String(16), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    labels: Mapped[dict[str, str]] = mapped_column(Json)
    value: Mapped[float | None] = mapped_column(Float)
    summary: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(Json)
    recent: Mapped[list[bool]] = mapped_column(Json)  # newest last, at most of_runs long
    clear_streak: Mapped[int] = mapped_column(Integer)
    last_run_id: Mapped[int | None] = mapped_column(BigInteger)
    pending_since: Mapped[datetime | None] = mapped_column(Timestamp)
    firing_since: Mapped[datetime | None] = mapped_column(Timestamp)
    resolved_at: Mapped[datetime | None] = mapped_column(Timestamp)
    acked_at: Mapped[datetime | None] = mapped_column(Timestamp)
    acked_by: Mapped[str | None] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column(Timestamp)


class AlertTransition(Base):
    __tablename__ = "alert_transitions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    alert_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("alerts.id", ondelete="CASCADE"), index=True
    )
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(Timestamp)
    run_id: Mapped[int | None] = mapped_column(BigInteger)
    value: Mapped[float | None] = mapped_column(Float)


class AlertCursor(Base):
    """The newest run of a model whose outcome the alert rules have seen (evaluation resumes
    after it, so a crash between storing a run and evaluating it loses nothing)."""

    __tablename__ = "alert_cursors"

    model_id: Mapped[int] = mapped_column(
        ForeignKey("models.id", ondelete="CASCADE"), primary_key=True
    )
    last_run_id: Mapped[int] = mapped_column(BigInteger)


class Silence(Base):
    """Mutes notifications of alerts matching every given matcher until ``ends_at``."""

    __tablename__ = "silences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    matchers: Mapped[dict[str, str]] = mapped_column(
        Json
    )  # model, version, rule, severity, subject
    comment: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(128))
    starts_at: Mapped[datetime] = mapped_column(Timestamp)
    ends_at: Mapped[datetime] = mapped_column(Timestamp, index=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp)


class NotificationGroup(Base):
    """Alertmanager-style grouping per (model, rule). ``due_at`` set: a state change awaits its
    notification (written in the same transaction as the change, so it cannot be lost)."""

    __tablename__ = "notification_groups"

    group_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"))
    rule_id: Mapped[int] = mapped_column(ForeignKey("alert_rules.id", ondelete="CASCADE"))
    due_at: Mapped[datetime | None] = mapped_column(Timestamp, index=True)
    last_notified_at: Mapped[datetime | None] = mapped_column(Timestamp)
    # Fingerprints and states last notified, so an unchanged group waits for the repeat interval.
    last_digest: Mapped[str | None] = mapped_column(String(64))


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    url: Mapped[str] = mapped_column(Text)
    models: Mapped[list[str] | None] = mapped_column(Json)  # null: every model
    severities: Mapped[list[str] | None] = mapped_column(Json)  # null: every severity
    events: Mapped[list[str]] = mapped_column(Json)  # firing, resolved
    payload_format: Mapped[str] = mapped_column(String(16))  # driftline | alertmanager
    # Fernet tokens (alerting.webhooks.secrets): the signing secret and the custom headers.
    secret_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    headers_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    # A retraining-system preset (alerting.webhooks.presets): its options, and its
    # credentials as a Fernet token. Null: a plain webhook.
    preset: Mapped[dict[str, Any] | None] = mapped_column(Json)
    preset_secrets_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    enabled: Mapped[bool] = mapped_column(Boolean)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    min_retrain_interval_s: Mapped[float] = mapped_column(Float)
    consecutive_failures: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    updated_at: Mapped[datetime] = mapped_column(Timestamp)


class WebhookDelivery(Base):
    """The outbox: one message to one endpoint. ``message_id`` is the ``webhook-id`` header,
    stable across retries and redeliveries. Status: pending | delivered | failed | suppressed."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index(None, "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    group_key: Mapped[str | None] = mapped_column(String(200))
    model_id: Mapped[int | None] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(16))  # firing | resolved | test
    status: Mapped[str] = mapped_column(String(16))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(Timestamp)
    leased_until: Mapped[datetime | None] = mapped_column(Timestamp)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    delivered_at: Mapped[datetime | None] = mapped_column(Timestamp)
    last_error: Mapped[str | None] = mapped_column(Text)


class WebhookAttempt(Base):
    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    attempted_at: Mapped[datetime] = mapped_column(Timestamp)
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_s: Mapped[float] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
