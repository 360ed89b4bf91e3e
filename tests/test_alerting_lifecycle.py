"""The alert state machine and the rule conditions (pure logic; no database)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alerting.conditions import FeatureView, RunView, observe
from alerting.lifecycle import Step


def feature(name: str, drifted: bool = False, **overrides: object) -> FeatureView:
    values: dict[str, object] = {
        "feature": name,
        "status": "ok",
        "method": "wasserstein",
        "statistic": 0.3 if drifted else 0.01,
        "p_value": None,
        "effect_size": None,
        "threshold": 0.1,
        "drifted": drifted,
        "psi": 0.4 if drifted else 0.01,
        "missing_rate": 0.0,
        "reference_missing_rate": 0.0,
        "type_violation_rate": 0.0,
        "unseen_share": None,
    }
    values.update(overrides)
    return FeatureView(**values)  # type: ignore[arg-type]


@given(
    st.lists(st.booleans(), max_size=60), st.integers(1, 5), st.integers(0, 4), st.integers(1, 4)
)
def test_fires_exactly_when_n_of_the_last_m_evaluations_held(
    outcomes: list[bool], for_runs: int, extra: int, clear_runs: int
) -> None:
    of_runs = for_runs + extra
    step = Step.initial()
    history: list[bool] = []  # outcomes since the alert last resolved
    for active in outcomes:
        was_firing = step.state == "firing"
        history.append(active)
        step = step.next(active, for_runs=for_runs, of_runs=of_runs, clear_runs=clear_runs)
        if not was_firing:
            assert (step.state == "firing") == (sum(history[-of_runs:]) >= for_runs)
        else:
            tail = history[-clear_runs:]
            should_resolve = len(tail) == clear_runs and not any(tail)
            assert step.state == ("resolved" if should_resolve else "firing")
        if step.state == "resolved":
            history = []


def test_one_noisy_window_does_not_fire_with_the_default_two_of_three() -> None:
    step = Step.initial()
    for active in (True, False, False, True, False, False):
        step = step.next(active, for_runs=2, of_runs=3, clear_runs=2)
        assert step.state != "firing"


def test_invalid_windows_are_refused() -> None:
    with pytest.raises(ValueError):
        Step.initial().next(True, for_runs=3, of_runs=2, clear_runs=1)


def test_drift_share_uses_the_runs_verdict_and_lists_drifted_features() -> None:
    run = RunView(1, "ok", 0.5, True, [feature("a", True), feature("b")])
    (obs,) = observe("drift_share", {}, run)
    assert obs.active and obs.value == 0.5
    assert [d["feature"] for d in obs.details["drifted_features"]] == ["a"]
    (quiet,) = observe("drift_share", {"threshold": 0.6}, run)
    assert not quiet.active


def test_segments_get_their_own_subjects() -> None:
    segments = {"region=eu": {"status": "ok", "drift_share": 1.0, "dataset_drift": True}}
    run = RunView(1, "ok", 0.0, False, [feature("a")], segments=segments)
    subjects = {o.subject: o.active for o in observe("drift_share", {}, run)}
    assert subjects == {None: False, "segment:region=eu": True}


def test_key_features_each_observed() -> None:
    run = RunView(
        1, "ok", 0.5, True, [feature("a", True), feature("b")], key_features=frozenset("ab")
    )
    assert {o.subject: o.active for o in observe("key_feature_drift", {}, run)} == {
        "a": True,
        "b": False,
    }


def test_insufficient_data_neither_fires_nor_clears() -> None:
    run = RunView(1, "insufficient_data", None, None, [])
    assert all(observe(kind, {}, run) == [] for kind in ("drift_share", "data_quality"))


def test_performance_against_the_median_of_earlier_runs() -> None:
    earlier = [{"accuracy": a, "label_coverage": 1.0} for a in (0.90, 0.91, 0.89)]
    good = RunView(
        1,
        "ok",
        0.0,
        False,
        [],
        performance={"accuracy": 0.88, "label_coverage": 0.5},
        previous_performance=earlier,
    )
    bad = RunView(
        2,
        "ok",
        0.0,
        False,
        [],
        performance={"accuracy": 0.70, "label_coverage": 0.5},
        previous_performance=earlier,
    )
    params = {"metric": "accuracy", "max_relative_drop": 0.1}
    assert not observe("performance", params, good)[0].active
    (obs,) = observe("performance", params, bad)
    assert obs.active and obs.details["baseline"] == pytest.approx(0.90)
    # Too few earlier runs and no explicit baseline: no judgement yet.
    young = RunView(3, "ok", 0.0, False, [], performance={"accuracy": 0.1, "label_coverage": 1.0})
    assert observe("performance", params, young) == []
    lower_better = {"metric": "rmse", "baseline": 10.0, "max_relative_drop": 0.1}
    worse = RunView(4, "ok", 0.0, False, [], performance={"rmse": 12.0, "label_coverage": 1.0})
    assert observe("performance", lower_better, worse)[0].active


def test_data_quality_names_each_problem() -> None:
    run = RunView(
        1,
        "ok",
        0.0,
        False,
        [
            feature("a", missing_rate=0.3, reference_missing_rate=0.05),
            feature("b", unseen_share=0.2),
            feature("c", status="no_data"),
            feature("d"),
        ],
    )
    found = {o.subject: o for o in observe("data_quality", {}, run)}
    assert found["a"].active and "missing 30.0%" in found["a"].summary
    assert found["b"].active and "unseen" in found["b"].summary
    assert found["c"].active and "absent" in found["c"].summary
    assert not found["d"].active


def test_docs_table_of_default_rules_matches_the_code() -> None:
    from pathlib import Path

    from alerting.rules import default_rules

    text = (Path(__file__).parents[1] / "docs" / "alerting.md").read_text()
    blocks = text.split("## Rules", 1)[1].split("\n\n")
    table = next(b for b in blocks if b.startswith("| rule |"))
    documented = {}
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        documented[cells[0]] = (cells[1], cells[2], cells[3], cells[4])

    def when(spec_for: int, of: int, clear: int, kind: str) -> tuple[str, str]:
        unit = "check" if kind == "no_data" else "run"
        fire = f"{spec_for} of {of} {unit}s" if of > 1 else f"1 {unit}"
        clears = f"{clear} clear {unit}s" if clear > 1 else f"1 {unit}"
        return fire, clears

    for spec in default_rules("binary_classification"):
        fire, clears = when(spec.for_runs, spec.of_runs, spec.clear_runs, spec.kind)
        assert documented[spec.name] == (spec.kind, spec.severity, fire, clears), spec.name
    assert set(documented) == {s.name for s in default_rules("regression")}
