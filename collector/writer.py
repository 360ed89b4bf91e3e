"""One batch, one transaction: the good events and the dead letters of the bad ones."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from collector.decode import Decoded, Rejected
from driftline.core.storage import Database
from driftline.core.storage import tables as t
from driftline.ingest.store import store_events

__all__ = ["BatchResult", "write_batch"]


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
        outcome = store_events(session, decoded.events, received_at=now)
        rejected = list(decoded.rejected)
        for index, (_field, reason) in outcome.rejected.items():
            event = decoded.events[index]
            rejected.append(
                Rejected(
                    decoded.origins[index],
                    reason,
                    "unknown_model" if _field == "model" else "invalid_contract",
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
