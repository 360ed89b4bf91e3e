"""Settings of API keys, rate limits and request-size limits (sections of :class:`Settings`).

Kept apart from :mod:`driftline.core.settings` so the security knobs read as one page.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["AuthSettings", "RateLimitSettings"]

MiB = 1024 * 1024


class AuthSettings(BaseModel):
    """API keys (``DRIFTLINE_AUTH__*``). Every route but /healthz and /readyz needs a key."""

    metrics_require_key: bool = Field(
        True,
        description="/metrics needs a key with the read scope (Prometheus sends it as a bearer "
        "token); false serves it to anyone who can reach the port.",
    )
    last_used_resolution_s: float = Field(
        60.0,
        ge=0,
        description="last_used_at of a key is written at most this often, so each request "
        "does not cost a database write.",
    )
    max_json_bytes: int = Field(
        10 * MiB, ge=1024, description="Body size of JSON requests other than ingest and uploads."
    )
    max_json_depth: int = Field(
        32, ge=4, le=500, description="Nesting depth of a JSON request body."
    )
    max_form_fields: int = Field(4, ge=1, description="Fields of one multipart request.")
    max_form_files: int = Field(1, ge=1, description="Files of one multipart request.")


class RateLimitSettings(BaseModel):
    """Token buckets per API key on ingest and admin routes (``DRIFTLINE_RATE_LIMIT__*``).

    Buckets live in each API process: with N replicas behind a load balancer a key gets up to
    N times the rate.
    """

    enabled: bool | None = Field(
        None,
        description="Default: on with PostgreSQL, off with the embedded SQLite (one local user).",
    )
    ingest_per_second: float = Field(50.0, gt=0, description="Ingest requests per second per key.")
    ingest_burst: int = Field(200, ge=1, description="Ingest requests a key may send at once.")
    admin_per_second: float = Field(10.0, gt=0, description="Admin requests per second per key.")
    admin_burst: int = Field(50, ge=1, description="Admin requests a key may send at once.")
