"""Storage: SQLAlchemy tables, the database handle and migrations."""

from driftline.core.storage.database import Database
from driftline.core.storage.migrate import check_at_head, downgrade, upgrade

__all__ = ["Database", "check_at_head", "downgrade", "upgrade"]
