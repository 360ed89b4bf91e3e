"""The ORM tables. Alembic migrations in ``migrations/versions`` create them; keep both in step
(``tests/test_migrations.py`` compares the two)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "Alert",
    "AlertCursor",
    "AlertRule",
    "AlertTransition",
    "ApiKey",
    "Base",
    "DeadLetter",
    "DetectionRun",
    "EventId",
    "FeatureResultRow",
    "InferenceLogMapping",
    "InferenceLogPending",
    "Label",
    "MlflowLink",
    "Model",
    "ModelVersion",
    "MonitorSettings",
    "PredictionEvent",
    "RawEventHorizon",
    "ReferenceDataset",
    "RunClaim",
    "RunReport",
    "Silence",
    "NotificationGroup",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]

# Named constraints so migrations can drop them on every backend.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSONB on PostgreSQL (indexable, compact), JSON text on SQLite.
Json = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
# SQLite only auto-increments INTEGER PRIMARY KEY, so big ids are INTEGER there.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both backends.

    SQLite has no timestamp type: values are stored as naive UTC text (which sorts correctly)
    and given back their UTC timezone on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Timestamp = UtcDateTime()


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Model(Base):
    __tablename__ = "models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    task: Mapped[str] = mapped_column(String(32))
    # [{"name": ..., "type": "numeric"|"categorical"|"boolean", "key": bool, "description": ...}]
    features: Mapped[list[dict[str, Any]]] = mapped_column(Json)
    prediction_type: Mapped[str] = mapped_column(String(16))
    label_type: Mapped[str] = mapped_column(String(16))
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    updated_at: Mapped[datetime] = mapped_column(Timestamp)


class ModelVersion(Base):
    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("model_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"), index=True)
    version: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(Timestamp)


class ReferenceDataset(Base):
    """A reference upload. Replacing a reference adds a row; old rows stay addressable by id."""

    __tablename__ = "reference_datasets"
    __table_args__ = (Index(None, "version_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"))
    content_hash: Mapped[str] = mapped_column(String(71))  # "sha256:" + 64 hex digits
    source_format: Mapped[str] = mapped_column(String(16))
    n_rows: Mapped[int] = mapped_column(Integer)
    columns: Mapped[list[str]] = mapped_column(Json)
    # The data as Parquet (zstd), so a run reads it back with its types intact.
    data: Mapped[bytes] = mapped_column(LargeBinary)
    # detectors.profile.ModelProfile, computed once at upload so no run recomputes it.
    profile: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(Timestamp)


class PredictionEvent(Base):
    """Raw events. On PostgreSQL the table is partitioned by day of ``event_time``
    (``partitions``): a partitioned table cannot have a unique index on ``event_id`` alone, so
    there ``event_ids`` keeps the ids unique and ``event_id`` has a plain index (for the label
    join). No foreign keys to the model and version: they cost as much server CPU as the
    insert itself, ingest checks both in its transaction, and ``delete_model`` deletes a
    model's events itself."""

    __tablename__ = "prediction_events"
    __table_args__ = (
        # "Events of model M version V with event time in [t0, t1)": one range scan.
        Index(None, "version_id", "event_time"),
        Index(None, "model_id", "id"),
        UniqueConstraint("event_id", info={"dialects": ("sqlite",)}).ddl_if(dialect="sqlite"),
        Index(None, "event_id", info={"dialects": ("postgresql",)}).ddl_if(dialect="postgresql"),
        # bulk.insert_new: which table keeps the ids unique, and the time that retention and
        # the partitions go by.
        {"info": {"id_registry": "event_ids", "time_column": "event_time"}},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(128))
    model_id: Mapped[int] = mapped_column(Integer)
    version_id: Mapped[int] = mapped_column(Integer)
    event_time: Mapped[datetime] = mapped_column(Timestamp)
    received_at: Mapped[datetime] = mapped_column(Timestamp)
    # Schema features only; a value of the wrong type is stored as null (missing).
    features: Mapped[dict[str, Any]] = mapped_column(Json)
    extra_features: Mapped[dict[str, Any] | None] = mapped_column(Json)
    type_violations: Mapped[list[str] | None] = mapped_column(Json)
    prediction: Mapped[Any] = mapped_column(Json)
    score: Mapped[Any] = mapped_column(Json, nullable=True)
    tags: Mapped[dict[str, str] | None] = mapped_column(Json)


