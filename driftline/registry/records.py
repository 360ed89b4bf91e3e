"""What the registry returns: plain pydantic records, shared by the API and the CLI."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from driftline.core.modelspec import FeatureSpec, FeatureType, Task

__all__ = ["ModelRecord", "ReferenceRecord", "VersionRecord"]


class VersionRecord(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: str
    created_at: datetime


class ModelRecord(BaseModel):
    name: str
    task: Task
    features: list[FeatureSpec]
    prediction_type: FeatureType
    label_type: FeatureType
    description: str | None
    versions: list[VersionRecord]
    created_at: datetime
    updated_at: datetime


class ReferenceRecord(BaseModel):
    id: int
    model: str
    version: str
    content_hash: str
    source_format: str
    n_rows: int
    columns: list[str]
    current: bool
    created_at: datetime
