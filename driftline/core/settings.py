"""Configuration from arguments and ``DRIFTLINE_*`` environment variables.

Nested settings use ``__``: ``DRIFTLINE_DATABASE__URL``, ``DRIFTLINE_KAFKA__BOOTSTRAP_SERVERS``.
Nothing is read at import time; call :func:`load_settings` (or build :class:`Settings`) in
``create_app`` / ``run``.
"""

from __future__ import annotations

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "ApiSettings",
    "DatabaseSettings",
    "IngestSettings",
    "KafkaSettings",
    "ReferenceSettings",
    "Settings",
    "load_settings",
]

MiB = 1024 * 1024

DEFAULT_DATABASE_URL = "sqlite:///./.driftline/driftline.db"


class DatabaseSettings(BaseModel):
    """Where events, references and results are stored."""

    url: str = Field(
        DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL; PostgreSQL as postgresql+psycopg://user:pass@host/db.",
    )
    sqlite_busy_timeout_ms: int = Field(
        10_000, ge=0, description="How long SQLite waits for a lock before failing."
    )
    pool_size: int = Field(5, ge=1, description="PostgreSQL connection pool size.")
    echo: bool = Field(False, description="Log every SQL statement (debugging only).")


class ApiSettings(BaseModel):
    """The HTTP API."""

    host: str = Field("127.0.0.1", description="Address the API listens on.")
    port: int = Field(8000, ge=0, le=65535, description="Port the API listens on.")
    public_url: str | None = Field(
        None, description="URL users reach the API at, used in links; default http://host:port."
    )


class IngestSettings(BaseModel):
    """Limits of ``POST /v1/events`` and ``POST /v1/labels``."""

    max_batch_events: int = Field(10_000, ge=1, description="Events per request.")
    max_request_bytes: int = Field(32 * MiB, ge=1024, description="Body size of one request.")


class ReferenceSettings(BaseModel):
    """Limits of reference-data uploads."""

    max_bytes: int = Field(200 * MiB, ge=1024, description="Size of one upload.")
    max_rows: int = Field(10_000_000, ge=1, description="Rows of one reference.")
    max_columns: int = Field(2_000, ge=1, description="Columns of one reference.")


class KafkaSettings(BaseModel):
    """Kafka, used by the collector when ``bootstrap_servers`` is set."""

    bootstrap_servers: str | None = Field(
        None, description="Comma-separated host:port list; unset means no Kafka."
    )


class Settings(BaseSettings):
    """All of Driftline's settings."""

    model_config = SettingsConfigDict(
        env_prefix="DRIFTLINE_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    database: DatabaseSettings = DatabaseSettings()
    api: ApiSettings = ApiSettings()
    ingest: IngestSettings = IngestSettings()
    reference: ReferenceSettings = ReferenceSettings()
    kafka: KafkaSettings = KafkaSettings()
    log_level: str = Field("INFO", description="Python log level of the service.")


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with keyword overrides taking precedence."""
    return Settings(**overrides)  # type: ignore[arg-type]
