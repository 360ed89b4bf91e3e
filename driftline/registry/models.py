"""Registering, reading, changing and deleting models and their versions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from driftline.core.errors import ConflictError, FieldProblem, InvalidInputError, NotFoundError
from driftline.core.modelspec import FeatureSpec, FeatureType, ModelSpec, ModelUpdate, Task
from driftline.core.storage import tables as t
from driftline.core.storage.upsert import insert_ignore
from driftline.registry.records import ModelRecord, VersionRecord

__all__ = [
    "create_model",
    "create_version",
    "delete_model",
    "ensure_version",
    "find_version",
    "get_model",
    "list_models",
    "load_model_row",
    "update_model",
]


def load_model_row(session: Session, name: str) -> t.Model:
    row = session.scalar(select(t.Model).where(t.Model.name == name))
    if row is None:
        raise NotFoundError(f"model {name!r} is not registered")
    return row


def find_version(session: Session, model: t.Model, version: str | None) -> t.ModelVersion:
    """The model's version named ``version``; ``None`` means the latest registered one."""
    query = select(t.ModelVersion).where(t.ModelVersion.model_id == model.id)
    if version is None:
        found = session.scalar(query.order_by(t.ModelVersion.id.desc()).limit(1))
    else:
        found = session.scalar(query.where(t.ModelVersion.version == version))
    if found is None:
        raise NotFoundError(f"model {model.name!r} has no version {version!r}")
    return found


def _versions(session: Session, model_ids: Iterable[int]) -> dict[int, list[VersionRecord]]:
    rows = session.scalars(
        select(t.ModelVersion)
        .where(t.ModelVersion.model_id.in_(list(model_ids)))
        .order_by(t.ModelVersion.id)
    )
    out: dict[int, list[VersionRecord]] = {}
    for row in rows:
        out.setdefault(row.model_id, []).append(VersionRecord.model_validate(row))
    return out


def _record(row: t.Model, versions: list[VersionRecord]) -> ModelRecord:
    return ModelRecord(
        name=row.name,
        task=Task(row.task),
        features=[FeatureSpec.model_validate(f) for f in row.features],
        prediction_type=FeatureType(row.prediction_type),
        label_type=FeatureType(row.label_type),
        description=row.description,
        versions=versions,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def create_model(session: Session, spec: ModelSpec) -> ModelRecord:
    """Register a model with its first version."""
    if session.scalar(select(t.Model.id).where(t.Model.name == spec.name)) is not None:
        raise ConflictError(f"model {spec.name!r} is already registered")
    now = datetime.now(UTC)
    row = t.Model(
        name=spec.name,
        task=spec.task.value,
        features=[f.model_dump(mode="json") for f in spec.features],
        prediction_type=str(spec.prediction_type),
        label_type=str(spec.label_type),
        description=spec.description,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    session.add(t.ModelVersion(model_id=row.id, version=spec.version, created_at=now))
    session.flush()
    return get_model(session, spec.name)


def list_models(session: Session) -> list[ModelRecord]:
    rows = list(session.scalars(select(t.Model).order_by(t.Model.name)))
    versions = _versions(session, (r.id for r in rows))
    return [_record(r, versions.get(r.id, [])) for r in rows]


def get_model(session: Session, name: str) -> ModelRecord:
    row = load_model_row(session, name)
    return _record(row, _versions(session, [row.id]).get(row.id, []))


def update_model(session: Session, name: str, update: ModelUpdate) -> ModelRecord:
    """Change the description, add features or re-describe them; never change a type."""
    row = load_model_row(session, name)
    if update.description is not None:
        row.description = update.description
    if update.features is not None:
        old = {f["name"]: f["type"] for f in row.features}
        new = {f.name: f.type.value for f in update.features}
        problems = [
            FieldProblem(f"features.{n}", "cannot be removed: events may hold it")
            for n in old
            if n not in new
        ] + [
            FieldProblem(f"features.{n}", f"cannot change type from {old[n]} to {new[n]}")
            for n in old
            if n in new and new[n] != old[n]
        ]
        if problems:
            raise InvalidInputError("the feature schema change would break stored data", problems)
        row.features = [f.model_dump(mode="json") for f in update.features]
    row.updated_at = datetime.now(UTC)
    session.flush()
    return get_model(session, name)


def delete_model(session: Session, name: str, *, force: bool = False) -> None:
    """Delete a model; refused while it has events, labels or references unless ``force``."""
    row = load_model_row(session, name)
    if not force:
        counts = {
            "events": session.scalar(
                select(func.count()).where(t.PredictionEvent.model_id == row.id)
            ),
            "labels": session.scalar(select(func.count()).where(t.Label.model_id == row.id)),
            "references": session.scalar(
                select(func.count())
                .select_from(t.ReferenceDataset)
                .join(t.ModelVersion, t.ModelVersion.id == t.ReferenceDataset.version_id)
                .where(t.ModelVersion.model_id == row.id)
            ),
        }
        held = ", ".join(f"{n} {what}" for what, n in counts.items() if n)
        if held:
            raise ConflictError(
                f"model {name!r} still has {held}; delete with force=true to remove them too"
            )
    # prediction_events has no foreign keys (they cost as much as the insert): its rows, and
    # on PostgreSQL their ids, go here instead of by ON DELETE CASCADE. Locking the versions
    # first waits for ingests in flight (ensure_version holds KEY SHARE on them), so their rows
    # are committed and deleted here, and later ones find no version.
    session.execute(
        select(t.ModelVersion.id).where(t.ModelVersion.model_id == row.id).with_for_update()
    )
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            delete(t.EventId).where(
                t.EventId.event_id.in_(
                    select(t.PredictionEvent.event_id).where(t.PredictionEvent.model_id == row.id)
                )
            ),
            execution_options={"synchronize_session": False},
        )
    session.execute(
        delete(t.PredictionEvent).where(t.PredictionEvent.model_id == row.id),
        execution_options={"synchronize_session": False},
    )
    session.delete(row)
    session.flush()


def create_version(session: Session, name: str, version: str) -> VersionRecord:
    row = load_model_row(session, name)
    exists = session.scalar(
        select(t.ModelVersion.id).where(
            t.ModelVersion.model_id == row.id, t.ModelVersion.version == version
        )
    )
    if exists is not None:
        raise ConflictError(f"model {name!r} already has version {version!r}")
    created = t.ModelVersion(model_id=row.id, version=version, created_at=datetime.now(UTC))
    session.add(created)
    session.flush()
    return VersionRecord.model_validate(created)


def ensure_version(session: Session, model_id: int, version: str | None) -> int:
    """The id of ``version`` of the model, created if new; ``None`` means the latest version.

    Events may name a version that was never registered (a deploy ran ahead of the registry);
    it is created rather than rejecting traffic. Safe against concurrent writers.
    """
    # KEY SHARE, held until the ingest commits: prediction_events has no foreign key to the
    # version any more, and this lock is what makes delete_model wait for the ingest's rows.
    query = (
        select(t.ModelVersion.id)
        .where(t.ModelVersion.model_id == model_id)
        .with_for_update(key_share=True)
    )
    if version is None:
        found = session.scalar(query.order_by(t.ModelVersion.id.desc()).limit(1))
        if found is not None:
            return found
        version = "1"
    found = session.scalar(query.where(t.ModelVersion.version == version))
    if found is not None:
        return found
    session.execute(
        insert_ignore(session, t.ModelVersion, ["model_id", "version"]),
        [{"model_id": model_id, "version": version, "created_at": datetime.now(UTC)}],
    )
    found = session.scalar(query.where(t.ModelVersion.version == version))
    assert found is not None
    return found
