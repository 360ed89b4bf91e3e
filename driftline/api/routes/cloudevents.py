"""Payload logs of KServe and Seldon as CloudEvents: ``POST /v1/ingest/cloudevents``, and the
per-model mapping at ``/v1/models/{name}/inference-logging``."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from driftline.api.auth import Principal, require_scope
from driftline.api.body import read_body
from driftline.api.deps import DatabaseDep, SettingsDep
from driftline.core.errors import DriftlineError
from driftline.inference_logs.cloudevent import parse_http
from driftline.inference_logs.mapping import (
    MappingRecord,
    MappingSpec,
    delete_mapping,
    get_mapping,
    put_mapping,
)
from driftline.inference_logs.receive import HalfResult, prune_expired, receive

router = APIRouter(tags=["integrations"])

IngestKey = Annotated[Principal, Depends(require_scope("ingest"))]
PRUNE_EVERY_S = 60.0


class CloudEventsReport(BaseModel):
    results: list[HalfResult]


@router.post(
    "/v1/ingest/cloudevents",
    summary="Ingest KServe / Seldon payload logs (CloudEvents, binary or structured mode)",
    description="Point an InferenceService's logger (mode: all) here. The request and the "
    "response are paired by their id, whichever comes first, and stored as prediction events "
    "of the server's model (see PUT /v1/models/{name}/inference-logging).",
)
async def post_cloudevents(
    request: Request, principal: IngestKey, database: DatabaseDep, settings: SettingsDep
) -> CloudEventsReport:
    body = await read_body(request, settings.cloudevents.max_body_bytes)
    events = parse_http(request.headers, body)
    state = request.app.state
    # Pruning is cheap but needs the write lock: once a minute per process is plenty.
    if time.monotonic() - getattr(state, "cloudevents_pruned_at", -PRUNE_EVERY_S) >= PRUNE_EVERY_S:
        state.cloudevents_pruned_at = time.monotonic()
        await run_in_threadpool(prune_expired, database, settings.cloudevents.pending_ttl_s)
    if len(events) == 1:  # binary mode: a bad event is this request's error
        return CloudEventsReport(
            results=[await run_in_threadpool(receive, database, events[0], principal.may_write)]
        )
    results = []
    for event in events:  # a batch: one bad event costs only itself
        try:
            results.append(await run_in_threadpool(receive, database, event, principal.may_write))
        except DriftlineError as exc:
            results.append(
                HalfResult(id=event.id, type=event.type, status="failed", reason=str(exc))
            )
    return CloudEventsReport(results=results)


@router.get(
    "/v1/models/{name}/inference-logging",
    summary="The model's mapping from a model server's payload logs to its features",
)
def get_inference_logging(name: str, database: DatabaseDep) -> MappingRecord:
    with database.read() as session:
        return get_mapping(session, name)


@router.put(
    "/v1/models/{name}/inference-logging",
    summary="Map a KServe / Seldon server's payload logs to this model (create or replace)",
)
def put_inference_logging(name: str, spec: MappingSpec, database: DatabaseDep) -> MappingRecord:
    with database.write() as session:
        return put_mapping(session, name, spec)


@router.delete(
    "/v1/models/{name}/inference-logging",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove the model's payload-log mapping",
)
def delete_inference_logging(name: str, database: DatabaseDep) -> Response:
    with database.write() as session:
        delete_mapping(session, name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
