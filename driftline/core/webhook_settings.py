"""Settings of outgoing webhooks (``DRIFTLINE_WEBHOOKS__*``), a section of :class:`Settings`.

Kept apart from :mod:`driftline.core.settings` so the delivery knobs (timeouts, retry schedule,
SSRF allowlist, outbox leases) read as one page. The schedule they produce is documented in
``docs/webhooks.md``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import NoDecode

__all__ = ["WebhookSettings"]


class WebhookSettings(BaseModel):
    """Delivery of webhooks from the outbox (``alerting.webhooks``)."""

    timeout_s: float = Field(10.0, gt=0, le=120, description="Timeout of one HTTP attempt.")
    # NoDecode: the environment may give a comma-separated list, not only JSON.
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Hostnames, IPs and CIDRs webhooks may reach although they are loopback, "
        "private, link-local or otherwise internal (on-premises receivers).",
    )
    retry_base_s: float = Field(60.0, gt=0, description="Delay before the first retry.")
    retry_factor: float = Field(3.0, ge=1, description="Each retry waits this much longer.")
    retry_max_delay_s: float = Field(
        6 * 3600.0, gt=0, description="Longest delay between attempts (also caps Retry-After)."
    )
    retry_jitter: float = Field(
        0.2, ge=0, lt=1, description="Each delay is scaled by a random factor in [1-j, 1+j]."
    )
    max_attempts: int = Field(
        10, ge=1, description="Attempts of one delivery before it fails (about 24 h by default)."
    )
    disable_after_failures: int = Field(
        5, ge=1, description="Disable an endpoint after this many consecutive failed deliveries."
    )
    lease_s: float = Field(
        300.0, gt=0, description="How long a dispatcher owns the deliveries it claimed."
    )
    batch_size: int = Field(20, ge=1, le=1000, description="Deliveries claimed at once.")

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _lease_outlives_an_attempt(self) -> WebhookSettings:
        # A dispatcher stops sending from a batch once the lease could run out mid-request, so
        # the lease must leave room for at least one full attempt.
        if self.lease_s <= self.timeout_s + 1:
            raise ValueError("lease_s must exceed timeout_s + 1")
        return self
