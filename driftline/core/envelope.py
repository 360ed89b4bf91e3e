"""A whole SDK envelope validated in one call of pydantic-core, for the collector's hot path.

``parse_event`` validates one event at a time: the Rust validator calls back into Python for
every constrained field (time, features, prediction, score, tags), about 15 us per event. Here
the same rules are expressed, more strictly where that keeps them in Rust, as one core schema
for ``{"schema_version": 1, "events": [...]}``; only what Rust cannot check (the 7-day future
limit, integers beyond 64 bits, the event size) is left to a short Python pass.

The fast path only ever *accepts*: any envelope it is not sure of (a failure, a long string, a
NUL escape, an event without ``type``, a timestamp given as a number, a big integer, ...)
returns ``None`` and goes through ``parse_event`` event by event, which decides and words every
rejection. So what it accepts must be exactly what ``parse_event`` would have produced:
``tests/test_envelope_fast_path.py`` compares the two over random valid and invalid envelopes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic_core import CoreSchema, SchemaValidator, ValidationError
from pydantic_core import core_schema as cs

from driftline.core.contract import (
    MAX_EVENT_BYTES,
    MAX_FUTURE,
    MAX_TAGS,
    LabelEvent,
    PredictionEvent,
)
from driftline.core.modelspec import FEATURE_NAME_PATTERN, MAX_FEATURES

__all__ = ["FAST_FIELDS", "FastEnvelope", "validate_envelope"]

# A string of at most this many characters is at most MAX_STRING_BYTES (1024) in UTF-8.
_SHORT = 256
# Rust's regex has no lone surrogates to meet (the JSON parser refuses them) and NUL can only be
# spelled as this escape in JSON: an envelope without it has no NUL anywhere.
_NUL = b"\\u0000"
# orjson writes integers of at most 64 bits; the size of an event holding a bigger one is
# measured by the standard encoder, whose floats can be longer: such envelopes go the slow way.
_INT_RANGE = range(-(2**63), 2**64)
# An upper bound of the compact JSON of every field of a prediction but its features, score
# dict and tags (which are measured): keys, punctuation, event_id and model (128 characters),
# model_version (64), the event_time string (64 characters, escaped at most 6 bytes each), the
# prediction (256 characters, 6 bytes each at most, or a number) and a numeric score.
_REST = 200 + 130 + 130 + 66 + 2 + 6 * 64 + 2 + 6 * _SHORT + 32


def _short_str() -> CoreSchema:
    return cs.str_schema(max_length=_SHORT, strict=True)


def _scalar() -> CoreSchema:
    # Integers before floats: a strict float takes a JSON integer and would make it a float.
    return cs.union_schema(
        [
            cs.int_schema(strict=True),
            cs.float_schema(strict=True, allow_inf_nan=False),
            _short_str(),
            cs.bool_schema(strict=True),
        ],
        mode="left_to_right",
    )


def _probability() -> CoreSchema:
    return cs.union_schema(
        [
            cs.int_schema(strict=True, ge=0, le=1),
            cs.float_schema(strict=True, ge=0, le=1, allow_inf_nan=False),
        ],
        mode="left_to_right",
    )


def _feature_value() -> CoreSchema:
    return cs.union_schema(
        [
            cs.int_schema(strict=True),
            # No NaN or infinities (the SDK sends null): storing then skips looking for them.
            cs.float_schema(strict=True, allow_inf_nan=False),
            _short_str(),
            cs.none_schema(),
            cs.bool_schema(strict=True),
        ],
        mode="left_to_right",
    )


def _optional(schema: CoreSchema) -> CoreSchema:
    return cs.with_default_schema(cs.nullable_schema(schema), default=None)


def _model(cls: type[Any], fields: Mapping[str, CoreSchema]) -> CoreSchema:
    # Fields without Python validators are taken from the model itself, so they cannot drift.
    own = cls.__pydantic_core_schema__["schema"]["fields"]
    ours = {
        "event_time": _optional(
            cs.chain_schema(
                [
                    cs.str_schema(max_length=64, strict=True),  # not a number of seconds
                    cs.datetime_schema(microseconds_precision="truncate"),
                ]
            )
        ),
        **fields,
    }
    plain = {name for name in own if "function" not in repr(own[name])}
    if set(own) != plain | set(ours) or plain & set(ours):
        raise RuntimeError(f"the fast path of {cls.__name__} does not match its fields")
    # In the model's order: it is the order of model_dump and of the dead letters' JSON.
    every = {name: own[name]["schema"] if name in plain else ours[name] for name in own}
    # pydantic-core would reuse the model's own validator (with its Python callbacks) for the
    # model's class: build instances of a private subclass, whose class is switched back.
    shell = type(f"_Fast{cls.__name__}", (cls,), {})
    shell.__pydantic_complete__ = False  # type: ignore[attr-defined]
    return cs.model_schema(
        shell,
        cs.model_fields_schema(
            {name: cs.model_field(schema) for name, schema in every.items()},
            extra_behavior="forbid",
        ),
        config={"extra_fields_behavior": "forbid"},
    )


FAST_FIELDS: dict[type[Any], dict[str, CoreSchema]] = {
    PredictionEvent: {
        "features": cs.dict_schema(
            cs.str_schema(pattern=FEATURE_NAME_PATTERN, strict=True),
            _feature_value(),
            max_length=MAX_FEATURES,
            strict=True,
        ),
        "prediction": _scalar(),
        "score": _optional(
            cs.union_schema(
                [
                    _probability(),
                    cs.dict_schema(_short_str(), _probability(), strict=True),
                ],
                mode="left_to_right",
            )
        ),
        "tags": _optional(
            cs.dict_schema(
                cs.str_schema(pattern=FEATURE_NAME_PATTERN, strict=True),
                _short_str(),
                max_length=MAX_TAGS,
                strict=True,
            )
        ),
    },
    LabelEvent: {"label": _scalar()},
}

_validator: SchemaValidator | None = None


def _envelope_validator() -> SchemaValidator:
    global _validator
    if _validator is None:  # built on first use: no import-time cost for the API or the CLI
        event = cs.tagged_union_schema(
            {
                "prediction": _model(PredictionEvent, FAST_FIELDS[PredictionEvent]),
                "label": _model(LabelEvent, FAST_FIELDS[LabelEvent]),
            },
            discriminator="type",
        )
        _validator = SchemaValidator(
            cs.typed_dict_schema(
                {
                    "schema_version": cs.typed_dict_field(cs.literal_schema([1])),
                    "events": cs.typed_dict_field(cs.list_schema(event, strict=True)),
                },
                extra_behavior="forbid",
            )
        )
    return _validator


class FastEnvelope:
    """The events of an envelope, and each prediction's features as JSON (``None`` for a
    label): ``orjson.dumps(features)``, which storing reuses when conforming changes nothing.
    Their floats are all finite (``store_events`` counts on it)."""

    __slots__ = ("encoded_features", "events")

    def __init__(
        self, events: list[PredictionEvent | LabelEvent], encoded_features: list[bytes | None]
    ) -> None:
        self.events = events
        self.encoded_features = encoded_features


def validate_envelope(payload: bytes) -> FastEnvelope | None:
    """The envelope's events exactly as ``parse_event`` gives them, or ``None`` when this fast
    path cannot vouch for every event (then validate them one by one)."""
    if _NUL in payload:
        return None
    now = datetime.now(UTC)  # before validating: never more lenient than parse_event later
    try:
        events: list[Any] = _envelope_validator().validate_json(payload)["events"]
    except (ValidationError, RecursionError):
        return None
    encoded: list[bytes | None] = []
    _set = object.__setattr__
    for event in events:
        values = event.__dict__
        when = values["event_time"]
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            if when - now > MAX_FUTURE:
                return None
            try:
                values["event_time"] = when.astimezone(UTC)
            except OverflowError:  # out of range in UTC: parse_event words the rejection
                return None
        if values["type"] == "label":
            _set(event, "__class__", LabelEvent)  # frozen models refuse their own setattr
            if type(values["label"]) is int and values["label"] not in _INT_RANGE:
                return None
            encoded.append(None)
            continue
        _set(event, "__class__", PredictionEvent)
        if type(values["prediction"]) is int and values["prediction"] not in _INT_RANGE:
            return None
        try:
            # Kept until the batch is stored: an exact-size copy (see ingest.store._exact).
            features = memoryview(orjson.dumps(values["features"])).tobytes()
        except TypeError:  # an integer beyond 64 bits
            return None
        size = len(features) + _REST
        if type(values["score"]) is dict:
            size += len(orjson.dumps(values["score"]))
        if values["tags"] is not None:
            size += len(orjson.dumps(values["tags"]))
        if size > MAX_EVENT_BYTES:
            return None
        encoded.append(features)
    return FastEnvelope(events, encoded)
