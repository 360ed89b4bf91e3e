"""API keys in the database: create (shown once), list, revoke, authenticate, bootstrap.

Nothing here returns or logs a key's hash; the plaintext leaves only in :class:`CreatedKey`, the
answer to the request that made it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from driftline.access.keys import Scope, from_plaintext, generate, grants, matches, parse_prefix
from driftline.core.errors import NotFoundError
from driftline.core.modelspec import ModelName
from driftline.core.storage.tables import ApiKey

__all__ = [
    "CreatedKey",
    "KeyRecord",
    "KeySpec",
    "Principal",
    "authenticate",
    "bootstrap_admin",
    "create_key",
    "list_keys",
    "revoke_key",
    "touch",
]

KeyName = Annotated[str, StringConstraints(pattern=r"^[^\x00-\x1f\x7f]{1,100}$")]
# Compared against when the prefix is unknown, so both failures cost the same hash.
_DUMMY_HASH = "0" * 64


class KeySpec(BaseModel):
    """A key to create."""

    model_config = ConfigDict(extra="forbid")

    name: KeyName = Field(description="What the key is for, e.g. 'fraud model servers'.")
    scopes: list[Scope] = Field(min_length=1, max_length=3, description="admin includes all.")
    models: list[ModelName] | None = Field(
        None,
        min_length=1,
        max_length=1000,
        description="Ingest keys only: the models whose events and labels the key may write.",
    )

    @model_validator(mode="after")
    def _models_restrict_ingest_only(self) -> Self:
        if self.models is not None and (
            Scope.ADMIN in self.scopes or Scope.INGEST not in self.scopes
        ):
            raise ValueError("models restrict an ingest key: use them with ingest and not admin")
        return self


class KeyRecord(BaseModel):
    """A key as listed: never its hash or plaintext."""

    id: int
    name: str
    prefix: str = Field(description="Public part of the key (dl_<prefix>_...), to recognise it.")
    scopes: list[Scope]
    models: list[str] | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class CreatedKey(KeyRecord):
    key: str = Field(description="The key itself. Shown this once: only its hash is stored.")


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller behind an authenticated request."""

    key_id: int
    prefix: str
    scopes: frozenset[str]
    models: frozenset[str] | None

    def allows(self, scope: Scope) -> bool:
        return grants(self.scopes, scope)

    def may_write(self, model: str) -> bool:
        return self.models is None or model in self.models


def _record(row: ApiKey) -> KeyRecord:
    return KeyRecord(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        scopes=[Scope(s) for s in row.scopes],
        models=row.models,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


def create_key(session: Session, spec: KeySpec, *, plaintext: str | None = None) -> CreatedKey:
    """Store a new key (random unless ``plaintext`` is given) and return it, with its secret."""
    new = from_plaintext(plaintext) if plaintext is not None else generate()
    row = ApiKey(
        name=spec.name,
        prefix=new.prefix,
        key_hash=new.key_hash,
        scopes=sorted({s.value for s in spec.scopes}),
        models=sorted(set(spec.models)) if spec.models is not None else None,
        created_at=datetime.now(UTC),
    )
    session.add(row)
    session.flush()
    return CreatedKey(**_record(row).model_dump(), key=new.plaintext)


def list_keys(session: Session) -> list[KeyRecord]:
    return [_record(row) for row in session.scalars(select(ApiKey).order_by(ApiKey.id))]


def revoke_key(session: Session, key_id: int) -> KeyRecord:
    """Revoke a key for good (revoking again keeps the first time)."""
    row = session.get(ApiKey, key_id)
    if row is None:
        raise NotFoundError(f"no API key with id {key_id}")
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
    return _record(row)


def authenticate(session: Session, presented: str) -> Principal | None:
    """The active key ``presented`` is, or ``None``."""
    prefix = parse_prefix(presented)
    row = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix)) if prefix else None
    if not matches(presented, row.key_hash if row is not None else _DUMMY_HASH):
        return None
    assert row is not None  # the dummy hash matches no key
    if row.revoked_at is not None:
        return None
    models = frozenset(row.models) if row.models is not None else None
    return Principal(row.id, row.prefix, frozenset(row.scopes), models)


def touch(session: Session, key_id: int, resolution: timedelta) -> None:
    """Set last_used_at to now, unless it was set less than ``resolution`` ago.

    The condition is in the UPDATE, so replicas racing on one key write at most once each.
    """
    now = datetime.now(UTC)
    session.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id)
        .where((ApiKey.last_used_at.is_(None)) | (ApiKey.last_used_at < now - resolution))
        .values(last_used_at=now)
    )


def bootstrap_admin(session: Session, plaintext: str | None = None) -> CreatedKey | None:
    """On a database with no key at all, create an admin key (``plaintext`` or random).

    Replicas starting together must not each create one: PostgreSQL takes a table lock for
    the transaction; SQLite's write transactions are already serial (BEGIN IMMEDIATE).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE api_keys IN SHARE ROW EXCLUSIVE MODE"))
    if session.scalar(select(func.count()).select_from(ApiKey)):
        return None
    spec = KeySpec(name="bootstrap admin", scopes=[Scope.ADMIN])
    return create_key(session, spec, plaintext=plaintext)
