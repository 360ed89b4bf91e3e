"""Alembic migrations run from code: ``driftline db upgrade`` and the start-up check."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from driftline.core.errors import SchemaNotCurrentError
from driftline.core.storage.database import Database

__all__ = ["check_at_head", "current_revision", "downgrade", "head_revision", "upgrade"]

SCRIPT_LOCATION = "driftline.core.storage:migrations"


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision this code knows."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "no migrations found"
    return head


def current_revision(database: Database) -> str | None:
    """The revision the database is at, ``None`` for an empty database."""
    with database.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(database: Database, revision: str = "head") -> None:
    """Apply migrations up to ``revision``."""
    with database.engine.begin() as conn:
        command.upgrade(_config(conn), revision)


def downgrade(database: Database, revision: str) -> None:
    """Revert migrations down to ``revision`` (``"base"`` removes every table)."""
    with database.engine.begin() as conn:
        command.downgrade(_config(conn), revision)


def check_at_head(database: Database) -> None:
    """Raise :class:`SchemaNotCurrentError` unless the schema is at the head revision."""
    current, head = current_revision(database), head_revision()
    if current != head:
        where = "empty" if current is None else f"at revision {current}"
        raise SchemaNotCurrentError(
            f"the database ({database.url.render_as_string(hide_password=True)}) is {where}, "
            f"this Driftline needs revision {head}; run `driftline db upgrade`"
        )
