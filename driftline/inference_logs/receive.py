"""One payload-log CloudEvent in: resolve its model, pair it, store the pair's events.

Problems with the event itself (not a payload-log type, no model for its server, a key that
may not write that model) are raised before anything is stored. Problems found once the pair
is complete (a payload that cannot be read, instance counts that disagree) cannot be answered
to the logger usefully, so the pair goes to ``dead_letters`` with the reason and the result
says ``failed``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy.orm import Session

from driftline.core.contract import EventRejection, PredictionEvent, parse_event
from driftline.core.errors import ForbiddenError, InvalidInputError
from driftline.core.storage import Database
from driftline.core.storage import tables as t
from driftline.inference_logs.cloudevent import CloudEvent
from driftline.inference_logs.mapping import Resolved, resolve
from driftline.inference_logs.pairing import Pair, complete, offer, prune
from driftline.inference_logs.payloads import request_rows, response_outputs
from driftline.ingest.batch import EventError
from driftline.ingest.store import store_events

__all__ = ["HalfResult", "event_ids", "prune_expired", "receive"]

log = logging.getLogger(__name__)
_ID_OK = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-")
MAX_DEAD_LETTER_BYTES = 65536


class HalfResult(BaseModel):
    """What happened to one CloudEvent."""

    id: str
    type: str
    model: str | None = None
    status: Literal["pending", "stored", "duplicate", "failed"]
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    type_violations: int = 0
    errors: list[EventError] = []
    reason: str | None = None


def event_ids(request_id: str, count: int) -> list[str]:
    """The stored events' ids: the request id itself for one instance (so a label can name
    it), ``<id>:<n>`` for the n-th instance of a batch; hashed when not a valid event id."""
    base = request_id
    if not base or len(base) > 110 or base[0] in "_.:-" or not set(base) <= _ID_OK:
        base = "ce-" + hashlib.sha256(request_id.encode()).hexdigest()[:40]
    return [base] if count == 1 else [f"{base}:{i}" for i in range(count)]


def _tags(attributes: dict[str, Any]) -> dict[str, str] | None:
    tags = {k: str(attributes[k])[:256] for k in ("component", "endpoint") if attributes.get(k)}
    return tags or None


def _events(
    pair: Pair, event: CloudEvent, resolved: Resolved
) -> tuple[list[PredictionEvent], list[int], list[EventError]]:
    assert pair.request is not None and pair.response is not None
    try:
        request, response = json.loads(pair.request), json.loads(pair.response)
    except (ValueError, RecursionError):
        raise InvalidInputError("a logged payload is not JSON") from None
    rows, outputs = request_rows(request, resolved), response_outputs(response, resolved)
    if len(rows) != len(outputs):
        raise InvalidInputError(
            f"the request has {len(rows)} instances but the response {len(outputs)} predictions"
        )
    attributes = pair.attributes or {}
    ids = event_ids(event.request_id, len(rows))
    parsed: list[PredictionEvent] = []
    positions: list[int] = []
    errors: list[EventError] = []
    for index, (features, (prediction, score)) in enumerate(zip(rows, outputs, strict=True)):
        raw = {
            "event_id": ids[index],
            "model": resolved.model,
            "model_version": resolved.spec.version,
            "event_time": attributes.get("time"),
            "features": features,
            "prediction": prediction,
            "score": score,
            "tags": _tags(attributes),
        }
        try:
            found = parse_event(raw)
        except EventRejection as rejection:
            first = rejection.problems[0]
            errors.append(
                EventError(
                    index=index, event_id=ids[index], field=first.field, reason=str(rejection)
                )
            )
            continue
        assert isinstance(found, PredictionEvent)
        parsed.append(found)
        positions.append(index)
    return parsed, positions, errors


def _dead_letter(session: Session, pair: Pair, model: str, reason: str, now: datetime) -> None:
    payload = json.dumps(
        {
            "pair_key": pair.key,
            "request": (pair.request or b"").decode("utf-8", "replace"),
            "response": (pair.response or b"").decode("utf-8", "replace"),
        }
    ).encode()
    session.add(
        t.DeadLetter(
            source="cloudevents",
            model=model[:128],
            reason=reason,
            payload=payload[:MAX_DEAD_LETTER_BYTES],
            payload_truncated=len(payload) > MAX_DEAD_LETTER_BYTES,
            received_at=now,
        )
    )


def receive(database: Database, event: CloudEvent, may_write: Callable[[str], bool]) -> HalfResult:
    """Store one half; when it completes its pair, store the pair's events."""
    with database.read() as session:
        resolved = resolve(session, event.service, event.namespace)
    if not may_write(resolved.model):
        raise ForbiddenError(f"this API key may not write events of model {resolved.model!r}")
    result = HalfResult(id=event.id, type=event.type, model=resolved.model, status="pending")
    now = datetime.now(UTC)
    with database.write() as session:
        pair = offer(session, event, now)
        if pair is None:
            result.status = "duplicate"
            return result
        if not pair.ready:
            return result
        try:
            parsed, positions, errors = _events(pair, event, resolved)
        except InvalidInputError as exc:
            reason = "; ".join([str(exc), *(f"{p.field}: {p.reason}" for p in exc.problems)])
            _dead_letter(session, pair, resolved.model, reason, now)
            complete(session, pair.key, now)
            result.status, result.reason = "failed", reason
            return result
        outcome = store_events(session, parsed)
        complete(session, pair.key, now)
    for local, (field, reason) in outcome.rejected.items():
        errors.append(
            EventError(
                index=positions[local], event_id=parsed[local].event_id, field=field, reason=reason
            )
        )
    result.status = "stored" if outcome.stored or not outcome.duplicate else "duplicate"
    result.accepted, result.duplicate = len(outcome.stored), len(outcome.duplicate)
    result.rejected, result.type_violations = len(errors), outcome.type_violations
    result.errors = sorted(errors, key=lambda e: e.index)
    return result


def prune_expired(database: Database, ttl_s: float) -> int:
    """Drop pairing rows past the TTL; returns how many halves never met their other half."""
    with database.write() as session:
        lost, _ = prune(session, datetime.now(UTC), ttl_s)
    if lost:
        log.warning("%d logged request/response half(s) expired without their other half", lost)
    return lost
