"""stored_event_counts: prediction events stored per model, ever (feeds /metrics)

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-22 01:00:00

Starts from the events stored now, so the exported counter continues where it was (it was the
row count of prediction_events).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stored_event_counts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["model_id"], ["models.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_stored_event_counts_model_id"), "stored_event_counts", ["model_id"])
    op.execute(
        "INSERT INTO stored_event_counts (model_id, events) "
        "SELECT model_id, count(*) FROM prediction_events GROUP BY model_id"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_stored_event_counts_model_id"), table_name="stored_event_counts")
    op.drop_table("stored_event_counts")
