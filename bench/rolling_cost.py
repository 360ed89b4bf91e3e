"""What the rolling reference adds to a raw-path run: the previous window read and profiled.

    .venv/bin/python bench/rolling_cost.py [--events 40000]

The model and reference of ``bench/run_cost.py`` (20 features, a 100,000-row reference) on
SQLite, with N events in the window and N in the hour before it. Times ``run_detection`` on the
raw path with ``rolling_reference`` off and on, alternated, two rounds each.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))
sys.path.insert(0, str(Path(__file__).parent))

import run_cost
from sqlalchemy import select, update

from detectors import runs
from detectors.monitors import set_monitor_config, version_config
from driftline.core.settings import DatabaseSettings
from driftline.core.storage import Database
from driftline.core.storage import tables as t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=40_000, help="events per window")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        database = Database(DatabaseSettings(url=f"sqlite:///{directory}/bench.db"))
        run_cost.prepare(database, 2 * args.events)
        with database.write() as session:  # half of the events go an hour back
            rows = session.execute(
                select(t.PredictionEvent.id, t.PredictionEvent.event_time)
                .order_by(t.PredictionEvent.id)
                .limit(args.events)
            ).all()
            moved = [{"id": i, "event_time": when - timedelta(hours=1)} for i, when in rows]
            session.execute(update(t.PredictionEvent), moved)
        print("| rolling_reference | events in window | previous window | run (s) |")
        print("| --- | --- | --- | --- |")
        for rolling in (False, True, False, True):
            with database.write() as session:
                config = version_config(session, "cost", "1")
                changed = config.model_copy(update={"rolling_reference": rolling})
                set_monitor_config(session, "cost", "1", changed)
            started = time.perf_counter()
            record = runs.run_detection(database, "cost", path="raw")
            took = time.perf_counter() - started
            previous = record.previous_window["status"] if record.previous_window else "-"
            print(f"| {rolling} | {record.n_events:,} | {previous} | {took:.2f} |")
        database.dispose()


if __name__ == "__main__":
    main()
