"""How often Driftline's rule flags a feature when nothing drifted.

    .venv/bin/python bench/false_alarms.py [--sizes 1k,10k,100k,1M] [--windows 200]

For each size, ``--windows`` seeded pairs of reference and current window, both drawn from the
same distributions (no drift), the reference as large as the window. Ten features: seven numeric
(normal, lognormal, uniform, gamma, integer-valued ages with ties, Poisson counts with about ten
distinct values, a two-component mixture) and three categorical (binary, so the Z-test; five
categories; ten categories, the two rarest at 0.7% and 0.3%). At 1M events only four of them
(normal, ages, binary, ten categories) keep the run within minutes; the table says so.

Each window is profiled once (``build_profile``) and checked with ``detect`` under each rule:

* the default ``MonitorConfig()``: p-value tests (KS, chi-square, Z-test) with the effect-size
  floor ``min_effect_size=0.1`` when the reference has at most 1000 rows, distances (Wasserstein
  over the reference std, Jensen-Shannon, drift at 0.1) above that;
* ``min_effect_size=0``: the p-value tests alone (only differs at 1k);
* ``small_reference_rows=10**9``: p-value tests at every size, with and without the floor.

Printed: the share of feature checks flagged (with a Wilson 95% interval), the share of windows
with at least one flagged feature and with dataset drift, and the flag rate per feature.
Windows run in two worker processes (the machine has two cores).
"""

from __future__ import annotations

import argparse
import hashlib
import math
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))

import numpy as np
import pandas as pd

from detectors.config import MonitorConfig
from detectors.drift import detect
from detectors.profile import build_profile

ROOT = Path(__file__).resolve().parents[1]
SIZES = {"1k": 1_000, "10k": 10_000, "100k": 100_000, "1M": 1_000_000}
LARGE = 1_000_000  # from this size on, only the features in FEW are checked
FEW = ("num_normal", "num_age", "cat_binary", "cat_ten")
TEN_SHARES = np.array([0.35, 0.2, 0.12, 0.1, 0.08, 0.06, 0.04, 0.04, 0.007, 0.003])
TEN_SHARES = TEN_SHARES / TEN_SHARES.sum()


def source_digest() -> str:
    """sha256 of the detectors package's sources: which code a result belongs to."""
    sha = hashlib.sha256()
    for path in sorted((ROOT / "detectors").rglob("*.py")):
        sha.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return sha.hexdigest()[:12]


Draw = Callable[[np.random.Generator, int], np.ndarray]


def _mixture(rng: np.random.Generator, n: int) -> np.ndarray:
    first = rng.random(n) < 0.3
    return np.where(first, rng.normal(-2.0, 0.5, n), rng.normal(1.0, 1.0, n))


def _labels(names: list[str], shares: np.ndarray) -> Draw:
    labels = np.array(names, dtype=object)
    return lambda rng, n: labels[rng.choice(len(names), size=n, p=shares)]


FEATURES: dict[str, tuple[str, Draw]] = {
    "num_normal": ("numeric", lambda rng, n: rng.normal(50.0, 10.0, n)),
    "num_lognormal": ("numeric", lambda rng, n: rng.lognormal(3.0, 0.6, n)),
    "num_uniform": ("numeric", lambda rng, n: rng.uniform(-1.0, 1.0, n)),
    "num_gamma": ("numeric", lambda rng, n: rng.gamma(2.0, 1.5, n)),
    "num_age": ("numeric", lambda rng, n: np.clip(np.round(rng.normal(45.0, 12.0, n)), 18, 90)),
    "num_count": ("numeric", lambda rng, n: rng.poisson(3.0, n).astype(np.float64)),
    "num_mixture": ("numeric", _mixture),
    "cat_binary": ("categorical", _labels(["no", "yes"], np.array([0.7, 0.3]))),
    "cat_five": ("categorical", _labels(["a", "b", "c", "d", "e"], np.full(5, 0.2))),
    "cat_ten": ("categorical", _labels([f"v{i}" for i in range(10)], TEN_SHARES)),
}


@dataclass(frozen=True)
class Rule:
    name: str
    tests: str  # "p-value" | "distance" | "auto"
    config: MonitorConfig
    floor: bool


def rules(rows: int) -> list[Rule]:
    default, no_floor = MonitorConfig(), MonitorConfig(min_effect_size=0.0)
    forced = MonitorConfig(small_reference_rows=10**9)
    forced_no_floor = MonitorConfig(small_reference_rows=10**9, min_effect_size=0.0)
    if rows <= default.small_reference_rows:
        return [
            Rule("default MonitorConfig()", "p-value", default, True),
            Rule("min_effect_size=0", "p-value", no_floor, False),
        ]
    return [
        Rule("default MonitorConfig()", "distance", default, True),
        Rule("small_reference_rows=10**9", "p-value", forced, True),
        Rule("small_reference_rows=10**9, min_effect_size=0", "p-value", forced_no_floor, False),
    ]


