"""The whole-envelope fast path gives exactly what per-event validation gives, or declines.

Random envelopes, valid and broken in every way the contract cares about, go through
``validate_envelope`` and through ``load_json`` + ``parse_event``: whenever the fast path
accepts, the events (class, every field's value and type, the fields set) and the encoded
features must equal the slow path's, and the slow path must have accepted every event too.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import field_validator

from collector import decode as decode_module
from collector.decode import Decoded, Origin, decode_message
from driftline.core import envelope as envelope_module
from driftline.core.contract import EventRejection, PredictionEvent, parse_event
from driftline.core.envelope import validate_envelope
from driftline.core.modelspec import ModelSpec
from driftline.core.storage import Database
from driftline.ingest import store as store_module
from driftline.ingest.batch import load_json
from driftline.ingest.rows import json_column as _json
from driftline.ingest.store import store_events
from driftline.registry.models import create_model
from tests.helpers import FRAUD_MODEL

NOW = datetime.now(UTC)

good_names = st.one_of(
    st.sampled_from(["age", "city", "_x", "a.b-c", "n0", "c5"]),
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,10}", fullmatch=True),
)
names = st.one_of(good_names, st.sampled_from(["", "1bad", "with space", "x" * 129, "ok\n"]))
good_texts = st.one_of(
    st.text(max_size=8).filter(lambda s: "\x00" not in s),
    st.sampled_from(["", "v1", "x" * 256, "😀" * 256]),
)
texts = st.one_of(good_texts, st.sampled_from(["a\x00b", "\ud800", "é" * 300, "x" * 257]))
numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, 0.5, 1.0, -0.0, 1e300, 2**64, 2**63, -(2**63) - 1]),
)
scalars = st.one_of(numbers, texts, st.booleans(), st.none())
scalars_ok = st.one_of(numbers, good_texts, st.booleans(), st.none())
values = st.one_of(scalars, st.lists(st.integers(), max_size=2), st.just({"a": 1}))
times = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "2026-11-21T10:00:00Z",
            "2026-11-21T10:00:00",
            "2026-11-21T10:00:00.123456789+05:30",
            "2026-11-21",
            "not a time",
            (NOW + timedelta(days=30)).isoformat(),
            (NOW + timedelta(days=6)).isoformat(),
            "2026-11-21T10:00:00." + "1" * 80 + "Z",
            "1700000000",
            "1700000000.5",
            "2026-11-21T10:00:00+25:00",
            " 2026-11-21T10:00:00Z",
            "2026-11-21 10:00:00-03:00",
        ]
    ),
    st.integers(min_value=0, max_value=2_000_000_000),
    st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()),
)
ids = st.one_of(
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,20}", fullmatch=True),
    st.sampled_from(["", "-x", "x" * 129, 7]),
)
scores = st.one_of(
    st.floats(min_value=-0.5, max_value=1.5),
    st.sampled_from([0, 1, 2, True, "0.5", float("nan")]),
    st.dictionaries(texts, st.one_of(st.floats(0, 1), st.integers(-1, 2)), max_size=3),
)
tags = st.dictionaries(names, st.one_of(texts, st.integers()), max_size=3)


@st.composite
def events(draw: st.DrawFn, valid: bool) -> dict[str, Any]:
    kind = draw(st.sampled_from(["prediction", "label"]))
    if valid:  # valid as far as the contract goes: random values, the fast path's business
        event_time = draw(st.one_of(times, st.datetimes().map(lambda d: d.isoformat())))
        if kind == "label":
            label = draw(st.one_of(good_texts, numbers, st.booleans()))
            return {"type": kind, "event_id": "l1", "model": "m", "label": label}
        return {
            "type": kind,
            "event_id": draw(ids.filter(lambda i: i not in ("", "-x", 7) and len(i) < 129)),
            "model": "m",
            "event_time": event_time,
            "features": draw(st.dictionaries(good_names, scalars_ok, max_size=25)),
            "prediction": draw(st.one_of(good_texts, st.integers(), st.floats(0, 1))),
            "score": draw(st.one_of(st.none(), st.floats(0, 1), st.just(1))),
        }
    event: dict[str, Any] = {"type": kind, "event_id": draw(ids), "model": "fraud"}
    if draw(st.booleans()):
        event["schema_version"] = 1 if valid else draw(st.sampled_from([1, 2, True, 1.0]))
    if draw(st.booleans()):
        event["event_time"] = draw(times)
    if kind == "label":
        event["label"] = draw(scalars)
    else:
        event["features"] = draw(st.dictionaries(names, values, max_size=25))
        event["prediction"] = draw(scalars)
        for key, strategy in (("score", scores), ("tags", tags), ("model_version", ids)):
            if draw(st.booleans()):
                event[key] = draw(st.one_of(st.none(), strategy))
    if not valid:
        broken = draw(st.sampled_from(["none", "drop", "extra", "type", "bytes"]))
        if broken == "drop":
            event.pop(draw(st.sampled_from(sorted(event))))
        elif broken == "extra":
            event["unknown"] = 1
        elif broken == "type":
            event["type"] = draw(st.sampled_from(["other", 3, None]))
        elif broken == "bytes" and kind == "prediction":
            event["features"] = {f"f{i}": "y" * 250 for i in range(270)}  # about 70 kB
    return event


def _slow(payload: bytes) -> list[Any] | None:
    """The per-event path's events, or None if it rejects anything."""
    decoded = load_json(payload)
    if not (isinstance(decoded, dict) and decoded.get("schema_version") == 1):
        return None
    parsed = []
    for item in decoded["events"]:
        try:
            parsed.append(parse_event(item))
        except EventRejection:
            return None
    return parsed


