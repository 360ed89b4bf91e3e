"""profiles, monitors and detection runs

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 18:25:00.082940
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "monitor_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column(
            "config",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["model_versions.id"],
            name=op.f("fk_monitor_settings_version_id_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_settings")),
        sa.UniqueConstraint("version_id", name=op.f("uq_monitor_settings_version_id")),
    )
    op.create_table(
        "detection_runs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("reference_id", sa.Integer(), nullable=False),
        sa.Column("reference_hash", sa.String(length=71), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("schedule_key", sa.String(length=200), nullable=True),
        sa.Column("path", sa.String(length=16), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("n_events", sa.Integer(), nullable=False),
        sa.Column("drift_share", sa.Float(), nullable=True),
        sa.Column("dataset_drift", sa.Boolean(), nullable=True),
        sa.Column(
            "drifted_features",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["models.id"],
            name=op.f("fk_detection_runs_model_id_models"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reference_id"],
            ["reference_datasets.id"],
            name=op.f("fk_detection_runs_reference_id_reference_datasets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["model_versions.id"],
            name=op.f("fk_detection_runs_version_id_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_detection_runs")),
        sa.UniqueConstraint("schedule_key", name=op.f("uq_detection_runs_schedule_key")),
    )
    with op.batch_alter_table("detection_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_detection_runs_model_id"), ["model_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_detection_runs_version_id_window_end"),
            ["version_id", "window_end"],
            unique=False,
        )

    op.create_table(
        "feature_results",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("feature", sa.String(length=128), nullable=False),
        sa.Column("is_prediction", sa.Boolean(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("statistic", sa.Float(), nullable=True),
        sa.Column("p_value", sa.Float(), nullable=True),
        sa.Column("p_value_adjusted", sa.Float(), nullable=True),
        sa.Column("effect_size", sa.Float(), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("drifted", sa.Boolean(), nullable=False),
        sa.Column("psi", sa.Float(), nullable=True),
        sa.Column("psi_level", sa.String(length=8), nullable=False),
        sa.Column("reference_size", sa.Integer(), nullable=False),
        sa.Column("current_size", sa.Integer(), nullable=False),
        sa.Column("missing_rate", sa.Float(), nullable=False),
        sa.Column("reference_missing_rate", sa.Float(), nullable=False),
        sa.Column("type_violation_rate", sa.Float(), nullable=False),
        sa.Column("out_of_range_share", sa.Float(), nullable=True),
        sa.Column("unseen_share", sa.Float(), nullable=True),
        sa.Column(
            "unseen_examples",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["detection_runs.id"],
            name=op.f("fk_feature_results_run_id_detection_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feature_results")),
    )
    with op.batch_alter_table("feature_results", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feature_results_run_id"), ["run_id"], unique=False)

    with op.batch_alter_table("reference_datasets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("profile", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reference_datasets", schema=None) as batch_op:
        batch_op.drop_column("profile")

    with op.batch_alter_table("feature_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feature_results_run_id"))

    op.drop_table("feature_results")
    with op.batch_alter_table("detection_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_detection_runs_version_id_window_end"))
        batch_op.drop_index(batch_op.f("ix_detection_runs_model_id"))

    op.drop_table("detection_runs")
    op.drop_table("monitor_settings")
