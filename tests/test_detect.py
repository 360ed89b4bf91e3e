"""The detection run's pure core: method choice, verdicts, data quality, profiles."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detectors import parallel, shared_objects
from detectors.config import FeatureOverride, MonitorConfig
from detectors.drift import DatasetResult, detect
from detectors.profile import ModelProfile, build_profile, category_label, label_counts
from detectors.shared_objects import distinct_objects

KINDS = {
    "amount": "numeric",
    "age": "numeric",
    "score": "numeric",
    "country": "categorical",
    "channel": "categorical",
    "is_new": "boolean",
}


def _frame(n: int, seed: int, shift: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    countries = ["DE", "FR", "US", "GB"]
    mix = [0.1, 0.1, 0.2, 0.6] if shift else [0.4, 0.3, 0.2, 0.1]
    return pd.DataFrame(
        {
            "amount": rng.normal(100 + (40 if shift else 0), 20, n),
            "age": rng.normal(40, 10, n),
            "score": rng.uniform(0, 1, n) + (0.5 if shift else 0),
            "country": rng.choice(countries, n, p=mix),
            "channel": rng.choice(["web", "app", "store"], n),
            "is_new": rng.random(n) < 0.3,
            "prediction": rng.choice(["0", "1"], n),
        }
    )


def _columns(frame: pd.DataFrame) -> dict[str, list[object]]:
    return {name: frame[name].tolist() for name in KINDS}


def _run(reference: pd.DataFrame, current: pd.DataFrame, **config: object) -> DatasetResult:
    profile = build_profile(reference, KINDS, "categorical")
    return detect(
        profile,
        _columns(current),
        len(current),
        MonitorConfig(**config),
        key_features=frozenset({"amount"}),
        predictions=current["prediction"].tolist(),
    )


@pytest.mark.parametrize(
    ("size", "numeric_method", "categorical_method"),
    [(800, "ks", "chi_square"), (5000, "wasserstein", "jensen_shannon")],
)
def test_shifted_features_are_flagged_and_no_others(
    size: int, numeric_method: str, categorical_method: str
) -> None:
    result = _run(_frame(size, 1), _frame(size, 2, shift=True))
    by_name = {r.feature: r for r in result.features}
    assert set(result.drifted_features) == {"amount", "score", "country"}
    assert by_name["amount"].method == numeric_method
    assert by_name["country"].method == categorical_method
    assert by_name["is_new"].method == ("z_test" if size <= 1000 else "jensen_shannon")
    assert result.dataset_drift and result.drift_share == pytest.approx(0.5)
    assert result.key_features_drifted == ("amount",)
    assert by_name["amount"].psi_level == "alert" and by_name["age"].psi_level == "ok"
    assert result.prediction is not None and not result.prediction.drifted


@pytest.mark.parametrize("size", [800, 5000])
def test_same_distribution_gives_no_drift(size: int) -> None:
    result = _run(_frame(size, 1), _frame(size, 2))
    assert result.drifted_features == () and not result.dataset_drift


def test_identical_window_has_zero_distances() -> None:
    frame = _frame(3000, 5)
    result = _run(frame, frame)
    assert all(r.statistic == pytest.approx(0.0, abs=1e-12) for r in result.features)
    assert all(r.psi == pytest.approx(0.0, abs=1e-12) for r in result.features)


def test_half_sd_shift_in_1000_vs_1000_is_detected_by_ks() -> None:
    rng = np.random.default_rng(3)
    reference = pd.DataFrame({"x": rng.normal(0, 1, 1000)})
    current = {"x": list(rng.normal(0.5, 1, 1000))}
    profile = build_profile(reference, {"x": "numeric"}, None)
    (feature,) = detect(profile, current, 1000, MonitorConfig()).features
    assert feature.method == "ks" and feature.drifted and feature.p_value is not None
    assert feature.p_value < 0.05 and feature.effect_size is not None


def test_insufficient_data_has_no_verdict() -> None:
    result = _run(_frame(500, 1), _frame(50, 2, shift=True), min_events=100)
    assert result.status == "insufficient_data" and result.features == []
    assert not result.dataset_drift


def test_data_quality_figures() -> None:
    reference = _frame(2000, 1)
    current = _frame(1000, 2)
    columns = _columns(current)
    columns["age"] = [None] * 250 + columns["age"][250:]
    columns["amount"] = [1e9] * 100 + columns["amount"][100:]
    columns["country"] = ["XX"] * 200 + columns["country"][200:]
    del columns["channel"]  # missing from every event
    profile = build_profile(reference, KINDS, None)
    result = detect(profile, columns, 1000, MonitorConfig(), violations={"age": 30})
    by_name = {r.feature: r for r in result.features}
    assert by_name["age"].missing_rate == pytest.approx(0.25)
    assert by_name["age"].type_violation_rate == pytest.approx(0.03)
    assert by_name["amount"].out_of_range_share == pytest.approx(0.1, abs=0.01)
    assert by_name["country"].unseen_share == pytest.approx(0.2)
    assert by_name["country"].unseen_examples == ("XX",)
    assert by_name["channel"].status == "no_data" and by_name["channel"].missing_rate == 1.0


def test_profile_counts_missing_and_non_finite_reference_values() -> None:
    reference = pd.DataFrame(
        {
            "x": [1.0, np.nan, 3.0, np.inf, 2.0, None, -np.inf, 4.0],
            "n": pd.array([1, None, 3, 4, 5, None, 7, 8], dtype="Int64"),
            "only_inf": [np.inf] * 8,
        }
    )
    profile = build_profile(
        reference, {"x": "numeric", "n": "numeric", "only_inf": "numeric"}, None
    )
    x, n = profile.features["x"], profile.features["n"]
    # NaN and None are missing; infinities are present but cannot be compared, so not counted.
    assert (x.size, x.missing_rate, x.minimum, x.maximum) == (4, 0.25, 1.0, 4.0)
    assert (n.size, n.missing_rate, n.minimum, n.maximum) == (6, 0.25, 1.0, 8.0)
    assert "only_inf" not in profile.features


def _counted_one_by_one(values: list[object]) -> tuple[dict[str, int], int]:
    counts: dict[str, int] = {}
    missing = 0
    for value in values:
        if value is None or value != value:  # NaN is the one value unequal to itself
            missing += 1
        else:
            counts[category_label(value)] = counts.get(category_label(value), 0) + 1
    return counts, missing


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["DE", "FR", "1", 1, 2.5, None, float("nan"), "é", ""])))
def test_label_counts_equal_counting_one_value_at_a_time(values: list[object]) -> None:
    expected = _counted_one_by_one(values)
    assert label_counts(values) == expected
    assert label_counts(np.array(values, dtype=object)) == expected


@pytest.mark.parametrize("shared", [True, False])
def test_label_counts_of_large_object_arrays(shared: bool) -> None:
    # Shared objects are counted by address, then merged by value and label: two distinct
    # "DE" objects, "1" and 1, None and NaN all land where counting one by one puts them.
    pool = ["DE", "".join(["D", "E"]), "FR", "1", 1, 2.5, None, float("nan"), "é"]
    rng = np.random.default_rng(3)
    if shared:
        values = [pool[i] for i in rng.integers(0, len(pool), 20_000)]
    else:  # a new object per value, as labels parsed one by one from JSON
        values = ["".join(["v", str(i)]) for i in rng.integers(0, 5, 20_000)]
    array = np.array(values, dtype=object)
    assert (distinct_objects(array)[1] is not None) is shared
    assert label_counts(array) == _counted_one_by_one(values)
    assert label_counts(values) == _counted_one_by_one(values)


@pytest.mark.parametrize("first", [True, 1, 1.0])
def test_label_counts_by_address_keep_the_labels_of_equal_values(
    first: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pandas counts True, 1 and 1.0 as one value labelled like the first in the array; the
    # shared-object path must not change which label that is.
    values = [first] + [[True, 1, 1.0, "x"][i] for i in np.arange(10_000) % 4]
    by_address = label_counts(np.array(values, dtype=object))
    monkeypatch.setattr(shared_objects, "MIN_SIZE", 10**12)  # every element hashed
    assert by_address == label_counts(np.array(values, dtype=object))
    assert by_address[0][category_label(first)] == 7_501


def test_label_counts_of_typed_arrays() -> None:
    assert label_counts(np.array([True, False, True])) == ({"true": 2, "false": 1}, 0)
    assert label_counts(np.array(["b", "a", "b"])) == ({"b": 2, "a": 1}, 0)
    assert label_counts(np.array([3.0, np.nan, 3.0])) == ({"3.0": 2}, 1)
    assert label_counts([]) == ({}, 0)
    assert label_counts(pd.array(["x", None, "x"], dtype="string").to_numpy()) == ({"x": 2}, 1)


def test_profile_round_trip_gives_identical_results() -> None:
    reference, current = _frame(3000, 1), _frame(1500, 2, shift=True)
    profile = build_profile(reference, KINDS, "categorical")
    restored = ModelProfile.from_bytes(profile.to_bytes())
    config = MonitorConfig()
    first = detect(profile, _columns(current), 1500, config)
    second = detect(restored, _columns(current), 1500, config)
    assert first == second
    for name in ("amount", "age", "score"):
        kept, back = profile.features[name].numeric, restored.features[name].numeric
        assert kept is not None and back is not None
        assert np.array_equal(kept.sorted_values, back.sorted_values) and kept.std == back.std
        assert not back.sorted_values.flags.writeable


def _npz_bytes(profile: ModelProfile) -> bytes:
    """A profile in the format stored before profile_codec (np.savez_compressed)."""
    arrays: dict[str, np.ndarray] = {}
    meta: dict[str, object] = {"n_bins": profile.n_bins, "features": [], "prediction": None}
    items = [("f", f) for f in profile.features.values()]
    for key, feature in items + ([("p", profile.prediction)] if profile.prediction else []):
        entry: dict[str, object] = {
            "name": feature.name,
            "kind": feature.kind,
            "missing_rate": feature.missing_rate,
        }
        if feature.numeric is not None:
            arrays[f"{key}:{feature.name}"] = feature.numeric.sorted_values
        else:
            assert feature.categorical is not None
            categories = feature.categorical.categories
            counts = feature.categorical.reference_counts.tolist()
            entry["counts"] = {str(c): n for c, n in zip(categories, counts, strict=True)}
        if key == "f":
            meta["features"].append(entry)  # type: ignore[attr-defined]
        else:
            meta["prediction"] = entry
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer, __meta__=np.frombuffer(json.dumps(meta).encode(), np.uint8), **arrays
    )
    return buffer.getvalue()


def test_profiles_stored_before_the_codec_still_load() -> None:
    reference, current = _frame(3000, 1), _frame(1500, 2, shift=True)
    profile = build_profile(reference, KINDS, "categorical")
    legacy = _npz_bytes(profile)
    assert legacy[:2] == b"PK" and not profile.to_bytes().startswith(b"PK")
    config = MonitorConfig()
    expected = detect(profile, _columns(current), 1500, config)
    assert detect(ModelProfile.from_bytes(legacy), _columns(current), 1500, config) == expected


def test_stored_profiles_are_smaller_than_the_npz_archives() -> None:
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"x": rng.normal(50, 10, 100_000), "y": rng.lognormal(3, 0.6, 100_000)})
    profile = build_profile(frame, {"x": "numeric", "y": "numeric"}, None)
    assert len(profile.to_bytes()) < 0.9 * len(_npz_bytes(profile))


def test_threads_change_nothing_but_the_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "worker_count", lambda: 2)  # threads even on a 1-core runner
    reference, current = _frame(3000, 1), _frame(1500, 2, shift=True)
    outcomes = []
    for threshold in (10**12, 0):  # in the calling thread, then in threads whatever the size
        monkeypatch.setattr(parallel, "MIN_PARALLEL_VALUES", threshold)
        profile = build_profile(reference, KINDS, "categorical")
        result = detect(profile, _columns(current), 1500, MonitorConfig())
        outcomes.append((profile.to_bytes(), result))
    assert outcomes[0] == outcomes[1]
    assert [r.feature for r in outcomes[1][1].features] == list(KINDS)  # the schema's order


def test_map_features_keeps_the_order_and_none_results(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "worker_count", lambda: 2)
    items = [(i, i % 3 == 0) for i in range(10)]
    twice = parallel.map_features(lambda i: None if i == 4 else 2 * i, items, values=10**9)
    assert twice == [0, 2, 4, 6, None, 10, 12, 14, 16, 18]
    # Holding and releasing items alternate, so both threads have work the other can overlap.
    assert parallel._interleaved([True, True, True, False]) == [3, 0, 1, 2]


def test_overrides_and_benjamini_hochberg() -> None:
    reference, current = _frame(800, 1), _frame(800, 2, shift=True)
    overridden = _run(
        reference,
        current,
        features={
            "amount": FeatureOverride(method="psi", threshold=100.0),
            "age": FeatureOverride(method="wasserstein"),
        },
    )
    by_name = {r.feature: r for r in overridden.features}
    assert by_name["amount"].method == "psi" and not by_name["amount"].drifted
    assert by_name["age"].method == "wasserstein"
    adjusted = _run(reference, current, benjamini_hochberg=True)
    tested = [r for r in adjusted.features if r.p_value is not None]
    assert tested and all(r.p_value_adjusted is not None for r in tested)
    assert all(r.p_value_adjusted >= r.p_value for r in tested)  # type: ignore[operator]


def test_effect_size_floor_silences_negligible_shifts_in_large_samples() -> None:
    rng = np.random.default_rng(11)
    reference = pd.DataFrame({"x": rng.normal(0, 1, 1000)})
    profile = build_profile(reference, {"x": "numeric"}, None)
    current = {"x": list(rng.normal(0.03, 1, 200_000))}  # tiny shift, huge sample
    strict = detect(profile, current, 200_000, MonitorConfig(min_effect_size=0.0)).features[0]
    floored = detect(profile, current, 200_000, MonitorConfig()).features[0]
    assert floored.effect_size is not None and floored.effect_size < 0.1
    assert not floored.drifted
    assert strict.p_value is not None and (strict.drifted == (strict.p_value <= 0.05))


def test_false_alarm_rate_without_drift() -> None:
    """200 seeded no-drift windows of 1,000 events: the default rule flags at most 5%."""
    rng = np.random.default_rng(2026)
    reference = pd.DataFrame(
        {
            "a": rng.normal(0, 1, 1000),
            "b": rng.exponential(1, 1000),
            "c": rng.choice(list("abcd"), 1000),
        }
    )
    kinds = {"a": "numeric", "b": "numeric", "c": "categorical"}
    profile = build_profile(reference, kinds, None)
    flagged = checked = 0
    for _ in range(200):
        window = {
            "a": list(rng.normal(0, 1, 1000)),
            "b": list(rng.exponential(1, 1000)),
            "c": list(rng.choice(list("abcd"), 1000)),
        }
        result = detect(profile, window, 1000, MonitorConfig())
        flagged += len(result.drifted_features)
        checked += len(result.features)
    assert flagged / checked <= 0.05
