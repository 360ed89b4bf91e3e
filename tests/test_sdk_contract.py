"""What the SDK sends is exactly event contract v1: the JSON Schema and the service agree."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pandas as pd

from driftline.core.contract import LabelEvent, PredictionEvent, parse_event
from driftline_sdk._encode import encode_events
from driftline_sdk.client import Client

SCHEMA = json.loads((Path(__file__).parents[1] / "docs/event-schema.v1.json").read_text())


def _queued(log: Any) -> list[dict[str, Any]]:
    client = Client(
        model="fraud",
        model_version="3",
        transport="http://127.0.0.1:9",
        flush_interval=3600,
        batch_size=10_000,
    )
    log(client)
    assert client._worker is not None
    events = list(client._worker.queue)
    client.close(timeout=0)
    return events


def test_sdk_events_validate_against_the_schema_and_the_service() -> None:
    row = pd.Series(
        {
            "amount": np.float64(12.5),
            "country": "DE",
            "is_new": np.bool_(True),
            "visits": np.int64(3),
            "missing": math.nan,
        }
    )

    def log(client: Client) -> None:
        client.log_prediction(
            {"amount": 1.0, "country": "FR"},
            "1",
            score=0.8,
            tags={"region": "eu"},
            event_time=datetime(2026, 1, 1, tzinfo=UTC),
        )
        client.log_prediction(row, np.int64(1), score={"0": 0.3, "1": 0.7})
        client.log_predictions(pd.DataFrame([{"amount": 2.0}, {"amount": 3.0}]), ["0", "1"])
        client.log_label("some-id", "1")

    encoded, bad = encode_events(_queued(log), "fraud", "3")
    assert bad == []
    validator = jsonschema.Draft202012Validator(SCHEMA)
    kinds = []
    for _, data in encoded:
        event = json.loads(data)
        validator.validate(event)
        parsed = parse_event(event, size=len(data))
        kinds.append(type(parsed))
        if isinstance(parsed, PredictionEvent):
            assert parsed.model_version == "3" and parsed.event_time is not None
    assert kinds == [PredictionEvent] * 4 + [LabelEvent]
    second = json.loads(encoded[1][1])
    assert second["features"] == {
        "amount": 12.5,
        "country": "DE",
        "is_new": True,
        "visits": 3,
        "missing": None,
    }
    assert second["prediction"] == 1
