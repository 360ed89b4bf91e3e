"""Turning an uploaded reference file (CSV, Parquet, JSON records) into a checked DataFrame.

Every problem found is reported at once, one per column, so a user fixes the file in one go.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from driftline.core.errors import FieldProblem, InvalidInputError
from driftline.core.modelspec import FeatureType
from driftline.registry.reference_checks import (
    ReferenceLimits,
    check_cells,
    check_names,
    check_parquet_footer,
    too_big,
)

__all__ = ["FORMATS", "ReferenceLimits", "detect_format", "parse_reference"]

FORMATS = ("csv", "parquet", "json")
PREDICTION_COLUMN = "prediction"
LABEL_COLUMN = "label"
_TRUE = {True, "1", "true", "True", "TRUE"}
_FALSE = {False, "0", "false", "False", "FALSE"}


def detect_format(
    declared: str | None, content_type: str | None, filename: str | None, head: bytes
) -> str:
    """The upload's format: declared, else from content type or file name, else sniffed."""
    if declared:
        if declared not in FORMATS:
            raise InvalidInputError(
                "unknown reference format",
                [FieldProblem("format", f"must be one of {', '.join(FORMATS)}")],
            )
        return declared
    ctype = (content_type or "").split(";")[0].strip().lower()
    name = (filename or "").lower()
    if "parquet" in ctype or name.endswith((".parquet", ".pq")) or head.startswith(b"PAR1"):
        return "parquet"
    if ctype in ("application/json", "text/json") or name.endswith(".json"):
        return "json"
    if head.lstrip()[:1] in (b"[", b"{"):
        return "json"
    return "csv"


def _read_csv(
    data: bytes, limits: ReferenceLimits, types: Mapping[str, FeatureType]
) -> pd.DataFrame:
    header_line = data.split(b"\n", 1)[0].decode("utf-8", "replace")
    header = next(csv.reader([header_line]), [])
    check_names(list(header), limits)
    dtypes = {n: "string" for n, kind in types.items() if kind is FeatureType.CATEGORICAL}
    try:
        frame = pd.read_csv(  # round_trip: the exact floats, so CSV and Parquet hash alike
            io.BytesIO(data), dtype=dtypes, nrows=limits.max_rows + 1, float_precision="round_trip"
        )
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InvalidInputError(
            "the CSV could not be read", [FieldProblem("$", str(exc))]
        ) from None
    return frame


def _read_parquet(data: bytes, limits: ReferenceLimits) -> pd.DataFrame:
    try:
        parquet = pq.ParquetFile(io.BytesIO(data))
    except Exception as exc:  # pyarrow raises several unrelated types for a bad footer
        raise InvalidInputError(
            "the Parquet file could not be read", [FieldProblem("$", str(exc))]
        ) from None
    check_parquet_footer(parquet, limits)  # before any data is decoded
    frame: pd.DataFrame = parquet.read().to_pandas()
    return frame


def _read_json(data: bytes, limits: ReferenceLimits) -> pd.DataFrame:
    try:
        records = json.loads(data)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise InvalidInputError("the JSON could not be read", [FieldProblem("$", reason)]) from None
    if isinstance(records, dict) and isinstance(records.get("records"), list):
        records = records["records"]
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise InvalidInputError(
            "JSON references are an array of objects (records)",
            [FieldProblem("$", 'expected [{"column": value, ...}, ...]')],
        )
    if len(records) > limits.max_rows:
        raise too_big("rows", len(records), limits.max_rows)
    names: dict[str, None] = {}
    for record in records:
        names.update(dict.fromkeys(record))
    check_names(list(names), limits)
    return pd.DataFrame.from_records(records, columns=list(names))


def _example(values: pd.Series) -> str:
    return repr(values.iloc[0])[:60] if len(values) else ""


def _coerce(column: pd.Series, kind: FeatureType) -> tuple[pd.Series, str | None]:
    """The column converted to ``kind``, or the reason it cannot be."""
    present = column.notna()
    if kind is FeatureType.NUMERIC:
        if pd.api.types.is_bool_dtype(column):
            return column, "expected numeric values, found booleans"
        numbers = pd.to_numeric(column, errors="coerce")
        bad = present & numbers.isna()
        if bad.any():
            return (
                column,
                f"expected numeric values, found {_example(column[bad])} ({int(bad.sum())} rows)",
            )
        return numbers.astype("float64"), None
    if kind is FeatureType.BOOLEAN:
        values = column[present]
        bad = ~values.isin(_TRUE | _FALSE)
        if bad.any():
            return column, f"expected booleans (true/false/1/0), found {_example(values[bad])}"
        return column.map(lambda v: None if pd.isna(v) else v in _TRUE).astype("boolean"), None
    return column.astype("string"), None


def parse_reference(
    data: bytes,
    fmt: str,
    *,
    features: Mapping[str, FeatureType],
    prediction_type: FeatureType,
    label_type: FeatureType,
    limits: ReferenceLimits,
    ignore_extra_columns: bool = False,
) -> pd.DataFrame:
    """Read and check a reference; raise :class:`InvalidInputError` naming each bad column."""
    if fmt == "parquet":
        frame = _read_parquet(data, limits)
    elif fmt == "json":
        frame = _read_json(data, limits)
    else:
        frame = _read_csv(data, limits, features)
    if len(frame) > limits.max_rows:
        raise too_big("rows", len(frame), limits.max_rows)
    if len(frame) == 0:
        raise InvalidInputError("the reference is empty", [FieldProblem("$", "has no rows")])
    check_cells(frame, limits)

    expected: dict[str, FeatureType] = dict(features)
    optional = {PREDICTION_COLUMN: prediction_type, LABEL_COLUMN: label_type}
    problems = [
        FieldProblem(name, f"missing: the model's schema has this {kind} feature")
        for name, kind in expected.items()
        if name not in frame.columns
    ]
    extra = [str(c) for c in frame.columns if c not in expected and c not in optional]
    if extra and not ignore_extra_columns:
        problems += [
            FieldProblem(
                name[:128],
                "not in the model's feature schema (add it to the model, "
                "drop the column, or upload with ignore_extra_columns=true)",
            )
            for name in extra
        ]
    checked: dict[str, Any] = {}
    for name, kind in {**expected, **optional}.items():
        if name not in frame.columns:
            continue
        converted, reason = _coerce(frame[name], kind)
        if reason:
            problems.append(FieldProblem(name, reason))
        checked[name] = converted
    if problems:
        raise InvalidInputError("the reference does not match the model's schema", problems)
    return pd.DataFrame(checked)
