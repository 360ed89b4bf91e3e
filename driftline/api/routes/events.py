"""Ingest and read-back routes: ``POST /v1/events``, ``POST /v1/labels``, events of a model."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool

from driftline.api.auth import Principal, check_models, require_scope
from driftline.api.body import read_body
from driftline.api.deps import DatabaseDep, SettingsDep
from driftline.core.contract import event_json_schema
from driftline.ingest.batch import IngestReport, decode_batch, ingest_batch
from driftline.ingest.query import EventPage, list_events

router = APIRouter(tags=["events"])

IngestKey = Annotated[Principal, Depends(require_scope("ingest"))]


def _batch_doc(key: str, kind: str) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "description": f'{{"{key}": [...]}} or a JSON array of {kind} events (contract v1, '
            "see /v1/schema/events)",
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {key: {"type": "array", "items": {"type": "object"}}},
                        "required": [key],
                    }
                }
            },
        }
    }


async def _ingest(
    request: Request,
    principal: Principal,
    database: Any,
    settings: Any,
    key: str,
    kind: Literal["prediction", "label"],
) -> IngestReport:
    body = await read_body(request, settings.ingest.max_request_bytes)
    items = decode_batch(body, key, settings.ingest.max_batch_events)
    if principal.models is not None:  # all or nothing: one foreign model refuses the batch
        check_models(principal, (item.get("model") for item in items if isinstance(item, dict)))
    report: IngestReport = await run_in_threadpool(ingest_batch, database, items, kind)
    return report


@router.post(
    "/v1/events",
    summary="Ingest a batch of prediction events",
    description="Each event is validated on its own: valid events are stored even when others in "
    "the batch are rejected. Re-sent event ids are counted as duplicates and stored once.",
    openapi_extra=_batch_doc("events", "prediction"),
)
async def post_events(
    request: Request, principal: IngestKey, database: DatabaseDep, settings: SettingsDep
) -> IngestReport:
    return await _ingest(request, principal, database, settings, "events", "prediction")


@router.post(
    "/v1/labels",
    summary="Ingest a batch of labels (joined to predictions by event_id)",
    openapi_extra=_batch_doc("labels", "label"),
)
async def post_labels(
    request: Request, principal: IngestKey, database: DatabaseDep, settings: SettingsDep
) -> IngestReport:
    return await _ingest(request, principal, database, settings, "labels", "label")


@router.get("/v1/models/{name}/events", summary="Recent events of a model, newest first")
def get_events(
    name: str,
    database: DatabaseDep,
    version: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before: Annotated[int | None, Query(description="next_cursor of the previous page")] = None,
) -> EventPage:
    with database.read() as session:
        return list_events(session, name, version=version, limit=limit, before=before)


@router.get("/v1/schema/events", summary="JSON Schema of event contract v1")
def get_event_schema() -> dict[str, Any]:
    return event_json_schema()
