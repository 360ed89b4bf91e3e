"""Settings of the integrations (``DRIFTLINE_CLOUDEVENTS__*``, ``DRIFTLINE_MLFLOW__*``).

Kept apart from :mod:`driftline.core.settings` so each integration's knobs read as one page;
``docs/integrations.md`` explains them.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["CloudEventsSettings", "MlflowSettings"]


class CloudEventsSettings(BaseModel):
    """``POST /v1/ingest/cloudevents``: KServe and Seldon payload logs."""

    pending_ttl_s: float = Field(
        86_400.0,
        gt=0,
        description="How long half a request/response pair waits for the other half (and a "
        "completed pair is remembered, so a re-delivered half counts as a duplicate).",
    )
    max_body_bytes: int = Field(
        10 * 1024 * 1024, ge=1024, description="Largest CloudEvent body accepted."
    )


class MlflowSettings(BaseModel):
    """Driftline results written back to the MLflow model registry."""

    write_back: bool = Field(
        False,
        description="After each detection run of a model version imported from MLflow, set "
        "driftline.* tags on the MLflow model version (needs the mlflow extra).",
    )
    tracking_uri: str | None = Field(
        None,
        description="MLflow tracking URI for the write-back; default: the URI stored at import, "
        "then MLFLOW_TRACKING_URI.",
    )
    write_back_seconds: float = Field(
        60.0, gt=0, description="How often the scheduler looks for runs to write back."
    )
