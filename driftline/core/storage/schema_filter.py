"""What Alembic's schema comparison should look at on each backend.

The two backends differ on purpose around ``prediction_events``: PostgreSQL partitions it by day
(``partitions``), keeps its ids unique in ``event_ids`` and has a plain index on ``event_id``;
SQLite keeps a unique constraint on ``event_id``. The ORM marks such objects with
``info={"dialects": (...)}``; the day partitions are left out entirely (they come and go).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from driftline.core.storage.partitions import is_partition

__all__ = ["include_object"]

Filter = Callable[[Any, str | None, str, bool, Any], bool]


def include_object(dialect: str) -> Filter:
    """An ``include_object`` hook for ``context.configure`` / ``compare_metadata``."""

    def include(obj: Any, name: str | None, kind: str, reflected: bool, compare_to: Any) -> bool:
        if kind == "table" and reflected and name is not None and is_partition(name):
            return False
        declared = compare_to if reflected else obj  # the ORM's side, when there is one
        dialects = getattr(declared, "info", {}).get("dialects") if declared is not None else None
        return dialects is None or dialect in dialects

    return include
