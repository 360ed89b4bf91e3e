"""Cost of one /metrics scrape (the results snapshot) as the events table grows.

    .venv/bin/python bench/metrics_scrape.py [--sizes 100000 1000000]

20 models, each with one completed run of 20 features; N events spread over them, and their
counts as ingest appends them (a row per model per 500-event batch, none folded yet: the worst
case). Reports the median of 5 reads of ``driftline.exporter.read_snapshot`` (what the API's
collector does per scrape, every 5 s at most) next to a bare ``SELECT count(*) FROM
prediction_events`` measured in the same run (what every scrape paid before the counts).
Starts its own PostgreSQL; SQLite in a temp file.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))

from sqlalchemy import text

from driftline.core.settings import DatabaseSettings
from driftline.core.storage import Database, upgrade
from driftline.core.storage import tables as t
from driftline.exporter import read_snapshot
from tests.support import postgres

MODELS, FEATURES = 20, 20


def _setup(database: Database) -> None:
    now = datetime.now(UTC)
    schema = [{"name": f"f{i}", "type": "numeric", "key": i == 0} for i in range(FEATURES)]
    with database.write() as session:
        for m in range(MODELS):
            model = t.Model(
                name=f"m{m}",
                task="regression",
                features=schema,
                prediction_type="numeric",
                label_type="numeric",
                description=None,
                created_at=now,
                updated_at=now,
            )
            session.add(model)
            session.flush()
            version = t.ModelVersion(model_id=model.id, version="1", created_at=now)
            session.add(version)
            session.flush()
            reference = t.ReferenceDataset(
                version_id=version.id,
                content_hash="sha256:" + "0" * 64,
                source_format="csv",
                n_rows=1,
                columns=[],
                data=b"",
                profile=None,
                created_at=now,
            )
            session.add(reference)
            session.flush()
            run = t.DetectionRun(
                model_id=model.id,
                version_id=version.id,
                reference_id=reference.id,
                reference_hash="x",
                trigger="manual",
                schedule_key=None,
                path="raw",
                window_start=now,
                window_end=now,
                status="ok",
                n_events=1,
                drift_share=0.1,
                dataset_drift=False,
                drifted_features=[],
                performance={"label_coverage": 0.0},
                segments=None,
                error=None,
                started_at=now,
                duration_s=0.1,
            )
            session.add(run)
            session.flush()
            session.add_all(
                t.FeatureResultRow(
                    run_id=run.id,
                    feature=f"f{i}",
                    segment=None,
                    is_prediction=False,
                    kind="numeric",
                    status="ok",
                    method="wasserstein",
                    statistic=0.01,
                    p_value=None,
                    p_value_adjusted=None,
                    effect_size=0.01,
                    threshold=0.1,
                    drifted=False,
                    psi=0.0,
                    psi_level="ok",
                    reference_size=1,
                    current_size=1,
                    missing_rate=0.0,
                    reference_missing_rate=0.0,
                    type_violation_rate=0.0,
                    out_of_range_share=0.0,
                    unseen_share=None,
                    unseen_examples=None,
                )
                for i in range(FEATURES)
            )


def _fill(database: Database, n: int) -> None:
    """n events (ids e0..), round-robin over the models; content is irrelevant to counting."""
    rows = (  # 1..n; model and version ids 1..20 (MODELS) round-robin
        "SELECT g FROM generate_series(1, :n) AS g"
        if database.engine.dialect.name == "postgresql"
        else "WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < :n) "
        "SELECT g FROM s"
    )
    insert = text(
        "INSERT INTO prediction_events (event_id, model_id, version_id, event_time, received_at, "
        "features, prediction) SELECT 'e' || g, 1 + g % 20, 1 + g % 20, :now, :now, '{}', '0' "
        "FROM (" + rows + ") AS r"
    )
    # What ingest appends to stored_event_counts: a row per model per write batch (500 events
    # here), none of them folded yet (maintenance folds them every minute or so).
    counts = text(
        "INSERT INTO stored_event_counts (model_id, events) SELECT 1 + g % 20, 500 "
        "FROM (" + rows.replace(":n", ":batches") + ") AS r"
    )
    with database.engine.begin() as conn:
        conn.execute(insert, {"n": n, "now": datetime.now(UTC).replace(tzinfo=None)})
        conn.execute(text("DELETE FROM stored_event_counts"))
        conn.execute(counts, {"batches": n // 500})
        if database.engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE prediction_events"))


def _median(fn: Callable[[], object], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(database: Database, sizes: list[int]) -> None:
    upgrade(database)
    _setup(database)
    total = 0
    for size in sizes:
        _fill_more = size - total
        if _fill_more > 0:
            with database.engine.begin() as conn:
                conn.execute(text("DELETE FROM prediction_events"))
            _fill(database, size)
            if database.engine.dialect.name == "postgresql":
                with database.engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT"
                ) as conn:
                    conn.execute(text("VACUUM prediction_events"))  # visibility map: index-only
            total = size

        def snapshot() -> None:
            with database.read() as session:
                read_snapshot(session)

        def count() -> None:
            with database.engine.connect() as conn:
                conn.execute(text("SELECT count(*) FROM prediction_events")).scalar()

        snap, floor = _median(snapshot), _median(count)
        print(
            f"{database.engine.dialect.name:10} {size:>9,} events: snapshot {snap * 1000:8.1f} ms,"
            f" bare count {floor * 1000:8.1f} ms, ratio {snap / floor:5.2f}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        measure(Database(DatabaseSettings(url=f"sqlite:///{directory}/bench.db")), args.sizes)
    server = postgres.start()
    try:
        server.create_database("bench")
        measure(Database(DatabaseSettings(url=server.url("bench"))), args.sizes)
    finally:
        postgres.stop(server)


if __name__ == "__main__":
    main()
