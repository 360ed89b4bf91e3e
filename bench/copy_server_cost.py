"""PostgreSQL server CPU per stored event, by what the raw events' table makes it do.

    .venv/bin/python bench/copy_server_cost.py [--events 50000] [--rounds 3]

Stores one batch of SDK-shaped events (20 features) through the collector's path, reads the
rows back as COPY text, then COPYs the same rows again into variants of the table and reads the
CPU time the server's processes spent (Linux ``/proc``; minimum over rounds, per event): the
schema as it is (partitioned, with the ``event_ids`` registry), then one table with the same
indexes, without indexes, and without indexes with ``features`` as ``jsonb`` or ``text``. The
differences say what partitioning, the indexes and the JSON column type cost the server.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))

import psycopg

from bench.collector_cpu import _server_cpu, one_round
from bench.collector_throughput import server_ticks
from tests.support import postgres

COLUMNS = (
    "event_id, model_id, version_id, event_time, received_at, features, extra_features, "
    "type_violations, prediction, score, tags"
)
IDS = "event_id, event_time"
VARIANTS = {  # table -> how it differs from prediction_events
    "pe_plain": "(LIKE prediction_events INCLUDING ALL)",
    "pe_noidx": "(LIKE prediction_events INCLUDING DEFAULTS)",
    "pe_jsonb": "(LIKE prediction_events INCLUDING DEFAULTS)",
    "pe_text": "(LIKE prediction_events INCLUDING DEFAULTS)",
}


def _copy_out(conn: psycopg.Connection, query: str) -> bytes:
    out = io.BytesIO()
    with conn.cursor().copy(f"COPY ({query}) TO STDOUT") as copy:
        for data in copy:
            out.write(data)
    return out.getvalue()


def _cost(
    conn: psycopg.Connection,
    server: postgres.ThrowawayPostgres,
    loads: Sequence[tuple[str, str, bytes]],
    events: int,
    rounds: int,
) -> float:
    """Server CPU us per event of COPYing ``loads`` (table, columns, data) in one transaction."""
    tables = ", ".join(["event_ids", "prediction_events", *VARIANTS])
    best = float("inf")
    with conn.cursor() as cursor:
        for _ in range(rounds):
            cursor.execute(f"TRUNCATE {tables}")
            conn.commit()
            before = server_ticks(server)
            for table, columns, data in loads:
                with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    copy.write(data)
            conn.commit()
            best = min(best, _server_cpu(before, server_ticks(server)))
    return best / events * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    server = postgres.start()
    try:
        url = server.create_database("bench")
        one_round(url, args.events, server, None)  # the rows, as the collector stores them
        conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
        rows = _copy_out(conn, f"SELECT {COLUMNS} FROM prediction_events")  # noqa: S608
        ids = _copy_out(conn, f"SELECT {IDS} FROM event_ids")  # noqa: S608
        with conn.cursor() as cursor:
            for table, shape in VARIANTS.items():
                cursor.execute(f"CREATE TABLE {table} {shape}")
            cursor.execute("ALTER TABLE pe_jsonb ALTER features TYPE jsonb")
            cursor.execute("ALTER TABLE pe_text ALTER features TYPE text")
        conn.commit()
        cases = [
            ("prediction_events and event_ids (the schema)", [("event_ids", IDS, ids)]),
            ("event_ids alone", [("event_ids", IDS, ids)]),
            ("one table, the same indexes", [("pe_plain", COLUMNS, rows)]),
            ("one table, no indexes", [("pe_noidx", COLUMNS, rows)]),
            ("one table, no indexes, features jsonb", [("pe_jsonb", COLUMNS, rows)]),
            ("one table, no indexes, features text", [("pe_text", COLUMNS, rows)]),
        ]
        cases[0][1].insert(0, ("prediction_events", COLUMNS, rows))
        print(f"{args.events} events x 20 features, server CPU per event, min of {args.rounds}")
        print("| table | server CPU per event |\n| --- | --- |")
        for name, loads in cases:
            print(f"| {name} | {_cost(conn, server, loads, args.events, args.rounds):.1f} us |")
        conn.close()
    finally:
        postgres.stop(server)


if __name__ == "__main__":
    main()
