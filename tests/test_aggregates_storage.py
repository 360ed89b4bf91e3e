"""Aggregates kept at ingest, on SQLite and PostgreSQL: exactly once per new event and per
labelled pair, runs on them, late events, retention, reference replacement, compaction."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from detectors.maintenance import maintain
from detectors.profile import build_profile
from detectors.runs import run_detection
from detectors.scheduler import tick
from driftline.aggregates.compact import compact
from driftline.aggregates.partial import Partial
from driftline.aggregates.rebuild import rebuild_step
from driftline.aggregates.retention import expire
from driftline.aggregates.status import aggregate_status
from driftline.core.aggregate_settings import AggregateSettings
from driftline.core.contract import parse_event
from driftline.core.modelspec import ModelSpec
from driftline.core.storage import Database
from driftline.core.storage import tables as t
from driftline.core.storage.aggregate_tables import AggregateBucket, RunReevaluation
from driftline.ingest.store import store_events
from driftline.registry.models import create_model
from driftline.registry.references import store_reference
from tests.helpers import FRAUD_MODEL

KINDS = {"amount": "numeric", "country": "categorical", "is_new": "boolean"}
SETTINGS = AggregateSettings(raw_path_max_events=0, allowed_lateness_s=300)
NOW = datetime.now(UTC).replace(second=0, microsecond=0)


def _reference(seed: int = 0, mean: float = 100.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "amount": rng.normal(mean, 20, 3000),
            "country": pd.array(rng.choice(["DE", "FR", "IT"], 3000), dtype="string"),
            "is_new": pd.array(rng.random(3000) < 0.3, dtype="boolean"),
            "prediction": pd.array(rng.choice(["0", "1"], 3000), dtype="string"),
        }
    )


def _upload(database: Database, frame: pd.DataFrame) -> None:
    profile = build_profile(frame, KINDS, "categorical").to_bytes()
    with database.write() as session:
        store_reference(session, "fraud", "1", frame, "csv", profile)


def _setup(database: Database) -> None:
    with database.write() as session:
        create_model(session, ModelSpec.model_validate(FRAUD_MODEL))
    _upload(database, _reference())


def _events(n: int, shift: float, at: datetime, seed: int = 1) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    out = []
    for i, amount in enumerate(rng.normal(100 + shift, 20, n)):
        out.append(
            {
                "event_id": str(uuid.uuid4()),
                "model": "fraud",
                "event_time": (at + timedelta(seconds=int(i % 600))).isoformat(),
                "features": {
                    "amount": float(amount),
                    "country": str(rng.choice(["DE", "FR", "IT", "ES"] if shift else ["DE", "FR"])),
                    "is_new": bool(rng.random() < 0.3),
                },
                "prediction": str(int(amount > 110)),
                "score": float(np.clip((amount - 60) / 100, 0, 1)),
            }
        )
    return out


def _store(database: Database, events: list[dict[str, Any]]) -> None:
    with database.write() as session:
        store_events(session, [parse_event(e) for e in events])


def _total(database: Database, reference_id: int | None = None) -> Partial:
    with database.read() as session:
        query = select(AggregateBucket.data)
        if reference_id is not None:
            query = query.where(AggregateBucket.reference_id == reference_id)
        rows = list(session.scalars(query))
    total = Partial.decode(rows[0])
    for data in rows[1:]:
        total.merge(Partial.decode(data))
    return total


def test_redelivered_events_leave_the_aggregates_unchanged(database: Database) -> None:
    _setup(database)
    assert maintain(database, SETTINGS, "test").switched == [1]
    events = _events(500, 0, NOW - timedelta(minutes=30))
    _store(database, events)
    before = _total(database)
    _store(database, events)  # a replay: every event is a duplicate
    replayed = _total(database)
    assert replayed.n_events == before.n_events == 500
    for name in ("counts", "positions", "missing", "violations", "stats"):
        assert np.array_equal(getattr(replayed, name), getattr(before, name)), name
    _store(database, events[:200] + _events(50, 0, NOW - timedelta(minutes=30), seed=2))
    with database.read() as session:
        stored = session.scalar(select(func.count()).select_from(t.PredictionEvent))
    assert stored == 550 == _total(database).n_events


def test_labels_count_once_whichever_half_arrives_first(database: Database) -> None:
    _setup(database)
    maintain(database, SETTINGS, "test")
    early = _events(300, 0, NOW - timedelta(minutes=40), seed=3)
    late = _events(300, 0, NOW - timedelta(minutes=35), seed=4)

    def labels(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        truth = [
            e["prediction"] if i % 3 else str(1 - int(e["prediction"]))
            for i, e in enumerate(events)
        ]  # right two times in three
        return [
            {"type": "label", "event_id": e["event_id"], "model": "fraud", "label": label}
            for e, label in zip(events, truth, strict=True)
        ]

    _store(database, early)  # predictions first, then their labels (twice: a replay)
    _store(database, labels(early[:200]))
    _store(database, labels(early[:200]))
    _store(database, labels(late[:100]))  # labels first, then their predictions
    _store(database, late + labels(late[100:150]))  # and both halves in one batch
    total = _total(database)
    assert total.performance is not None
    assert total.performance["n"] == 350
    assert sum(total.performance["confusion"].values()) == 350
    with database.read() as session:
        counted = session.scalar(
            select(func.count()).select_from(t.Label).where(t.Label.aggregated_ref.is_not(None))
        )
    assert counted == 350
    raw = run_detection(database, "fraud", window_end=NOW, path="raw")
    binned = run_detection(database, "fraud", window_end=NOW, path="aggregates")
    assert raw.performance is not None and binned.performance is not None
    for name in ("accuracy", "precision", "recall", "f1", "log_loss", "label_coverage"):
        assert binned.performance[name] == pytest.approx(raw.performance[name], rel=1e-9)
    exact, approx = raw.performance["roc_auc"], binned.performance["roc_auc"]
    bound = binned.performance["roc_auc_bound"]
    assert exact is not None and approx is not None and bound is not None
    assert abs(approx - exact) <= bound + 1e-12


def test_runs_on_aggregates_agree_with_raw_runs(database: Database) -> None:
    _setup(database)
    maintain(database, SETTINGS, "test")
    _store(database, _events(1500, 25, NOW - timedelta(minutes=50)))
    _store(database, _events(1500, 0, NOW - timedelta(minutes=20), seed=5))
    raw = run_detection(database, "fraud", window_end=NOW, path="raw", aggregates=SETTINGS)
    binned = run_detection(database, "fraud", window_end=NOW, aggregates=SETTINGS)
    assert (raw.path, binned.path) == ("raw", "aggregates")
    assert binned.n_events == raw.n_events == 3000
    assert binned.drifted_features == raw.drifted_features == ["amount", "country"]
    assert binned.dataset_drift == raw.dataset_drift
    for exact, approx in zip(raw.features, binned.features, strict=True):
        assert exact.drifted == approx.drifted
        assert approx.psi == pytest.approx(exact.psi, abs=1e-12)
        assert exact.statistic is not None and approx.statistic is not None
        if exact.method == "wasserstein":
            assert approx.statistic_bound is not None
            assert abs(approx.statistic - exact.statistic) <= approx.statistic_bound
        else:
            assert approx.statistic == pytest.approx(exact.statistic, rel=1e-9)
    # The statistics and their bounds are stored with the run.
    with database.read() as session:
        bounds = session.scalars(
            select(t.FeatureResultRow.statistic_bound).where(
                t.FeatureResultRow.run_id == binned.id, t.FeatureResultRow.feature == "amount"
            )
        ).all()
    assert bounds and bounds[0] is not None


def test_a_late_event_reevaluates_its_window_once(database: Database) -> None:
    _setup(database)
    maintain(database, SETTINGS, "test")
    # Windows close 5 minutes after their end; the scheduled run sees the window's events.
    now = NOW + timedelta(minutes=7)
    _store(database, _events(400, 0, NOW - timedelta(minutes=40)))
    ran = tick(database, "test", now, aggregates=SETTINGS).ran
    assert len(ran) == 1 and ran[0].window_end <= now - timedelta(minutes=5)
    window_end = ran[0].window_end
    assert tick(database, "test", now, aggregates=SETTINGS).ran == []
    late = _events(30, 0, window_end - timedelta(minutes=15), seed=8)
    _store(database, late)
    _store(database, late)  # re-delivered: nothing more to re-evaluate
    with database.read() as session:
        marked = session.scalars(select(RunReevaluation.run_id)).all()
    assert marked == [ran[0].id]
    again = maintain(database, SETTINGS, "test", now + timedelta(minutes=1)).reevaluated
    assert len(again) == 1
    assert again[0].trigger == "reevaluation"
    assert (again[0].window_start, again[0].window_end) == (ran[0].window_start, window_end)
    assert again[0].n_events == ran[0].n_events + 30
    assert maintain(database, SETTINGS, "test", now + timedelta(minutes=2)).reevaluated == []


def test_retention_keeps_aggregates_and_old_windows_still_run(database: Database) -> None:
    _setup(database)
    maintain(database, SETTINGS, "test")
    old_end = NOW - timedelta(days=40)
    _store(database, _events(600, 25, old_end - timedelta(minutes=30)))
    _store(database, _events(200, 0, NOW - timedelta(minutes=30), seed=6))
    _store(
        database,
        [
            {
                "type": "label",
                "event_id": str(uuid.uuid4()),
                "model": "fraud",
                "label": "1",
                "event_time": (old_end - timedelta(minutes=30)).isoformat(),
            }
        ],
    )
    maintain(database, SETTINGS, "test", NOW)
    before = run_detection(database, "fraud", window_end=old_end, path="raw")
    done = expire(database, NOW, SETTINGS.raw_retention_days, SETTINGS.aggregate_retention_days)
    assert (done.events, done.labels, done.buckets) == (600, 1, 0)
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(t.PredictionEvent)) == 200
    assert _total(database).n_events == 800
    after = run_detection(database, "fraud", window_end=old_end, aggregates=SETTINGS)
    assert after.path == "aggregates" and after.n_events == 600 == before.n_events
    assert after.drifted_features == before.drifted_features == ["amount", "country"]
    # Past the aggregates' retention, the buckets go too.
    gone = expire(database, NOW + timedelta(days=380), 30, 400)
    assert gone.buckets > 0
    assert _total_rows(database) == _total_rows(database, after=NOW - timedelta(days=20))


def _total_rows(database: Database, after: datetime | None = None) -> int:
    with database.read() as session:
        query = select(func.count()).select_from(AggregateBucket)
        if after is not None:
            query = query.where(AggregateBucket.bucket_start >= after)
        return int(session.scalar(query) or 0)


def test_a_new_reference_rebuilds_from_raw_events_exactly_once(database: Database) -> None:
    _setup(database)
    maintain(database, SETTINGS, "test")
    _store(database, _events(700, 0, NOW - timedelta(minutes=50)))
    _upload(database, _reference(seed=9, mean=110))  # reference 2
    _store(database, _events(300, 0, NOW - timedelta(minutes=40), seed=10))  # still layout 1
    with database.read() as session:
        assert aggregate_status(session, "fraud", "1", 1).status == "pending"
    run = run_detection(database, "fraud", window_end=NOW, aggregates=SETTINGS)
    assert run.path == "raw"  # the new reference's aggregates are not built yet
    small = AggregateSettings(rebuild_chunk_events=400)
    from detectors.maintenance import ensure_layouts

    assert ensure_layouts(database, small, NOW) == [1]
    with database.write() as session:
        assert rebuild_step(session, 1, 400, NOW)
    with database.read() as session:
        status = aggregate_status(session, "fraud", "1", 1)
    assert status.status == "rebuilding" and status.rebuild is not None
    assert (status.rebuild.done_events, status.rebuild.total_events) == (400, 1000)
    _store(database, _events(200, 0, NOW - timedelta(minutes=30), seed=11))  # layout 2 now
    maintain(database, small, "test")
    with database.read() as session:
        status = aggregate_status(session, "fraud", "1", 1)
    assert status.status == "ready" and status.reference_id == 2 and status.events == 1200
    assert _total(database, reference_id=2).n_events == 1200
    assert _total(database, reference_id=1).n_events == 1000
    binned = run_detection(database, "fraud", window_end=NOW, aggregates=SETTINGS)
    raw = run_detection(database, "fraud", window_end=NOW, path="raw")
    assert binned.path == "aggregates" and binned.reference_id == raw.reference_id == 2
    assert binned.drifted_features == raw.drifted_features


def test_compaction_merges_a_buckets_rows_and_keeps_the_sums(database: Database) -> None:
    _setup(database)
    maintain(database, SETTINGS, "test")
    at = NOW - timedelta(minutes=30)
    for seed in range(4):  # four write batches into the same ten minutes
        _store(database, _events(120, 0, at, seed=seed))
    before = _total(database)
    rows_before = _total_rows(database)
    with database.read() as session:
        buckets = session.scalar(select(func.count(func.distinct(AggregateBucket.bucket_start))))
    with database.write() as session:
        merged = compact(session, NOW, NOW)
    assert buckets == merged == 2 and rows_before == 8 and _total_rows(database) == 2
    after = _total(database)
    assert after.n_events == before.n_events == 480
    assert np.array_equal(after.counts, before.counts)
    assert np.allclose(after.positions, before.positions, atol=1e-3 * after.counts.max())
    with database.write() as session:
        assert compact(session, NOW, NOW) == 0


def test_an_ingest_in_flight_delays_the_switch_and_nothing_is_lost(
    database: Database, backend: str
) -> None:
    """The switch waits for ingest transactions that read the old layout (PostgreSQL locks;
    SQLite has one writer at a time): their events are then rebuilt, later ones not."""
    _setup(database)
    maintain(database, SETTINGS, "test")
    _upload(database, _reference(seed=9, mean=110))
    inserted, release = threading.Event(), threading.Event()

    def ingest() -> None:
        with database.write() as session:
            store_events(session, [parse_event(e) for e in _events(250, 0, NOW, seed=12)])
            inserted.set()
            release.wait(20)

    writer = threading.Thread(target=ingest)
    writer.start()
    assert inserted.wait(20)
    switcher = threading.Thread(target=maintain, args=(database, SETTINGS, "test"))
    switcher.start()
    switcher.join(2)
    assert switcher.is_alive()  # waiting for the ingest transaction
    release.set()
    writer.join(20)
    switcher.join(30)
    _store(database, _events(50, 0, NOW, seed=13))
    maintain(database, SETTINGS, "test")
    assert _total(database, reference_id=2).n_events == 300
    assert backend in ("sqlite", "postgresql")
