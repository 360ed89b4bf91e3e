"""prediction_events' JSON columns as json text on PostgreSQL (were jsonb)

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-22 03:00:00

Raw events are written at the collector's rate, always read whole and never queried inside, so
parsing them into JSONB bought nothing and was a third of the server's CPU per stored event
(20 features: 12.8 -> 5.4 us per row). PostgreSQL rewrites the table (and each partition) to
change the type: it takes about as long as loading the events again. SQLite stores JSON as text
already and is unchanged.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("features", "extra_features", "type_violations", "prediction", "score", "tags")


def _retype(kind: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    changes = ", ".join(f"ALTER COLUMN {c} TYPE {kind} USING {c}::{kind}" for c in _COLUMNS)
    op.execute(f"ALTER TABLE prediction_events {changes}")


def upgrade() -> None:
    _retype("json")


def downgrade() -> None:
    _retype("jsonb")
