"""Storing reference datasets per model version and reading them back."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from driftline.core.errors import NotFoundError
from driftline.core.storage import tables as t
from driftline.registry.models import find_version, load_model_row
from driftline.registry.records import ReferenceRecord

__all__ = [
    "content_hash",
    "get_reference",
    "list_references",
    "load_reference_frame",
    "store_reference",
]


def content_hash(frame: pd.DataFrame) -> str:
    """A hash of the data itself (column names, types and values), not of the file format:
    the same table uploaded as CSV or Parquet gets the same hash."""
    digest = hashlib.sha256()
    for name in frame.columns:
        digest.update(f"{name}\x1f{frame[name].dtype}\x1e".encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return "sha256:" + digest.hexdigest()


def _version_row(session: Session, model: str, version: str) -> tuple[t.Model, t.ModelVersion]:
    model_row = load_model_row(session, model)
    return model_row, find_version(session, model_row, version)


def _current_ids(session: Session, version_ids: list[int]) -> set[int]:
    latest: dict[int, int] = {}
    for ref_id, version_id in session.execute(
        select(t.ReferenceDataset.id, t.ReferenceDataset.version_id)
        .where(t.ReferenceDataset.version_id.in_(version_ids))
        .order_by(t.ReferenceDataset.id)
    ):
        latest[version_id] = ref_id
    return set(latest.values())


def _record(row: t.ReferenceDataset, model: str, version: str, current: bool) -> ReferenceRecord:
    return ReferenceRecord(
        id=row.id,
        model=model,
        version=version,
        content_hash=row.content_hash,
        source_format=row.source_format,
        n_rows=row.n_rows,
        columns=row.columns,
        current=current,
        created_at=row.created_at,
    )


def store_reference(
    session: Session,
    model: str,
    version: str,
    frame: pd.DataFrame,
    source_format: str,
    profile: bytes | None = None,
) -> ReferenceRecord:
    """Store a checked reference as the version's current one; earlier ones stay addressable."""
    _, version_row = _version_row(session, model, version)
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False, compression="zstd")
    row = t.ReferenceDataset(
        version_id=version_row.id,
        content_hash=content_hash(frame),
        source_format=source_format,
        n_rows=len(frame),
        columns=[str(c) for c in frame.columns],
        data=buffer.getvalue(),
        profile=profile,
        created_at=datetime.now(UTC),
    )
    session.add(row)
    session.flush()
    return _record(row, model, version, current=True)


def list_references(session: Session, model: str, version: str) -> list[ReferenceRecord]:
    """The version's references, newest first; the first is the current one."""
    _, version_row = _version_row(session, model, version)
    rows = list(
        session.scalars(
            select(t.ReferenceDataset)
            .where(t.ReferenceDataset.version_id == version_row.id)
            .order_by(t.ReferenceDataset.id.desc())
        )
    )
    return [_record(r, model, version, current=i == 0) for i, r in enumerate(rows)]


def get_reference(session: Session, reference_id: int) -> ReferenceRecord:
    found = session.execute(
        select(t.ReferenceDataset, t.Model.name, t.ModelVersion.version)
        .join(t.ModelVersion, t.ModelVersion.id == t.ReferenceDataset.version_id)
        .join(t.Model, t.Model.id == t.ModelVersion.model_id)
        .where(t.ReferenceDataset.id == reference_id)
    ).first()
    if found is None:
        raise NotFoundError(f"reference {reference_id} does not exist")
    row, model, version = found
    current = reference_id in _current_ids(session, [row.version_id])
    return _record(row, model, version, current=current)


def load_reference_frame(session: Session, reference_id: int) -> pd.DataFrame:
    data = session.scalar(
        select(t.ReferenceDataset.data).where(t.ReferenceDataset.id == reference_id)
    )
    if data is None:
        raise NotFoundError(f"reference {reference_id} does not exist")
    return pd.read_parquet(io.BytesIO(data))
