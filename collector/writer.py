"""One batch, one transaction: the good events and the dead letters of the bad ones."""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.exc import DBAPIError, OperationalError

from collector.decode import Decoded, Rejected
from driftline.core.errors import UnavailableError
from driftline.core.storage import Database
from driftline.core.storage import tables as t
from driftline.ingest.store import store_events

__all__ = ["BatchResult", "database_unavailable", "write_batch", "write_one_by_one"]

# Dead-letter reasons of events store_events refused, by the field at fault.
_CATEGORIES = {"model": "unknown_model", "event_time": "past_retention"}

log = logging.getLogger(__name__)


@dataclass
class BatchResult:
    stored: Counter[str] = field(default_factory=Counter)  # by model
    duplicate: Counter[str] = field(default_factory=Counter)
    dead_lettered: Counter[str] = field(default_factory=Counter)  # by category
    letters: list[Rejected] = field(default_factory=list)  # what was dead-lettered


def _dead_letter(rejected: Rejected, cap: int, now: datetime) -> t.DeadLetter:
    return t.DeadLetter(
        source="kafka",
        topic=rejected.origin.topic,
        partition=rejected.origin.partition,
        offset=rejected.origin.offset,
        model=rejected.model,
        reason=rejected.reason[:4000],
        payload=rejected.payload[:cap],
        payload_truncated=len(rejected.payload) > cap,
        received_at=now,
    )


def write_batch(database: Database, decoded: Decoded, payload_cap: int) -> BatchResult:
    """Store the batch atomically; raises (and stores nothing) if the database fails."""
    now = datetime.now(UTC)
    result = BatchResult()
    with database.write() as session:
        outcome = store_events(
            session,
            decoded.events,
            received_at=now,
            encoded_features=decoded.encoded_features or None,
        )
        rejected = list(decoded.rejected)
        for index, (_field, reason) in outcome.rejected.items():
            event = decoded.events[index]
            rejected.append(
                Rejected(
                    decoded.origins[index],
                    reason,
                    _CATEGORIES.get(_field, "invalid_contract"),
                    json.dumps(event.model_dump(mode="json")).encode(),
                    model=event.model,
                )
            )
        session.add_all(_dead_letter(r, payload_cap, now) for r in rejected)
    for index in outcome.stored:
        result.stored[decoded.events[index].model] += 1
    for index in outcome.duplicate:
        result.duplicate[decoded.events[index].model] += 1
    for r in rejected:
        result.dead_lettered[r.category] += 1
    result.letters = rejected
    return result


def database_unavailable(exc: Exception) -> bool:
    """A database that is down or restarting, as opposed to one refusing this data."""
    if isinstance(exc, OperationalError | UnavailableError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def write_one_by_one(
    database: Database, decoded: Decoded, cause: Exception, payload_cap: int
) -> BatchResult:
    """The database refused the batch itself (not an outage): find the event it refuses
    and dead-letter it, so one poison event cannot stall a partition."""
    log.warning("batch refused by the database (%s); writing events one by one", cause)
    total = BatchResult()
    for event, origin in zip(decoded.events, decoded.origins, strict=True):
        single = Decoded([event], [origin], [])
        try:
            part = write_batch(database, single, payload_cap)
        except Exception as exc:
            if database_unavailable(exc):
                raise
            reason = f"database refused the event: {str(exc).splitlines()[0][:500]}"
            payload = event.model_dump_json().encode()
            part = write_batch(
                database,
                Decoded(
                    [], [], [Rejected(origin, reason, "invalid_contract", payload, event.model)]
                ),
                payload_cap,
            )
        total.stored.update(part.stored)
        total.duplicate.update(part.duplicate)
        total.dead_lettered.update(part.dead_lettered)
        total.letters.extend(part.letters)
    rest = write_batch(
        database,
        Decoded([], [], decoded.rejected),
        payload_cap,
    )
    total.dead_lettered.update(rest.dead_lettered)
    total.letters.extend(rest.letters)
    return total