def _same(fast: Any, slow: Any) -> None:
    assert type(fast) is type(slow)
    # repr tells 1 from 1.0 and True, shows NaN, and the time zone object of datetimes.
    assert repr(fast.__dict__) == repr(slow.__dict__)
    assert fast.__pydantic_fields_set__ == slow.__pydantic_fields_set__
    assert fast.__pydantic_extra__ == slow.__pydantic_extra__
    assert fast.__pydantic_private__ == slow.__pydantic_private__
    assert fast.model_dump_json() == slow.model_dump_json()  # what a dead letter holds


def _compare(body: dict[str, Any], ascii_only: bool) -> bool:
    payload = json.dumps(body, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    fast = validate_envelope(payload)
    if fast is None:
        return False
    slow = _slow(payload)
    assert slow is not None, "the fast path accepted what parse_event rejects"
    assert len(fast.events) == len(slow) == len(fast.encoded_features)
    for event, expected, encoded in zip(fast.events, slow, fast.encoded_features, strict=True):
        _same(event, expected)
        if isinstance(expected, PredictionEvent):
            assert encoded == _json(expected.features)
            # store_events counts on it: no NaN or infinity among an accepted event's features
            floats = [v for v in expected.features.values() if isinstance(v, float)]
            assert all(math.isfinite(v) for v in floats)
        else:
            assert encoded is None
    return True


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.one_of(events(valid=True), events(valid=False)), max_size=4),
    st.booleans(),
    st.booleans(),
)
def test_fast_path_accepts_only_what_parse_event_accepts(
    items: list[dict[str, Any]], ascii_only: bool, wrapped: bool
) -> None:
    body: dict[str, Any] = {"schema_version": 1, "events": items}
    if wrapped:
        body["extra"] = True  # the slow path ignores envelope extras; the fast one declines
    _compare(body, ascii_only)


sdk_features = st.dictionaries(
    st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True),
    st.one_of(
        st.integers(-(2**63), 2**63),
        st.floats(allow_nan=False, allow_infinity=False),  # the SDK sends NaN as null
        st.text(max_size=20).filter(lambda s: "\x00" not in s),
        st.booleans(),
        st.none(),
    ),
    max_size=25,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(sdk_features, min_size=1, max_size=5), st.booleans())
