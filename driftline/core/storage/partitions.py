"""PostgreSQL: ``prediction_events`` partitioned by day of ``event_time``.

Each UTC day ``D`` is a partition ``prediction_events_pYYYYMMDD`` holding ``[D, D+1)``; a DEFAULT
partition takes any other time, so no event is ever refused for its time. :func:`upkeep` (run by
the retention job) creates the days ahead, gives each recent day found in the default partition
its own partition (moving its rows there), and drops the days wholly older than retention, so
retention costs a ``DROP TABLE`` instead of deleting rows one by one.

Statements are composed with ``psycopg.sql`` from names this module makes from dates, never
from input. Each change runs in its own short transaction with a lock timeout, so ingest (which
holds locks only on the partitions it writes) waits at most that long, and a pass that times out
is simply repeated by the next one.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from psycopg import sql
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

__all__ = [
    "DEFAULT",
    "PARENT",
    "REGISTRY",
    "Upkeep",
    "create_day",
    "day_bounds",
    "days",
    "default_days",
    "delete_default_before",
    "is_partition",
    "partition_name",
    "upkeep",
]

PARENT = "prediction_events"
DEFAULT = "prediction_events_default"
REGISTRY = "event_ids"  # the ids, unique across partitions (core.storage.bulk)
_DAY = re.compile(r"prediction_events_p(\d{8})")
LOCK_TIMEOUT = "10s"

log = logging.getLogger(__name__)


@dataclass
class Upkeep:
    created: list[date] = field(default_factory=list)
    dropped: list[date] = field(default_factory=list)
    moved_rows: int = 0  # out of the default partition into a new day's partition
    forgotten: int = 0  # ids of the dropped days' events deleted from event_ids


def partition_name(day: date) -> str:
    return f"prediction_events_p{day:%Y%m%d}"


def is_partition(name: str) -> bool:
    """A table this module made (Alembic's comparison leaves them out of the schema)."""
    return name == DEFAULT or _DAY.fullmatch(name) is not None


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), UTC)
    return start, start + timedelta(days=1)


def _driver(connection: Connection) -> Any:
    return connection.connection.driver_connection


def _run(connection: Connection, query: sql.Composable, params: tuple[Any, ...] = ()) -> Any:
    cursor = _driver(connection).cursor()
    cursor.execute(query, params or None)
    return cursor


def days(connection: Connection) -> list[date]:
    """The days that have their own partition, oldest first."""
    cursor = _run(
        connection,
        sql.SQL(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = {}::regclass"
        ).format(sql.Literal(PARENT)),
    )
    found = [_DAY.fullmatch(name) for (name,) in cursor.fetchall()]
    return sorted(datetime.strptime(m.group(1), "%Y%m%d").date() for m in found if m)


def default_days(connection: Connection, since: date, until: date) -> list[date]:
    """Days in ``[since, until]`` that have rows in the default partition. Later days stay
    there until they come near: times far in the future must not make thousands of tables."""
    cursor = _run(
        connection,
        sql.SQL(
            "SELECT DISTINCT (event_time AT TIME ZONE 'UTC')::date FROM {} "
            "WHERE event_time >= %s AND event_time < %s"
        ).format(sql.Identifier(DEFAULT)),
        (day_bounds(since)[0], day_bounds(until)[1]),
    )
    return sorted(d for (d,) in cursor.fetchall())


def create_day(connection: Connection, day: date) -> int:
    """Give ``day`` its partition, moving its rows out of the default partition; returns how
    many rows moved. The caller commits.

    ``CREATE TABLE ... PARTITION OF`` would fail while the default partition holds rows of that
    day, so the table is made on its own, filled, then attached (which takes a lighter lock on
    the parent than creating a partition in place)."""
    name, (start, end) = sql.Identifier(partition_name(day)), day_bounds(day)
    if not _serialised(connection, partition_name(day)):
        return 0  # another scheduler made it meanwhile
    # Wait for inserts into the default partition in flight, and hold new ones until this
    # commits: a row of the day committed after the DELETE below would make ATTACH fail its
    # check, and this day could then never be created. Reads go on (EXCLUSIVE allows them).
    _run(connection, sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(sql.Identifier(DEFAULT)))
    _run(
        connection,
        sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS)").format(
            name, sql.Identifier(PARENT)
        ),
    )
    moved = _run(
        connection,
        sql.SQL(
            "WITH moved AS (DELETE FROM {} WHERE event_time >= %s AND event_time < %s "
            "RETURNING *) INSERT INTO {} SELECT * FROM moved"
        ).format(sql.Identifier(DEFAULT), name),
        (start, end),
    ).rowcount
    _run(
        connection,
        sql.SQL("ALTER TABLE {} ATTACH PARTITION {} FOR VALUES FROM ({}) TO ({})").format(
            sql.Identifier(PARENT), name, sql.Literal(start), sql.Literal(end)
        ),
    )
    return int(moved)


