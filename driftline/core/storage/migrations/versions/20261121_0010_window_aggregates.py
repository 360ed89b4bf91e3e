"""window aggregates: layouts, per-version state, bucket partials, re-evaluations

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-21 20:49:18
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _big_id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _fk(table: str, column: str, target: str, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.create_table(
        "aggregate_buckets",
        sa.Column("id", _big_id(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("reference_id", sa.Integer(), nullable=False),
        sa.Column("bucket_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("n_events", sa.Integer(), nullable=False),
        sa.Column("compacted", sa.Boolean(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("aggregate_buckets", "reference_id", "reference_datasets"),
        _fk("aggregate_buckets", "version_id", "model_versions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_aggregate_buckets")),
    )
    op.create_index(
        "ix_aggregate_buckets_pending",
        "aggregate_buckets",
        ["bucket_start"],
        postgresql_where=sa.text("NOT compacted"),
        sqlite_where=sa.text("NOT compacted"),
    )
    op.create_index(
        op.f("ix_aggregate_buckets_version_id_reference_id_bucket_start"),
        "aggregate_buckets",
        ["version_id", "reference_id", "bucket_start"],
    )
    op.create_table(
        "aggregate_layouts",
        sa.Column("reference_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("layout", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("aggregate_layouts", "reference_id", "reference_datasets"),
        _fk("aggregate_layouts", "version_id", "model_versions"),
        sa.PrimaryKeyConstraint("reference_id", name=op.f("pk_aggregate_layouts")),
    )
    op.create_index(op.f("ix_aggregate_layouts_version_id"), "aggregate_layouts", ["version_id"])
    op.create_table(
        "aggregate_states",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("reference_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("boundary_id", sa.BigInteger(), nullable=True),
        sa.Column("cursor_id", sa.BigInteger(), nullable=False),
        sa.Column("total_events", sa.BigInteger(), nullable=False),
        sa.Column("done_events", sa.BigInteger(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        _fk("aggregate_states", "model_id", "models"),
        _fk("aggregate_states", "reference_id", "reference_datasets", "SET NULL"),
        _fk("aggregate_states", "version_id", "model_versions"),
        sa.PrimaryKeyConstraint("version_id", name=op.f("pk_aggregate_states")),
    )
    op.create_index(op.f("ix_aggregate_states_model_id"), "aggregate_states", ["model_id"])
    op.create_table(
        "run_reevaluations",
        sa.Column("run_id", _big_id(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        _fk("run_reevaluations", "run_id", "detection_runs"),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_run_reevaluations")),
    )
    with op.batch_alter_table("feature_results") as batch_op:
        batch_op.add_column(sa.Column("statistic_bound", sa.Float(), nullable=True))
    with op.batch_alter_table("labels") as batch_op:
        batch_op.add_column(sa.Column("aggregated_ref", sa.Integer(), nullable=True))
    op.create_index(
        "ix_labels_unaggregated",
        "labels",
        ["model_id", "received_at"],
        postgresql_where=sa.text("aggregated_ref IS NULL"),
        sqlite_where=sa.text("aggregated_ref IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_labels_unaggregated", table_name="labels")
    with op.batch_alter_table("labels") as batch_op:
        batch_op.drop_column("aggregated_ref")
    with op.batch_alter_table("feature_results") as batch_op:
        batch_op.drop_column("statistic_bound")
    op.drop_table("run_reevaluations")
    op.drop_index(op.f("ix_aggregate_states_model_id"), table_name="aggregate_states")
    op.drop_table("aggregate_states")
    op.drop_index(op.f("ix_aggregate_layouts_version_id"), table_name="aggregate_layouts")
    op.drop_table("aggregate_layouts")
    op.drop_index(
        op.f("ix_aggregate_buckets_version_id_reference_id_bucket_start"),
        table_name="aggregate_buckets",
    )
    op.drop_index("ix_aggregate_buckets_pending", table_name="aggregate_buckets")
    op.drop_table("aggregate_buckets")
