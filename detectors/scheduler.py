"""Which monitor windows are due, and running each exactly once across schedulers.

Windows end on multiples of the monitor's interval (epoch-aligned), so every scheduler computes
the same keys. Only the newest due window is run: after downtime a missed run is caught up once,
not once per missed interval. A claim row decides which scheduler runs a window; a claim older
than the lease whose run was never stored (its scheduler died) can be taken over.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from detectors.config import MonitorConfig
from detectors.monitors import monitor_config
from detectors.records import RunRecord
from detectors.runs import run_detection
from driftline.core.aggregate_settings import AggregateSettings
from driftline.core.storage import Database
from driftline.core.storage import tables as t
from driftline.core.storage.upsert import insert_ignore

__all__ = ["LEASE", "Monitor", "TickResult", "due_window_end", "schedule_key", "tick"]

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=15)


@dataclass(frozen=True)
class Monitor:
    model: str
    version: str
    version_id: int
    config: MonitorConfig


@dataclass
class TickResult:
    ran: list[RunRecord]
    failed: list[tuple[str, str]]  # (schedule key, error)
    skipped: int  # windows already done or claimed by another scheduler


def due_window_end(now: datetime, interval: timedelta) -> datetime:
    """The newest window end at or before ``now`` on the interval grid.

    >>> due_window_end(datetime(2026, 1, 1, 10, 7, tzinfo=UTC), timedelta(minutes=5))
    datetime.datetime(2026, 1, 1, 10, 5, tzinfo=datetime.timezone.utc)
    """
    step = interval.total_seconds()
    stamp = now.timestamp()
    return datetime.fromtimestamp(stamp - stamp % step, UTC)


def schedule_key(version_id: int, window_end: datetime) -> str:
    return f"{version_id}@{window_end.isoformat()}"


def _monitors(database: Database) -> list[Monitor]:
    """Model versions that have a reference (nothing to compare with otherwise)."""
    with database.read() as session:
        rows = session.execute(
            select(t.Model.name, t.ModelVersion.version, t.ModelVersion.id)
            .join(t.ModelVersion, t.ModelVersion.model_id == t.Model.id)
            .where(
                select(t.ReferenceDataset.id)
                .where(t.ReferenceDataset.version_id == t.ModelVersion.id)
                .exists()
            )
            .order_by(t.ModelVersion.id)
        ).all()
        return [Monitor(m, v, vid, monitor_config(session, vid)) for m, v, vid in rows]


def _claim(database: Database, key: str, owner: str, now: datetime) -> bool:
    with database.write() as session:
        if session.scalar(select(t.DetectionRun.id).where(t.DetectionRun.schedule_key == key)):
            return False  # already stored
        # RETURNING, not rowcount: psycopg reports -1 for a skipped ON CONFLICT insert.
        connection = session.connection()
        inserted = connection.execute(
            insert_ignore(session, t.RunClaim, ["schedule_key"]).returning(t.RunClaim.schedule_key),
            {"schedule_key": key, "owner": owner, "claimed_at": now},
        ).first()
        if inserted is not None:
            return True
        taken = connection.execute(
            update(t.RunClaim)
            .where(t.RunClaim.schedule_key == key, t.RunClaim.claimed_at < now - LEASE)
            .values(owner=owner, claimed_at=now)
            .returning(t.RunClaim.schedule_key)
        ).first()
        return taken is not None


def _release(database: Database, key: str, owner: str) -> None:
    with database.write() as session:
        session.execute(
            delete(t.RunClaim).where(t.RunClaim.schedule_key == key, t.RunClaim.owner == owner)
        )


def tick(
    database: Database,
    owner: str,
    now: datetime | None = None,
    aggregates: AggregateSettings | None = None,
) -> TickResult:
    """Run every monitor whose newest window closed by the watermark has not been run yet.

    A window closes ``aggregates.allowed_lateness_s`` after its end (none without
    ``aggregates``): events arriving later update their buckets and mark its run for
    re-evaluation (``detectors.maintenance``).
    """
    now = now or datetime.now(UTC)
    watermark = now - timedelta(seconds=aggregates.allowed_lateness_s if aggregates else 0)
    result = TickResult([], [], 0)
    for monitor in _monitors(database):
        end = due_window_end(watermark, monitor.config.interval)
        key = schedule_key(monitor.version_id, end)
        if not _claim(database, key, owner, now):
            result.skipped += 1
            continue
        try:
            result.ran.append(
                run_detection(
                    database,
                    monitor.model,
                    version=monitor.version,
                    window_end=end,
                    trigger="schedule",
                    schedule_key=key,
                    aggregates=aggregates,
                )
            )
        except IntegrityError:
            result.skipped += 1  # stored meanwhile by a scheduler that took over our claim
        except Exception as exc:  # one monitor failing must not stop the others
            log.exception("scheduled run %s of %s failed", key, monitor.model)
            result.failed.append((key, repr(exc)))
            _release(database, key, owner)  # retried at the next tick
    return result
