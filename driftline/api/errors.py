"""The one place where Driftline's errors become HTTP responses."""

from __future__ import annotations

import logging
import math

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, OperationalError

from driftline.api.error_docs import document_errors
from driftline.core.errors import (
    AuthenticationError,
    ConflictError,
    DriftlineError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitedError,
    UnavailableError,
)

__all__ = ["install_error_handlers"]

log = logging.getLogger(__name__)

_STATUS: list[tuple[type[DriftlineError], int]] = [
    (AuthenticationError, 401),
    (ForbiddenError, 403),
    (NotFoundError, 404),
    (ConflictError, 409),
    (PayloadTooLargeError, 413),
    (InvalidInputError, 422),
    (RateLimitedError, 429),
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
    headers = {}
    if isinstance(exc, AuthenticationError):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, RateLimitedError):
        headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
    return JSONResponse(body, status_code=_status(exc), headers=headers)


async def _database_down(_request: Request, exc: Exception) -> JSONResponse:
    # A database outage is the service being unavailable, not a bug: 503 so clients retry.
    log.warning("database error: %s", exc)
    return JSONResponse(
        {"detail": "the database is unavailable; retry later"},
        status_code=503,
        headers={"Retry-After": "5"},
    )


async def _out_of_range(_request: Request, exc: Exception) -> JSONResponse:
    # A number or text the database cannot hold (an id past 64 bits, an over-long string) is
    # the client's input, not a bug. The driver's message is not echoed: it may quote the data.
    log.info("value out of range for the database: %s", type(exc).__name__)
    body = {
        "detail": "a value in the request is out of range",
        "problems": [{"field": "$", "reason": "a number or text is too large to be stored"}],
    }
    return JSONResponse(body, status_code=422)


def install_error_handlers(app: FastAPI) -> None:
    document_errors(app)
    app.add_exception_handler(OverflowError, _out_of_range)
    app.add_exception_handler(DataError, _out_of_range)
    app.add_exception_handler(DriftlineError, _driftline_error)
    app.add_exception_handler(OperationalError, _database_down)
