"""Detection routes: run now, drift history, one run, and the monitor config."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field, field_validator

from detectors import monitors, runs
from detectors.config import MonitorConfig
from detectors.records import RunRecord
from detectors.report import run_report
from driftline.api.deps import DatabaseDep, SettingsDep
from driftline.core.errors import FieldProblem, InvalidInputError

router = APIRouter(tags=["detection"])


class DetectRequest(BaseModel):
    version: str | None = Field(None, description="Default: the model's latest version.")
    window_end: datetime | None = Field(None, description="Default: now.")
    window_minutes: int | None = Field(
        None, ge=1, le=60 * 24 * 400, description="Default: the monitor's window (60)."
    )
    window_start: datetime | None = Field(
        None, description="Instead of window_minutes: the window is [window_start, window_end)."
    )
    path: Literal["auto", "raw", "aggregates"] = Field(
        "auto",
        description="raw events (exact), the window aggregates (cost independent of traffic), "
        "or auto: aggregates for large or old windows (see docs/architecture.md).",
    )

    @field_validator("window_end", "window_start")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        """A time without a timezone is taken as UTC (what the events' times are in)."""
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


class DriftHistory(BaseModel):
    latest: RunRecord | None
    history: list[RunRecord]


@router.post(
    "/v1/models/{name}/detect",
    status_code=status.HTTP_201_CREATED,
    summary="Run drift detection now on the latest window",
)
def detect_now(
    name: str,
    database: DatabaseDep,
    settings: SettingsDep,
    request: Annotated[DetectRequest | None, Body()] = None,
) -> RunRecord:
    request = request or DetectRequest()
    window = timedelta(minutes=request.window_minutes) if request.window_minutes else None
    if request.window_start is not None:
        end = request.window_end or datetime.now(UTC)
        if request.window_minutes is not None or request.window_start >= end:
            raise InvalidInputError(
                "window_start needs to be before window_end, and excludes window_minutes",
                [FieldProblem("window_start", "must be before window_end (default: now)")],
            )
        window = end - request.window_start
        request.window_end = end
    return runs.run_detection(
        database,
        name,
        version=request.version,
        window_end=request.window_end,
        window=window,
        path=request.path,
        aggregates=settings.aggregates,
    )


@router.get("/v1/models/{name}/drift", summary="Latest drift result and history, newest first")
def drift(
    name: str,
    database: DatabaseDep,
    version: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
    drifted_only: bool = False,
) -> DriftHistory:
    with database.read() as session:
        history = runs.list_runs(
            session, name, version=version, limit=limit, drifted_only=drifted_only
        )
    return DriftHistory(latest=history[0] if history else None, history=history)


@router.get("/v1/runs/{run_id}", summary="One detection run with its per-feature results")
def get_run(run_id: int, database: DatabaseDep) -> RunRecord:
    with database.read() as session:
        return runs.get_run(session, run_id)


@router.get(
    "/v1/runs/{run_id}/report",
    summary="The run's Evidently HTML report (self-contained; rendered once, then cached)",
    response_class=HTMLResponse,
)
async def get_report(run_id: int, database: DatabaseDep) -> HTMLResponse:
    html = await run_in_threadpool(run_report, database, run_id)
    return HTMLResponse(html)


@router.get("/v1/models/{name}/versions/{version}/monitor", summary="The monitor config")
def get_monitor(name: str, version: str, database: DatabaseDep) -> MonitorConfig:
    with database.read() as session:
        return monitors.version_config(session, name, version)


@router.put(
    "/v1/models/{name}/versions/{version}/monitor",
    summary="Set thresholds, methods, window and interval (per feature too)",
)
def put_monitor(
    name: str, version: str, config: MonitorConfig, database: DatabaseDep
) -> MonitorConfig:
    with database.write() as session:
        return monitors.set_monitor_config(session, name, version, config)
