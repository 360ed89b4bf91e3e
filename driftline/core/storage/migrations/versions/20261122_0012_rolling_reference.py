"""rolling reference: detection_runs.previous_window (the window compared with the one before it)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
    )


def upgrade() -> None:
    # Nullable, no default: runs stored before the option existed had no such comparison.
    with op.batch_alter_table("detection_runs") as batch:
        batch.add_column(sa.Column("previous_window", _json(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("detection_runs") as batch:
        batch.drop_column("previous_window")
