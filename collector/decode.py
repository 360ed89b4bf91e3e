"""Kafka messages to events: one event per message, or the SDK's envelope of several.

Every failure becomes a :class:`Rejected` with the reason and the raw bytes at fault, so the
batch writer can dead-letter it next to the good events of the same batch. An envelope is first
tried whole by :func:`~driftline.core.envelope.validate_envelope` (one msgspec call); only
when that cannot vouch for all its events are they validated one by one, which decides and words
every rejection.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from driftline.core.contract import EventRejection, LabelEvent, PredictionEvent, parse_event
from driftline.core.envelope import validate_envelope
from driftline.ingest.batch import load_json

__all__ = ["Decoded", "Origin", "Rejected", "decode_message"]


@dataclass(frozen=True, slots=True)
class Origin:
    topic: str
    partition: int
    offset: int


@dataclass(frozen=True, slots=True)
class Rejected:
    origin: Origin
    reason: str
    category: str  # not_json | invalid_contract | too_large | unknown_model
    payload: bytes
    model: str | None = None


@dataclass
class Decoded:
    events: list[PredictionEvent | LabelEvent]
    origins: list[Origin]  # parallel to events
    rejected: list[Rejected]
    # Parallel to events when filled: each prediction's features as JSON from the fast path
    # (``None`` otherwise), which storing reuses when conforming changes nothing.
    encoded_features: list[bytes | None] = field(default_factory=list)


def _event_bytes(raw: object) -> bytes:
    return json.dumps(raw, separators=(",", ":"), ensure_ascii=False, default=str).encode(
        "utf-8", "surrogatepass"
    )


def decode_message(value: bytes | None, origin: Origin, max_bytes: int, into: Decoded) -> None:
    """Append the message's events (or its rejections) to ``into``."""
    payload = value or b""
    if len(payload) > max_bytes:
        into.rejected.append(
            Rejected(
                origin,
                f"message is {len(payload)} bytes; at most {max_bytes} are read",
                "too_large",
                payload,
            )
        )
        return
    fast = validate_envelope(payload)
    if fast is not None:
        into.events += fast.events
        into.origins += [origin] * len(fast.events)
        into.encoded_features += fast.encoded_features
        return
    try:
        decoded = load_json(payload)
    except (ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        into.rejected.append(Rejected(origin, f"not JSON: {reason}", "not_json", payload))
        return
    envelope = isinstance(decoded, dict) and "events" in decoded and "event_id" not in decoded
    if envelope:
        if decoded.get("schema_version") != 1 or not isinstance(decoded["events"], list):
            into.rejected.append(
                Rejected(
                    origin,
                    'envelope must be {"schema_version": 1, "events": [...]}',
                    "invalid_contract",
                    payload,
                )
            )
            return
        items: list[object] = decoded["events"]
    else:
        items = [decoded]
    for position, item in enumerate(items):
        try:
            event = parse_event(item, size=None if envelope else len(payload))
        except EventRejection as rejection:
            where = f"event {position} of the envelope: " if envelope else ""
            raw = _event_bytes(item) if envelope else payload
            category = "too_large" if "bytes; at most" in str(rejection) else "invalid_contract"
            into.rejected.append(Rejected(origin, where + str(rejection), category, raw))
            continue
        into.events.append(event)
        into.origins.append(origin)
        into.encoded_features.append(None)