def test_what_the_sdk_sends_takes_the_fast_path(
    features: list[dict[str, Any]], ascii_only: bool
) -> None:
    items = [
        {
            "schema_version": 1,
            "type": "prediction",
            "event_id": f"e{i}",
            "model": "fraud",
            "event_time": "2026-11-21T10:00:00.5Z",
            "features": f,
            "prediction": "1",
            "score": 0.25,
            "tags": {"region": "eu"},
        }
        for i, f in enumerate(features)
    ]
    items.append({"type": "label", "event_id": "e0", "model": "fraud", "label": 1})
    # The fast path must be taken (else this file would prove nothing), and agree.
    assert _compare({"schema_version": 1, "events": items}, ascii_only)


@pytest.mark.parametrize(
    "event",
    [
        {"event_id": "a", "model": "m", "features": {"x": 2**64}, "prediction": 1},
        {"event_id": "a", "model": "m", "features": {}, "prediction": 2**64},
        {"event_id": "a", "model": "m", "features": {"x": "a\x00"}, "prediction": 1},
        {"event_id": "a", "model": "m", "features": {}, "prediction": 1, "event_time": 5},
        {"event_id": "a", "model": "m", "features": {"x": float("nan")}, "prediction": 1},
        {"event_id": "a", "model": "m", "features": {"x": float("-inf")}, "prediction": 1},
        # Python's "$" matches before a final newline: names are matched whole.
        {"event_id": "a\n", "model": "m", "features": {}, "prediction": 1},
        {"event_id": "a", "model": "m\n", "features": {}, "prediction": 1},
        {"event_id": "a", "model": "m", "model_version": "v1\n", "features": {}, "prediction": 1},
        {"event_id": "a", "model": "m", "features": {"x\n": 1}, "prediction": 1},
    ],
)
def test_what_the_fast_path_cannot_vouch_for_goes_the_slow_way(event: dict[str, Any]) -> None:
    payload = json.dumps({"schema_version": 1, "events": [{"type": "prediction", **event}]})
    assert validate_envelope(payload.encode()) is None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(events(valid=True), events(valid=False)), max_size=4))
def test_decode_message_is_the_same_with_and_without_the_fast_path(
    items: list[dict[str, Any]],
) -> None:
    payload = json.dumps({"schema_version": 1, "events": items}).encode("utf-8", "surrogatepass")
    origin = Origin("t", 0, 7)
    fast = Decoded([], [], [])
    decode_message(payload, origin, 1_000_000, fast)
    slow = Decoded([], [], [])
    real = decode_module.validate_envelope
    decode_module.validate_envelope = lambda _payload: None  # type: ignore[assignment]
    try:
        decode_message(payload, origin, 1_000_000, slow)
    finally:
        decode_module.validate_envelope = real
    assert fast.origins == slow.origins
    assert fast.rejected == slow.rejected
    for a, b in zip(fast.events, slow.events, strict=True):
        _same(a, b)
    assert len(fast.encoded_features) == len(fast.events)


