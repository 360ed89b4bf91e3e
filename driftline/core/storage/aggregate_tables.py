"""Tables of what ingest keeps besides the raw events (``driftline.aggregates``): the window
aggregates and the count of stored events, on the shared ``Base``.

``tables`` imports this module at its end, so ``Base.metadata`` always holds these tables too.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column

from driftline.core.storage.base import Base as _Base
from driftline.core.storage.base import BigId, Timestamp

__all__ = [
    "AggregateBucket",
    "AggregateLayout",
    "AggregateState",
    "RunReevaluation",
    "StoredEventCount",
]


class AggregateLayout(_Base):
    """The bins of one reference's aggregates (``driftline.aggregates.layout.Layout``)."""

    __tablename__ = "aggregate_layouts"

    reference_id: Mapped[int] = mapped_column(
        ForeignKey("reference_datasets.id", ondelete="CASCADE"), primary_key=True
    )
    version_id: Mapped[int] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE"), index=True
    )
    layout: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(Timestamp)


class AggregateState(_Base):
    """Which layout a version's ingest aggregates with, and the rebuild after a switch.

    Ingest transactions read this row ``FOR SHARE`` before inserting events; switching the
    reference updates it, so the switch waits for them and records ``boundary_id``: events up
    to it are rebuilt from raw data, later ones were aggregated with the new layout at ingest.
    """

    __tablename__ = "aggregate_states"

    version_id: Mapped[int] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE"), primary_key=True
    )
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"), index=True)
    reference_id: Mapped[int | None] = mapped_column(
        ForeignKey("reference_datasets.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(16))  # none | rebuilding | ready
    boundary_id: Mapped[int | None] = mapped_column(BigInteger)
    cursor_id: Mapped[int] = mapped_column(BigInteger, default=0)  # rebuilt up to this event id
    total_events: Mapped[int] = mapped_column(BigInteger, default=0)
    done_events: Mapped[int] = mapped_column(BigInteger, default=0)
    started_at: Mapped[datetime | None] = mapped_column(Timestamp)
    finished_at: Mapped[datetime | None] = mapped_column(Timestamp)


class AggregateBucket(_Base):
    """One partial aggregate: appended per (write batch, version, bucket), so concurrent
    writers never update a shared row; compaction later merges a closed bucket's rows."""

    __tablename__ = "aggregate_buckets"
    __table_args__ = (
        Index(None, "version_id", "reference_id", "bucket_start"),
        Index(
            "ix_aggregate_buckets_pending",
            "bucket_start",
            postgresql_where=text("NOT compacted"),
            sqlite_where=text("NOT compacted"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"))
    reference_id: Mapped[int] = mapped_column(
        ForeignKey("reference_datasets.id", ondelete="CASCADE")
    )
    bucket_start: Mapped[datetime] = mapped_column(Timestamp)
    n_events: Mapped[int] = mapped_column(Integer)
    compacted: Mapped[bool] = mapped_column(Boolean)
    data: Mapped[bytes] = mapped_column(LargeBinary)  # driftline.aggregates.partial.Partial
    created_at: Mapped[datetime] = mapped_column(Timestamp)


class RunReevaluation(_Base):
    """A scheduled run whose window received late events after it was evaluated."""

    __tablename__ = "run_reevaluations"

    run_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("detection_runs.id", ondelete="CASCADE"), primary_key=True
    )
    requested_at: Mapped[datetime] = mapped_column(Timestamp)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[datetime | None] = mapped_column(Timestamp)


class StoredEventCount(_Base):
    """Prediction events stored per model, ever (``driftline.aggregates.stored_counts``):
    appended per write batch, folded into one row per model by maintenance."""

    __tablename__ = "stored_event_counts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"), index=True)
    events: Mapped[int] = mapped_column(BigInteger)
