"""segments

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 18:30:34.150303
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("detection_runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "segments",
                sa.JSON(none_as_null=True).with_variant(
                    postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
                ),
                nullable=True,
            )
        )

    with op.batch_alter_table("feature_results", schema=None) as batch_op:
        batch_op.add_column(sa.Column("segment", sa.String(length=400), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feature_results", schema=None) as batch_op:
        batch_op.drop_column("segment")

    with op.batch_alter_table("detection_runs", schema=None) as batch_op:
        batch_op.drop_column("segments")
