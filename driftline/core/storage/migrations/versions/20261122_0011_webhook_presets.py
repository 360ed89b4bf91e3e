"""webhook presets: retraining-system options and encrypted credentials per endpoint

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
    )


def upgrade() -> None:
    # Nullable, no default: existing endpoints stay plain webhooks.
    with op.batch_alter_table("webhook_endpoints") as batch:
        batch.add_column(sa.Column("preset", _json(), nullable=True))
        batch.add_column(sa.Column("preset_secrets_encrypted", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("webhook_endpoints") as batch:
        batch.drop_column("preset_secrets_encrypted")
        batch.drop_column("preset")
