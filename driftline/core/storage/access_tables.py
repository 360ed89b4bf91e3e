"""Tables of access and integrations: API keys, inference-log pairing, MLflow links."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from driftline.core.storage.base import Base, Json, Timestamp

__all__ = ["ApiKey", "InferenceLogMapping", "InferenceLogPending", "MlflowLink"]


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
