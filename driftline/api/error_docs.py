"""The error answers every operation can give, written into the OpenAPI schema.

FastAPI documents only the success answer and its own 422; clients (and the API fuzz test)
should also find the 401, 403, 404, 409, 413, 422, 429 and 503 answers that
:mod:`driftline.api.errors` produces, with their one body shape.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

__all__ = ["ERROR_SCHEMA", "document_errors"]

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {"type": "string"},
        "problems": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "reason"],
                "properties": {"field": {"type": "string"}, "reason": {"type": "string"}},
            },
        },
    },
}

_ERRORS = {
    "401": "No valid API key (send 'Authorization: Bearer <key>' or 'X-API-Key: <key>')",
    "403": "The API key lacks the scope, or may not write that model",
    "404": "Not found",
    "409": "Conflicts with the current state",
    "413": "Too large",
    "422": "Invalid input",
    "429": "Rate limited: retry after the Retry-After header's seconds",
    "503": "The database is unavailable: retry later",
}
_PUBLIC = {"/healthz", "/readyz"}
_ERROR_REF = {"$ref": "#/components/schemas/Error"}
_VALIDATION_REF = {"$ref": "#/components/schemas/HTTPValidationError"}


def _content(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _add_errors(path: str, operation: dict[str, Any], has_validation: bool) -> None:
    if path in _PUBLIC:
        operation["security"] = []  # the probes need no key
    responses = operation.setdefault("responses", {})
    for code, description in _ERRORS.items():
        if path in _PUBLIC and code != "503":
            continue
        if code == "422" and has_validation:
            # FastAPI's own request validation keeps its shape; ours names fields in "problems".
            schema: dict[str, Any] = {"anyOf": [_VALIDATION_REF, _ERROR_REF]}
        else:
            schema = _ERROR_REF
        responses[code] = {"description": description, "content": _content(schema)}


def document_errors(app: FastAPI) -> None:
    """Make ``app.openapi()`` list the error answers of every operation."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["Error"] = ERROR_SCHEMA
        has_validation = "HTTPValidationError" in components
        for path, operations in schema.get("paths", {}).items():
            for operation in operations.values():
                _add_errors(path, operation, has_validation)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
