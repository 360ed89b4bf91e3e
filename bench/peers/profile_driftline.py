"""Where Driftline's time goes: cProfile of ``build_profile`` and ``detect`` on one cached case.

    .venv/bin/python bench/peers/profile_driftline.py [--rows 100000 --features 50]

Uses the same synthetic data as ``bench/detectors_vs_peers.py`` (generated if missing). Prints
the wall time of each call without the profiler, the top functions by own time under cProfile,
and, without the profiler, what the per-value Python steps of ``detect`` cost on one column
next to a vectorised equivalent (for comparison only; nothing here changes ``detectors``).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
import pandas as pd
import synth
from worker import Inputs

from detectors.config import MonitorConfig
from detectors.drift import detect
from detectors.profile import _category, build_profile


def _best(call: Callable[[], object], repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def _top(profiler: cProfile.Profile, count: int) -> str:
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stats.strip_dirs().sort_stats("tottime").print_stats(count)
    lines = stream.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("ncalls"))
    return "\n".join(line for line in lines[start - 2 :] if line.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/driftline-bench-data"))
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()
    inputs = Inputs(synth.ensure(args.rows, args.features, args.seed, args.cache))
    reference, current, kinds = inputs.frame("ref"), inputs.columns("cur"), inputs.kinds()
    config = MonitorConfig()
    profile = build_profile(reference, kinds, None)
    detect(profile, current, inputs.rows, config)  # warm-up: first-call imports and caches

    print(f"{args.rows:,} x {args.features}, default MonitorConfig, best of 5 without profiler:")
    print(f"  build_profile {_best(lambda: build_profile(reference, kinds, None)):.3f} s")
    print(f"  detect        {_best(lambda: detect(profile, current, inputs.rows, config)):.3f} s")

    for name, call in (
        ("build_profile", lambda: build_profile(reference, kinds, None)),
        ("detect", lambda: detect(profile, current, inputs.rows, config)),
    ):
        profiler = cProfile.Profile()
        profiler.runcall(call)
        print(f"\ncProfile of {name}, top {args.top} by own time:")
        print(_top(profiler, args.top))

    numeric, labels = current[inputs.numeric[0]], current[inputs.categorical[0]]
    ref_labels = reference[inputs.categorical[0]]
    steps = [
        (
            "numeric: [v for v in column if v is not None and v == v] + np.asarray",
            lambda: np.asarray([v for v in numeric if v is not None and v == v], dtype=np.float64),
            lambda: numeric[~np.isnan(numeric)],
        ),
        (
            "categorical: [_category(v) for v in present] (detect)",
            lambda: [_category(v) for v in labels if v is not None and v == v],
            lambda: pd.Series(labels).dropna().value_counts(),
        ),
        (
            "categorical: Series.map(_category).value_counts() (build_profile)",
            lambda: ref_labels.dropna().map(_category).value_counts(),
            lambda: ref_labels.dropna().value_counts(),
        ),
    ]
    print(f"\nPer-value Python steps on one column of {inputs.rows:,} values (best of 5):")
    print("| step | as in detectors | vectorised equivalent |")
    print("| --- | --- | --- |")
    for label, slow, fast in steps:
        print(f"| {label} | {_best(slow) * 1e3:.1f} ms | {_best(fast) * 1e3:.1f} ms |")


if __name__ == "__main__":
    main()
