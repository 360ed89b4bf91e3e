"""Scheduled detection on both backends: due windows, one run per window, catch-up, claims."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from detectors.config import MonitorConfig
from detectors.scheduler import LEASE, due_window_end, schedule_key, tick
from driftline.core.contract import parse_event
from driftline.core.modelspec import ModelSpec
from driftline.core.settings import DatabaseSettings
from driftline.core.storage import Database
from driftline.core.storage import tables as t
from driftline.ingest.store import store_events
from driftline.registry.models import create_model
from driftline.registry.references import store_reference
from tests.helpers import FRAUD_MODEL

NOW = datetime(2026, 11, 21, 12, 7, tzinfo=UTC)


def _setup(database: Database, events: int = 300) -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "amount": rng.normal(100, 20, 500),
            "country": pd.array(rng.choice(["DE", "FR"], 500), dtype="string"),
            "is_new": pd.array(rng.random(500) < 0.3, dtype="boolean"),
        }
    )
    with database.write() as session:
        create_model(session, ModelSpec.model_validate(FRAUD_MODEL))
        store_reference(session, "fraud", "1", frame, "csv")
        store_events(
            session,
            [
                parse_event(
                    {
                        "event_id": str(uuid.uuid4()),
                        "model": "fraud",
                        "prediction": "0",
                        "event_time": (NOW - timedelta(minutes=30)).isoformat(),
                        "features": {"amount": float(a), "country": "DE", "is_new": False},
                    }
                )
                for a in rng.normal(160, 20, events)
            ],
        )


def _runs(database: Database) -> int:
    with database.read() as session:
        return int(session.scalar(select(func.count()).select_from(t.DetectionRun)) or 0)


def test_due_window_is_aligned_and_run_once(database: Database) -> None:
    _setup(database)
    first = tick(database, "a", NOW)
    assert len(first.ran) == 1 and first.failed == []
    run = first.ran[0]
    assert run.trigger == "schedule" and run.status == "ok" and run.n_events == 300
    assert run.window_end == due_window_end(NOW, timedelta(minutes=5))
    assert "amount" in (run.drifted_features or [])
    again = tick(database, "a", NOW + timedelta(minutes=2))  # same window
    assert again.ran == [] and again.skipped == 1
    later = tick(database, "a", NOW + timedelta(minutes=5))  # the next window
    assert len(later.ran) == 1 and _runs(database) == 2


def test_a_missed_run_is_caught_up_once(database: Database) -> None:
    _setup(database)
    tick(database, "a", NOW)
    result = tick(database, "a", NOW + timedelta(hours=3))  # 36 intervals missed
    assert len(result.ran) == 1 and _runs(database) == 2


def test_two_schedulers_at_once_make_one_run_per_window(
    database: Database, database_url: str
) -> None:
    _setup(database)
    other = Database(DatabaseSettings(url=database_url))
    results = {}

    def work(name: str, db: Database) -> None:
        results[name] = tick(db, name, NOW)

    threads = [
        threading.Thread(target=work, args=(n, db)) for n, db in (("a", database), ("b", other))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    other.dispose()
    assert sum(len(r.ran) for r in results.values()) == 1
    assert sum(r.skipped for r in results.values()) == 1
    assert _runs(database) == 1


def test_a_failed_run_releases_its_claim_and_is_retried(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _setup(database)
    import detectors.scheduler as scheduler

    real = scheduler.run_detection
    calls = []

    def failing_once(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(scheduler, "run_detection", failing_once)
    first = tick(database, "a", NOW)
    assert first.ran == [] and first.failed and "boom" in first.failed[0][1]
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(t.RunClaim)) == 0
    assert len(tick(database, "a", NOW).ran) == 1


def test_stale_claims_are_taken_over_and_fresh_ones_respected(database: Database) -> None:
    _setup(database)
    with database.read() as session:
        version_id = session.scalar(select(t.ModelVersion.id))
    assert version_id is not None
    key = schedule_key(version_id, due_window_end(NOW, MonitorConfig().interval))
    with database.write() as session:
        session.add(t.RunClaim(schedule_key=key, owner="busy", claimed_at=NOW))
    assert tick(database, "a", NOW).skipped == 1 and _runs(database) == 0
    with database.write() as session:
        claim = session.get(t.RunClaim, key)
        assert claim is not None
        claim.claimed_at = NOW - LEASE - timedelta(minutes=1)  # its scheduler died
    assert len(tick(database, "a", NOW).ran) == 1


def test_scheduler_process_stores_a_run_within_one_interval(
    database: Database, database_url: str
) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    from tests.support.postgres import free_port

    _setup(database)
    with database.write() as session:  # recent traffic, a one-minute interval
        session.execute(
            t.PredictionEvent.__table__.update().values(
                event_time=datetime.now(UTC) - timedelta(minutes=10)
            )
        )
        session.add(
            t.MonitorSettings(
                version_id=session.scalar(select(t.ModelVersion.id)),
                config=MonitorConfig(interval=timedelta(minutes=1)).model_dump(mode="json"),
                updated_at=datetime.now(UTC),
            )
        )
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTLINE_")} | {
        "DRIFTLINE_DATABASE__URL": database_url,
        "DRIFTLINE_SCHEDULER__TICK_SECONDS": "1",
        "DRIFTLINE_SCHEDULER__METRICS_PORT": str(free_port()),
    }
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "driftline"), "scheduler"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60  # one interval
        while _runs(database) == 0 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _runs(database) == 1
        with database.read() as session:
            run = session.scalars(select(t.DetectionRun)).one()
        assert (run.trigger, run.status, run.n_events) == ("schedule", "ok", 300)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
