"""Model registry routes: ``/v1/models``."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Response, status
from pydantic import BaseModel

from alerting.rules import create_default_rules
from driftline.api.deps import DatabaseDep, SettingsDep
from driftline.core.modelspec import ModelSpec, ModelUpdate, VersionName
from driftline.registry import models as registry
from driftline.registry.records import ModelRecord, VersionRecord

router = APIRouter(prefix="/v1/models", tags=["models"])


class NewVersion(BaseModel):
    version: VersionName


@router.post("", status_code=status.HTTP_201_CREATED, summary="Register a model")
def create_model(spec: ModelSpec, database: DatabaseDep, settings: SettingsDep) -> ModelRecord:
    with database.write() as session:
        record = registry.create_model(session, spec)
        # Every model starts with the default alert rules (alerting.rules), in the same
        # transaction: a model is never monitored without them.
        model_id = registry.load_model_row(session, spec.name).id
        create_default_rules(
            session, model_id, spec.task.value, datetime.now(UTC), settings.alerting.no_data_minutes
        )
        return record


@router.get("", summary="List models")
def list_models(database: DatabaseDep) -> list[ModelRecord]:
    with database.read() as session:
        return registry.list_models(session)


@router.get("/{name}", summary="Get a model")
def get_model(name: str, database: DatabaseDep) -> ModelRecord:
    with database.read() as session:
        return registry.get_model(session, name)


@router.patch("/{name}", summary="Change a model's description or add features")
def update_model(name: str, update: ModelUpdate, database: DatabaseDep) -> ModelRecord:
    with database.write() as session:
        return registry.update_model(session, name, update)


@router.delete(
    "/{name}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a model (refused while it has data, unless force=true)",
)
def delete_model(name: str, database: DatabaseDep, force: bool = False) -> Response:
    with database.write() as session:
        registry.delete_model(session, name, force=force)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{name}/versions", summary="List a model's versions")
def list_versions(name: str, database: DatabaseDep) -> list[VersionRecord]:
    with database.read() as session:
        return registry.get_model(session, name).versions


@router.post("/{name}/versions", status_code=status.HTTP_201_CREATED, summary="Add a version")
def create_version(name: str, body: NewVersion, database: DatabaseDep) -> VersionRecord:
    with database.write() as session:
        return registry.create_version(session, name, body.version)
