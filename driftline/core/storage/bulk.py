"""Idempotent bulk inserts keyed on ``event_id``: the collector's and the ingest API's hot path.

PostgreSQL: ``COPY`` into a temporary staging table (dropped at commit), then
``INSERT ... SELECT ... ON CONFLICT (event_id) DO NOTHING RETURNING event_id``, which tells exactly
which rows were new. A multi-row ``INSERT ... VALUES`` spends most of its time in the driver
parsing the statement; COPY streams rows instead.

SQLite: inside the ``BEGIN IMMEDIATE`` write transaction no other writer can interleave, so
selecting the ids already stored and ``executemany``-inserting the others (C speed in sqlite3) is
race-free and as exact.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

__all__ = ["insert_new"]

_SQLITE_IN_CHUNK = 900  # stays below SQLite's bound-variable limit


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"))


def insert_new(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], json_columns: set[str]
) -> set[str]:
    """Insert the rows whose ``event_id`` is not stored yet; return the ids inserted.

    ``rows`` must not repeat an ``event_id`` and must all have the same keys.
    """
    if not rows:
        return set()
    columns = list(rows[0])
    if session.get_bind().dialect.name == "postgresql":
        return _postgres(session, table, rows, columns, json_columns)
    return _sqlite(session, table, rows, columns)


def _postgres(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    columns: list[str],
    json_columns: set[str],
) -> set[str]:
    connection = session.connection().connection.driver_connection
    assert connection is not None
    names = ", ".join(f'"{c}"' for c in columns)  # column names come from our code, not input
    staging = f"staging_{table.name}"
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {staging} "  # noqa: S608 - our own identifiers
            f"ON COMMIT DROP AS SELECT {names} FROM {table.name} WITH NO DATA"
        )
        with cursor.copy(f"COPY {staging} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([_json(row[c]) if c in json_columns else row[c] for c in columns])
        cursor.execute(
            f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {staging} "  # noqa: S608
            "ON CONFLICT (event_id) DO NOTHING RETURNING event_id"
        )
        inserted = {r[0] for r in cursor.fetchall()}
        cursor.execute(f"TRUNCATE {staging}")  # a second batch in the same transaction
    return inserted


def _sqlite(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], columns: list[str]
) -> set[str]:
    ids = [row["event_id"] for row in rows]
    existing: set[str] = set()
    query = select(table.c.event_id).where(table.c.event_id.in_(bindparam("ids", expanding=True)))
    for start in range(0, len(ids), _SQLITE_IN_CHUNK):
        existing.update(session.scalars(query, {"ids": ids[start : start + _SQLITE_IN_CHUNK]}))
    new_rows = [row for row in rows if row["event_id"] not in existing]
    if new_rows:
        session.execute(table.insert(), new_rows)  # executemany: one prepared statement
    return {row["event_id"] for row in new_rows}
