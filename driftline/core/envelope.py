"""A whole SDK envelope validated in one msgspec call, for the collector's hot path.

``parse_event`` validates one event at a time, through pydantic with Python callbacks for every
constrained field. Here the same rules, stricter where that keeps them in C, are msgspec types
for ``{"schema_version": 1, "events": [...]}``; the rest is a short Python pass per event (the
7-day future limit, integers beyond 64 bits, the event size, feature names per distinct set of
names; event ids in one regex run per envelope, model names and versions per distinct value)
and one pydantic-core call for all the batch's event times, so times are parsed exactly as
``parse_event`` parses them. The events are then built as the contract's models without
validating them again (what ``model_construct`` does).

The fast path only ever *accepts*: any envelope it is not sure of (a failure, a long string, a
NUL escape, an event without ``type``, a timestamp given as a number, a big integer, ...)
returns ``None`` and goes through ``parse_event`` event by event, which decides and words every
rejection. So what it accepts must be exactly what ``parse_event`` would have produced:
``tests/test_envelope_fast_path.py`` compares the two over random valid and invalid envelopes.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import msgspec
import orjson
from msgspec import UNSET, Meta, Struct, UnsetType
from msgspec.structs import astuple
from pydantic import BaseModel
from pydantic_core import SchemaValidator, ValidationError
from pydantic_core import core_schema as cs

from driftline.core.contract import (
    EVENT_ID_PATTERN,
    MAX_EVENT_BYTES,
    MAX_FUTURE,
    MAX_TAGS,
    LabelEvent,
    PredictionEvent,
)
from driftline.core.modelspec import (
    FEATURE_NAME_PATTERN,
    MAX_FEATURES,
    MODEL_NAME_PATTERN,
    VERSION_PATTERN,
)

__all__ = ["FastEnvelope", "check_fields", "validate_envelope"]


# A string of at most this many characters is at most MAX_STRING_BYTES (1024) in UTF-8; msgspec
# refuses lone surrogates, and NUL can only be spelled as this escape in JSON: an envelope
# without it has no NUL anywhere.
_SHORT = 256
_NUL = b"\\u0000"
# orjson writes integers of at most 64 bits; the size of an event holding a bigger one is
# measured by the standard encoder, whose floats can be longer: such envelopes go the slow way.
_INT_RANGE = range(-(2**63), 2**64)
# An upper bound of the compact JSON of every field of a prediction but its features, score
# dict and tags (which are measured): keys, punctuation, event_id and model (128 characters),
# model_version (64), the event_time string (64 characters, escaped at most 6 bytes each), the
# prediction (256 characters, 6 bytes each at most, or a number) and a numeric score.
_REST = 200 + 130 + 130 + 66 + 2 + 6 * 64 + 2 + 6 * _SHORT + 32

Short = Annotated[str, Meta(max_length=_SHORT)]
# Integers before floats, as JSON tells them apart (1 is an int, 1.0 a float). msgspec refuses
# NaN, infinities and numbers out of the float range, as the contract's fast path must.
Scalar = int | float | Short | bool
Probability = Annotated[int, Meta(ge=0, le=1)] | Annotated[float, Meta(ge=0, le=1)]
Time = Annotated[str, Meta(max_length=64)]  # a string: a number of seconds goes the slow way


class _Prediction(
    Struct, tag_field="type", tag="prediction", forbid_unknown_fields=True, kw_only=True
):
    # UNSET tells a field left out from one given as null (pydantic's fields_set).
    schema_version: Literal[1] | UnsetType = UNSET
    event_id: str  # event ids and model names: _ids_ok, once per envelope
    model: str
    event_time: Time | None | UnsetType = UNSET
    model_version: str | None | UnsetType = UNSET  # checked with the model names
    # Names are checked per distinct set of names (_names_ok), not per feature.
    features: Annotated[dict[str, int | float | Short | None | bool], Meta(max_length=MAX_FEATURES)]
    prediction: Scalar
    score: Probability | dict[Short, Probability] | None | UnsetType = UNSET
    tags: Annotated[dict[str, Short], Meta(max_length=MAX_TAGS)] | None | UnsetType = UNSET


class _Label(Struct, tag_field="type", tag="label", forbid_unknown_fields=True, kw_only=True):
    schema_version: Literal[1] | UnsetType = UNSET
    event_id: str  # event ids and model names: _ids_ok, once per envelope
    model: str
    event_time: Time | None | UnsetType = UNSET
    label: Scalar


class _Envelope(Struct, forbid_unknown_fields=True):
    schema_version: Literal[1]
    events: list[_Prediction | _Label]


def check_fields(model: type[BaseModel], struct: type[Struct]) -> None:
    """Refuse to run when the contract's model and its msgspec twin disagree on the fields: a
    field added to the contract must be added (with its rules) here too."""
    ours = [*struct.__struct_fields__, "type"]
    if sorted(model.model_fields) != sorted(ours):
        raise RuntimeError(f"the fast path of {model.__name__} does not match its fields")


check_fields(PredictionEvent, _Prediction)
check_fields(LabelEvent, _Label)

_decoder = msgspec.json.Decoder(_Envelope)
# Event times as parse_event parses them (pydantic's datetime rules), truncated to microseconds.
_times = SchemaValidator(cs.list_schema(cs.datetime_schema(microseconds_precision="truncate")))
_FEATURE_NAMES = re.compile(FEATURE_NAME_PATTERN)
_MODEL_NAME = re.compile(MODEL_NAME_PATTERN)
_VERSION = re.compile(VERSION_PATTERN)
_ID = EVENT_ID_PATTERN.removeprefix("^").removesuffix("$")
_JOINED_IDS = re.compile(f"{_ID}(?:,{_ID})*")
_MAX_NAME_SETS = 4096
_valid_names: dict[tuple[str, ...], bool] = {}  # bounded: see _names_ok


def _names_ok(names: tuple[str, ...]) -> bool:
    """Whether every name is a valid feature or tag name; the events of a model share a few
    sets of names, so each set is checked once."""
    ok = _valid_names.get(names)
    if ok is None:
        ok = all(_FEATURE_NAMES.fullmatch(name) for name in names)
        if len(_valid_names) < _MAX_NAME_SETS:
            _valid_names[names] = ok
    return ok


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


_set = object.__setattr__


def _event(cls: type[BaseModel], values: dict[str, Any], given: set[str]) -> Any:
    """An instance of the contract's model without validating again (as ``model_construct``)."""
    event = cls.__new__(cls)
    _set(event, "__dict__", values)
    _set(event, "__pydantic_fields_set__", given)
    _set(event, "__pydantic_extra__", None)
    _set(event, "__pydantic_private__", None)
    return event