def _serialised(connection: Connection, name: str) -> bool:
    """Set the lock timeout and wait for any other scheduler's change (a transaction-level
    advisory lock); then whether the table ``name`` does not exist."""
    _run(connection, sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(LOCK_TIMEOUT)))
    _run(
        connection,
        sql.SQL("SELECT pg_advisory_xact_lock(hashtext({}))").format(sql.Literal(PARENT)),
    )
    return not _exists(connection, name)


def _exists(connection: Connection, name: str) -> bool:
    found = _run(connection, sql.SQL("SELECT to_regclass(%s)"), (name,)).fetchone()
    return found is not None and found[0] is not None


def _drop_day(connection: Connection, day: date) -> None:
    if not _serialised(connection, partition_name(day)):
        _run(connection, sql.SQL("DROP TABLE {}").format(sql.Identifier(partition_name(day))))


def delete_default_before(connection: Connection, before: datetime) -> int:
    """Rows of the default partition older than ``before`` (times far in the past), and their
    ids; returns how many ids were deleted."""
    return int(
        _run(
            connection,
            sql.SQL(
                "WITH gone AS (DELETE FROM {} WHERE event_time < %s RETURNING event_id) "
                "DELETE FROM {} WHERE event_id IN (SELECT event_id FROM gone)"
            ).format(sql.Identifier(DEFAULT), sql.Identifier(REGISTRY)),
            (before,),
        ).rowcount
    )


def _forget_ids(
    engine_connect: Callable[[], AbstractContextManager[Connection]], day: date, batch: int
) -> int:
    """Delete the ids of a day's rows from ``event_ids``, ``batch`` at a time in id order (each
    its own transaction); returns how many. ``event_ids`` has no index on the time: that would
    cost every insert about 10% more server CPU, to save this once-a-day walk."""
    forgotten, after = 0, -1
    while True:
        with engine_connect() as connection:
            if not _exists(connection, partition_name(day)):
                return forgotten  # another scheduler dropped the day meanwhile
            last, count = _run(
                connection,
                sql.SQL(
                    "WITH batch AS (SELECT id, event_id FROM {} WHERE id > %s ORDER BY id "
                    "LIMIT %s), gone AS (DELETE FROM {} e USING batch b "
                    "WHERE e.event_id = b.event_id RETURNING 1) "
                    "SELECT (SELECT max(id) FROM batch), (SELECT count(*) FROM gone)"
                ).format(sql.Identifier(partition_name(day)), sql.Identifier(REGISTRY)),
                (after, batch),
            ).fetchone()
        if last is None:
            return forgotten
        forgotten, after = forgotten + int(count), int(last)


def upkeep(
    engine_connect: Callable[[], AbstractContextManager[Connection]],
    today: date,
    keep_from: date,
    ahead: int = 7,
    id_batch: int = 50_000,
) -> Upkeep:
    """Partitions for ``today`` .. ``today + ahead`` and for the days from ``keep_from`` found in
    the default partition; drop the days before ``keep_from`` with their ids.

    ``engine_connect`` is a callable giving a context manager of a connection in a transaction
    (``engine.begin``), so every change commits on its own.
    """
    out = Upkeep()
    with engine_connect() as connection:
        have = set(days(connection))
        wanted = {today + timedelta(days=i) for i in range(ahead + 1)}
        wanted |= set(default_days(connection, keep_from, today + timedelta(days=ahead)))
    for day in sorted(d for d in wanted - have if d >= keep_from):
        try:
            with engine_connect() as connection:
                out.moved_rows += create_day(connection, day)
        except DBAPIError:
            # A lock timeout, say: its rows stay in the default partition (nothing is lost)
            # and the next pass tries again; the other days and the drops still go ahead.
            log.warning(
                "could not create the partition of %s; next pass retries", day, exc_info=True
            )
            continue
        out.created.append(day)
    for day in sorted(d for d in have if d < keep_from):
        # Ids first: between the two, the day's events have no ids, which is harmless as the
        # caller has moved the horizon past them (ingest refuses them already).
        out.forgotten += _forget_ids(engine_connect, day, id_batch)
        with engine_connect() as connection:
            _drop_day(connection, day)
        out.dropped.append(day)
    return out
