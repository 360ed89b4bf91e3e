"""A reference profile as an aggregate layout: the bins ingest counts events in.

The profile (``detectors.profile``) holds the sorted reference values and the PSI bins; the
layout (``driftline.aggregates.layout``) adds the fine quantile bins and keeps only what a run
on the aggregates needs, so such a run never loads the reference's values.
"""

from __future__ import annotations

from detectors.profile import FeatureProfile, ModelProfile
from driftline.aggregates.layout import FINE_BINS, Layout, Slot, categorical_slot, numeric_slot

__all__ = ["layout_from_profile"]


def _slot(profile: FeatureProfile, offset: int, fine_bins: int) -> Slot:
    if profile.numeric is not None:
        ref = profile.numeric
        return numeric_slot(
            profile.name, ref.sorted_values, ref.edges, profile.missing_rate, offset, fine_bins
        )
    assert profile.categorical is not None
    ref_cat = profile.categorical
    return categorical_slot(
        profile.name,
        profile.kind,
        [str(c) for c in ref_cat.categories],
        ref_cat.reference_counts.tolist(),
        profile.missing_rate,
        offset,
    )


def layout_from_profile(
    profile: ModelProfile, reference_id: int, bucket_seconds: int, fine_bins: int = FINE_BINS
) -> Layout:
    """The layout of one reference: its features in profile order, then its prediction."""
    slots: list[Slot] = []
    offset = 0
    members = list(profile.features.values())
    if profile.prediction is not None:
        members.append(profile.prediction)
    for member in members:
        slot = _slot(member, offset, fine_bins)
        slots.append(slot)
        offset += slot.n_bins
    return Layout(
        reference_id=reference_id,
        bucket_seconds=bucket_seconds,
        n_bins=profile.n_bins,
        slots=tuple(slots),
        has_prediction=profile.prediction is not None,
    )
