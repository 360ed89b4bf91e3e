"""Checks on an uploaded reference that come before (or instead of) reading its data.

Each failure is an :class:`InvalidInputError` (422) or :class:`PayloadTooLargeError` (413) that
names the column or limit at fault. Column names are data, never identifiers: they are checked
against the feature-name pattern so a name can never be mistaken for anything else downstream.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from driftline.core.errors import FieldProblem, InvalidInputError, PayloadTooLargeError
from driftline.core.modelspec import FEATURE_NAME_PATTERN

__all__ = ["ReferenceLimits", "check_cells", "check_names", "check_parquet_footer", "too_big"]

_NAME = re.compile(FEATURE_NAME_PATTERN)
_SHOWN = 64  # characters of a bad name quoted back (a name may be 10 kB of junk)


@dataclass(frozen=True, slots=True)
class ReferenceLimits:
    max_rows: int
    max_columns: int
    # Longer strings could never match an event's value (the contract caps those at 1 KiB).
    max_cell_bytes: int = 1024
    # Parquet's footer tells the decoded size: refuse a small file that would decode to gigabytes.
    max_decoded_bytes: int = 2 * 1024**3


def too_big(what: str, got: int, limit: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"reference has too many {what}",
        [FieldProblem("$", f"has {got} {what}; at most {limit} are allowed")],
    )


def _shown(name: object) -> str:
    text = str(name)
    return text if len(text) <= _SHOWN else f"{text[:_SHOWN]}... ({len(text)} characters)"


def check_names(names: list[object], limits: ReferenceLimits) -> None:
    """At most ``max_columns`` columns, each named like a feature, none twice."""
    if len(names) > limits.max_columns:
        raise too_big("columns", len(names), limits.max_columns)
    invalid = [n for n in names if not isinstance(n, str) or not _NAME.match(n)]
    if invalid:
        raise InvalidInputError(
            "invalid column names",
            [FieldProblem(_shown(n), f"must match {FEATURE_NAME_PATTERN}") for n in invalid[:20]],
        )
    seen: set[object] = set()
    dupes = sorted({str(n) for n in names if n in seen or seen.add(n)})  # type: ignore[func-returns-value]
    if dupes:
        raise InvalidInputError(
            "column names must be unique",
            [FieldProblem(n, "appears more than once") for n in dupes],
        )


def check_cells(frame: pd.DataFrame, limits: ReferenceLimits) -> None:
    """No text value longer than ``max_cell_bytes`` characters."""
    problems = []
    for name in frame.columns:
        column = frame[name]
        if column.dtype == object or isinstance(column.dtype, pd.StringDtype):
            longest = column.astype("string").str.len().max()
            cap = limits.max_cell_bytes
            if pd.notna(longest) and int(longest) > cap:
                reason = f"has a value of {int(longest)} characters; at most {cap}"
                problems.append(FieldProblem(str(name), reason))
    if problems:
        raise InvalidInputError("reference values are too long", problems)


def _unsupported(kind: pa.DataType) -> bool:
    if pa.types.is_dictionary(kind):
        return _unsupported(kind.value_type)
    return bool(
        pa.types.is_nested(kind)
        or pa.types.is_binary(kind)
        or pa.types.is_large_binary(kind)
        or pa.types.is_fixed_size_binary(kind)
    )


def check_parquet_footer(parquet: pq.ParquetFile, limits: ReferenceLimits) -> None:
    """Rows, columns, names, types and decoded size, from the footer alone."""
    meta = parquet.metadata
    if meta.num_rows > limits.max_rows:
        raise too_big("rows", meta.num_rows, limits.max_rows)
    schema = parquet.schema_arrow
    check_names(list(schema.names), limits)
    bad = [
        FieldProblem(field.name, f"has type {field.type}; expected numbers, booleans or text")
        for field in schema
        if _unsupported(field.type)
    ]
    if bad:
        raise InvalidInputError("unsupported Parquet column types", bad)
    decoded = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if decoded > limits.max_decoded_bytes:
        raise too_big("decoded bytes", decoded, limits.max_decoded_bytes)
