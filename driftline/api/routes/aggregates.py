"""A version's window aggregates: which reference's bins, rebuild progress, size."""

from __future__ import annotations

from fastapi import APIRouter

from driftline.aggregates.status import AggregateStatus, aggregate_status
from driftline.api.deps import DatabaseDep
from driftline.registry.models import find_version, load_model_row

router = APIRouter(tags=["detection"])


@router.get(
    "/v1/models/{name}/versions/{version}/aggregates",
    summary="The version's aggregates: the reference they bin by, rebuild progress, size",
)
def get_aggregates(name: str, version: str, database: DatabaseDep) -> AggregateStatus:
    with database.read() as session:
        model = load_model_row(session, name)
        version_row = find_version(session, model, version)
        return aggregate_status(session, model.name, version_row.version, version_row.id)