def _ids_ok(structs: list[_Prediction | _Label]) -> bool:
    """Every event id, model name and model version valid: the ids in one regex run over them
    all (joined by commas, which no valid id holds), the few distinct names and versions one by
    one (fullmatch: Python's "$" also matches before a final newline)."""
    ids = [struct.event_id for struct in structs]
    joined = ",".join(ids)
    if joined.count(",") != len(ids) - 1 or not _JOINED_IDS.fullmatch(joined):
        return False
    if not all(_MODEL_NAME.fullmatch(name) for name in {struct.model for struct in structs}):
        return False
    versions = {s.model_version for s in structs if type(s) is _Prediction}
    return all(_VERSION.fullmatch(v) for v in versions if type(v) is str)


# pydantic's fields_set of an event: its required fields and the optional ones it gave. A set
# per event, copied from a few shared ones keyed by which optional fields were left out.
_FIELDS = {
    "prediction": (
        ("event_id", "model", "type", "features", "prediction"),
        ("schema_version", "event_time", "model_version", "score", "tags"),
    ),
    "label": (("event_id", "model", "type", "label"), ("schema_version", "event_time")),
}
_given_sets: dict[tuple[str, tuple[bool, ...]], frozenset[str]] = {}


def _given(kind: str, left_out: tuple[bool, ...]) -> set[str]:
    """``left_out``: for each optional field of ``kind`` in ``_FIELDS`` order, whether the event
    left it out."""
    given = _given_sets.get((kind, left_out))
    if given is None:
        required, optional = _FIELDS[kind]
        present = [name for name, out in zip(optional, left_out, strict=True) if not out]
        given = _given_sets[(kind, left_out)] = frozenset([*required, *present])
    return set(given)


