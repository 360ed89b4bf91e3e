"""Webhook endpoint routes: ``/v1/webhooks`` (admin scope; the logic is in alerting.webhooks)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response, status

from alerting.webhooks import deliveries, endpoints
from alerting.webhooks.records import (
    CreatedEndpoint,
    DeliveryRecord,
    EndpointRecord,
    EndpointSpec,
    EndpointUpdate,
    RotatedSecret,
)
from alerting.webhooks.secrets import SecretBox, load_box
from driftline.api.auth import require_scope
from driftline.api.deps import DatabaseDep, SettingsDep

router = APIRouter(
    prefix="/v1/webhooks", tags=["webhooks"], dependencies=[Depends(require_scope("admin"))]
)


def _box(settings: SettingsDep) -> SecretBox:
    return load_box(settings)


BoxDep = Annotated[SecretBox, Depends(_box)]
DeliveryStatus = Literal["pending", "delivered", "failed", "suppressed"]


def _now() -> datetime:
    return datetime.now(UTC)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create an endpoint (the answer holds the signing secret; it is not shown again)",
)
def create_endpoint(
    spec: EndpointSpec, database: DatabaseDep, settings: SettingsDep, box: BoxDep
) -> CreatedEndpoint:
    with database.write() as session:
        return endpoints.create_endpoint(
            session, spec, box=box, allowed_hosts=settings.webhooks.allowed_hosts, now=_now()
        )


@router.get("", summary="List endpoints (never their secrets or header values)")
def list_endpoints(database: DatabaseDep, box: BoxDep) -> list[EndpointRecord]:
    with database.read() as session:
        return endpoints.list_endpoints(session, box=box)


@router.get("/{endpoint_id}", summary="Get an endpoint")
def get_endpoint(endpoint_id: int, database: DatabaseDep, box: BoxDep) -> EndpointRecord:
    with database.read() as session:
        return endpoints.get_endpoint(session, endpoint_id, box=box)


@router.patch("/{endpoint_id}", summary="Change, enable or disable an endpoint")
def update_endpoint(
    endpoint_id: int,
    update: EndpointUpdate,
    database: DatabaseDep,
    settings: SettingsDep,
    box: BoxDep,
) -> EndpointRecord:
    with database.write() as session:
        return endpoints.update_endpoint(
            session,
            endpoint_id,
            update,
            box=box,
            allowed_hosts=settings.webhooks.allowed_hosts,
            now=_now(),
        )


@router.delete(
    "/{endpoint_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an endpoint with its deliveries",
)
def delete_endpoint(endpoint_id: int, database: DatabaseDep) -> Response:
    with database.write() as session:
        endpoints.delete_endpoint(session, endpoint_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{endpoint_id}/rotate-secret",
    summary="Replace the signing secret (the answer holds the new one; it is not shown again)",
)
def rotate_secret(endpoint_id: int, database: DatabaseDep, box: BoxDep) -> RotatedSecret:
    with database.write() as session:
        return endpoints.rotate_secret(session, endpoint_id, box=box, now=_now())


@router.post(
    "/{endpoint_id}/test",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Queue a test message for the endpoint",
)
def send_test(endpoint_id: int, database: DatabaseDep) -> DeliveryRecord:
    with database.write() as session:
        return deliveries.send_test(session, endpoint_id, now=_now())


@router.get("/{endpoint_id}/deliveries", summary="Deliveries, newest first, with every attempt")
def list_deliveries(
    endpoint_id: int,
    database: DatabaseDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before: Annotated[int | None, Query(description="A delivery id: older ones.")] = None,
    state: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
) -> list[DeliveryRecord]:
    with database.read() as session:
        return deliveries.list_deliveries(
            session, endpoint_id, limit=limit, before=before, status=state
        )


@router.post(
    "/{endpoint_id}/deliveries/{delivery_id}/redeliver",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send a delivery again, with the same webhook-id and a new retry schedule",
)
def redeliver(endpoint_id: int, delivery_id: int, database: DatabaseDep) -> DeliveryRecord:
    with database.write() as session:
        return deliveries.redeliver(session, endpoint_id, delivery_id, now=_now())
