"""Monitor configs per model version: stored as JSON, defaults when none is stored."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from detectors.config import MonitorConfig
from driftline.core.storage import tables as t
from driftline.registry.models import find_version, load_model_row

__all__ = ["monitor_config", "set_monitor_config", "version_config"]


def monitor_config(session: Session, version_id: int) -> MonitorConfig:
    stored = session.scalar(
        select(t.MonitorSettings.config).where(t.MonitorSettings.version_id == version_id)
    )
    return MonitorConfig.model_validate(stored) if stored else MonitorConfig()


def set_monitor_config(
    session: Session, model_name: str, version: str, config: MonitorConfig
) -> MonitorConfig:
    model = load_model_row(session, model_name)
    version_row = find_version(session, model, version)
    row = session.scalar(
        select(t.MonitorSettings).where(t.MonitorSettings.version_id == version_row.id)
    )
    stored = config.model_dump(mode="json")
    if row is None:
        session.add(
            t.MonitorSettings(
                version_id=version_row.id, config=stored, updated_at=datetime.now(UTC)
            )
        )
    else:
        row.config, row.updated_at = stored, datetime.now(UTC)
    return config


def version_config(session: Session, model_name: str, version: str) -> MonitorConfig:
    model = load_model_row(session, model_name)
    return monitor_config(session, find_version(session, model, version).id)
