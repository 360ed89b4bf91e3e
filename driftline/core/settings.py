"""Configuration from arguments and ``DRIFTLINE_*`` environment variables.

Nested settings use ``__``: ``DRIFTLINE_DATABASE__URL``, ``DRIFTLINE_KAFKA__BOOTSTRAP_SERVERS``.
Nothing is read at import time; call :func:`load_settings` (or build :class:`Settings`) in
``create_app`` / ``run``.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from driftline.core.aggregate_settings import AggregateSettings
from driftline.core.integration_settings import CloudEventsSettings, MlflowSettings
from driftline.core.security_settings import AuthSettings, RateLimitSettings
from driftline.core.webhook_settings import WebhookSettings

__all__ = [
    "AlertingSettings",
    "ApiSettings",
    "CollectorSettings",
    "DatabaseSettings",
    "IngestSettings",
    "KafkaSettings",
    "ReferenceSettings",
    "SchedulerSettings",
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
    max_request_bytes: int = Field(10 * MiB, ge=1024, description="Body size of one request.")


class ReferenceSettings(BaseModel):
    """Limits of reference-data uploads."""

    max_bytes: int = Field(200 * MiB, ge=1024, description="Size of one upload.")
    max_rows: int = Field(10_000_000, ge=1, description="Rows of one reference.")
    max_columns: int = Field(2_000, ge=1, description="Columns of one reference.")


class KafkaSettings(BaseModel):
    """Kafka, used by the collector when ``bootstrap_servers`` is set.

    Batch-size arithmetic: one poll returns at most ``max_poll_records`` messages (each up to
    100 events from the SDK), written in one transaction; while the database is down the
    collector keeps calling poll at least every second with its partitions paused, so
    ``max_poll_interval_ms`` (5 min) is never reached however long the outage lasts.
    """

    bootstrap_servers: str | None = Field(
        None, description="Comma-separated host:port list; unset means no Kafka."
    )
    topic: str = Field("driftline.events", description="Topic the SDK produces to.")
    group_id: str = Field("driftline-collector", description="Consumer group of the collectors.")
    auto_offset_reset: Literal["earliest", "latest"] = Field(
        "earliest", description="Where a new group starts: earliest loses nothing."
    )
    enable_auto_commit: bool = Field(
        False, description="Must stay false: offsets are committed after the database write."
    )
    max_poll_records: int = Field(500, ge=1, le=10_000, description="Messages per batch.")
    max_poll_interval_ms: int = Field(300_000, ge=10_000)
    session_timeout_ms: int = Field(45_000, ge=1000)
    heartbeat_interval_ms: int = Field(3_000, ge=100)
    max_message_bytes: int = Field(
        1024 * 1024, ge=1024, description="Larger messages are dead-lettered unread."
    )
    dead_letter_topic: str | None = Field(
        None,
        description="Also produce each dead letter to this topic, with its reason and source "
        "in headers, after the database stores it; unset: the dead_letters table only.",
    )
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_plain_username: str | None = None
    sasl_plain_password: SecretStr | None = None
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None

    @model_validator(mode="after")
    def _sasl_needs_credentials(self) -> KafkaSettings:
        # Fail at start-up, not with an opaque broker error on the first poll.
        sasl = (self.sasl_mechanism, self.sasl_plain_username, self.sasl_plain_password)
        if self.security_protocol.startswith("SASL_") and None in sasl:
            raise ValueError(
                f"security_protocol {self.security_protocol} needs sasl_mechanism (PLAIN, "
                "SCRAM-SHA-256 or SCRAM-SHA-512), sasl_plain_username and sasl_plain_password"
            )
        return self

    def client_options(self) -> dict[str, Any]:
        """Connection and security options as kafka-python spells them."""
        options: dict[str, Any] = {
            "bootstrap_servers": [s.strip() for s in (self.bootstrap_servers or "").split(",")],
            "security_protocol": self.security_protocol,
        }
        for name in (
            "sasl_mechanism",
            "sasl_plain_username",
            "ssl_cafile",
            "ssl_certfile",
            "ssl_keyfile",
        ):
            if getattr(self, name) is not None:
                options[name] = getattr(self, name)
        if self.sasl_plain_password is not None:
            options["sasl_plain_password"] = self.sasl_plain_password.get_secret_value()
        return options


class CollectorSettings(BaseModel):
    """The Kafka collector process."""

    metrics_host: str = Field("127.0.0.1", description="Where /metrics, /healthz, /readyz listen.")
    metrics_port: int = Field(9102, ge=0, le=65535)
    retry_backoff_max_s: float = Field(
        10.0, gt=0, description="Longest wait between database write attempts."
    )
    dead_letter_payload_bytes: int = Field(
        65_536, ge=256, description="Raw bytes kept per dead letter."
    )


class SchedulerSettings(BaseModel):
    """The detection scheduler (``driftline scheduler``, and inside ``driftline up``)."""

    tick_seconds: float = Field(
        30.0, gt=0, description="How often due monitor windows are looked for."
    )
    metrics_host: str = Field("127.0.0.1", description="Where /metrics, /healthz, /readyz listen.")
    metrics_port: int = Field(9103, ge=0, le=65535)


class AlertingSettings(BaseModel):
    """Alert evaluation and notification grouping (as in Prometheus Alertmanager)."""

    evaluate_seconds: float = Field(
        5.0, gt=0, description="How often new runs are evaluated and due notifications sent."
    )
    group_wait_s: float = Field(
        30.0, ge=0, description="Wait before a new group's first notification, to batch alerts."
    )
    group_interval_s: float = Field(
        300.0, ge=0, description="Wait before notifying a change to an already notified group."
    )
    repeat_interval_s: float = Field(
        4 * 3600.0, gt=0, description="Resend a still-firing, unacknowledged group after this."
    )
    no_data_minutes: float = Field(
        30.0, gt=0, description="Default of the 'no data' rule created with each model."
    )
    grafana_url: str | None = Field(
        None, description="Grafana base URL, for dashboard links in notifications."
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
    collector: CollectorSettings = CollectorSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    alerting: AlertingSettings = AlertingSettings()
    aggregates: AggregateSettings = AggregateSettings()
    log_level: str = Field("INFO", description="Python log level of the service.")
    auth: AuthSettings = AuthSettings()
    rate_limit: RateLimitSettings = RateLimitSettings()
    bootstrap_admin_key: SecretStr | None = Field(
        None, description="The first admin key, stored when the database has no key yet."
    )
    webhooks: WebhookSettings = WebhookSettings()
    cloudevents: CloudEventsSettings = CloudEventsSettings()
    mlflow: MlflowSettings = MlflowSettings()
    secret_key: SecretStr | None = Field(
        None,
        description="Fernet key(s), comma-separated, newest first, encrypting webhook secrets; "
        "unset: secret_key_file. Replicas must share it.",
    )
    secret_key_file: str = Field(
        ".driftline/secret.key",
        description="Key file created (mode 0600) on first use when secret_key is unset.",
    )

    @field_validator("secret_key")
    @classmethod
    def _fernet_keys(cls, value: SecretStr | None) -> SecretStr | None:
        """Refuse a malformed key at start-up, not at the first webhook (a placeholder such as
        "CHANGE-ME" left in a deployment would otherwise fail every webhook request)."""
        keys = [k.strip() for k in (value.get_secret_value() if value else "").split(",")]
        for key in filter(None, keys):
            try:
                valid = len(base64.urlsafe_b64decode(key.encode())) == 32
            except (ValueError, binascii.Error):
                valid = False
            if not valid:
                raise ValueError(
                    "must be Fernet keys (32 url-safe base64 bytes), comma-separated; make one "
                    'with: python -c "from cryptography.fernet import Fernet; '
                    'print(Fernet.generate_key().decode())"'
                )
        return value


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with keyword overrides taking precedence."""
    return Settings(**overrides)  # type: ignore[arg-type]
