"""API key management for admins: ``/v1/keys``."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status

from driftline.access import keystore
from driftline.access.keystore import CreatedKey, KeyRecord, KeySpec
from driftline.api.auth import require_scope
from driftline.api.deps import DatabaseDep

router = APIRouter(prefix="/v1/keys", tags=["keys"], dependencies=[Depends(require_scope("admin"))])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create an API key (the answer holds the key; it is not shown again)",
)
def create_key(spec: KeySpec, database: DatabaseDep) -> CreatedKey:
    with database.write() as session:
        return keystore.create_key(session, spec)


@router.get("", summary="List API keys (prefix, scopes, last use; never the keys)")
def list_keys(database: DatabaseDep) -> list[KeyRecord]:
    with database.read() as session:
        return keystore.list_keys(session)


@router.delete("/{key_id}", summary="Revoke an API key (effective at once, on every replica)")
def revoke_key(key_id: int, database: DatabaseDep) -> KeyRecord:
    with database.write() as session:
        return keystore.revoke_key(session, key_id)
