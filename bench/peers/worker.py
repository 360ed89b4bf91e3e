"""Run one benchmark case in a fresh process and print one JSON line with its measurements.

    python bench/peers/worker.py CASE DATA_DIR

Started by ``bench/detectors_vs_peers.py``, once per case, with the virtualenv that has the
tool (Driftline, Evidently and SciPy from ``.venv``; Alibi Detect and NannyML from
``.venv-peers``). Each case loads the cached arrays written by ``synth.py``, builds its inputs
in the form the tool takes them (pandas frames, a dict of arrays, a 2-D array), and only then
reads the baseline peak RSS and starts the clock, so ``peak_mb`` is the memory the tool needed
beyond its inputs. Imports of the tool happen before the baseline too: import time and module
memory are not counted.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Neither peer may phone home from a benchmark (Evidently: iterative-telemetry; NannyML: segment).
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("ITERATIVE_DO_NOT_TRACK", "1")
os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")

import numpy as np

ROOT = Path(__file__).resolve().parents[2]


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class Inputs:
    """The cached arrays of one case; every derived view keeps the arrays alive."""

    def __init__(self, data: Path) -> None:
        self.meta: dict[str, Any] = json.loads((data / "meta.json").read_text())
        self.numeric: list[str] = self.meta["numeric"]
        self.categorical: list[str] = self.meta["categorical"]
        self.rows: int = self.meta["rows"]
        self.ref_num = np.load(data / "ref_num.npy")
        self.cur_num = np.load(data / "cur_num.npy")
        self.ref_cat = np.load(data / "ref_cat.npy")
        self.cur_cat = np.load(data / "cur_cat.npy")
        # Category labels as shared str objects: an object array holds one pointer per value.
        self.labels = [np.array(labels, dtype=object) for labels in self.meta["labels"]]
        # Everything built from the arrays stays alive, so at the baseline the current RSS
        # equals the peak RSS and no freed temporary can hide the tool's own memory.
        self._keep: list[Any] = []

    def columns(self, side: str) -> dict[str, np.ndarray]:
        """Feature name -> one value per event: float64 arrays and object arrays of labels."""
        num, cat = (self.ref_num, self.ref_cat) if side == "ref" else (self.cur_num, self.cur_cat)
        out = {name: num[i] for i, name in enumerate(self.numeric)}
        out |= {name: self.labels[i][cat[i]] for i, name in enumerate(self.categorical)}
        self._keep.append(out)
        return out

    def frame(self, side: str) -> Any:
        import pandas as pd

        return pd.DataFrame(self.columns(side))

    def kinds(self) -> dict[str, str]:
        return {n: "numeric" for n in self.numeric} | {n: "categorical" for n in self.categorical}


Phase = Callable[[], Any]


def _driftline(
    inputs: Inputs, force_ks: bool, stored: bool = False
) -> tuple[list[tuple[str, Phase]], Phase]:
    """Profile then detect; with ``stored``, as in production: the upload builds the profile and
    serialises it, a run loads the stored profile and detects."""
    sys.path.insert(0, str(ROOT))
    from detectors.config import FeatureOverride, MonitorConfig
    from detectors.drift import detect
    from detectors.profile import ModelProfile, build_profile

    reference = inputs.frame("ref")
    current = inputs.columns("cur")
    kinds = inputs.kinds()
    overrides = {n: FeatureOverride(method="ks") for n in inputs.numeric} if force_ks else {}
    config = MonitorConfig(features=overrides)
    state: dict[str, Any] = {}

    def build() -> None:
        state["profile"] = build_profile(reference, kinds, None)
        if stored:
            state["blob"] = state.pop("profile").to_bytes()

    def run() -> None:
        profile = ModelProfile.from_bytes(state["blob"]) if stored else state["profile"]
        state["result"] = detect(profile, current, inputs.rows, config)

    return [("build", build), ("detect", run)], lambda: len(state["result"].drifted_features)


def _evidently(inputs: Inputs, method: str | None) -> tuple[list[tuple[str, Phase]], Phase]:
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    reference, current = inputs.frame("ref"), inputs.frame("cur")
    definition = DataDefinition(
        numerical_columns=inputs.numeric, categorical_columns=inputs.categorical
    )
    state: dict[str, Any] = {}

    def run() -> None:
        ref = Dataset.from_pandas(reference, data_definition=definition)
        cur = Dataset.from_pandas(current, data_definition=definition)
        report = Report([DataDriftPreset(method=method)])
        state["snapshot"] = report.run(current_data=cur, reference_data=ref)

    def flagged() -> int:
        first = state["snapshot"].dict()["metrics"][0]  # DriftedColumnsCount
        return int(first["value"]["count"])

    return [("detect", run)], flagged


def _scipy(inputs: Inputs) -> tuple[list[tuple[str, Phase]], Phase]:
    from scipy import stats

    state: dict[str, Any] = {}

    def run() -> None:
        p_values = []
        for i in range(len(inputs.numeric)):
            p_values.append(stats.ks_2samp(inputs.ref_num[i], inputs.cur_num[i]).pvalue)
        for i in range(len(inputs.categorical)):
            ref, cur = inputs.ref_cat[i], inputs.cur_cat[i]
            k = int(max(ref.max(), cur.max())) + 1
            table = np.vstack((np.bincount(ref, minlength=k), np.bincount(cur, minlength=k)))
            table = table[:, table.sum(axis=0) > 0]
            p_values.append(stats.chi2_contingency(table).pvalue)
        state["p"] = np.array(p_values)

    return [("detect", run)], lambda: int((state["p"] <= 0.05).sum())


def _alibi(inputs: Inputs) -> tuple[list[tuple[str, Phase]], Phase]:
    from alibi_detect.cd import ChiSquareDrift, KSDrift

    # Alibi takes one 2-D array per detector, rows = events; categories as integer codes.
    ref_num = np.ascontiguousarray(inputs.ref_num.T)
    cur_num = np.ascontiguousarray(inputs.cur_num.T)
    ref_cat = np.ascontiguousarray(inputs.ref_cat.T)
    cur_cat = np.ascontiguousarray(inputs.cur_cat.T)
    state: dict[str, Any] = {}

    def fit() -> None:
        state["ks"] = KSDrift(ref_num, p_val=0.05)
        state["chi"] = ChiSquareDrift(ref_cat, p_val=0.05)

    def run() -> None:
        state["ks_out"] = state["ks"].predict(cur_num)["data"]
        state["chi_out"] = state["chi"].predict(cur_cat)["data"]

    def flagged() -> int:
        # Default drift_type="batch" with Bonferroni: a feature counts when p < p_val / n.
        return sum(
            int((out["p_val"] < out["threshold"]).sum())
            for out in (state["ks_out"], state["chi_out"])
        )

    return [("build", fit), ("detect", run)], flagged


def _nannyml(inputs: Inputs) -> tuple[list[tuple[str, Phase]], Phase]:
    import nannyml

    reference, current = inputs.frame("ref"), inputs.frame("cur")
    state: dict[str, Any] = {}

    def fit() -> None:
        state["calc"] = nannyml.UnivariateDriftCalculator(
            column_names=inputs.numeric + inputs.categorical,
            treat_as_categorical=inputs.categorical,
        ).fit(reference)

    def run() -> None:
        state["result"] = state["calc"].calculate(current)

    def flagged() -> int:
        table = state["result"].filter(period="analysis").to_df()
        alerts = table.xs("alert", axis=1, level=-1)
        return int(alerts.any().sum())  # an alert in any of the (default 10) chunks

    return [("build", fit), ("detect", run)], flagged


CASES: dict[str, Callable[[Inputs], tuple[list[tuple[str, Phase]], Phase]]] = {
    "driftline": lambda i: _driftline(i, force_ks=False),
    "driftline_ks": lambda i: _driftline(i, force_ks=True),
    "driftline_stored": lambda i: _driftline(i, force_ks=False, stored=True),
    "evidently": lambda i: _evidently(i, None),
    "evidently_psi": lambda i: _evidently(i, "psi"),
    "scipy": _scipy,
    "alibi": _alibi,
    "nannyml": _nannyml,
}


def main() -> None:
    case, data = sys.argv[1], Path(sys.argv[2])
    inputs = Inputs(data)
    phases, flagged = CASES[case](inputs)
    baseline_peak, baseline_rss = _maxrss_mb(), _rss_mb()
    if baseline_peak - baseline_rss > 0.05 * baseline_peak:
        print(
            f"warning: RSS {baseline_rss:.0f} MB below its peak {baseline_peak:.0f} MB",
            file=sys.stderr,
        )
    seconds: dict[str, float] = {}
    cpu_start = time.process_time()
    for name, phase in phases:
        start = time.perf_counter()
        phase()
        seconds[name] = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    peak = _maxrss_mb()
    result = {
        "case": case,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_mb": peak - baseline_peak,
        "baseline_peak_mb": baseline_peak,
        "baseline_rss_mb": baseline_rss,
        "flagged": flagged(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