def _in_utc(times: list[datetime], now: datetime) -> list[datetime] | None:
    """The event times in UTC, or ``None`` if parse_event would refuse one: more than 7 days
    ahead, or out of range once in UTC."""
    latest = now + MAX_FUTURE
    out = []
    try:
        for when in times:
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            if when > latest:
                return None
            out.append(when.astimezone(UTC))
    except OverflowError:
        return None
    return out


def validate_envelope(payload: bytes) -> FastEnvelope | None:
    """The envelope's events exactly as ``parse_event`` gives them, or ``None`` when this fast
    path cannot vouch for every event (then validate them one by one)."""
    if _NUL in payload:
        return None
    now = datetime.now(UTC)  # before validating: never more lenient than parse_event later
    try:
        structs = _decoder.decode(payload).events
    except (msgspec.DecodeError, ValueError, RecursionError):  # ValueError: invalid UTF-8
        return None
    if not structs:
        return FastEnvelope([], [])
    try:  # all the event times in one call, as parse_event parses them
        stamps = [s.event_time for s in structs if type(s.event_time) is str]
        parsed = _in_utc(_times.validate_python(stamps), now)
    except ValidationError:
        return None
    if parsed is None:
        return None
    times = iter(parsed)
    if not _ids_ok(structs):
        return None
    events: list[PredictionEvent | LabelEvent] = []
    encoded: list[bytes | None] = []
    for struct in structs:
        stamp = struct.event_time
        when = next(times) if type(stamp) is str else None
        if type(struct) is _Label:
            label = struct.label
            if type(label) is int and label not in _INT_RANGE:
                return None
            values = {
                "schema_version": 1,
                "event_id": struct.event_id,
                "model": struct.model,
                "event_time": when,
                "type": "label",
                "label": label,
            }
            left_out: tuple[bool, ...] = (struct.schema_version is UNSET, stamp is UNSET)
            events.append(_event(LabelEvent, values, _given("label", left_out)))
            encoded.append(None)
            continue
        schema, event_id, model, _, version, features, prediction, score, tags = astuple(struct)
        if type(prediction) is int and prediction not in _INT_RANGE:
            return None
        if not _names_ok(tuple(features)):
            return None
        try:
            # Kept until the batch is stored: an exact-size copy (see ingest.rows._exact).
            as_json = memoryview(orjson.dumps(features)).tobytes()
        except TypeError:  # an integer beyond 64 bits
            return None
        size = len(as_json) + _REST
        if type(score) is dict:
            size += len(orjson.dumps(score))
        if type(tags) is dict:
            if not _names_ok(tuple(tags)):
                return None
            size += len(orjson.dumps(tags))
        if size > MAX_EVENT_BYTES:
            return None
        left_out = (
            schema is UNSET,
            stamp is UNSET,
            version is UNSET,
            score is UNSET,
            tags is UNSET,
        )
        values = {
            "schema_version": 1,
            "event_id": event_id,
            "model": model,
            "event_time": when,
            "type": "prediction",
            "model_version": None if version is UNSET else version,
            "features": features,
            "prediction": prediction,
            "score": None if score is UNSET else score,
            "tags": None if tags is UNSET else tags,
        }
        given = _given("prediction", left_out)
        events.append(_event(PredictionEvent, values, given))
        encoded.append(as_json)
    return FastEnvelope(events, encoded)
