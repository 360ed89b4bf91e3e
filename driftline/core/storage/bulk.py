"""Idempotent bulk inserts keyed on ``event_id``: the collector's and the ingest API's hot path.

Rows arrive as tuples in the order of ``columns``, with JSON columns already encoded (JSON text
as ``bytes``, ``None`` for SQL NULL), so no per-value type processing happens here.

PostgreSQL: binary ``COPY`` straight into the table inside a savepoint. Usually no event is
stored yet, the COPY succeeds, and every row is new: the server reads and indexes the rows while
the client is still streaming them, and nothing is written twice. When an ``event_id`` is already
there (a replay, a re-delivery after a crash) the unique index stops the COPY; the savepoint
is rolled back and the rows go through a temporary staging table and
``INSERT ... SELECT ... ON CONFLICT (event_id) DO NOTHING RETURNING event_id``, which says
exactly which rows were new.

SQLite: inside the ``BEGIN IMMEDIATE`` write transaction no other writer can interleave, so an
``executemany`` of ``INSERT ... ON CONFLICT (event_id) DO NOTHING`` (C speed in sqlite3) followed
by reading back the ids above the previous largest row id is race-free and as exact.

Tables whose ``info`` names an ``id_registry`` (``prediction_events``): on PostgreSQL the table is
partitioned by time and cannot keep ``event_id`` unique, so the ids go into that unpartitioned
registry (``event_ids``) and only the rows whose id was new go into the table: ``COPY`` into
both when nothing is stored yet (the rows first, streamed as they are built, then the ids, whose
unique key undoes both at a stored id), else one statement
``WITH new AS (INSERT INTO event_ids ... ON CONFLICT DO NOTHING RETURNING event_id) INSERT INTO
prediction_events SELECT ... FROM staging JOIN new``. On both backends such rows older than
``raw_event_horizon`` (where retention has forgotten the ids) are not stored and not returned:
they cannot be told from re-deliveries, and counting them again would change old aggregates.
On PostgreSQL the horizon is read after taking the registry's insert lock, so retention's
barrier (a ``SHARE`` lock on it after moving the horizon) knows no insert still uses the old one.

Driver errors are re-raised as SQLAlchemy's, so callers tell an outage
(``OperationalError``) from refused data the same way as for any other statement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from itertools import chain
from typing import Any

from sqlalchemy import JSON, Table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

__all__ = ["insert_new"]

Row = Sequence[Any]


def insert_new(
    session: Session, table: Table, columns: Sequence[str], rows: Iterable[Row]
) -> set[str]:
    """Insert the rows whose ``event_id`` is not stored yet; return the ``event_id``s inserted.

    ``rows`` must not repeat an ``event_id``; ``table`` needs an integer primary key ``id``. All
    of ``rows`` is read; on PostgreSQL each row is sent as soon as it is read, so when ``rows``
    is a generator the server stores the first rows while the next are being built.
    """
    remaining = iter(rows)
    first = next(remaining, None)
    if first is None:
        return set()
    rows = chain([first], remaining)
    connection = session.connection()  # begins the transaction (BEGIN IMMEDIATE on SQLite)
    driver = connection.connection.driver_connection
    key = list(columns).index("event_id")
    registry = table.info.get("id_registry")
    postgres = connection.dialect.name == "postgresql"
    with _as_sqlalchemy_errors(connection.dialect.loaded_dbapi.Error):
        if registry is not None:
            when = list(columns).index(table.info["time_column"])
            horizon = _horizon(driver, registry if postgres else None)
            if horizon is not None:
                rows = (row for row in rows if row[when] >= horizon)
            if postgres:
                return _postgres(driver, table, columns, rows, key, registry, when)
        if postgres:
            return _postgres(driver, table, columns, rows, key)
        return _sqlite(driver, table, columns, list(rows))


def _horizon(driver: Any, lock: str | None) -> datetime | None:
    cursor = driver.cursor()
    try:
        if lock is not None:  # one round trip: the lock, then the horizon it protects
            cursor.execute(
                f"LOCK TABLE {lock} IN ROW EXCLUSIVE MODE; "  # noqa: S608 - ORM table info
                "SELECT forgotten_before FROM raw_event_horizon"
            )
            cursor.nextset()
        else:
            cursor.execute("SELECT forgotten_before FROM raw_event_horizon")
        found = cursor.fetchone()
    finally:
        cursor.close()
    if found is None:
        return None
    value: datetime | str = found[0]
    if isinstance(value, str):  # SQLite: naive UTC text, as UtcDateTime stores it
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@contextmanager
def _as_sqlalchemy_errors(driver_error: type[Exception]) -> Iterator[None]:
    try:
        yield
    except driver_error as exc:
        raise DBAPIError.instance(
            "bulk insert", None, exc, driver_error, ismulti=True
        ) from exc  # e.g. OperationalError when the server went away mid-batch


def _postgres(
    driver: Any,
    table: Table,
    columns: Sequence[str],
    rows: Iterable[Row],
    key: int,
    registry: str | None = None,
    when: int = 0,
) -> set[str]:
    """COPY straight in (then the ids into ``registry``, when the table keeps them there)
    inside a savepoint; on a duplicate id, through a staging table and one statement that says
    which rows were new."""
    import psycopg
    from psycopg.types.string import BytesBinaryDumper

    names = ", ".join(f'"{c}"' for c in columns)  # column names come from our code, not input
    layout = _binary_layout(table, tuple(columns))
    kept: list[Row] = []  # every row read so far, for the ids and the staging table

    def streamed() -> Iterator[Row]:
        for row in rows:
            kept.append(row)
            yield row

    stream = streamed()
    with driver.cursor() as cursor:
        # Dumping by bytea's oid uses psycopg's Python dumper for its DB-API ``Binary`` wrapper;
        # JSON columns hold plain bytes, which its C dumper sends as they are.
        cursor.adapters.register_dumper(None, BytesBinaryDumper)
        cursor.execute("SAVEPOINT driftline_bulk")
        try:  # usually every id is new: nothing is written twice
            _copy(cursor, table.name, names, stream, layout)
            if registry is not None:  # its unique key refuses a stored id: the savepoint undoes
                ids = [(row[key], row[when]) for row in kept]
                registry_table = table.metadata.tables[registry]
                id_layout = _binary_layout(registry_table, ("event_id", "event_time"))
                _copy(cursor, registry, '"event_id", "event_time"', ids, id_layout)
        except psycopg.errors.UniqueViolation:
            cursor.execute("ROLLBACK TO SAVEPOINT driftline_bulk")
            # psycopg reports a COPY's error at its end, after reading every row; should that
            # change, the rows not read yet still go to the staging table.
            kept.extend(stream)
        else:
            cursor.execute("RELEASE SAVEPOINT driftline_bulk")
            return {row[key] for row in kept}
        staging = f"staging_{table.name}"
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {staging} "  # noqa: S608 - our own identifiers
            f"ON COMMIT DROP AS SELECT {names} FROM {table.name} WITH NO DATA"
        )
        _copy(cursor, staging, names, kept, layout)
        if registry is None:
            cursor.execute(
                f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {staging} "  # noqa: S608
                "ON CONFLICT (event_id) DO NOTHING RETURNING event_id"
            )
        else:  # the registry's unique key decides; only the rows whose id it took go in
            cursor.execute(
                f"WITH new AS (INSERT INTO {registry} (event_id, event_time) "  # noqa: S608
                f"SELECT event_id, event_time FROM {staging} "
                "ON CONFLICT (event_id) DO NOTHING RETURNING event_id) "
                f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {staging} "
                "JOIN new USING (event_id) RETURNING event_id"
            )
        inserted = {r[0] for r in cursor.fetchall()}
        cursor.execute(f"TRUNCATE {staging}")  # a second batch in the same transaction
    return inserted


# Binary COPY: psycopg formats a row in C about ten times faster than as text (no escaping, no
# timestamps written out), and the server reads numbers and timestamps without parsing them.
# Each column's dumper is chosen by its PostgreSQL type. JSON columns arrive as JSON text in
# bytes, which bytea's binary dumper sends as they are: json's binary form is its text, jsonb's
# the text after a version byte (added in _copy).
_BINARY_TYPES = {
    "VARCHAR": "text",
    "TEXT": "text",
    "INTEGER": "int4",
    "BIGINT": "int8",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "JSON": "bytea",
    "JSONB": "bytea",
}


@dataclass(frozen=True)
class _Layout:
    oids: list[int]  # the psycopg dumper of each column
    jsonb: list[int]  # positions of jsonb columns


@cache
def _binary_layout(table: Table, columns: tuple[str, ...]) -> _Layout:
    from psycopg.postgres import types
    from sqlalchemy.dialects import postgresql

    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    oids = []
    jsonb = []
    for position, name in enumerate(columns):
        kind = table.c[name].type.compile(dialect=dialect).split("(")[0]
        if kind not in _BINARY_TYPES:
            raise TypeError(f"bulk insert: {table.name}.{name} is {kind}, which has no dumper here")
        oids.append(types[_BINARY_TYPES[kind]].oid)
        if kind == "JSONB":
            jsonb.append(position)
    return _Layout(oids, jsonb)


def _copy(cursor: Any, target: str, names: str, rows: Iterable[Row], layout: _Layout) -> None:
    """COPY the rows in binary; datetimes must be timezone-aware (as ``UtcDateTime`` stores)."""
    with cursor.copy(f"COPY {target} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(layout.oids)
        if not layout.jsonb:
            for row in rows:
                copy.write_row(row)
            return
        for row in rows:
            values = list(row)
            for i in layout.jsonb:
                if values[i] is not None:
                    values[i] = b"\x01" + values[i]
            copy.write_row(values)


def _sqlite(driver: Any, table: Table, columns: Sequence[str], rows: Sequence[Row]) -> set[str]:
    convert = [(i, f) for i, c in enumerate(columns) if (f := _sqlite_converter(table, c))]
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" for _ in columns)
    cursor = driver.cursor()
    try:
        top = cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table.name}").fetchone()[0]  # noqa: S608
        cursor.executemany(
            f"INSERT INTO {table.name} ({names}) VALUES ({marks}) "  # noqa: S608
            "ON CONFLICT (event_id) DO NOTHING",
            _converted(rows, convert),
        )
        # Row ids only grow while this transaction holds the write lock: the new rows are
        # exactly those above the previous maximum.
        found = cursor.execute(
            f"SELECT event_id FROM {table.name} WHERE id > ?",  # noqa: S608
            (top,),
        ).fetchall()
    finally:
        cursor.close()
    return {r[0] for r in found}


def _converted(
    rows: Sequence[Row], convert: list[tuple[int, Callable[[Any], Any]]]
) -> Iterator[Row]:
    for row in rows:
        values = list(row)
        for i, f in convert:
            if values[i] is not None:
                values[i] = f(values[i])
        yield values


def _sqlite_text(value: bytes) -> str:
    return value.decode()


def _sqlite_time(value: datetime) -> str:
    # What UtcDateTime stores on SQLite: naive UTC in SQLAlchemy's text format.
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _sqlite_converter(table: Table, column: str) -> Callable[[Any], Any] | None:
    kind = table.c[column].type
    if isinstance(kind, JSON):
        return _sqlite_text
    try:
        if kind.python_type is datetime:
            return _sqlite_time
    except NotImplementedError:
        pass
    return None
