"""The ORM tables. Alembic migrations in ``migrations/versions`` create them; keep both in step
(``tests/test_storage.py`` compares the two).

This module holds the models, their events and labels; the tables of each other area live in a
module of their own on the same ``Base`` and are re-exported here, so ``tables.X`` names every
table and importing this module fills ``Base.metadata`` completely.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from driftline.core.storage.base import Base, BigId, Json, RawJson, Timestamp

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
    "NotificationGroup",
    "PredictionEvent",
    "RawEventHorizon",
    "ReferenceDataset",
    "RunClaim",
    "RunReport",
    "Silence",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]


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
    features: Mapped[dict[str, Any]] = mapped_column(RawJson)
    extra_features: Mapped[dict[str, Any] | None] = mapped_column(RawJson)
    type_violations: Mapped[list[str] | None] = mapped_column(RawJson)
    prediction: Mapped[Any] = mapped_column(RawJson)
    score: Mapped[Any] = mapped_column(RawJson, nullable=True)
    tags: Mapped[dict[str, str] | None] = mapped_column(RawJson)


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


# The other areas' tables, re-exported; they import only ``base``, so there is no import cycle.
# The aggregate tables are not re-exported (import them from ``aggregate_tables``); importing
# the module here keeps Base.metadata complete.
from driftline.core.storage import aggregate_tables as _aggregate_tables  # noqa: E402, F401
from driftline.core.storage.access_tables import (  # noqa: E402
    ApiKey,
    InferenceLogMapping,
    InferenceLogPending,
    MlflowLink,
)
from driftline.core.storage.alerting_tables import (  # noqa: E402
    Alert,
    AlertCursor,
    AlertRule,
    AlertTransition,
    NotificationGroup,
    Silence,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from driftline.core.storage.detection_tables import (  # noqa: E402
    DetectionRun,
    FeatureResultRow,
    MonitorSettings,
    RunClaim,
    RunReport,
)
