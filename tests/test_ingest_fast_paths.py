"""The ingest hot path's shortcuts give exactly what the plain code gives.

Each fast path (Rust JSON parsing, bulk feature-limit checks, conforming skipped, COPY straight
into the table, SQLite's executemany) falls back to the plain code when unsure; these tests pin
that whatever the fast path accepts, the plain code would have produced the same.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import DateTime, select
from sqlalchemy.exc import DBAPIError

from driftline.core.contract import (
    _FEATURE_NAME,
    PredictionEvent,
    _check_string,
    _surely_valid_features,
    encoded_size,
    parse_event,
)
from driftline.core.modelspec import FeatureType, ModelSpec
from driftline.core.storage import Database
from driftline.core.storage import tables as t
from driftline.core.storage.bulk import _sqlite_time, insert_new
from driftline.ingest.batch import load_json as _loads
from driftline.ingest.conform import Conformer, conform_features
from driftline.ingest.store import PREDICTION_COLUMNS, store_events
from driftline.registry.models import create_model
from tests.helpers import FRAUD_MODEL, prediction

JSON_EDGE_CASES = [
    b"123456789012345678901234567890",
    b"-0",
    b"-0.0",
    b"1e400",
    b"NaN",
    b"-Infinity",
    b'{"a":1,"a":2}',
    b'"\\ud83d\\ude00"',
    b'"\\ud800"',
    b'\xef\xbb\xbf{"a":1}',
    '{"a": 1}'.encode("utf-16"),
    b"[1,2,]",
    b'{"a":"\x01"}',
    b'"\xff"',
    b"[" * 5000 + b"]" * 5000,
    b"9007199254740993",
    b"",
]


@pytest.mark.parametrize("payload", JSON_EDGE_CASES)
def test_message_parsing_matches_json_loads(payload: bytes) -> None:
    def outcome(loads: Any) -> Any:
        try:
            return ("ok", repr(loads(payload)))
        except (ValueError, RecursionError) as exc:
            return ("error", type(exc).__name__, str(exc))

    assert outcome(_loads) == outcome(json.loads)


def _plain_feature_checks(features: dict[str, Any]) -> bool:
    """The per-feature checks the fast path stands in for."""
    try:
        for name, value in features.items():
            if not _FEATURE_NAME.match(name):
                return False
            _check_string(value, "value")
    except ValueError:
        return False
    return True


names = st.one_of(
    st.sampled_from(["amount", "a.b-c_1", "_x", "a,b", "1abc", "", "x" * 128, "x" * 129, "ok\n"]),
    st.text(max_size=12),
)
values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.sampled_from(["\x00", "\ud800", "é" * 300, "x" * 1025, "x" * 1024, "€" * 342]),
    st.lists(st.integers(), max_size=2),
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(names, values, max_size=8))
def test_bulk_feature_checks_accept_only_what_the_plain_checks_accept(
    features: dict[str, Any],
) -> None:
    if _surely_valid_features(features):
        assert _plain_feature_checks(features)


def test_bulk_feature_checks_take_the_usual_event() -> None:
    features = {f"n{i}": i * 1.5 for i in range(14)} | {f"c{i}": "DE" for i in range(6)}
    assert _surely_valid_features(features | {"city": "Zürich", "flag": True, "gone": None})


SCHEMA = {"amount": FeatureType.NUMERIC, "country": FeatureType.CATEGORICAL}
SCHEMA |= {"is_new": FeatureType.BOOLEAN}
feature_values = st.one_of(
    values, st.sampled_from([float("inf"), -float("inf"), 1e308, 0, 1, 2, True, False])
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from([*SCHEMA, "colour"]), feature_values, max_size=4))
def test_conformer_matches_conform_features(features: dict[str, Any]) -> None:
    fast, plain = Conformer(SCHEMA)(features), conform_features(features, SCHEMA)
    assert (fast.extra, fast.violations) == (plain.extra, plain.violations)
    assert json.dumps(fast.features) == json.dumps(plain.features)  # NaN-safe comparison


SHARED = Conformer(SCHEMA)  # one for all examples: its cache of shapes sees many of them


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from([*SCHEMA, "colour"]), feature_values, max_size=4))
def test_a_conformer_used_many_times_matches_conform_features(features: dict[str, Any]) -> None:
    fast, plain = SHARED(features), conform_features(features, SCHEMA)
    assert (fast.extra, fast.violations) == (plain.extra, plain.violations)
    assert json.dumps(fast.features) == json.dumps(plain.features)  # NaN-safe comparison


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from([*SCHEMA, "colour"]), feature_values, max_size=4))
def test_a_conformer_told_the_floats_are_finite_matches_when_they_are(
    features: dict[str, Any],
) -> None:
    floats = [v for v in features.values() if isinstance(v, float)]
    if not all(math.isfinite(v) for v in floats):
        return  # the caller's promise (the envelope fast path accepts no other)
    fast, plain = SHARED(features, finite=True), conform_features(features, SCHEMA)
    assert (fast.extra, fast.violations) == (plain.extra, plain.violations)
    assert json.dumps(fast.features) == json.dumps(plain.features)


def test_conformer_keeps_the_usual_event_as_is() -> None:
    features = {"amount": 3, "country": "DE", "is_new": False}
    assert Conformer(SCHEMA)(features).features is features
    assert Conformer(SCHEMA)({"amount": math.nan}).features == {"amount": None}


def test_event_size_is_its_compact_json() -> None:
    event = prediction(1, features={"city": "Zürich", "n": 1.5})
    compact = json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()
    assert encoded_size(event) == len(compact)
    huge = prediction(1, features={"n": 2**70})  # beyond orjson: the standard encoder measures
    assert encoded_size(huge) == len(json.dumps(huge, separators=(",", ":")).encode())


def test_sqlite_times_are_stored_as_sqlalchemy_stores_them() -> None:
    from sqlalchemy.dialects import sqlite

    dialect = sqlite.dialect()
    stored = DateTime().dialect_impl(dialect).bind_processor(dialect)
    assert stored is not None
    for when in [
        datetime(2026, 5, 1, 10, tzinfo=UTC),
        datetime(2026, 5, 1, 10, 0, 0, 7, tzinfo=timezone(timedelta(hours=-3))),
        datetime(999, 1, 2, 3, 4, 5, 999999, tzinfo=UTC),
    ]:
        assert _sqlite_time(when) == stored(when.astimezone(UTC).replace(tzinfo=None))


def test_a_batch_of_new_and_stored_events_stores_exactly_the_new(database: Database) -> None:
    with database.write() as session:
        create_model(session, ModelSpec.model_validate(FRAUD_MODEL))
    events = [parse_event(prediction(i)) for i in range(10)]
    with database.write() as session:
        assert store_events(session, events[:4]).stored == [0, 1, 2, 3]
    with database.write() as session:
        outcome = store_events(session, events[2:])  # two already stored, then eight new
    assert outcome.stored == list(range(2, 8)) and outcome.duplicate == [0, 1]
    with database.read() as session:
        stored = session.scalars(select(t.PredictionEvent.event_id)).all()
        back = session.scalars(
            select(t.PredictionEvent).where(t.PredictionEvent.event_id == events[7].event_id)
        ).one()
    assert sorted(stored) == sorted(e.event_id for e in events)
    assert isinstance(events[7], PredictionEvent)
    assert back.features == events[7].features and back.event_time.tzinfo is not None


def test_driver_errors_surface_as_sqlalchemy_errors(database: Database) -> None:
    with database.write() as session:
        model = create_model(session, ModelSpec.model_validate(FRAUD_MODEL))
    now = datetime.now(UTC)
    # No features: the NOT NULL constraint refuses it (the table has no foreign keys to trip).
    row = ("e1", 1, 1, now, now, None, None, None, b'"1"', None, None)
    with pytest.raises(DBAPIError), database.write() as session:
        insert_new(session, t.Base.metadata.tables["prediction_events"], PREDICTION_COLUMNS, [row])
    assert model is not None
