"""Event contract v1: limits and reasons (pure logic), and the exported JSON Schema."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest

from driftline.core.contract import (
    MAX_EVENT_BYTES,
    EventRejection,
    LabelEvent,
    PredictionEvent,
    event_json_schema,
    parse_event,
)
from tests.helpers import prediction

SCHEMA_FILE = Path(__file__).parents[1] / "docs/event-schema.v1.json"


def _reason(raw: object) -> str:
    with pytest.raises(EventRejection) as info:
        parse_event(raw)
    return str(info.value)


def test_valid_prediction_and_label() -> None:
    event = parse_event(prediction(1, tags={"region": "eu"}, score=0.7))
    assert isinstance(event, PredictionEvent) and event.tags == {"region": "eu"}
    label = parse_event({"event_id": "a", "model": "fraud", "label": 1}, default_type="label")
    assert isinstance(label, LabelEvent)


def test_naive_time_is_utc_and_future_is_rejected() -> None:
    event = parse_event(prediction(event_time="2026-05-01T10:00:00"))
    assert event.event_time == datetime(2026, 5, 1, 10, tzinfo=UTC)
    soon = datetime.now(UTC) + timedelta(days=6)
    assert parse_event(prediction(event_time=soon.isoformat())).event_time is not None
    later = datetime.now(UTC) + timedelta(days=7, minutes=1)
    assert "7 days in the future" in _reason(prediction(event_time=later.isoformat()))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"model": "m", "features": {}, "prediction": 1}, "event_id: Field required"),
        ({"event_id": "e", "features": {}, "prediction": 1}, "model: Field required"),
        (prediction(0, schema_version=2), "schema_version"),
        (prediction(0, type="other"), "must be 'prediction' or 'label'"),
        (prediction(0, surprise=1), "surprise: Extra inputs are not permitted"),
        (prediction(0, prediction=[1]), "prediction: must be a number, string or boolean"),
        (prediction(0, prediction=float("inf")), "must be a finite number"),
        (prediction(0, score=1.5), "score: must be a probability"),
        (prediction(0, tags={f"t{i}": "x" for i in range(21)}), "at most 20"),
        (prediction(0, event_id="has space"), "event_id"),
        (prediction(0, features={"x" * 129: 1}), "does not match"),
        # Python's "$" also matches before a final newline: names are matched whole.
        (prediction(0, features={"ok\n": 1}), "does not match"),
        (prediction(0, tags={"ok\n": "x"}), "does not match"),
        (prediction(0, features={"a": "\ud800"}), "lone surrogate"),
        # Valid ISO 8601, but before year 1 once in UTC (crashed the collector with OverflowError).
        (prediction(0, event_time="0001-01-01T00:30:00+01:00"), "event_time: is out of range"),
        ([1, 2], "must be a JSON object"),
    ],
)
def test_rejections_name_the_field(raw: object, expected: str) -> None:
    assert expected in _reason(raw)


def test_event_size_limit_uses_the_given_size() -> None:
    assert "at most 65536" in str(
        pytest.raises(EventRejection, parse_event, prediction(), size=MAX_EVENT_BYTES + 1).value
    )


def test_committed_schema_is_current() -> None:
    assert json.loads(SCHEMA_FILE.read_text()) == event_json_schema(), (
        "docs/event-schema.v1.json is stale: regenerate it with "
        "python -c 'import json; from driftline.core.contract import event_json_schema; "
        "print(json.dumps(event_json_schema(), indent=2))' > docs/event-schema.v1.json"
    )


def test_schema_accepts_what_the_models_accept_and_refuses_the_rest() -> None:
    schema = event_json_schema()
    validator = jsonschema.Draft202012Validator(schema)
    good = [
        prediction(1, score={"0": 0.2, "1": 0.8}, tags={"a": "b"}),
        {"type": "label", "event_id": "x", "model": "fraud", "label": "1"},
    ]
    for event in good:
        parse_event(event)
        validator.validate(event)
    for bad in [{"model": "m"}, prediction(0, prediction=None), prediction(0, extra=1)]:
        assert not validator.is_valid(bad)
