"""Every value the bulk insert writes reads back exactly, on both backends.

PostgreSQL gets the rows by binary COPY (``storage.bulk``): strings, integers, timestamps and
JSON (json text for the raw events, jsonb with its version byte for labels) are sent in their
binary forms. Values that the text format would have had to escape (tabs, newlines, backslashes,
quotes, non-ASCII) and times at microsecond precision are the ones that could come back wrong.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from driftline.core.contract import parse_event
from driftline.core.modelspec import ModelSpec
from driftline.core.storage import Database
from driftline.core.storage import tables as t
from driftline.ingest.store import store_events
from driftline.registry.models import create_model
from tests.helpers import FRAUD_MODEL, prediction

AWKWARD = ["tab\there", "new\nline", "back\\slash", 'quote"d', "é😀", "\\N", "", "cr\rlf"]
BASE = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def _events() -> list[Any]:
    events = []
    for i, text in enumerate(AWKWARD):
        events.append(
            parse_event(
                prediction(
                    i,
                    event_time=(BASE + timedelta(microseconds=123457 * i)).isoformat(),
                    features={"amount": -1.5e-300 * i, "country": text, "is_new": i % 2 == 0}
                    | ({"extra": text} if i % 2 else {"amount": "not a number"}),
                    prediction=text or "empty",
                    score={text or "c": 0.25} if i % 3 else 1,
                    tags={"region": text} if i % 2 else None,
                    model_version=f"v{i % 2}",
                )
            )
        )
        label = text or "empty"  # the model's labels are categorical: strings
        events.append(
            parse_event(
                {"type": "label", "event_id": events[-1].event_id, "model": "fraud"}
                | {"label": label, "event_time": events[-1].event_time.isoformat()}
            )
        )
    return events


def _stored(database: Database) -> tuple[list[Any], list[Any]]:
    with database.read() as session:
        predictions = session.execute(
            select(
                t.PredictionEvent.event_id,
                t.PredictionEvent.event_time,
                t.PredictionEvent.features,
                t.PredictionEvent.extra_features,
                t.PredictionEvent.type_violations,
                t.PredictionEvent.prediction,
                t.PredictionEvent.score,
                t.PredictionEvent.tags,
            ).order_by(t.PredictionEvent.event_id)
        ).all()
        labels = session.execute(
            select(t.Label.event_id, t.Label.label, t.Label.event_time).order_by(t.Label.event_id)
        ).all()
    return [tuple(row) for row in predictions], [tuple(row) for row in labels]


def test_awkward_values_read_back_exactly(database: Database) -> None:
    with database.write() as session:
        create_model(session, ModelSpec.model_validate(FRAUD_MODEL))
    events = _events()
    with database.write() as session:
        outcome = store_events(session, events)
    assert len(outcome.stored) == len(events)
    predictions, labels = _stored(database)
    expected = sorted(
        (
            e.event_id,
            e.event_time,
            {"amount": None if "extra" not in e.features else e.features["amount"]}
            | {"country": e.features["country"], "is_new": e.features["is_new"]},
            {"extra": e.features["extra"]} if "extra" in e.features else None,
            None if "extra" in e.features else ["amount"],
            e.prediction,
            e.score,
            e.tags,
        )
        for e in events
        if e.type == "prediction"
    )
    assert predictions == expected
    stored_labels = [(e.event_id, e.label, e.event_time) for e in events if e.type == "label"]
    assert labels == sorted(stored_labels)

    # A replay goes through the staging table (binary too) and changes nothing.
    with database.write() as session:
        again = store_events(session, events)
    assert not again.stored and len(again.duplicate) == len(events)
    assert _stored(database) == (predictions, labels)


def test_a_batch_half_stored_already_stores_exactly_the_other_half(database: Database) -> None:
    """A stored id fails the COPY (labels on their own unique key, predictions on that of
    event_ids, whose COPY follows the streamed rows): every row of the batch must reach the
    staging table, and exactly the new ones be counted stored."""
    with database.write() as session:
        create_model(session, ModelSpec.model_validate(FRAUD_MODEL))
    events = []
    for i in range(3000):
        events.append(parse_event(prediction(i)))
        events.append(
            parse_event(
                {"type": "label", "event_id": events[-1].event_id, "model": "fraud", "label": "1"}
            )
        )
    stored_before = events[1000:2000]
    with database.write() as session:
        assert len(store_events(session, stored_before).stored) == 1000
    with database.write() as session:
        outcome = store_events(session, events)
    assert len(outcome.duplicate) == 1000
    assert sorted(outcome.stored) == [i for i in range(6000) if not 1000 <= i < 2000]
    predictions, labels = _stored(database)
    assert [row[0] for row in predictions] == sorted(e.event_id for e in events[::2])
    assert [row[0] for row in labels] == sorted(e.event_id for e in events[1::2])