class EventId(Base):
    """PostgreSQL only: every stored prediction's ``event_id`` (the partitioned
    ``prediction_events`` cannot keep them unique), with its event time, which finds the one
    partition that holds the event (``aggregates.pairs``)."""

    __tablename__ = "event_ids"
    # No index on event_time: retention deletes a dropped day's ids through that day's rows
    # (core.storage.partitions), which saves every insert an index entry.
    __table_args__ = {"info": {"dialects": ("postgresql",)}}

    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    event_time: Mapped[datetime] = mapped_column(Timestamp)


class RawEventHorizon(Base):
    """One row: retention has removed the raw events (and their ids) with an event time before
    ``forgotten_before``. A prediction older than that cannot be told from a re-delivery any
    more, so ingest refuses it (with its reason) instead of counting it in the aggregates again."""

    __tablename__ = "raw_event_horizon"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    forgotten_before: Mapped[datetime] = mapped_column(Timestamp)


class Label(Base):
    """Ground truth, joined to predictions by ``event_id``; may arrive before the prediction."""

    __tablename__ = "labels"
    __table_args__ = (
        # Labels not yet counted in any aggregate (their prediction may come later): few, so
        # "does this model have any" and "which arrived lately" stay cheap.
        Index(
            "ix_labels_unaggregated",
            "model_id",
            "received_at",
            postgresql_where=text("aggregated_ref IS NULL"),
            sqlite_where=text("aggregated_ref IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(128), unique=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"), index=True)
    label: Mapped[Any] = mapped_column(Json)
    event_time: Mapped[datetime] = mapped_column(Timestamp)
    received_at: Mapped[datetime] = mapped_column(Timestamp)
    # The reference whose aggregates counted this label with its prediction (exactly once each).
    aggregated_ref: Mapped[int | None] = mapped_column(Integer)


class DeadLetter(Base):
    """Input that could not be stored, with why. Raw bytes are capped."""

    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(16))  # "kafka" | "http"
    topic: Mapped[str | None] = mapped_column(String(255))
    partition: Mapped[int | None] = mapped_column(Integer)
    offset: Mapped[int | None] = mapped_column(BigInteger)
    model: Mapped[str | None] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    payload_truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[datetime] = mapped_column(Timestamp, index=True)


class MonitorSettings(Base):
    """A model version's monitor config (``detectors.config.MonitorConfig`` as JSON)."""

    __tablename__ = "monitor_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE"), unique=True
    )
    config: Mapped[dict[str, Any]] = mapped_column(Json)
    updated_at: Mapped[datetime] = mapped_column(Timestamp)


class DetectionRun(Base):
    """One comparison of a window of events with a reference."""

    __tablename__ = "detection_runs"
    __table_args__ = (Index(None, "version_id", "window_end"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"))
    reference_id: Mapped[int] = mapped_column(
        ForeignKey("reference_datasets.id", ondelete="CASCADE")
    )
    reference_hash: Mapped[str] = mapped_column(String(71))
    trigger: Mapped[str] = mapped_column(String(16))  # manual | schedule
    # Scheduled runs of one window share a key, so two schedulers cannot both store it.
    schedule_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    path: Mapped[str] = mapped_column(String(16))  # raw | aggregates
    window_start: Mapped[datetime] = mapped_column(Timestamp)
    window_end: Mapped[datetime] = mapped_column(Timestamp)
    status: Mapped[str] = mapped_column(String(32))  # ok | insufficient_data | failed
    n_events: Mapped[int] = mapped_column(Integer)
    drift_share: Mapped[float | None] = mapped_column(Float)
    dataset_drift: Mapped[bool | None] = mapped_column(Boolean)
    drifted_features: Mapped[list[str] | None] = mapped_column(Json)
    # Metrics on the window's labelled events, with label_coverage (detectors.performance).
    performance: Mapped[dict[str, float | None] | None] = mapped_column(Json)
    # Per segment ("tag=value"): n_events, status, drift_share, dataset_drift, drifted features.
    segments: Mapped[dict[str, Any] | None] = mapped_column(Json)
    # Monitor option rolling_reference: the window compared with the window before it, as one
    # document (detectors.rolling); null when the option is off.
    previous_window: Mapped[dict[str, Any] | None] = mapped_column(Json)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(Timestamp)
    duration_s: Mapped[float] = mapped_column(Float)


class FeatureResultRow(Base):
    """Per-feature outcome of a run (the prediction's has ``is_prediction``)."""

    __tablename__ = "feature_results"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("detection_runs.id", ondelete="CASCADE"), index=True
    )
    feature: Mapped[str] = mapped_column(String(128))
    # "tag=value" for a segment's results, null for the whole window.
    segment: Mapped[str | None] = mapped_column(String(400))
    is_prediction: Mapped[bool] = mapped_column(Boolean, default=False)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(32))
    statistic: Mapped[float | None] = mapped_column(Float)
    p_value: Mapped[float | None] = mapped_column(Float)
    p_value_adjusted: Mapped[float | None] = mapped_column(Float)
    effect_size: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)
    drifted: Mapped[bool] = mapped_column(Boolean)
    psi: Mapped[float | None] = mapped_column(Float)
    psi_level: Mapped[str] = mapped_column(String(8))
    reference_size: Mapped[int] = mapped_column(Integer)
    current_size: Mapped[int] = mapped_column(Integer)
    missing_rate: Mapped[float] = mapped_column(Float)
    reference_missing_rate: Mapped[float] = mapped_column(Float)
    type_violation_rate: Mapped[float] = mapped_column(Float)
    out_of_range_share: Mapped[float | None] = mapped_column(Float)
    unseen_share: Mapped[float | None] = mapped_column(Float)
    unseen_examples: Mapped[list[str] | None] = mapped_column(Json)
    # Aggregate path: the largest possible distance of ``statistic`` from its exact value.
    statistic_bound: Mapped[float | None] = mapped_column(Float)


