"""``driftline import mlflow``: register an MLflow model version and its training data.

The model is created on first import (with its default alert rules, as ``POST /v1/models``
does); a later version adds its new features to the schema (a feature may never change type)
and becomes a new Driftline version of the same name. The training data, checked like an
upload, becomes that version's reference; the MLflow version is linked so detection results
can be written back to it as tags.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.rules import create_default_rules
from detectors.profile import build_profile
from driftline.core.errors import FieldProblem, InvalidInputError
from driftline.core.modelspec import FeatureSpec, FeatureType, ModelSpec, ModelUpdate, Task
from driftline.core.settings import Settings
from driftline.core.storage import Database
from driftline.core.storage import tables as t
from driftline.mlflow_registry.schema import features_from_signature, task_from_signature
from driftline.mlflow_registry.source import MlflowVersion
from driftline.registry import models as registry
from driftline.registry.records import ReferenceRecord
from driftline.registry.reference_parse import ReferenceLimits, parse_reference
from driftline.registry.references import store_reference

__all__ = ["ImportResult", "import_version"]

LABEL_NAMES = ("label", "target", "y")


@dataclass(frozen=True)
class ImportResult:
    model: str
    version: str
    task: str
    features: list[str]
    created_model: bool
    reference: ReferenceRecord | None
    training_source: str | None
    label_column: str | None


def _label_column(
    frame: pd.DataFrame | None, features: list[FeatureSpec], given: str | None
) -> str | None:
    if frame is None:
        return None
    if given is not None:
        if given not in frame.columns:
            raise InvalidInputError(
                "the label column is not in the training data",
                [
                    FieldProblem(
                        "label_column", f"{given!r} is not one of {list(frame.columns)[:20]}"
                    )
                ],
            )
        return given
    names = {f.name for f in features}
    rest = [str(c) for c in frame.columns if c not in names and str(c).lower() in LABEL_NAMES]
    return rest[0] if len(rest) == 1 else None


def _reference(
    frame: pd.DataFrame, spec: ModelSpec, label: str | None, settings: Settings
) -> tuple[pd.DataFrame, bytes]:
    """The training data checked like an upload, and its profile."""
    columns = [f.name for f in spec.features]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidInputError(
            "the training data lacks features of the signature",
            [FieldProblem(name, "missing from the training data") for name in missing],
        )
    table = frame[columns + ([label] if label else [])].rename(
        columns={label: "label"} if label else {}
    )
    buffer = io.BytesIO()
    table.to_parquet(buffer, index=False)
    limits = ReferenceLimits(settings.reference.max_rows, settings.reference.max_columns)
    assert spec.prediction_type is not None and spec.label_type is not None
    kinds = {f.name: f.type for f in spec.features}
    checked = parse_reference(
        buffer.getvalue(),
        "parquet",
        features=kinds,
        prediction_type=spec.prediction_type,
        label_type=spec.label_type,
        limits=limits,
    )
    profile = build_profile(
        checked, {k: v.value for k, v in kinds.items()}, spec.prediction_type.value
    )
    return checked, profile.to_bytes()


def _merged(old: Iterable[dict[str, object]], new: list[FeatureSpec]) -> list[FeatureSpec]:
    """The existing schema plus the new version's features (``update_model`` refuses type
    changes and removals, with the reason)."""
    kept = [FeatureSpec.model_validate(f) for f in old]
    known = {f.name for f in kept}
    return kept + [f for f in new if f.name not in known]


def _register(session: Session, spec: ModelSpec, found: MlflowVersion) -> bool:
    exists = session.scalar(select(t.Model.id).where(t.Model.name == spec.name)) is not None
    if not exists:
        registry.create_model(session, spec)
        model_id = registry.load_model_row(session, spec.name).id
        create_default_rules(session, model_id, spec.task.value, datetime.now(UTC))
    else:
        row = registry.load_model_row(session, spec.name)
        registry.update_model(
            session, spec.name, ModelUpdate(features=_merged(row.features, spec.features))
        )
        if (
            session.scalar(
                select(t.ModelVersion.id).where(
                    t.ModelVersion.model_id == row.id, t.ModelVersion.version == spec.version
                )
            )
            is None
        ):
            registry.create_version(session, spec.name, spec.version)
    model = registry.load_model_row(session, spec.name)
    version = registry.find_version(session, model, spec.version)
    link = session.get(t.MlflowLink, version.id) or t.MlflowLink(
        version_id=version.id, created_at=datetime.now(UTC)
    )
    link.registered_model, link.mlflow_version = found.registered_model, found.version
    link.tracking_uri, link.run_id = found.tracking_uri, found.run_id
    session.add(link)
    return not exists


def import_version(
    database: Database,
    settings: Settings,
    found: MlflowVersion,
    *,
    name: str | None = None,
    task: Task | None = None,
    key_features: Iterable[str] = (),
    label_column: str | None = None,
) -> ImportResult:
    features = features_from_signature(found.inputs, set(key_features))
    label = _label_column(found.training, features, label_column)
    label_values = (
        int(found.training[label].nunique()) if label and found.training is not None else None
    )
    chosen = task or task_from_signature(found.outputs, label_values)
    model_name = name or found.registered_model
    with database.read() as session:
        existing = session.scalar(select(t.Model).where(t.Model.name == model_name))
        if existing is not None:  # the registered types win over the signature's guess
            chosen = Task(existing.task)
    spec = ModelSpec(
        name=model_name,
        task=chosen,
        features=features,
        version=found.version,
        prediction_type=FeatureType(existing.prediction_type) if existing else None,
        label_type=FeatureType(existing.label_type) if existing else None,
        description=f"Imported from MLflow: models:/{found.registered_model}/{found.version}",
    )
    checked = None
    if found.training is not None:  # checked before anything is stored
        checked = _reference(found.training, spec, label, settings)
    with database.write() as session:
        created = _register(session, spec, found)
        reference = None
        if checked is not None:
            frame, profile = checked
            reference = store_reference(session, spec.name, spec.version, frame, "mlflow", profile)
    return ImportResult(
        model=spec.name,
        version=spec.version,
        task=chosen.value,
        features=[f.name for f in features],
        created_model=created,
        reference=reference,
        training_source=found.training_source,
        label_column=label,
    )
