"""scheduler run claims

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 18:26:11.082501
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "run_claims",
        sa.Column("schedule_key", sa.String(length=200), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("schedule_key", name=op.f("pk_run_claims")),
    )


def downgrade() -> None:
    op.drop_table("run_claims")
