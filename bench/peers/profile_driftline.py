"""Where Driftline's time goes: cProfile of ``build_profile`` and ``detect`` on one cached case.

    .venv/bin/python bench/peers/profile_driftline.py [--rows 100000 --features 50]

Uses the same synthetic data as ``bench/detectors_vs_peers.py`` (generated if missing). Prints
the wall time of each call without the profiler (best of 5, after a warm-up call) and the top
functions by own time under cProfile.
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

import synth
from worker import Inputs

from detectors.config import MonitorConfig
from detectors.drift import detect
from detectors.profile import build_profile


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


if __name__ == "__main__":
    main()
