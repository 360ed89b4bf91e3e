"""Idempotent inserts, spelled the way each backend wants them."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

__all__ = ["insert_ignore", "upsert"]


def insert_ignore(session: Session, table: Any, conflict_columns: list[str]) -> Any:
    """``INSERT ... ON CONFLICT (cols) DO NOTHING`` for PostgreSQL and SQLite.

    Naming the conflict columns (rather than SQLite's blanket ``INSERT OR IGNORE``) means only a
    duplicate key is skipped; any other constraint failure still raises.
    """
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table).on_conflict_do_nothing(index_elements=conflict_columns)


def upsert(session: Session, table: Any, conflict_columns: list[str], update: list[str]) -> Any:
    """``INSERT ... ON CONFLICT (cols) DO UPDATE SET col = excluded.col`` for ``update``."""
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(table)
    return statement.on_conflict_do_update(
        index_elements=conflict_columns,
        set_={name: statement.excluded[name] for name in update},
    )
