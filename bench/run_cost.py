"""Cost of one detection run on the raw path, loading the window from the database.

    .venv/bin/python bench/run_cost.py [--sizes 100000 1000000]

A model with 20 features (14 numeric, 6 categorical) and a 100,000-row reference; the window holds
N events. Reports the whole run (`detectors.runs.run_detection`) and the part spent loading the
window's events from PostgreSQL or SQLite. Starts its own PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))

import numpy as np
import pandas as pd

from detectors import runs
from detectors.profile import build_profile
from driftline.core.contract import parse_event
from driftline.core.modelspec import ModelSpec
from driftline.core.settings import DatabaseSettings
from driftline.core.storage import Database, upgrade
from driftline.ingest.store import store_events
from driftline.registry.models import create_model
from driftline.registry.references import store_reference
from tests.support import postgres

NUMERIC = [f"n{i}" for i in range(14)]
CATEGORICAL = [f"c{i}" for i in range(6)]
MODEL = {
    "name": "cost",
    "task": "binary_classification",
    "features": [{"name": n, "type": "numeric"} for n in NUMERIC]
    + [{"name": c, "type": "categorical"} for c in CATEGORICAL],
}


def prepare(database: Database, events: int) -> None:
    upgrade(database)
    rng = np.random.default_rng(1)
    reference = pd.DataFrame(
        {n: rng.normal(0, 1, 100_000) for n in NUMERIC}
        | {c: pd.array(rng.choice(list("abcdefgh"), 100_000), dtype="string") for c in CATEGORICAL}
    )
    kinds = {n: "numeric" for n in NUMERIC} | {c: "categorical" for c in CATEGORICAL}
    with database.write() as session:
        create_model(session, ModelSpec.model_validate(MODEL))
        store_reference(
            session,
            "cost",
            "1",
            reference,
            "parquet",
            build_profile(reference, kinds, None).to_bytes(),
        )
    now = datetime.now(UTC)
    for start in range(0, events, 20_000):
        n = min(20_000, events - start)
        values = rng.normal(0.2, 1, (n, len(NUMERIC)))
        cats = rng.choice(list("abcdefgh"), (n, len(CATEGORICAL)))
        batch = [
            parse_event(
                {
                    "event_id": str(uuid.uuid4()),
                    "model": "cost",
                    "prediction": "0",
                    "event_time": (now - timedelta(minutes=30)).isoformat(),
                    "features": dict(zip(NUMERIC, map(float, values[i]), strict=True))
                    | dict(zip(CATEGORICAL, map(str, cats[i]), strict=True)),
                }
            )
            for i in range(n)
        ]
        with database.write() as session:
            store_events(session, batch)


def measure(database: Database) -> tuple[float, float]:
    """(whole run seconds, window loading seconds)."""
    real_window = runs.load_window
    spent = {"load": 0.0}

    def timed(*args: object) -> object:
        started = time.perf_counter()
        try:
            return real_window(*args)  # type: ignore[arg-type]
        finally:
            spent["load"] += time.perf_counter() - started

    runs.load_window = timed  # type: ignore[assignment]
    try:
        started = time.perf_counter()
        record = runs.run_detection(database, "cost")
        total = time.perf_counter() - started
    finally:
        runs.load_window = real_window
    assert record.status == "ok", record.status
    return total, spent["load"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    server = postgres.start()
    rows = []
    try:
        for size in args.sizes:
            server.create_database(f"cost_{size}")
            sqlite_path = f"/tmp/driftline-cost-{os.getpid()}-{size}.db"
            for name, url in (
                ("PostgreSQL", server.url(f"cost_{size}")),
                ("SQLite", f"sqlite:///{sqlite_path}"),
            ):
                database = Database(DatabaseSettings(url=url))
                prepare(database, size)
                total, load = measure(database)
                rows.append((name, size, total, load))
                database.dispose()
            Path(sqlite_path).unlink(missing_ok=True)
    finally:
        postgres.stop(server)
    print("\n| database | events in window | run (s) | of which loading the window (s) |")
    print("| --- | --- | --- | --- |")
    for name, size, total, load in rows:
        print(f"| {name} | {size:,} | {total:.2f} | {load:.2f} |")


if __name__ == "__main__":
    main()
