"""Event contract v1: what the SDK, HTTP ingest and Kafka messages carry.

The JSON Schema exported from these models is ``docs/event-schema.v1.json`` and is served at
``GET /v1/schema/events``. Limits are part of the contract so every ingest path enforces the same.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime, timedelta
from itertools import compress, repeat
from typing import Annotated, Any, Literal

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
    field_validator,
)
from pydantic.json_schema import models_json_schema

from driftline.core.errors import FieldProblem
from driftline.core.modelspec import (
    FEATURE_NAME_PATTERN,
    MAX_FEATURES,
    ModelName,
    VersionName,
)

__all__ = [
    "EVENT_ID_PATTERN",
    "MAX_EVENT_BYTES",
    "MAX_FUTURE",
    "MAX_STRING_BYTES",
    "SCHEMA_VERSION",
    "EventRejection",
    "LabelEvent",
    "PredictionEvent",
    "encoded_size",
    "event_json_schema",
    "parse_event",
]

SCHEMA_VERSION: Literal[1] = 1
MAX_STRING_BYTES = 1024
MAX_EVENT_BYTES = 64 * 1024
MAX_TAGS = 20
MAX_FUTURE = timedelta(days=7)
# Used with fullmatch: Python's "$" also matches before a final newline ("name\n").
_FEATURE_NAME = re.compile(FEATURE_NAME_PATTERN)
# All of an event's feature names at once, joined by commas (which no valid name contains).
_NAME = FEATURE_NAME_PATTERN.removeprefix("^").removesuffix("$")
_JOINED_NAMES = re.compile(f"{_NAME}(?:,{_NAME})*")
# A string of at most this many characters is at most MAX_STRING_BYTES in UTF-8.
_SURELY_SHORT = 256

EVENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"
EventId = Annotated[str, StringConstraints(pattern=EVENT_ID_PATTERN)]


def _scalar(value: Any) -> Any:
    # One check with one message instead of a union's four ("should be a valid boolean", ...).
    if not isinstance(value, bool | int | float | str):
        raise ValueError("must be a number, string or boolean")
    return value


def _score(value: Any) -> Any:
    def probability(p: Any) -> bool:
        return isinstance(p, int | float) and not isinstance(p, bool) and 0.0 <= p <= 1.0

    if isinstance(value, dict):
        if all(probability(p) for p in value.values()):
            for name in value:
                _check_string(name, "class name")
            return value
    elif probability(value):
        return value
    raise ValueError("must be a probability in [0, 1] or an object of class name to probability")


Score = Annotated[
    Any,
    AfterValidator(_score),
    WithJsonSchema(
        {
            "oneOf": [
                {"type": "number", "minimum": 0, "maximum": 1},
                {"type": "object", "additionalProperties": {"type": "number"}},
            ]
        }
    ),
]

Scalar = Annotated[
    Any,
    AfterValidator(_scalar),
    WithJsonSchema({"type": ["number", "string", "boolean"]}),
]


def _check_string(value: object, where: str) -> None:
    """Strings must fit the limit and be storable as-is by every backend (PostgreSQL's JSONB
    refuses NUL characters and lone surrogates, which would fail a whole batch)."""
    if not isinstance(value, str):
        return
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise ValueError(f"{where} is not valid Unicode (lone surrogate)") from None
    if size > MAX_STRING_BYTES:
        raise ValueError(f"{where} is longer than {MAX_STRING_BYTES} bytes")
    if "\x00" in value:
        raise ValueError(f"{where} contains a NUL character")


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = Field(SCHEMA_VERSION, description="Version of this contract.")
    event_id: EventId = Field(description="Client-generated unique id (UUIDv7 from the SDK).")
    model: ModelName = Field(description="Name of a registered model.")
    event_time: datetime | None = Field(
        None,
        description="When it happened; without a timezone it is taken as UTC; default: receive "
        "time. More than 7 days in the future is rejected.",
    )

    @field_validator("event_time")
    @classmethod
    def _aware_and_not_future(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        if value - datetime.now(UTC) > MAX_FUTURE:
            raise ValueError("is more than 7 days in the future")
        try:
            return value.astimezone(UTC)
        except OverflowError:  # e.g. 0001-01-01T00:30:00+01:00 is before year 1 in UTC
            raise ValueError("is out of range once converted to UTC") from None


def _surely_valid_features(features: dict[str, Any]) -> bool:
    """A few C-speed passes over the whole dict instead of a check per feature (this runs for
    every event on the ingest hot path). True only when the per-feature checks would all pass;
    False sends the event through them, which then name the culprit."""
    if not features:
        return True
    joined = ",".join(features)
    if joined.count(",") != len(features) - 1 or not _JOINED_NAMES.fullmatch(joined):
        return False
    values = features.values()
    strings = list(compress(values, map(isinstance, values, repeat(str))))
    if not strings:
        return True
    if max(map(len, strings)) > _SURELY_SHORT:
        return False
    blob = "".join(strings)
    if "\x00" in blob:
        return False
    if not blob.isascii():
        try:
            blob.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate somewhere
            return False
    return True


class PredictionEvent(_Event):
    """One prediction of a model: its input features and its output."""

    type: Literal["prediction"] = "prediction"
    model_version: VersionName | None = Field(
        None, description="Model version; default: the model's latest registered version."
    )
    features: dict[str, Any] = Field(
        description="Feature name to value (number, string, boolean or null). A value of the "
        "wrong type, or a name not in the model's schema, is stored as a data-quality violation."
    )
    prediction: Scalar = Field(description="The model's output: class label or number.")
    score: Score | None = Field(
        None,
        description="Probability of the positive class (binary), or per-class probabilities.",
    )
    tags: dict[str, Annotated[str, StringConstraints(max_length=256)]] | None = Field(
        None, description=f"Segment tags (at most {MAX_TAGS}), for example region or channel."
    )

    @field_validator("features")
    @classmethod
    def _feature_limits(cls, features: dict[str, Any]) -> dict[str, Any]:
        if len(features) > MAX_FEATURES:
            raise ValueError(f"has {len(features)} features; at most {MAX_FEATURES} are allowed")
        if _surely_valid_features(features):
            return features
        for name, value in features.items():
            if not _FEATURE_NAME.fullmatch(name):
                raise ValueError(
                    f"feature name {name[:64]!r} does not match {FEATURE_NAME_PATTERN}"
                )
            _check_string(value, f"value of feature {name!r}")
        return features

    @field_validator("prediction")
    @classmethod
    def _prediction_limits(cls, value: Any) -> Any:
        _check_string(value, "prediction")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value

    @field_validator("tags")
    @classmethod
    def _tag_limits(cls, tags: dict[str, str] | None) -> dict[str, str] | None:
        if tags is not None:
            if len(tags) > MAX_TAGS:
                raise ValueError(f"has {len(tags)} tags; at most {MAX_TAGS} are allowed")
            for name, value in tags.items():
                if not _FEATURE_NAME.fullmatch(name):
                    raise ValueError(
                        f"tag name {name[:64]!r} does not match {FEATURE_NAME_PATTERN}"
                    )
                _check_string(value, f"value of tag {name!r}")
        return tags


class LabelEvent(_Event):
    """The ground truth for an earlier prediction, joined to it by ``event_id``."""

    type: Literal["label"] = "label"
    label: Scalar = Field(description="The true class label or value.")

    @field_validator("label")
    @classmethod
    def _label_limits(cls, value: Any) -> Any:
        _check_string(value, "label")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value


class EventRejection(ValueError):
    """An event that breaks the contract; ``problems`` names each field at fault."""

    def __init__(self, problems: list[FieldProblem], event_id: str | None = None) -> None:
        super().__init__("; ".join(f"{p.field}: {p.reason}" for p in problems))
        self.problems = problems
        self.event_id = event_id


_KINDS: dict[str, type[PredictionEvent] | type[LabelEvent]] = {
    "prediction": PredictionEvent,
    "label": LabelEvent,
}


def parse_event(
    raw: object, *, default_type: str = "prediction", size: int | None = None
) -> PredictionEvent | LabelEvent:
    """Validate one decoded event; raise :class:`EventRejection` saying what is wrong.

    ``size`` is the event's encoded size when the caller knows it (a Kafka message); otherwise it
    is measured by re-encoding it as compact JSON.
    """
    if not isinstance(raw, dict):
        raise EventRejection([FieldProblem("$", "an event must be a JSON object")])
    event_id = raw.get("event_id") if isinstance(raw.get("event_id"), str) else None
    if size is None:
        size = encoded_size(raw)
    if size > MAX_EVENT_BYTES:
        raise EventRejection(
            [FieldProblem("$", f"event is {size} bytes; at most {MAX_EVENT_BYTES} are allowed")],
            event_id,
        )
    kind = raw.get("type", default_type)
    model = _KINDS.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise EventRejection(
            [FieldProblem("type", f"must be 'prediction' or 'label', got {str(kind)[:40]!r}")],
            event_id,
        )
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = [
            FieldProblem(
                ".".join(str(part) for part in err["loc"]) or "$",
                err["msg"].removeprefix("Value error, "),
            )
            for err in exc.errors(include_url=False)
        ]
        raise EventRejection(problems, event_id) from None


def encoded_size(raw: object) -> int:
    """Bytes of ``raw`` as compact UTF-8 JSON: how big an event inside a batch is."""
    try:
        return len(orjson.dumps(raw, default=str))  # about ten times faster than json.dumps
    except TypeError:  # integers beyond 64 bits, lone surrogates: the standard encoder copes
        encoded = json.dumps(raw, separators=(",", ":"), ensure_ascii=False, default=str)
        return len(encoded.encode("utf-8", "surrogatepass"))  # lone surrogates are judged later


def event_json_schema() -> dict[str, Any]:
    """The JSON Schema of contract v1 (one document with both event kinds)."""
    _, top = models_json_schema(
        [(PredictionEvent, "validation"), (LabelEvent, "validation")],
        ref_template="#/$defs/{model}",
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://driftline.dev/schema/event.v1.json",
        "title": "Driftline event, contract v1",
        "description": "A prediction event or a label event. Limits: event at most "
        f"{MAX_EVENT_BYTES} bytes, string values at most {MAX_STRING_BYTES} bytes, "
        f"at most {MAX_FEATURES} features, feature names match {FEATURE_NAME_PATTERN}.",
        "oneOf": [{"$ref": "#/$defs/PredictionEvent"}, {"$ref": "#/$defs/LabelEvent"}],
        "$defs": top["$defs"],
    }
