"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from driftline.api.deps import DatabaseDep
from driftline.core.errors import UnavailableError
from driftline.core.storage import check_at_head

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The database is reachable and migrated")
async def readyz(database: DatabaseDep) -> JSONResponse:
    def check() -> None:
        database.ping()
        check_at_head(database)

    try:
        await run_in_threadpool(check)
    except UnavailableError as exc:
        return JSONResponse({"status": "not ready", "reason": str(exc)}, status_code=503)
    return JSONResponse({"status": "ready"})
