"""Silences: mute the notifications of matching alerts until an expiry (alerts still change
state and stay visible in ``GET /v1/alerts``, marked silenced)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from driftline.core.errors import FieldProblem, InvalidInputError, NotFoundError
from driftline.core.storage import tables as t

__all__ = [
    "SilenceRecord",
    "SilenceSpec",
    "active_silences",
    "create_silence",
    "expire_silence",
    "is_silenced",
    "list_silences",
]

MatcherName = Literal["model", "version", "rule", "severity", "subject", "fingerprint"]


class SilenceSpec(BaseModel):
    """Alerts whose labels equal every matcher are silenced from now until ``ends_at``."""

    model_config = ConfigDict(extra="forbid")

    matchers: dict[MatcherName, str] = Field(min_length=1, examples=[{"model": "churn"}])
    comment: str = Field(min_length=1, max_length=2000)
    created_by: str = Field("api", max_length=128)
    ends_at: datetime | None = Field(None, description="Absolute expiry (with timezone).")
    duration_minutes: float | None = Field(None, gt=0, le=60 * 24 * 90)

    @model_validator(mode="after")
    def _expiry(self) -> SilenceSpec:
        if (self.ends_at is None) == (self.duration_minutes is None):
            raise ValueError("give exactly one of ends_at and duration_minutes")
        if self.ends_at is not None and self.ends_at.tzinfo is None:
            raise ValueError("ends_at needs a timezone, for example 2026-11-21T18:00:00Z")
        return self


class SilenceRecord(BaseModel):
    id: int
    matchers: dict[str, str]
    comment: str
    created_by: str
    starts_at: datetime
    ends_at: datetime
    active: bool


def _record(row: t.Silence, now: datetime) -> SilenceRecord:
    return SilenceRecord(
        id=row.id,
        matchers=row.matchers,
        comment=row.comment,
        created_by=row.created_by,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        active=row.starts_at <= now < row.ends_at,
    )


def create_silence(session: Session, spec: SilenceSpec, now: datetime) -> SilenceRecord:
    if spec.ends_at is not None:
        ends_at = spec.ends_at
    else:
        assert spec.duration_minutes is not None
        ends_at = now + timedelta(minutes=spec.duration_minutes)
    if ends_at <= now:
        raise InvalidInputError(
            "ends_at is in the past", [FieldProblem("ends_at", "must be in the future")]
        )
    row = t.Silence(
        matchers=dict(spec.matchers),
        comment=spec.comment,
        created_by=spec.created_by,
        starts_at=now,
        ends_at=ends_at,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return _record(row, now)


def list_silences(session: Session, now: datetime, *, include_expired: bool) -> list[SilenceRecord]:
    query = select(t.Silence).order_by(t.Silence.id.desc()).limit(500)
    if not include_expired:
        query = query.where(t.Silence.ends_at > now)
    return [_record(r, now) for r in session.scalars(query)]


def expire_silence(session: Session, silence_id: int, now: datetime) -> SilenceRecord:
    row = session.get(t.Silence, silence_id)
    if row is None:
        raise NotFoundError(f"silence {silence_id} does not exist")
    row.ends_at = min(row.ends_at, now)
    return _record(row, now)


def active_silences(session: Session, now: datetime) -> list[dict[str, str]]:
    query = select(t.Silence.matchers).where(t.Silence.starts_at <= now, t.Silence.ends_at > now)
    return list(session.scalars(query))


def is_silenced(labels: Mapping[str, str], silences: Iterable[Mapping[str, str]]) -> bool:
    """Whether any silence's matchers all equal the alert's labels.

    >>> is_silenced({"model": "churn", "rule": "no_data"}, [{"model": "churn"}])
    True
    >>> is_silenced({"model": "churn", "rule": "no_data"}, [{"model": "churn", "rule": "x"}])
    False
    """
    return any(all(labels.get(k) == v for k, v in s.items()) for s in silences)
