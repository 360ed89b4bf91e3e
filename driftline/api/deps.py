"""FastAPI dependencies: the database and settings built in ``create_app``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from driftline.core.settings import Settings
from driftline.core.storage import Database

__all__ = ["DatabaseDep", "SettingsDep"]


def _database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


DatabaseDep = Annotated[Database, Depends(_database)]
SettingsDep = Annotated[Settings, Depends(_settings)]
