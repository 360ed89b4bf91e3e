"""Durable pairing of a logged request with its response, whichever arrives first.

The loggers post the two halves separately, possibly to two API replicas at the same moment.
Each half is written with one ``INSERT ... ON CONFLICT (pair_key) DO UPDATE ... RETURNING``:
PostgreSQL makes the second writer wait for the first one's row and then update it, so the
second always sees both halves (SQLite has one writer at a time anyway). Whoever completes
the pair stores its events in the same transaction and marks the row completed; the row is
kept for the pending TTL so a re-delivered half is recognised as a duplicate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from driftline.core.storage import tables as t
from driftline.inference_logs.cloudevent import CloudEvent

__all__ = ["Pair", "complete", "offer", "prune"]

_TABLE: Table = t.InferenceLogPending.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class Pair:
    key: str
    request: bytes | None
    response: bytes | None
    attributes: dict[str, Any] | None

    @property
    def ready(self) -> bool:
        return self.request is not None and self.response is not None


def _attributes(event: CloudEvent) -> dict[str, Any]:
    return {
        "time": event.time.isoformat() if event.time else None,
        "component": event.extensions.get("component", ""),
        "endpoint": event.extensions.get("endpoint", ""),
    }


def offer(session: Session, event: CloudEvent, now: datetime) -> Pair | None:
    """Store this half; the pair as it now stands, or ``None`` when the pair was completed
    before (this half is a re-delivery)."""
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    column = event.half
    values: dict[str, Any] = {"pair_key": event.pair_key, column: event.data, "received_at": now}
    if column == "request":  # the request's attributes (its time) make the event
        values["attributes"] = _attributes(event)
    statement = module.insert(_TABLE).values(**values)
    changes = {name: statement.excluded[name] for name in values if name in (column, "attributes")}
    statement = statement.on_conflict_do_update(
        index_elements=["pair_key"], set_=changes, where=_TABLE.c.completed_at.is_(None)
    ).returning(_TABLE.c.request, _TABLE.c.response, _TABLE.c.attributes)
    row = session.execute(statement).first()
    if row is None:
        return None
    return Pair(event.pair_key, row.request, row.response, row.attributes)


def complete(session: Session, key: str, now: datetime) -> None:
    """Forget the bodies, remember that the pair was stored."""
    session.execute(
        update(_TABLE)
        .where(_TABLE.c.pair_key == key)
        .values(request=None, response=None, completed_at=now)
    )


def prune(session: Session, now: datetime, ttl_s: float) -> tuple[int, int]:
    """Delete rows older than the TTL; returns (halves that never met their other half,
    rows deleted) so the caller can say how many pairs were lost."""
    cutoff = now - timedelta(seconds=ttl_s)
    old = _TABLE.c.received_at < cutoff
    lost = session.scalar(
        select(func.count()).select_from(_TABLE).where(old, _TABLE.c.completed_at.is_(None))
    )
    deleted = session.execute(delete(_TABLE).where(old))
    return int(lost or 0), int(getattr(deleted, "rowcount", 0) or 0)
