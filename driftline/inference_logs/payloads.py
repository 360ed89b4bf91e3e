"""Rows of features and predictions from logged inference payloads.

Three request shapes are read, told apart by their keys:

- V1 (KServe ``/v1/models/M:predict``, TensorFlow Serving's row format):
  ``{"instances": [...]}`` answered by ``{"predictions": [...]}``.
- V2, the Open Inference Protocol (``/v2/models/M/infer``): ``{"inputs": [{"name", "shape",
  "datatype", "data"}, ...]}`` answered by ``{"outputs": [...]}``; ``data`` may be flat
  (row-major) or nested.
- Seldon's protocol: ``{"data": {"names": [...], "ndarray": [[...]]}}`` or
  ``{"data": {"tensor": {"shape": [...], "values": [...]}}}``, answered in the same shape.

A prediction that is a row of several numbers is read as class probabilities: the prediction
is the most probable class and the row becomes the event's score.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from driftline.core.errors import FieldProblem, InvalidInputError
from driftline.inference_logs.mapping import Resolved

__all__ = ["Output", "request_rows", "response_outputs"]

Output = tuple[Any, Any]  # (prediction, score or None)


def _bad(field: str, reason: str) -> InvalidInputError:
    return InvalidInputError("the logged payload cannot be read", [FieldProblem(field, reason)])


def _flatten(data: Any) -> list[Any]:
    if not isinstance(data, list):
        return [data]
    flat: list[Any] = []
    for item in data:
        flat.extend(_flatten(item))
    return flat


def _rows(data: Any, shape: Sequence[Any], where: str) -> list[list[Any]]:
    """A tensor as rows: the first dimension is the batch, the rest is flattened."""
    if not shape or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise _bad(f"{where}.shape", f"must be a list of sizes, got {str(shape)[:64]}")
    flat = _flatten(data)
    width = math.prod(shape[1:]) if len(shape) > 1 else 1
    if len(flat) != shape[0] * width:
        raise _bad(
            f"{where}.data", f"has {len(flat)} values; shape {shape} needs {shape[0] * width}"
        )
    return [flat[i * width : (i + 1) * width] for i in range(shape[0])]


def _positional(values: Sequence[Any], names: Sequence[str], where: str) -> dict[str, Any]:
    if len(values) != len(names):
        raise _bad(
            where,
            f"has {len(values)} values but {len(names)} feature names are mapped to it "
            "(set features or inputs in the model's inference-logging mapping)",
        )
    return dict(zip(names, values, strict=True))


def _v2_request(inputs: list[Any], resolved: Resolved) -> list[dict[str, Any]]:
    spec, order = resolved.spec, resolved.spec.features or resolved.feature_order
    renames = spec.inputs or {}
    rows: list[dict[str, Any]] | None = None
    for position, tensor in enumerate(inputs):
        where = f"inputs[{position}]"
        if not isinstance(tensor, dict) or "data" not in tensor:
            raise _bad(where, "a V2 input needs name, shape, datatype and data")
        name = str(tensor.get("name", ""))
        values = _rows(tensor["data"], tensor.get("shape") or [], where)
        target = renames.get(name)
        if target is None:
            target = order if len(values[0]) > 1 else name
        if isinstance(target, str):
            target = [target]
        if rows is None:
            rows = [{} for _ in values]
        if len(values) != len(rows):
            raise _bad(f"{where}.shape", "inputs disagree on the batch size")
        for row, value in zip(rows, values, strict=True):
            row.update(_positional(value, target, where))
    return rows or []


def _v1_instance(instance: Any, resolved: Resolved, where: str) -> dict[str, Any]:
    if isinstance(instance, dict):
        renames = resolved.spec.inputs or {}
        return {_one(renames.get(k) or k): v for k, v in instance.items()}
    values = instance if isinstance(instance, list) else [instance]
    return _positional(values, resolved.spec.features or resolved.feature_order, where)


def _one(target: str | list[str]) -> str:
    return target if isinstance(target, str) else target[0]


def _seldon_rows(data: Any, where: str) -> tuple[list[list[Any]], list[str] | None]:
    if not isinstance(data, dict):
        raise _bad(where, "Seldon data must be an object with ndarray or tensor")
    names = data.get("names") or None
    if "ndarray" in data and isinstance(data["ndarray"], list):
        rows = [r if isinstance(r, list) else [r] for r in data["ndarray"]]
    elif isinstance(data.get("tensor"), dict):
        tensor = data["tensor"]
        rows = _rows(tensor.get("values"), tensor.get("shape") or [], f"{where}.tensor")
    else:
        raise _bad(
            where,
            "Seldon data needs ndarray or tensor (jsonData, strData, binData are not features)",
        )
    return rows, [str(n) for n in names] if names else None


def request_rows(body: Any, resolved: Resolved) -> list[dict[str, Any]]:
    """One feature mapping per instance of the request."""
    if isinstance(body, dict) and isinstance(body.get("instances"), list):
        return [
            _v1_instance(item, resolved, f"instances[{i}]")
            for i, item in enumerate(body["instances"])
        ]
    if isinstance(body, dict) and isinstance(body.get("inputs"), list):
        return _v2_request(body["inputs"], resolved)
    if isinstance(body, dict) and "data" in body:
        rows, names = _seldon_rows(body["data"], "data")
        order = names or resolved.spec.features or resolved.feature_order
        return [_positional(row, order, f"data.ndarray[{i}]") for i, row in enumerate(rows)]
    raise _bad("$", "expected a V1 ({instances}), V2 ({inputs}) or Seldon ({data}) request")


def _output(value: Any, classes: list[str] | None, where: str) -> Output:
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not isinstance(value, list):
        return value, None
    if not value or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        raise _bad(where, "a prediction row must hold numbers (class probabilities)")
    names = classes or [str(i) for i in range(len(value))]
    if len(names) != len(value):
        raise _bad(where, f"has {len(value)} probabilities but {len(names)} classes are mapped")
    best = max(range(len(value)), key=value.__getitem__)
    return names[best], dict(zip(names, value, strict=True))


def _v1_prediction(item: Any, resolved: Resolved, where: str) -> Output:
    if isinstance(item, dict):
        key = resolved.spec.prediction_key
        if key is None or key not in item:
            raise _bad(where, "the prediction is an object: set prediction_key in the mapping")
        return _output(item[key], resolved.spec.classes, where)
    return _output(item, resolved.spec.classes, where)


def response_outputs(body: Any, resolved: Resolved) -> list[Output]:
    """One (prediction, score) per instance of the response."""
    classes = resolved.spec.classes
    if isinstance(body, dict) and isinstance(body.get("predictions"), list):
        return [
            _v1_prediction(item, resolved, f"predictions[{i}]")
            for i, item in enumerate(body["predictions"])
        ]
    if isinstance(body, dict) and isinstance(body.get("outputs"), list) and body["outputs"]:
        outputs = body["outputs"]
        wanted = resolved.spec.output
        chosen = next((o for o in outputs if isinstance(o, dict) and o.get("name") == wanted), None)
        if chosen is None and wanted is not None:
            raise _bad("outputs", f"has no output named {wanted!r}")
        tensor = chosen or outputs[0]
        if not isinstance(tensor, dict) or "data" not in tensor:
            raise _bad("outputs[0]", "a V2 output needs name, shape, datatype and data")
        rows = _rows(tensor["data"], tensor.get("shape") or [], "outputs")
        return [_output(row, classes, f"outputs.data[{i}]") for i, row in enumerate(rows)]
    if isinstance(body, dict) and "data" in body:
        rows, names = _seldon_rows(body["data"], "data")
        return [_output(row, classes or names, f"data[{i}]") for i, row in enumerate(rows)]
    raise _bad("$", "expected a V1 ({predictions}), V2 ({outputs}) or Seldon ({data}) response")
