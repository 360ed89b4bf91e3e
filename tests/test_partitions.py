"""Raw events partitioned by day on PostgreSQL (ids kept unique in ``event_ids``), the row table
on SQLite: exact new-id sets from the bulk insert, any event time accepted, retention by
dropping partitions, the horizon that keeps old re-deliveries out of the aggregates, model
deletion without foreign keys, and migration 0013 down and up with rows present."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text

from detectors.maintenance import maintain
from driftline.aggregates.retention import expire
from driftline.core.contract import parse_event
from driftline.core.modelspec import ModelSpec
from driftline.core.storage import Database, downgrade, partitions, upgrade
from driftline.core.storage import tables as t
from driftline.ingest.store import store_events
from driftline.registry.models import create_model, delete_model
from tests.helpers import FRAUD_MODEL, prediction
from tests.test_aggregates_storage import SETTINGS, _setup, _total

NOW = datetime.now(UTC).replace(microsecond=0)


def _register(database: Database) -> None:
    with database.write() as session:
        create_model(session, ModelSpec.model_validate(FRAUD_MODEL))


def _events(n: int, at: datetime) -> list[dict[str, Any]]:
    return [prediction(i, event_time=(at + timedelta(seconds=i)).isoformat()) for i in range(n)]


def _store(database: Database, events: list[dict[str, Any]]) -> tuple[list[int], list[int]]:
    with database.write() as session:
        out = store_events(session, [parse_event(e) for e in events])
    return out.stored, out.duplicate


def _count(database: Database, what: Any) -> int:
    with database.read() as session:
        return int(session.scalar(select(func.count()).select_from(what)) or 0)


def _children(database: Database) -> dict[str, int]:
    """Partition name -> rows, from the catalog (pg_inherits/pg_class)."""
    with database.engine.connect() as conn:
        names = conn.execute(
            text(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'prediction_events'::regclass"
            )
        ).scalars()
        return {
            # names from the catalog, not input
            name: int(conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one())  # noqa: S608
            for name in names
        }


def test_new_ids_are_exact_under_replays_and_partial_overlaps(database: Database) -> None:
    _register(database)
    first = _events(300, NOW - timedelta(hours=1))
    stored, duplicate = _store(database, first)
    assert len(stored) == 300 and duplicate == []
    stored, duplicate = _store(database, first)  # a whole replay
    assert stored == [] and len(duplicate) == 300
    fresh = _events(120, NOW - timedelta(days=2))  # another day: another partition
    mixed = first[100:150] + fresh + first[:10]
    stored, duplicate = _store(database, mixed)
    assert stored == list(range(50, 170)) and duplicate == list(range(50)) + list(range(170, 180))
    assert _count(database, t.PredictionEvent) == 420
    if database.dialect == "postgresql":
        assert _count(database, t.EventId) == 420


def test_a_time_outside_every_partition_is_kept(database: Database) -> None:
    _register(database)
    far = [
        prediction(0, event_time="2011-06-01T00:00:00Z"),  # (ingest refuses times > 7 days ahead)
        prediction(1, event_time="1999-06-01T00:00:00Z"),
    ]
    stored, _ = _store(database, far)
    assert stored == [0, 1]
    with database.read() as session:
        times = sorted(session.scalars(select(t.PredictionEvent.event_time)))
    assert [x.year for x in times] == [1999, 2011]
    if database.dialect == "postgresql":
        assert _children(database)[partitions.DEFAULT] == 2
        assert _store(database, far) == ([], [0, 1])  # still deduplicated there


def _days(database: Database) -> list[date]:
    with database.engine.begin() as conn:
        return partitions.days(conn)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_retention_drops_days_and_their_ids_and_keeps_aggregates(database: Database) -> None:
    _setup(database)  # a model with a reference, so that ingest keeps aggregates
    maintain(database, SETTINGS, "test")
    old_day, recent = (NOW - timedelta(days=40)).date(), NOW - timedelta(days=3)
    with database.engine.begin() as conn:
        if old_day not in partitions.days(conn):  # as if made ahead, 40 days ago
            partitions.create_day(conn, old_day)
        if recent.date() in partitions.days(conn):  # as if the job had not run that day
            name = partitions.partition_name(recent.date())
            conn.execute(text(f'DROP TABLE "{name}"'))
    _store(database, _events(50, datetime.combine(old_day, datetime.min.time(), UTC)))
    _store(database, _events(30, recent))
    before = _children(database)
    assert before[partitions.partition_name(old_day)] == 50
    assert before[partitions.DEFAULT] == 30
    counted = _total(database).n_events

    done = expire(database, NOW, 30, 400)
    after = _children(database)
    assert partitions.partition_name(old_day) not in after
    assert old_day in done.dropped_days and done.events == 50
    assert recent.date() in done.created_days
    assert after[partitions.DEFAULT] == 0  # the recent rows moved to their own day
    assert after[partitions.partition_name(recent.date())] == 30
    for i in range(8):
        assert partitions.partition_name(NOW.date() + timedelta(days=i)) in after
    assert _count(database, t.EventId) == _count(database, t.PredictionEvent) == 30
    assert counted == 80 == _total(database).n_events  # the aggregates keep the dropped day
    again = expire(database, NOW, 30, 400)  # nothing left to do
    assert (again.events, again.created_days, again.dropped_days) == (0, [], [])


def test_a_redelivery_older_than_retention_is_refused_with_its_reason(database: Database) -> None:
    """Its id is forgotten with its day: storing it would count it in the aggregates twice."""
    _setup(database)
    maintain(database, SETTINGS, "test")
    old = _events(20, NOW - timedelta(days=45))
    assert len(_store(database, old)[0]) == 20
    expire(database, NOW, 30, 400)
    assert _count(database, t.PredictionEvent) == 0
    with database.write() as session:
        batch = old + _events(5, NOW - timedelta(hours=2))
        out = store_events(session, [parse_event(e) for e in batch])
    assert out.stored == list(range(20, 25)) and out.duplicate == []
    assert sorted(out.rejected) == list(range(20))
    field, reason = out.rejected[0]
    assert field == "event_time" and "removed by retention" in reason
    assert _count(database, t.PredictionEvent) == 5
    assert _total(database).n_events == 25


def test_deleting_a_model_deletes_its_events_and_ids(database: Database) -> None:
    _register(database)
    events = _events(10, NOW - timedelta(hours=1))
    _store(database, events)
    with database.write() as session:
        delete_model(session, "fraud", force=True)
    assert _count(database, t.PredictionEvent) == 0
    if database.dialect == "postgresql":
        assert _count(database, t.EventId) == 0
    _register(database)  # the same ids are new again for a new model of that name
    assert len(_store(database, events)[0]) == 10


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_migration_0013_down_and_up_with_rows(database: Database) -> None:
    _register(database)
    events = _events(40, NOW - timedelta(days=5)) + [prediction(0, event_time="2001-01-01T00:00Z")]
    _store(database, events)
    with database.read() as session:
        ids = sorted(session.scalars(select(t.PredictionEvent.id)))
    try:
        downgrade(database, "0012")
        with database.engine.connect() as conn:
            kind = conn.execute(
                text("SELECT relkind FROM pg_class WHERE relname = 'prediction_events'")
            ).scalar_one()
            assert kind == "r"
            fks = conn.execute(
                text(
                    "SELECT count(*) FROM pg_constraint WHERE contype = 'f' "
                    "AND conrelid = 'prediction_events'::regclass"
                )
            ).scalar_one()
            assert fks == 2
            assert conn.execute(text("SELECT count(*) FROM prediction_events")).scalar() == 41
            assert conn.execute(text("SELECT to_regclass('event_ids')")).scalar() is None
    finally:
        upgrade(database)
    with database.engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT relkind FROM pg_class WHERE relname = 'prediction_events'")
            ).scalar_one()
            == "p"
        )
    with database.read() as session:
        assert sorted(session.scalars(select(t.PredictionEvent.id))) == ids
    assert _count(database, t.EventId) == 41
    children = _children(database)
    assert children[partitions.DEFAULT] == 1  # 2001: older than the partitions made
    assert children[partitions.partition_name((NOW - timedelta(days=5)).date())] > 0
    assert _store(database, events)[0] == []  # the ids came across
    stored, _ = _store(database, [prediction(1, event_id=str(uuid.uuid4()))])
    assert stored == [0]
    with database.read() as session:  # the id sequence continues after the copied rows
        assert max(session.scalars(select(t.PredictionEvent.id))) > max(ids)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_two_schedulers_making_the_same_day_do_not_fail(database: Database) -> None:
    day = (NOW + timedelta(days=9)).date()  # beyond the days made ahead
    with database.engine.begin() as conn:
        if day in partitions.days(conn):
            conn.execute(text(f'DROP TABLE "{partitions.partition_name(day)}"'))
    with database.engine.begin() as conn:
        partitions.create_day(conn, day)
    with database.engine.begin() as conn:  # the second finds it made: nothing to do
        assert partitions.create_day(conn, day) == 0
        assert day in partitions.days(conn)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_dropped_days_ids_are_forgotten_batch_by_batch(database: Database) -> None:
    _register(database)
    old_day, kept_day = (NOW - timedelta(days=50)).date(), (NOW - timedelta(days=1)).date()
    with database.engine.begin() as conn:
        for day in (old_day, kept_day):
            if day not in partitions.days(conn):
                partitions.create_day(conn, day)
    _store(database, _events(50, datetime.combine(old_day, datetime.min.time(), UTC)))
    _store(database, _events(5, datetime.combine(kept_day, datetime.min.time(), UTC)))
    done = partitions.upkeep(database.engine.begin, NOW.date(), NOW.date() - timedelta(30), 0, 7)
    assert done.forgotten == 50 and old_day in done.dropped and kept_day not in done.dropped
    assert _count(database, t.EventId) == 5


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_deleting_a_model_waits_for_its_ingest_in_flight(database: Database) -> None:
    """No foreign key holds the model any more: the version lock must, or rows would be left."""
    _register(database)
    in_flight, finish = threading.Event(), threading.Event()

    def ingest() -> None:
        with database.write() as session:
            store_events(session, [parse_event(e) for e in _events(10, NOW)])
            in_flight.set()
            finish.wait(20)

    def delete() -> None:
        with database.write() as session:
            delete_model(session, "fraud", force=True)

    writer = threading.Thread(target=ingest)
    writer.start()
    assert in_flight.wait(20)
    deleter = threading.Thread(target=delete)
    deleter.start()
    deleter.join(1.0)
    assert deleter.is_alive()  # waiting for the ingest to commit
    finish.set()
    writer.join(20)
    deleter.join(20)
    assert _count(database, t.PredictionEvent) == 0 and _count(database, t.EventId) == 0


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_day_is_made_while_an_insert_into_the_default_is_in_flight(database: Database) -> None:
    """The insert commits after the day's creation started: its rows must move too (a row left
    in the default partition made ATTACH fail, and that day could then never be created)."""
    _register(database)
    day = (NOW + timedelta(days=6)).date()  # its partition dropped: its rows go to the default
    with database.engine.begin() as conn:
        if day in partitions.days(conn):
            conn.execute(text(f'DROP TABLE "{partitions.partition_name(day)}"'))
    at = datetime.combine(day, datetime.min.time(), UTC)
    assert len(_store(database, _events(5, at))[0]) == 5
    outcome: dict[str, Any] = {}

    def make_day() -> None:
        try:
            with database.engine.begin() as conn:
                outcome["moved"] = partitions.create_day(conn, day)
        except Exception as exc:  # reported below
            outcome["error"] = exc

    with database.write() as session:  # an ingest transaction still open
        batch = [parse_event(e) for e in _events(3, at + timedelta(hours=1))]
        assert len(store_events(session, batch).stored) == 3
        maker = threading.Thread(target=make_day)
        maker.start()
        time.sleep(1.0)  # create_day now waits for this transaction
    maker.join(timeout=30)
    assert outcome == {"moved": 8}
    children = _children(database)
    assert children[partitions.partition_name(day)] == 8 and children[partitions.DEFAULT] == 0


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_day_that_cannot_be_made_does_not_stop_the_drops(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _register(database)
    old_day = (NOW - timedelta(days=50)).date()
    with database.engine.begin() as conn:
        if old_day not in partitions.days(conn):
            partitions.create_day(conn, old_day)
        missing = (NOW + timedelta(days=3)).date()
        conn.execute(text(f'DROP TABLE IF EXISTS "{partitions.partition_name(missing)}"'))
    real = partitions.create_day

    def failing(conn: Any, day: Any) -> int:
        if day == missing:
            conn.execute(text("SELECT 1/0"))  # as a lock timeout would fail
        return real(conn, day)

    monkeypatch.setattr(partitions, "create_day", failing)
    done = partitions.upkeep(database.engine.begin, NOW.date(), NOW.date() - timedelta(30), 7)
    assert missing not in done.created and old_day in done.dropped
