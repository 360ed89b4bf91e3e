"""An MLflow model signature as a Driftline feature schema and task.

Column signatures map by type: numbers are numeric, strings categorical, booleans boolean. A
tensor signature ``(-1, k)`` has no column names, so its k columns become ``f0 .. f{k-1}``
(the names the SDK's MLflow wrapper and the KServe mapping use for unnamed values).
"""

from __future__ import annotations

import re
from typing import Any

from driftline.core.errors import FieldProblem, InvalidInputError
from driftline.core.modelspec import FEATURE_NAME_PATTERN, FeatureSpec, FeatureType, Task

__all__ = ["features_from_signature", "task_from_signature"]

_NUMERIC = {"double", "float", "integer", "long"}
_KINDS = {"string": FeatureType.CATEGORICAL, "boolean": FeatureType.BOOLEAN} | {
    name: FeatureType.NUMERIC for name in _NUMERIC
}
_NAME = re.compile(FEATURE_NAME_PATTERN)


def _type_name(spec: Any) -> str:
    kind = getattr(spec, "type", None)
    return str(getattr(kind, "name", kind)).lower()


def features_from_signature(schema: Any, keys: set[str]) -> list[FeatureSpec]:
    """The features of an MLflow input ``Schema``; ``keys`` names the key features."""
    if schema is None:
        raise InvalidInputError(
            "the MLflow model has no signature",
            [FieldProblem("signature", "log the model with signature=infer_signature(X, y)")],
        )
    problems: list[FieldProblem] = []
    features: list[FeatureSpec] = []
    if schema.is_tensor_spec():
        shape: tuple[int, ...] = tuple(schema.inputs[0].shape) if len(schema.inputs) == 1 else ()
        if len(shape) != 2 or shape[1] < 1:
            raise InvalidInputError(
                "only a single 2-D tensor input (rows x columns) can be read as features",
                [FieldProblem("signature.inputs", f"has shape {shape}")],
            )
        names = [f"f{i}" for i in range(shape[1])]
        return [FeatureSpec(name=n, type=FeatureType.NUMERIC, key=n in keys) for n in names]
    for column in schema.inputs:
        name, kind = str(column.name), _KINDS.get(_type_name(column))
        if not _NAME.match(name):
            problems.append(
                FieldProblem(name[:128], f"is not a feature name ({FEATURE_NAME_PATTERN})")
            )
        elif kind is None:
            problems.append(
                FieldProblem(
                    name, f"has type {_type_name(column)}, not a number, string or boolean"
                )
            )
        else:
            features.append(FeatureSpec(name=name, type=kind, key=name in keys))
    unknown = keys - {f.name for f in features}
    problems += [FieldProblem(k, "--key-feature names no input of the model") for k in unknown]
    if problems:
        raise InvalidInputError("the model's signature cannot be a feature schema", problems)
    return features


def task_from_signature(schema: Any, label_values: int | None) -> Task:
    """Regression for a floating-point output, else classification: binary when the
    training labels hold at most two values."""
    outputs = list(getattr(schema, "inputs", []) or []) if schema is not None else []
    kind = _type_name(outputs[0]) if outputs else ""
    if schema is not None and schema.is_tensor_spec() and outputs:
        kind = "double" if getattr(outputs[0].type, "kind", "") == "f" else "long"
    if kind in ("double", "float"):
        return Task.REGRESSION
    if label_values is not None and label_values <= 2:
        return Task.BINARY_CLASSIFICATION
    return Task.MULTICLASS_CLASSIFICATION
