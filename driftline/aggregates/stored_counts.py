"""How many prediction events each model has stored, ever: ``driftline_events_stored_total``.

Counting the raw table made that counter fall whenever retention removed old events, and
Prometheus reads a fall as a counter reset: ``rate()`` spiked by the whole table's size, and in
between, with retention removing about as much as arrives, it sat near zero, which is what the
"no events" alert looks for. Every scrape also cost more as the table grew. Instead each ingest
transaction appends one row per model with the number of events it stored (an append takes no
lock another writer waits on), and maintenance folds each model's rows into one, so a scrape
sums a few rows per model and the count only grows.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.orm import Session

from driftline.core.storage.aggregate_tables import StoredEventCount

__all__ = ["add_stored", "fold", "stored_per_model"]

_rows: Table = StoredEventCount.__table__  # type: ignore[assignment]


def add_stored(session: Session, per_model: Mapping[int, int]) -> None:
    """Count newly stored events, in the transaction that stored them."""
    rows = [{"model_id": model, "events": n} for model, n in per_model.items() if n]
    if rows:
        session.execute(insert(_rows), rows)


def stored_per_model(session: Session) -> dict[int, int]:
    query = select(_rows.c.model_id, func.sum(_rows.c.events)).group_by(_rows.c.model_id)
    return {model: int(n) for model, n in session.execute(query)}


def fold(session: Session) -> None:
    """Replace each model's rows by one row holding their sum."""
    if session.get_bind().dialect.name == "postgresql":
        # One statement: the rows it deletes are exactly the rows it sums, even while writers
        # commit rows with lower ids (ids are taken before commit); rows committed meanwhile
        # stay for the next fold. A fold running at the same time skips the rows this one
        # deleted, so nothing is summed twice.
        gone = delete(_rows).returning(_rows.c.model_id, _rows.c.events).cte("gone")
        sums = select(gone.c.model_id, func.sum(gone.c.events)).group_by(gone.c.model_id)
        session.execute(insert(_rows).from_select(["model_id", "events"], sums))
        return
    # SQLite: the write transaction (BEGIN IMMEDIATE) excludes every other writer.
    query = select(_rows.c.model_id, func.sum(_rows.c.events)).group_by(_rows.c.model_id)
    totals = {model: int(n) for model, n in session.execute(query)}
    session.execute(delete(_rows))
    add_stored(session, totals)
