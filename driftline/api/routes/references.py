"""Reference data routes: upload per model version, list, get."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from detectors.profile import build_profile
from driftline.api.body import limited
from driftline.api.deps import DatabaseDep, SettingsDep
from driftline.core.errors import FieldProblem, InvalidInputError
from driftline.core.modelspec import FeatureType
from driftline.core.settings import Settings
from driftline.registry import models as registry
from driftline.registry import references
from driftline.registry.records import ReferenceRecord
from driftline.registry.reference_parse import ReferenceLimits, detect_format, parse_reference

router = APIRouter(tags=["references"])

_UPLOAD_DOC = {
    "requestBody": {
        "description": "The reference data: a multipart form with a `file` field, or the file "
        "itself as the body (CSV, Parquet, or a JSON array of records).",
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
            "text/csv": {"schema": {"type": "string"}},
            "application/vnd.apache.parquet": {"schema": {"type": "string", "format": "binary"}},
            "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
        },
    }
}


async def _upload_bytes(
    request: Request, limit: int, settings: Settings
) -> tuple[bytes, str | None, str | None]:
    """(data, content type, file name) from a multipart form or a raw body."""
    capped = limited(request, limit)
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        caps = {
            "max_files": settings.auth.max_form_files,
            "max_fields": settings.auth.max_form_fields,
        }
        try:
            form = await capped.form(**caps)
        except HTTPException as exc:  # Starlette's 400 for a malformed or over-long form
            raise InvalidInputError(
                "the multipart form could not be read", [FieldProblem("$", str(exc.detail))]
            ) from None
        try:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise InvalidInputError(
                    "no file in the form",
                    [FieldProblem("file", "a file field named 'file' is required")],
                )
            return await upload.read(), upload.content_type, upload.filename
        finally:
            await form.close()
    return await capped.body(), ctype, None


@router.post(
    "/v1/models/{name}/versions/{version}/reference",
    status_code=status.HTTP_201_CREATED,
    summary="Upload the reference data of a model version (replaces the current one)",
    openapi_extra=_UPLOAD_DOC,
)
async def upload_reference(
    name: str,
    version: str,
    request: Request,
    database: DatabaseDep,
    settings: SettingsDep,
    format: Annotated[
        str | None, Query(description="csv, parquet or json; default: detected")
    ] = None,
    ignore_extra_columns: bool = False,
) -> ReferenceRecord:
    def schema() -> tuple[dict[str, FeatureType], FeatureType, FeatureType]:
        with database.read() as session:
            model = registry.get_model(session, name)
        return {f.name: f.type for f in model.features}, model.prediction_type, model.label_type

    features, prediction_type, label_type = await run_in_threadpool(schema)
    data, ctype, filename = await _upload_bytes(request, settings.reference.max_bytes, settings)
    fmt = detect_format(format, ctype, filename, data[:16])
    limits = ReferenceLimits(settings.reference.max_rows, settings.reference.max_columns)

    def parse_and_store() -> ReferenceRecord:
        frame = parse_reference(
            data,
            fmt,
            features=features,
            prediction_type=prediction_type,
            label_type=label_type,
            limits=limits,
            ignore_extra_columns=ignore_extra_columns,
        )
        # The profile is computed once here, so no detection run recomputes it.
        kinds = {feature: kind.value for feature, kind in features.items()}
        profile = build_profile(frame, kinds, prediction_type.value).to_bytes()
        with database.write() as session:
            return references.store_reference(session, name, version, frame, fmt, profile)

    return await run_in_threadpool(parse_and_store)


@router.get(
    "/v1/models/{name}/versions/{version}/references",
    summary="A version's references, newest (current) first",
)
def list_references(name: str, version: str, database: DatabaseDep) -> list[ReferenceRecord]:
    with database.read() as session:
        return references.list_references(session, name, version)


@router.get("/v1/references/{reference_id}", summary="One reference, current or replaced")
def get_reference(reference_id: int, database: DatabaseDep) -> ReferenceRecord:
    with database.read() as session:
        return references.get_reference(session, reference_id)
