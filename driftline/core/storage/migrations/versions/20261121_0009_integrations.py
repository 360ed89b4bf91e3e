"""integrations: inference-log mappings and pairing, MLflow links

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-21 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
    )


def upgrade() -> None:
    op.create_table(
        "inference_log_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(length=253), nullable=False),
        sa.Column("namespace", sa.String(length=253), nullable=False),
        sa.Column("config", _json(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["models.id"],
            name=op.f("fk_inference_log_mappings_model_id_models"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inference_log_mappings")),
        sa.UniqueConstraint("model_id", name=op.f("uq_inference_log_mappings_model_id")),
        sa.UniqueConstraint(
            "service", "namespace", name=op.f("uq_inference_log_mappings_service_namespace")
        ),
    )
    op.create_table(
        "inference_log_pending",
        sa.Column("pair_key", sa.String(length=300), nullable=False),
        sa.Column("request", sa.LargeBinary(), nullable=True),
        sa.Column("response", sa.LargeBinary(), nullable=True),
        sa.Column("attributes", _json(), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("pair_key", name=op.f("pk_inference_log_pending")),
    )
    op.create_index(
        op.f("ix_inference_log_pending_received_at"),
        "inference_log_pending",
        ["received_at"],
    )
    op.create_table(
        "mlflow_links",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("registered_model", sa.String(length=256), nullable=False),
        sa.Column("mlflow_version", sa.String(length=64), nullable=False),
        sa.Column("tracking_uri", sa.Text(), nullable=True),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("last_written_run_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["model_versions.id"],
            name=op.f("fk_mlflow_links_version_id_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", name=op.f("pk_mlflow_links")),
    )


def downgrade() -> None:
    op.drop_table("mlflow_links")
    op.drop_index(op.f("ix_inference_log_pending_received_at"), table_name="inference_log_pending")
    op.drop_table("inference_log_pending")
    op.drop_table("inference_log_mappings")
