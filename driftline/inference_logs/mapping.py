"""Which model a model server's payload logs belong to, and how its tensors become features.

A model has at most one mapping, stored in ``inference_log_mappings``. Without one, a server
whose name (``inferenceservicename``) is a registered model's name is that model, with the
defaults: positional values (V1 lists, a 2-D V2 tensor, Seldon ``ndarray`` rows) are the
model's features in registration order, named values (V1 objects, 1-D V2 tensors, Seldon
``names``) keep their names, and the first output holds the prediction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from driftline.core.errors import ConflictError, NotFoundError
from driftline.core.modelspec import FeatureName, VersionName
from driftline.core.storage import tables as t
from driftline.registry.models import load_model_row

__all__ = [
    "MappingRecord",
    "MappingSpec",
    "Resolved",
    "delete_mapping",
    "get_mapping",
    "put_mapping",
    "resolve",
]

ServiceName = str


class MappingSpec(BaseModel):
    """``PUT /v1/models/{name}/inference-logging``."""

    model_config = ConfigDict(extra="forbid")

    service: str = Field(
        min_length=1,
        max_length=253,
        description="The server's name: the KServe InferenceService or Seldon deployment "
        "(the CloudEvent's inferenceservicename).",
    )
    namespace: str = Field(
        "", max_length=253, description="Its Kubernetes namespace; empty matches any."
    )
    version: VersionName | None = Field(
        None, description="Model version the events are stored under; default: the latest."
    )
    features: list[FeatureName] | None = Field(
        None,
        description="Names of positional values in order (V1 lists, 2-D V2 tensors, Seldon "
        "ndarray rows); default: the model's features in registration order.",
    )
    inputs: dict[str, FeatureName | list[FeatureName]] | None = Field(
        None,
        description="Input name to feature name(s): V2 tensor names (a list for a 2-D "
        "tensor's columns) and keys of V1 object instances; unlisted names are kept.",
    )
    output: str | None = Field(
        None, description="V2 output tensor holding the prediction; default: the first."
    )
    prediction_key: str | None = Field(
        None, description="Key of the prediction when a V1 prediction is an object."
    )
    classes: list[str] | None = Field(
        None,
        description="Class names of a probability row (predict_proba): the prediction is the "
        "most probable class and the row becomes the score; default: 0, 1, 2, ...",
    )


class MappingRecord(MappingSpec):
    model: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Resolved:
    """What a server's logs need: the model, its feature order, and the mapping."""

    model: str
    feature_order: list[str]
    spec: MappingSpec


def _record(row: t.InferenceLogMapping, model: str) -> MappingRecord:
    return MappingRecord(
        model=model,
        created_at=row.created_at,
        updated_at=row.updated_at,
        **MappingSpec.model_validate(row.config).model_dump(),
    )


def put_mapping(session: Session, model: str, spec: MappingSpec) -> MappingRecord:
    """Create or replace the model's mapping; a server maps to one model only."""
    model_row = load_model_row(session, model)
    taken = session.scalar(
        select(t.InferenceLogMapping.model_id).where(
            t.InferenceLogMapping.service == spec.service,
            t.InferenceLogMapping.namespace == spec.namespace,
        )
    )
    if taken is not None and taken != model_row.id:
        raise ConflictError(
            f"server {spec.service!r} (namespace {spec.namespace or 'any'!r}) is already "
            "mapped to another model"
        )
    now = datetime.now(UTC)
    row = session.scalar(
        select(t.InferenceLogMapping).where(t.InferenceLogMapping.model_id == model_row.id)
    )
    config = spec.model_dump(mode="json")
    if row is None:
        row = t.InferenceLogMapping(model_id=model_row.id, created_at=now)
        session.add(row)
    row.service, row.namespace, row.config, row.updated_at = (
        spec.service,
        spec.namespace,
        config,
        now,
    )
    session.flush()
    return _record(row, model)


def get_mapping(session: Session, model: str) -> MappingRecord:
    model_row = load_model_row(session, model)
    row = session.scalar(
        select(t.InferenceLogMapping).where(t.InferenceLogMapping.model_id == model_row.id)
    )
    if row is None:
        raise NotFoundError(f"model {model!r} has no inference-logging mapping")
    return _record(row, model)


def delete_mapping(session: Session, model: str) -> None:
    model_row = load_model_row(session, model)
    row = session.scalar(
        select(t.InferenceLogMapping).where(t.InferenceLogMapping.model_id == model_row.id)
    )
    if row is None:
        raise NotFoundError(f"model {model!r} has no inference-logging mapping")
    session.delete(row)
    session.flush()


def resolve(session: Session, service: ServiceName, namespace: str) -> Resolved:
    """The model a server's logs go to: its mapping (this namespace first, then one for any
    namespace), else the model named like the server."""
    found = session.execute(
        select(t.InferenceLogMapping, t.Model)
        .join(t.Model, t.Model.id == t.InferenceLogMapping.model_id)
        .where(
            t.InferenceLogMapping.service == service,
            t.InferenceLogMapping.namespace.in_([namespace, ""]),
        )
        .order_by(t.InferenceLogMapping.namespace.desc())  # the exact namespace sorts first
    ).first()
    if found is not None:
        mapping, model = found
        return Resolved(
            model.name,
            [f["name"] for f in model.features],
            MappingSpec.model_validate(mapping.config),
        )
    model = session.scalar(select(t.Model).where(t.Model.name == service))
    if model is None:
        raise NotFoundError(
            f"no model for server {service!r} (namespace {namespace!r}): register a model of "
            "that name or map one with PUT /v1/models/{name}/inference-logging"
        )
    return Resolved(model.name, [f["name"] for f in model.features], MappingSpec(service=service))