def test_stored_rows_are_the_same_with_the_fast_paths_features(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows built with the envelope's encoded features equal rows encoded by store_events."""
    with database.write() as session:
        create_model(session, ModelSpec.model_validate(FRAUD_MODEL))
    features = [
        {"amount": 12.5, "country": "fr", "is_new": True},  # kept as is: the JSON is reused
        {"amount": "x", "country": 7, "is_new": 1, "extra": "z"},  # conformed: re-encoded
        {"amount": 1e308, "country": None},
        {},
    ]
    items = [
        {"type": "prediction", "event_id": f"e{i}", "model": "fraud", "features": f}
        | {"prediction": 1, "score": 0.5, "tags": {"r": "eu"}}
        for i, f in enumerate(features)
    ]
    fast = validate_envelope(json.dumps({"schema_version": 1, "events": items}).encode())
    assert fast is not None
    # Events of the per-event path come with no encoded features.
    slow = [
        parse_event(items[0] | {"event_id": "big", "features": {"amount": 2**70}}),
        parse_event(items[0] | {"event_id": "list", "features": {"amount": [1]}}),
        parse_event(items[0] | {"event_id": "nan", "features": {"amount": float("nan")}}),
        parse_event(items[0] | {"event_id": "inf", "features": {"amount": float("inf")}}),
    ]
    events = [*fast.events, *slow]
    encoded = [*fast.encoded_features, None, None, None, None]
    captured: list[list[Any]] = []

    def capture(_session: Any, _table: Any, _columns: Any, rows: list[Any]) -> set[str]:
        captured.append(list(rows))
        return set()

    monkeypatch.setattr(store_module, "insert_new", capture)
    now = datetime.now(UTC)
    with database.write() as session:
        store_events(session, events, now, encoded_features=encoded)
        store_events(session, events, now)
    with_fast, without = captured
    assert with_fast == without
    assert len(with_fast) == len(events)


def test_a_contract_field_the_fast_path_does_not_know_stops_it_loudly() -> None:
    """A new field checked in Python must get its Rust counterpart in FAST_FIELDS (a plain
    field without Python validators is taken from the model as it is)."""

    class Wider(PredictionEvent):
        region: str | None = None
        shard: int = 0

        @field_validator("shard")
        @classmethod
        def _small(cls, value: int) -> int:
            return value

    with pytest.raises(RuntimeError, match="does not match its fields"):
        envelope_module.check_fields(Wider, envelope_module._Prediction)


@pytest.mark.parametrize(
    "payload",
    [
        b'{"schema_version":1,"events":[],"events":[{"type":"label","event_id":"a",'
        b'"model":"m","label":1}]}',
        b'{"schema_version":1,"events":[{"type":"label","event_id":"a","event_id":"b",'
        b'"model":"m","label":1}]}',
        b'{"schema_version":1,"events":[{"type":"prediction","event_id":"a","model":"m",'
        b'"prediction":1,"features":{"x":1,"x":"s"}}]}',
    ],
)
def test_repeated_keys_mean_what_they_mean_to_the_slow_path(payload: bytes) -> None:
    fast, slow = validate_envelope(payload), _slow(payload)
    assert fast is not None and slow is not None  # the last of repeated keys wins in both
    for event, expected in zip(fast.events, slow, strict=True):
        _same(event, expected)


@pytest.mark.parametrize(
    "payload",
    [
        b'{"schema_version":1,"events":[{"type":"label","type":"prediction","event_id":"a",'
        b'"model":"m","prediction":1,"features":{}}]}',
        b'{"schema_version":1,"events":[{"type":"prediction","type":"label","event_id":"a",'
        b'"model":"m","prediction":1,"features":{}}]}',
    ],
)
def test_a_repeated_type_goes_the_slow_way(payload: bytes) -> None:
    """msgspec picks the event's class by the first ``type``, pydantic by the last: declining
    is the fast path's safe answer (the slow path stores the first, refuses the second)."""
    assert validate_envelope(payload) is None


def test_invalid_utf8_goes_the_slow_way() -> None:
    """msgspec raises UnicodeDecodeError (not its own error) on bytes that are not UTF-8: the
    fast path must decline, not raise into the consume loop."""
    payload = (
        b'{"schema_version":1,"events":[{"type":"prediction","event_id":"a","model":"m",'
        b'"features":{},"prediction":"\xed\xa0\x80"}]}'
    )
    assert validate_envelope(payload) is None
    decoded = Decoded([], [], [])
    decode_message(payload, Origin("t", 0, 1), 1_000_000, decoded)
    assert not decoded.events
    assert "lone surrogate" in decoded.rejected[0].reason
