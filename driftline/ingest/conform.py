"""Fitting an event's features to the model's schema.

A value of the wrong type is stored as missing and its feature is listed as a type violation; a
feature the schema does not know is kept aside as an extra. Both are data-quality findings, not
reasons to drop the event.

>>> from driftline.core.modelspec import FeatureType as T
>>> conform_features({"age": "x", "city": 7, "new": 1.5}, {"age": T.NUMERIC, "city": T.CATEGORICAL})
Conformed(features={'age': None, 'city': '7'}, extra={'new': 1.5}, violations=['age'])
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import compress, repeat
from typing import Any

from driftline.core.modelspec import FeatureType

__all__ = ["Conformed", "Conformer", "conform_features", "conform_value"]


@dataclass(frozen=True, slots=True)
class Conformed:
    features: dict[str, Any]
    extra: dict[str, Any] | None
    violations: list[str] | None


class _Violation(Exception):
    pass


def conform_value(value: Any, kind: FeatureType) -> Any:
    """``value`` as ``kind`` (``None`` for missing); raises ``ValueError`` on the wrong type."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None  # NaN is how pandas and numpy spell "missing"
    if kind is FeatureType.NUMERIC:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("expected a number")
        if isinstance(value, float) and math.isinf(value):
            raise ValueError("expected a finite number")
        return value
    if kind is FeatureType.CATEGORICAL:
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int):
            return str(value)  # integer codes (zip, product id) are common categories
        raise ValueError("expected a string")
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ValueError("expected a boolean")


def _plain(value: Any) -> Any:
    # Extras are stored as given, but only as JSON every backend accepts.
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return None


def conform_features(features: Mapping[str, Any], schema: Mapping[str, FeatureType]) -> Conformed:
    clean: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    violations: list[str] = []
    for name, value in features.items():
        kind = schema.get(name)
        if kind is None:
            extra[name] = _plain(value)
            continue
        # Fast path for the common, valid case (exact types, no function call); anything else
        # goes through conform_value, which has the rules.
        cls = type(value)
        plain_number = cls is int or (cls is float and math.isfinite(value))
        if (kind is FeatureType.NUMERIC and plain_number) or (
            kind is FeatureType.CATEGORICAL and cls is str
        ):
            clean[name] = value
        else:
            try:
                clean[name] = conform_value(value, kind)
            except ValueError:
                clean[name] = None
                violations.append(name)
    return Conformed(clean, extra or None, violations or None)


# The exact types a feature of each kind may hold to be stored unchanged.
_AS_IS: dict[FeatureType, tuple[type, ...]] = {
    FeatureType.NUMERIC: (int, float, type(None)),
    FeatureType.CATEGORICAL: (str, type(None)),
    FeatureType.BOOLEAN: (bool, type(None)),
}


_MAX_SHAPES = 256  # per Conformer (one per model and batch): bounded whatever the input


def _all_finite(values: Any) -> bool:
    floats = compress(values, map(isinstance, values, repeat(float)))
    try:
        return math.isfinite(math.fsum(floats))  # NaN or an infinity makes the sum non-finite
    except (OverflowError, ValueError):  # huge finite values overflow; inf - inf raises
        return False


class Conformer:
    """``conform_features`` for one schema, with a fast path for the usual event.

    An event whose features all have exactly the type their schema asks for (or null), all known
    and finite, is stored as given: one set inclusion and one sum, both looping in C, instead of
    a Python step per feature. Any other event takes ``conform_features``.
    """

    def __init__(self, schema: Mapping[str, FeatureType]) -> None:
        self.schema = dict(schema)
        self._as_is = frozenset(
            (name, cls) for name, kind in self.schema.items() for cls in _AS_IS[kind]
        )
        # The events of a batch mostly share one shape (names in order, and value types): its
        # verdict is looked up with one hash of two tuples instead of a set probe per feature.
        self._shapes: dict[tuple[tuple[str, ...], tuple[type, ...]], bool] = {}

    def as_is(self, features: dict[str, Any], finite: bool = False) -> bool:
        """Whether conforming would keep ``features`` unchanged, with no extras or violations
        (the ingest hot path then builds no :class:`Conformed`). ``finite``: the caller knows
        every float among the values is finite (the collector's envelope fast path accepts no
        other), which spares the sum over them."""
        values = features.values()
        shape = (tuple(features), tuple(map(type, values)))
        as_is = self._shapes.get(shape)
        if as_is is None:
            as_is = self._as_is.issuperset(zip(*shape, strict=True))
            if len(self._shapes) < _MAX_SHAPES:
                self._shapes[shape] = as_is
        return as_is and (finite or _all_finite(values))

    def __call__(self, features: dict[str, Any], finite: bool = False) -> Conformed:
        if self.as_is(features, finite):
            return Conformed(features, None, None)
        return conform_features(features, self.schema)
