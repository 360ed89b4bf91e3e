"""Turning logged events into contract-v1 JSON, in the worker thread (never the caller's).

NaN becomes null, numpy scalars become Python numbers; a value that cannot be represented
(an arbitrary object) makes its event unsendable, which is counted, not raised.
"""

from __future__ import annotations

import json
import math
import time
from datetime import datetime, timezone
from typing import Any, Dict, List, Tuple

__all__ = [
    "KIND",
    "ID",
    "OUTPUT",
    "SCORE",
    "TAGS",
    "TIME",
    "Unserializable",
    "encode_events",
    "iso_time",
]

try:  # optional extra "fast"
    import orjson  # type: ignore[import-not-found, unused-ignore]

    def _dumps(obj: Any) -> bytes:
        data: bytes = orjson.dumps(obj)
        return data

except ImportError:  # pragma: no cover - depends on the extra

    def _dumps(obj: Any) -> bytes:
        return json.dumps(obj, separators=(",", ":"), allow_nan=False).encode()


class Unserializable(ValueError):
    pass


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    item = getattr(value, "item", None)  # numpy and pandas scalars
    if item is not None and type(value).__module__.startswith(("numpy", "pandas")):
        try:
            return _plain(item())
        except (TypeError, ValueError):
            pass
    if type(value).__name__ in ("NAType", "NaTType"):
        return None
    raise Unserializable(f"cannot send a value of type {type(value).__name__}")


def iso_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat().replace("+00:00", "Z")


# A queued event is the caller's feature dict (copied) plus these keys, which no feature name can
# spell (names start with a letter or "_"). A dict of plain values is not tracked by Python's
# garbage collector; a dict holding another dict is, and thousands of queued events would make
# every GC pass slow enough to stall a logging call by milliseconds.
KIND, ID, TIME, OUTPUT, SCORE, TAGS = " kind", " id", " time", " output", " score", " tags"
META = (KIND, ID, TIME, OUTPUT, SCORE, TAGS)


def _features(event: Dict[str, Any], careful: bool) -> Dict[str, Any]:
    if careful:
        return {str(k): _plain(v) for k, v in event.items() if k not in META}
    features = event.copy()  # C-speed copy, then drop our keys
    for key in META:
        features.pop(key, None)
    return features


def to_contract(
    event: Dict[str, Any], model: str, model_version: Any, careful: bool = True
) -> Dict[str, Any]:
    """A queued event as contract v1 (raises :class:`Unserializable`).

    ``careful=False`` leaves values as given, for the fast path in :func:`encode_one`."""
    out: Dict[str, Any] = {
        "schema_version": 1,
        "type": event[KIND],
        "event_id": event[ID],
        "model": model,
        "event_time": iso_time(event[TIME]),
    }
    if event[KIND] == "label":
        out["label"] = _plain(event[OUTPUT])
        return out
    if model_version is not None:
        out["model_version"] = model_version
    out["features"] = _features(event, careful)
    out["prediction"] = _plain(event[OUTPUT]) if careful else event[OUTPUT]
    score = event.get(SCORE)
    if score is not None:
        out["score"] = (
            {str(k): _plain(v) for k, v in score.items()}
            if isinstance(score, dict)
            else _plain(score)
        )
    tags = event.get(TAGS)
    if tags:
        out["tags"] = {str(k): str(v) for k, v in tags.items()}
    return out


# Encoding holds the GIL; a logging thread waiting for it would stall for the interpreter's
# whole switch interval (5 ms). Yielding every few events keeps callers' waits far shorter.
YIELD_EVERY = 16
_strict = json.JSONEncoder(separators=(",", ":"), allow_nan=False)


def encode_one(event: Dict[str, Any], model: str, model_version: Any) -> bytes:
    """One event as JSON bytes. Fast path first: plain values go straight to the C encoder,
    which refuses NaN and unknown types; only then is each value converted one by one."""
    try:
        return _strict.encode(to_contract(event, model, model_version, careful=False)).encode()
    except (TypeError, ValueError):
        return _dumps(to_contract(event, model, model_version))


def encode_events(
    events: List[Dict[str, Any]], model: str, model_version: Any = None
) -> Tuple[List[Tuple[str, bytes]], List[str]]:
    """([(event_id, JSON bytes)], reasons for the events that could not be encoded)."""
    good: List[Tuple[str, bytes]] = []
    bad: List[str] = []
    for n, event in enumerate(events, 1):
        try:
            good.append((event[ID], encode_one(event, model, model_version)))
        except (Unserializable, TypeError, ValueError, AttributeError, KeyError) as exc:
            bad.append(str(exc))
        if n % YIELD_EVERY == 0:
            time.sleep(0)
    return good, bad


def join_array(encoded: List[Tuple[str, bytes]], prefix: bytes, suffix: bytes) -> bytes:
    """``prefix`` + the encoded events as a JSON array body + ``suffix``."""
    return prefix + b",".join(data for _, data in encoded) + suffix


def dumps(obj: Any) -> bytes:
    return _dumps(obj)
