"""What ``/v1/webhooks`` accepts and returns (pydantic, no web framework).

Secrets, custom header values and preset credentials are write-only: they are returned once
(the secret, on creation and rotation) or never; a record shows only their names.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from alerting.webhooks.presets.specs import PresetSpec

__all__ = [
    "EVENTS",
    "AttemptRecord",
    "CreatedEndpoint",
    "DeliveryRecord",
    "EndpointRecord",
    "EndpointSpec",
    "EndpointUpdate",
    "RotatedSecret",
]

Severity = Literal["info", "warning", "critical"]
Event = Literal["firing", "resolved"]
PayloadFormat = Literal["driftline", "alertmanager"]
EVENTS: list[Event] = ["firing", "resolved"]

_TOKEN = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$")  # RFC 9110 field-name
# Set by the sender; a custom header may not replace them (or forge a signature).
_RESERVED = {"host", "content-type", "content-length", "transfer-encoding", "connection"}
_MAX_HEADERS = 20


def _check_headers(headers: dict[str, str] | None) -> dict[str, str] | None:
    if headers is None:
        return None
    if len(headers) > _MAX_HEADERS:
        raise ValueError(f"at most {_MAX_HEADERS} custom headers")
    for name, value in headers.items():
        if not _TOKEN.match(name):
            raise ValueError(f"{name!r} is not a valid header name")
        lower = name.lower()
        if lower in _RESERVED or lower.startswith("webhook-"):
            raise ValueError(f"{name!r} is set by Driftline and cannot be overridden")
        if len(value) > 4096 or any(c in value for c in "\r\n\0"):
            raise ValueError(f"the value of {name!r} is too long or contains a line break")
    return headers


class EndpointSpec(BaseModel):
    """A new endpoint. ``models`` / ``severities`` left out: every model / severity."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2048, description="http or https; refused if internal (SSRF).")
    name: str | None = Field(None, min_length=1, max_length=128, description="Default: host.")
    models: list[str] | None = Field(
        None, min_length=1, description="Model names; null: every model."
    )
    severities: list[Severity] | None = Field(
        None, min_length=1, description="Null: every severity."
    )
    events: list[Event] = Field(default_factory=lambda: list(EVENTS), min_length=1)
    payload_format: PayloadFormat = "driftline"
    headers: dict[str, str] = Field(
        default_factory=dict, description="Sent with every request (e.g. a CI token); encrypted."
    )
    preset: PresetSpec | None = Field(
        None,
        description="Send the request a retraining system's API expects (GitHub Actions, "
        "GitLab CI, Jenkins, Airflow, Kubeflow Pipelines, Argo Workflows); url is then the "
        "system's base URL. Credentials in it are encrypted and never shown again.",
    )
    enabled: bool = True
    min_retrain_interval_s: float = Field(
        6 * 3600.0,
        ge=0,
        description="Retraining guardrail: at most one firing message per model per "
        "this many seconds (default 6 h; 0: no limit).",
    )

    _headers = field_validator("headers")(_check_headers)

    @model_validator(mode="after")
    def _preset_defaults(self) -> EndpointSpec:
        # Retraining is triggered by drift, not by its end: resolved only when asked.
        if self.preset is not None and "events" not in self.model_fields_set:
            self.events = ["firing"]
        return self


class EndpointUpdate(BaseModel):
    """Changes to an endpoint: only the fields given change; ``headers`` replaces them all."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, max_length=2048)
    name: str | None = Field(None, min_length=1, max_length=128)
    models: list[str] | None = Field(None, min_length=1)
    severities: list[Severity] | None = Field(None, min_length=1)
    events: list[Event] | None = Field(None, min_length=1)
    payload_format: PayloadFormat | None = None
    headers: dict[str, str] | None = None
    preset: PresetSpec | None = Field(None, description="Replaces the preset; null removes it.")
    enabled: bool | None = None
    min_retrain_interval_s: float | None = Field(None, ge=0)

    _headers = field_validator("headers")(_check_headers)


class EndpointRecord(BaseModel):
    id: int
    name: str
    url: str
    models: list[str] | None
    severities: list[str] | None
    events: list[str]
    payload_format: str
    header_names: list[str]
    preset: dict[str, Any] | None = Field(description="The preset's options (no credentials).")
    preset_secret_names: list[str] = Field(description="Names of the stored preset credentials.")
    enabled: bool
    disabled_reason: str | None
    min_retrain_interval_s: float
    consecutive_failures: int
    created_at: datetime
    updated_at: datetime


class CreatedEndpoint(EndpointRecord):
    secret: str = Field(description="The signing secret; shown this once, store it now.")


class RotatedSecret(BaseModel):
    id: int
    secret: str = Field(description="The new signing secret; shown this once.")


class AttemptRecord(BaseModel):
    attempted_at: datetime
    status_code: int | None
    latency_s: float
    error: str | None


class DeliveryRecord(BaseModel):
    id: int
    message_id: str = Field(description="The webhook-id header, the same on every attempt.")
    event: str
    status: str
    group_key: str | None
    model_id: int | None
    scheduled_attempts: int = Field(description="Attempts since it was (re)delivered.")
    next_attempt_at: datetime
    created_at: datetime
    delivered_at: datetime | None
    last_error: str | None
    attempts: list[AttemptRecord] = Field(description="Every attempt, oldest first.")
