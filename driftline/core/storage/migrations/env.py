"""Alembic environment. Driftline passes an open connection (see ``migrate.py``); the
fallback reads ``DRIFTLINE_DATABASE__URL`` so ``alembic revision --autogenerate`` works too."""

from alembic import context
from sqlalchemy import Connection

from driftline.core.settings import load_settings
from driftline.core.storage.database import Database
from driftline.core.storage.schema_filter import include_object
from driftline.core.storage.tables import Base


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
        include_object=include_object(connection.dialect.name),
    )
    with context.begin_transaction():
        context.run_migrations()


_connection = context.config.attributes.get("connection")
if _connection is not None:
    _run(_connection)
else:
    _database = Database(load_settings().database)
    with _database.engine.begin() as _conn:
        _run(_conn)
    _database.dispose()
