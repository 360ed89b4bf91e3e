"""prediction_events partitioned by day on PostgreSQL, ids in event_ids, no foreign keys

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-22 23:40:00

PostgreSQL: ``prediction_events`` becomes ``PARTITION BY RANGE (event_time)`` with a partition
per UTC day and a DEFAULT partition. This rewrites the table: every row is copied into the new
one (and its id into ``event_ids``), so it takes about as long as loading the events again and
needs their size in free disk until the old table is dropped. Ids and their sequence are kept
(the aggregates' rebuild cursors refer to them). Days with rows in the last 62 days and the next
7 get their own partitions; older rows go to the default partition, where retention deletes
them. The foreign keys to models and model versions are dropped on both backends (ingest checks
both in its transaction; deleting a model deletes its events explicitly).
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

from driftline.core.storage import partitions

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FKS = [
    ("fk_prediction_events_model_id_models", "models", "model_id"),
    ("fk_prediction_events_version_id_model_versions", "model_versions", "version_id"),
]
_INDEXES = [
    ("ix_prediction_events_version_id_event_time", "version_id, event_time"),
    ("ix_prediction_events_model_id_id", "model_id, id"),
]


def _horizon_table() -> None:
    op.create_table(
        "raw_event_horizon",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("forgotten_before", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_raw_event_horizon")),
    )


def upgrade() -> None:
    _horizon_table()
    if op.get_bind().dialect.name != "postgresql":
        with op.batch_alter_table("prediction_events") as batch:
            for name, _, _ in _FKS:
                batch.drop_constraint(name, type_="foreignkey")
        return
    op.execute("ALTER TABLE prediction_events RENAME TO prediction_events_0012")
    op.execute("ALTER SEQUENCE prediction_events_id_seq OWNED BY NONE")
    for name in ("pk_prediction_events", "uq_prediction_events_event_id"):
        op.execute(f"ALTER TABLE prediction_events_0012 DROP CONSTRAINT {name}")
    for name, _ in _INDEXES:
        op.execute(f"DROP INDEX {name}")
    op.execute(
        "CREATE TABLE prediction_events (LIKE prediction_events_0012 INCLUDING DEFAULTS) "
        "PARTITION BY RANGE (event_time)"
    )
    op.execute(f"CREATE TABLE {partitions.DEFAULT} PARTITION OF prediction_events DEFAULT")
    bind = op.get_bind()
    today = datetime.now(UTC).date()
    recent = bind.execute(
        sa.text(
            "SELECT DISTINCT (event_time AT TIME ZONE 'UTC')::date FROM prediction_events_0012 "
            "WHERE event_time >= :since"
        ),
        {"since": datetime.now(UTC) - timedelta(days=62)},
    ).scalars()
    days = set(recent) | {today + timedelta(days=i) for i in range(8)}
    for day in sorted(days):
        partitions.create_day(bind, day)
    op.execute("SET LOCAL lock_timeout = 0")  # create_day's timeout is for live upkeep
    op.execute("INSERT INTO prediction_events SELECT * FROM prediction_events_0012")
    op.create_table(
        "event_ids",
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_event_ids")),
    )
    op.execute(
        "INSERT INTO event_ids (event_id, event_time) "
        "SELECT event_id, event_time FROM prediction_events_0012"
    )
    op.execute("DROP TABLE prediction_events_0012")
    op.execute("ALTER SEQUENCE prediction_events_id_seq OWNED BY prediction_events.id")
    # The primary key of a partitioned table must hold the partition key.
    op.execute(
        "ALTER TABLE prediction_events ADD CONSTRAINT pk_prediction_events "
        "PRIMARY KEY (id, event_time)"
    )
    for name, columns in _INDEXES:
        op.execute(f"CREATE INDEX {name} ON prediction_events ({columns})")
    op.execute("CREATE INDEX ix_prediction_events_event_id ON prediction_events (event_id)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        # Events of deleted models would break the restored foreign keys.
        op.execute(
            "DELETE FROM prediction_events WHERE version_id NOT IN (SELECT id FROM model_versions) "
            "OR model_id NOT IN (SELECT id FROM models)"
        )
        with op.batch_alter_table("prediction_events") as batch:
            for name, target, column in _FKS:
                batch.create_foreign_key(name, target, [column], ["id"], ondelete="CASCADE")
        op.drop_table("raw_event_horizon")
        return
    op.execute("CREATE TABLE prediction_events_0013 (LIKE prediction_events INCLUDING DEFAULTS)")
    op.execute(
        "INSERT INTO prediction_events_0013 SELECT * FROM prediction_events "
        "WHERE version_id IN (SELECT id FROM model_versions) "
        "AND model_id IN (SELECT id FROM models) ORDER BY id"
    )
    op.execute("ALTER SEQUENCE prediction_events_id_seq OWNED BY NONE")
    op.execute("DROP TABLE prediction_events")  # and every partition
    op.execute("ALTER TABLE prediction_events_0013 RENAME TO prediction_events")
    op.execute("ALTER SEQUENCE prediction_events_id_seq OWNED BY prediction_events.id")
    op.execute("ALTER TABLE prediction_events ADD CONSTRAINT pk_prediction_events PRIMARY KEY (id)")
    op.execute(
        "ALTER TABLE prediction_events ADD CONSTRAINT uq_prediction_events_event_id "
        "UNIQUE (event_id)"
    )
    for name, target, column in _FKS:
        op.execute(
            f"ALTER TABLE prediction_events ADD CONSTRAINT {name} FOREIGN KEY ({column}) "
            f"REFERENCES {target} (id) ON DELETE CASCADE"
        )
    for name, columns in _INDEXES:
        op.execute(f"CREATE INDEX {name} ON prediction_events ({columns})")
    op.drop_table("event_ids")
    op.drop_table("raw_event_horizon")
