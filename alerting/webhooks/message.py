"""What one attempt sends: URL, body and headers, for a plain endpoint or a preset.

A plain endpoint gets the stored body as it is. An endpoint with a preset gets the request its
retraining system documents, built from the stored ``driftline`` body at send time (so the
credentials are never written into the outbox). Either way the Standard Webhooks headers sign
the body actually sent: every preset's target tolerates extra headers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import driftline
from alerting.webhooks.presets.registry import build_request
from alerting.webhooks.signing import signed_headers

__all__ = ["Outgoing", "compose"]


@dataclass(frozen=True, slots=True)
class Outgoing:
    url: str
    body: bytes
    headers: dict[str, str]
    # Answers meaning an earlier attempt already did the work (see PresetRequest).
    done_statuses: frozenset[int] = frozenset()


def compose(
    *,
    url: str,
    body: bytes,
    message_id: str,
    secret: str,
    headers: Mapping[str, str],
    preset: Mapping[str, Any] | None,
    preset_secrets: Mapping[str, str],
    timestamp: int,
) -> Outgoing:
    """The attempt's request; ``preset`` errors propagate as ``PresetError``."""
    content_type, extra, done = "application/json", {}, frozenset[int]()
    if preset is not None:
        request = build_request(preset, preset_secrets, body, message_id)
        url, body = request.url(url), request.body
        content_type, extra, done = request.content_type, request.headers, request.done_statuses
    sent = {
        **headers,
        **extra,  # the system's own authentication wins over a custom header of the same name
        "Content-Type": content_type,
        "User-Agent": f"Driftline-Webhooks/{driftline.__version__}",
        **signed_headers(secret, message_id, timestamp, body),
    }
    return Outgoing(url, body, sent, done)
