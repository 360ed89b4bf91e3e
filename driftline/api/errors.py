"""The one place where Driftline's errors become HTTP responses."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError

from driftline.core.errors import (
    ConflictError,
    DriftlineError,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
    UnavailableError,
)

__all__ = ["install_error_handlers"]

log = logging.getLogger(__name__)

_STATUS: list[tuple[type[DriftlineError], int]] = [
    (NotFoundError, 404),
    (ConflictError, 409),
    (PayloadTooLargeError, 413),
    (InvalidInputError, 422),
    (UnavailableError, 503),
]


def _status(exc: DriftlineError) -> int:
    for kind, status in _STATUS:
        if isinstance(exc, kind):
            return status
    return 500


async def _driftline_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DriftlineError)
    body: dict[str, object] = {"detail": str(exc)}
    if isinstance(exc, InvalidInputError) and exc.problems:
        body["problems"] = [{"field": p.field, "reason": p.reason} for p in exc.problems]
    return JSONResponse(body, status_code=_status(exc))


async def _database_down(_request: Request, exc: Exception) -> JSONResponse:
    # A database outage is the service being unavailable, not a bug: 503 so clients retry.
    log.warning("database error: %s", exc)
    return JSONResponse(
        {"detail": "the database is unavailable; retry later"},
        status_code=503,
        headers={"Retry-After": "5"},
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DriftlineError, _driftline_error)
    app.add_exception_handler(OperationalError, _database_down)