def features_for(rows: int) -> list[str]:
    return list(FEW) if rows >= LARGE else list(FEATURES)


def one_window(args: tuple[int, int, int]) -> dict[str, list[tuple[str, str, bool, bool]]]:
    """Per rule: (feature, method, drifted, dataset_drift) for one seeded no-drift window."""
    rows, seed, _ = args
    rng = np.random.default_rng(seed)
    names = features_for(rows)
    reference = pd.DataFrame({name: FEATURES[name][1](rng, rows) for name in names})
    current = {name: FEATURES[name][1](rng, rows) for name in names}
    kinds = {name: FEATURES[name][0] for name in names}
    profile = build_profile(reference, kinds, None)
    out = {}
    for rule in rules(rows):
        result = detect(profile, current, rows, rule.config)
        out[rule.name] = [
            (f.feature, f.method, f.drifted, result.dataset_drift) for f in result.features
        ]
    return out


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return 0.0, 0.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def target(rows: int, rule: Rule) -> tuple[float | None, str]:
    if rule.tests != "p-value":
        return None, "none set"
    if rule.floor and rows >= 100_000:
        return 0.01, "<= 1%"
    return 0.05, "<= 5%"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(SIZES), help="comma-separated: 1k,10k,100k,1M")
    parser.add_argument("--windows", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    if unknown := [s for s in sizes if s not in SIZES]:
        parser.error(f"unknown size: {', '.join(unknown)}")

    summary = [
        "| events | features | windows | rule | tests used | numeric flagged | "
        "categorical flagged | all flagged (95% CI) | windows with a flag | dataset drift | "
        "target |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    per_feature: dict[str, dict[str, float]] = {}
    source = source_digest()
    started = time.monotonic()
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        for index, size in enumerate(sizes):
            rows = SIZES[size]
            size_started = time.monotonic()
            jobs = [(rows, args.seed + 100_000 * index + w, w) for w in range(args.windows)]
            windows = list(pool.map(one_window, jobs, chunksize=max(1, args.windows // 20)))
            names = features_for(rows)
            n_num = sum(FEATURES[n][0] == "numeric" for n in names)
            for rule in rules(rows):
                checks = [row for window in windows for row in window[rule.name]]
                flags = [drifted for _, _, drifted, _ in checks]
                num = [d for name, _, d, _ in checks if FEATURES[name][0] == "numeric"]
                cat = [d for name, _, d, _ in checks if FEATURES[name][0] != "numeric"]
                any_flag = sum(any(r[2] for r in window[rule.name]) for window in windows)
                dataset = sum(window[rule.name][0][3] for window in windows)
                methods = sorted({method for _, method, _, _ in checks})
                low, high = wilson(sum(flags), len(flags))
                limit, limit_text = target(rows, rule)
                share = sum(flags) / len(flags)
                if limit is None:
                    verdict = ""
                elif share <= limit:
                    verdict = " met"
                elif low <= limit:
                    verdict = " above, within noise (95% CI includes it)"
                else:
                    verdict = " NOT met"
                summary.append(
                    f"| {size} | {len(names)} ({n_num} num) | {len(windows)} | {rule.name} | "
                    f"{rule.tests}: {', '.join(methods)} | {sum(num) / len(num):.2%} | "
                    f"{sum(cat) / len(cat):.2%} | {share:.2%} ({low:.2%}-{high:.2%}) | "
                    f"{any_flag / len(windows):.1%} | {dataset / len(windows):.1%} | "
                    f"{limit_text}{verdict} |"
                )
                column = f"{size}, {rule.name}"
                per_feature[column] = {
                    name: sum(d for n, _, d, _ in checks if n == name) / len(windows)
                    for name in names
                }
            print(
                f"{size}: {args.windows} windows in {time.monotonic() - size_started:.0f} s",
                file=sys.stderr,
                flush=True,
            )

    print(
        f"False alarms without drift: {args.windows} seeded windows per size, reference as large "
        f"as the window (seed {args.seed}); detectors sources {source}\n"
    )
    print("\n".join(summary))
    print("\nShare of windows in which each feature was flagged:\n")
    columns = list(per_feature)
    print("| feature | " + " | ".join(columns) + " |")
    print("| --- |" + " --- |" * len(columns))
    for name in FEATURES:
        cells = [f"{per_feature[c][name]:.1%}" if name in per_feature[c] else "-" for c in columns]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print(f"\ntotal {time.monotonic() - started:.0f} s")
    if source_digest() != source:
        print("WARNING: detectors/ changed during the run; windows mix two versions.")


if __name__ == "__main__":
    main()