class RunClaim(Base):
    """A scheduler's claim on one monitor window: the first insert wins, so among several
    schedulers exactly one computes it. A claim older than the lease can be taken over (its
    owner died mid-run)."""

    __tablename__ = "run_claims"

    schedule_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    owner: Mapped[str] = mapped_column(String(100))
    claimed_at: Mapped[datetime] = mapped_column(Timestamp)


class RunReport(Base):
    """A run's Evidently HTML report, rendered on first request and kept (zlib-compressed)."""

    __tablename__ = "run_reports"

    run_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("detection_runs.id", ondelete="CASCADE"), primary_key=True
    )
    html: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(Timestamp)


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


class ApiKey(Base):
    """An API key: only a SHA-256 of the key is stored, found by its public ``prefix``.

    The keys are 32 random bytes, so a fast hash is enough (nothing to brute-force); ``models``
    restricts an ingest key to writing those models' events; null means any model.
    """

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(Json)
    models: Mapped[list[str] | None] = mapped_column(Json)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    last_used_at: Mapped[datetime | None] = mapped_column(Timestamp)
    revoked_at: Mapped[datetime | None] = mapped_column(Timestamp)


class InferenceLogMapping(Base):
    """How one model server's payload logs (KServe / Seldon CloudEvents) become a model's
    events: the server is named by its ``inferenceservicename`` attribute and optional
    namespace ("" matches any); ``config`` is ``driftline.inference_logs.mapping.MappingSpec``."""

    __tablename__ = "inference_log_mappings"
    __table_args__ = (UniqueConstraint("service", "namespace"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"), unique=True)
    service: Mapped[str] = mapped_column(String(253))
    namespace: Mapped[str] = mapped_column(String(253))
    config: Mapped[dict[str, Any]] = mapped_column(Json)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    updated_at: Mapped[datetime] = mapped_column(Timestamp)


class InferenceLogPending(Base):
    """A logged request and its response, paired by ``pair_key`` whichever arrives first.

    One row per pair, written by an upsert, so two halves arriving at two API replicas at once
    still meet. Once paired, the bodies are dropped and ``completed_at`` is set; the row stays
    until ``received_at`` is older than the TTL, so a re-delivered half counts as a duplicate.
    """

    __tablename__ = "inference_log_pending"

    pair_key: Mapped[str] = mapped_column(String(300), primary_key=True)
    request: Mapped[bytes | None] = mapped_column(LargeBinary)
    response: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The request's CloudEvent attributes (time, service, namespace, component, endpoint).
    attributes: Mapped[dict[str, Any] | None] = mapped_column(Json)
    completed_at: Mapped[datetime | None] = mapped_column(Timestamp)
    received_at: Mapped[datetime] = mapped_column(Timestamp, index=True)


class MlflowLink(Base):
    """The MLflow registered model version a Driftline model version was imported from, and
    the last detection run whose verdict was written back to it as tags."""

    __tablename__ = "mlflow_links"

    version_id: Mapped[int] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE"), primary_key=True
    )
    registered_model: Mapped[str] = mapped_column(String(256))
    mlflow_version: Mapped[str] = mapped_column(String(64))
    tracking_uri: Mapped[str | None] = mapped_column(Text)
    run_id: Mapped[str | None] = mapped_column(String(64))  # the MLflow run that trained it
    last_written_run_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(Timestamp)


# The aggregate tables live in their own module on the same Base (import them from there);
# importing it here keeps Base.metadata complete whichever of the two is imported first.
from driftline.core.storage import aggregate_tables as _aggregate_tables  # noqa: E402, F401
