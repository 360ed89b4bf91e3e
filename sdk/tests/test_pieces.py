"""Pure pieces: ids, sampling, options, encoding, Kafka envelopes."""

from __future__ import annotations

import json
import math

import pytest

from driftline_sdk._encode import ID, KIND, OUTPUT, TIME, encode_events
from driftline_sdk._ids import keep_for_sample, uuid7
from driftline_sdk._options import resolve_options
from driftline_sdk.transports.kafka import MAX_EVENTS_PER_MESSAGE, envelopes


def test_uuid7_is_version_7_and_time_ordered() -> None:
    ids = [uuid7() for _ in range(1000)]
    assert len(set(ids)) == 1000
    assert all(i[14] == "7" and i[19] in "89ab" for i in ids)
    assert [i[:13] for i in ids] == sorted(i[:13] for i in ids)  # millisecond prefix


def test_sampling_is_deterministic_and_close_to_rate() -> None:
    ids = [uuid7() for _ in range(20_000)]
    kept = [i for i in ids if keep_for_sample(i, 0.25)]
    assert 0.23 < len(kept) / len(ids) < 0.27
    assert kept == [i for i in ids if keep_for_sample(i, 0.25)]


def test_options_arguments_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRIFTLINE_MODEL", "from-env")
    monkeypatch.setenv("DRIFTLINE_TRANSPORT", "http://x:1")
    monkeypatch.setenv("DRIFTLINE_QUEUE_SIZE", "7")
    options = resolve_options(model="from-arg")
    assert (options.model, options.transport, options.queue_size) == ("from-arg", "http://x:1", 7)
    monkeypatch.setenv("DRIFTLINE_SAMPLE_RATE", "lots")
    with pytest.raises(ValueError, match="DRIFTLINE_SAMPLE_RATE"):
        resolve_options()


def test_options_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DRIFTLINE_MODEL", raising=False)
    with pytest.raises(ValueError, match="model is required"):
        resolve_options(transport="http://x")
    with pytest.raises(ValueError, match="sample_rate"):
        resolve_options(model="m", transport="http://x", sample_rate=2)
    with pytest.raises(TypeError, match="unknown option"):
        resolve_options(model="m", transport="http://x", colour="red")


def test_encoding_nan_numpy_like_and_objects() -> None:
    class Float64:
        __module__ = "numpy"

        def item(self) -> float:
            return 2.5

    base = {KIND: "prediction", ID: "e", TIME: 0.0, OUTPUT: "1"}
    good, bad = encode_events(
        [
            {**base, "a": math.nan, "b": Float64(), "c": math.inf},
            {**base, ID: "f", "a": object()},
        ],
        "m",
        "3",
    )
    assert good[0][0] == "e"
    event = json.loads(good[0][1])
    assert event["features"] == {"a": None, "b": 2.5, "c": None}
    assert event["event_time"] == "1970-01-01T00:00:00Z" and event["model_version"] == "3"
    assert bad == ["cannot send a value of type object"]


def test_envelopes_pack_events_and_spread_keys() -> None:
    events = [(f"id{i}", json.dumps({"event_id": f"id{i}"}).encode()) for i in range(250)]
    messages = envelopes(events)
    assert len(messages) == 3
    decoded = [json.loads(m) for _, m in messages]
    assert [len(d["events"]) for d in decoded] == [MAX_EVENTS_PER_MESSAGE, 100, 50]
    assert all(d["schema_version"] == 1 for d in decoded)
    assert [k for k, _ in messages] == [b"id0", b"id100", b"id200"]
