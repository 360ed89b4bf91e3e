"""Driftline's detectors against Evidently, NannyML, Alibi Detect and a plain SciPy loop.

    .venv/bin/python bench/detectors_vs_peers.py [--sizes 10k,100k,1M] [--cases ...]

Data: seeded synthetic reference/current pairs of the same size (10k x 20, 100k x 50 and
1M x 100; 70% numeric, 30% categorical with 5-10 categories, 20% of the features drifted), see
``bench/peers/synth.py``; generated once into ``--cache`` and reused.

Every case runs in a fresh subprocess (``bench/peers/worker.py``) with a timeout. Time: wall
clock of the tool's calls, after the inputs are in the form the tool takes (pandas frames for
Driftline's reference, Evidently and NannyML; a dict of arrays for Driftline's window; 2-D
arrays with integer category codes for Alibi Detect and SciPy). Memory: peak RSS of the
subprocess (``ru_maxrss``) at the end minus the peak right after its inputs were loaded.

Driftline is measured three ways: the default ``MonitorConfig`` (references above 1000 rows
use Wasserstein and Jensen-Shannon); every numeric feature forced to KS, which pays SciPy's
exact KS p-value; and ``driftline_stored``, the production split, where the upload builds the
profile and serialises it ("fit / profile" column) and a run loads the stored profile and
detects ("detect" column: the cost of one run). Alibi Detect and NannyML live in their own
virtualenv, ``.venv-peers`` (``bench/peers/requirements.txt``); without it those cases are
reported as not run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WORKER = ROOT / "bench" / "peers" / "worker.py"
SYNTH = ROOT / "bench" / "peers" / "synth.py"
MAIN_PYTHON = ROOT / ".venv" / "bin" / "python"
PEERS_PYTHON = ROOT / ".venv-peers" / "bin" / "python"

# name -> (rows, features, timeout in seconds)
SIZES = {"10k": (10_000, 20, 120), "100k": (100_000, 50, 300), "1M": (1_000_000, 100, 600)}

# name -> (label, runs in the peers' virtualenv)
CASES = {
    "driftline": ("Driftline, default MonitorConfig", False),
    "driftline_ks": ("Driftline, numeric forced to KS", False),
    "driftline_stored": ("Driftline, stored profile (+to_bytes; run: from_bytes+detect)", False),
    "evidently": ("Evidently DataDriftPreset() default", False),
    "evidently_psi": ('Evidently DataDriftPreset(method="psi")', False),
    "scipy": ("scipy ks_2samp + chi2_contingency loop", False),
    "alibi": ("Alibi Detect KSDrift + ChiSquareDrift", True),
    "nannyml": ("NannyML UnivariateDriftCalculator", True),
}


def source_digest() -> str:
    """sha256 of the detectors package's sources: which code a result belongs to."""
    sha = hashlib.sha256()
    for path in sorted((ROOT / "detectors").rglob("*.py")):
        sha.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return sha.hexdigest()[:12]


VERSIONS = {
    MAIN_PYTHON: ["numpy", "scipy", "pandas", "evidently"],
    PEERS_PYTHON: ["numpy", "scipy", "pandas", "alibi-detect", "nannyml"],
}


def _env() -> dict[str, str]:
    env = dict(os.environ)
    # No telemetry from the peers (Evidently's iterative-telemetry, NannyML's segment client).
    env.update(DO_NOT_TRACK="1", ITERATIVE_DO_NOT_TRACK="1", NML_DISABLE_USAGE_LOGGING="1")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return env


def _versions(python: Path, packages: list[str]) -> str:
    if not python.exists():
        return f"{python.relative_to(ROOT)} missing"
    code = (
        "import importlib.metadata as m, sys;"
        "print(', '.join(f'{p} {m.version(p)}' for p in sys.argv[1:]))"
    )
    done = subprocess.run(
        [str(python), "-c", code, *packages], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() or done.stderr.strip().splitlines()[-1]


def run_case(python: Path, case: str, data: Path, timeout: float) -> dict[str, Any]:
    """One fresh subprocess; its own process group so a timeout ends all of it."""
    start = time.monotonic()
    with subprocess.Popen(
        [str(python), str(WORKER), case, str(data)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        start_new_session=True,
    ) as process:
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            return {"case": case, "error": f"> {timeout:.0f} s (timeout)"}
    if process.returncode != 0:
        lines = [line for line in err.strip().splitlines() if line.strip()]
        reason = lines[-1] if lines else f"exit {process.returncode}"
        return {"case": case, "error": f"failed: {reason[:160]}"}
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    result["process_seconds"] = time.monotonic() - start
    return result


def measure(python: Path, case: str, data: Path, timeout: float, repeats: int) -> dict[str, Any]:
    """Median time over ``repeats`` fresh processes, the largest peak memory among them."""
    runs = []
    for _ in range(repeats):
        result = run_case(python, case, data, timeout)
        if "error" in result:
            return result
        runs.append(result)
    phases = runs[0]["seconds"].keys()
    return {
        "case": case,
        "seconds": {p: statistics.median(r["seconds"][p] for r in runs) for p in phases},
        "total": statistics.median(sum(r["seconds"].values()) for r in runs),
        "cpu": statistics.median(r["cpu_seconds"] for r in runs),
        "peak_mb": max(r["peak_mb"] for r in runs),
        "baseline_mb": runs[0]["baseline_peak_mb"],
        "flagged": runs[0]["flagged"],
        "repeats": repeats,
    }


def _seconds(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def table(size: str, meta: dict[str, Any], results: list[dict[str, Any]]) -> str:
    rows, features = meta["rows"], meta["features"]
    drifted = len(meta["drifted"])
    lines = [
        f"### {size}: {rows:,} x {features} ({len(meta['numeric'])} numeric, "
        f"{len(meta['categorical'])} categorical; {drifted} drifted), reference = current size",
        "",
        "| case | fit / profile s | detect s | total s | CPU s | peak MB beyond inputs | "
        f"flagged (of {drifted}) | time vs Driftline |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    base = next((r["total"] for r in results if r["case"] == "driftline" and "total" in r), None)
    for result in results:
        label = CASES[result["case"]][0]
        if "error" in result:
            lines.append(f"| {label} | | | {result['error']} | | | | |")
            continue
        build = result["seconds"].get("build")
        ratio = f"{result['total'] / base:.1f}x" if base else ""
        lines.append(
            f"| {label} | {_seconds(build)} | {_seconds(result['seconds']['detect'])} | "
            f"{_seconds(result['total'])} | {_seconds(result['cpu'])} | "
            f"{result['peak_mb']:,.0f} | {result['flagged']} | "
            f"{ratio} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(SIZES), help="comma-separated: 10k,100k,1M")
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated case names")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/driftline-bench-data"))
    parser.add_argument(
        "--repeats", type=int, default=3, help="fresh processes per case (1 at 1M whatever this)"
    )
    parser.add_argument("--timeout", type=float, help="seconds per case (default: per size)")
    args = parser.parse_args()
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [s for s in sizes if s not in SIZES] + [c for c in cases if c not in CASES]
    if unknown:
        parser.error(f"unknown size or case: {', '.join(unknown)}")

    source = source_digest()
    print(f"python: {sys.version.split()[0]}, {os.cpu_count()} cores; detectors sources {source}")
    for python, packages in VERSIONS.items():
        print(f"{python.relative_to(ROOT)}: {_versions(python, packages)}")
    for size in sizes:
        rows, features, size_timeout = SIZES[size]
        timeout = args.timeout or size_timeout
        repeats = 1 if rows >= 1_000_000 else args.repeats
        started = time.monotonic()
        made = subprocess.run(
            [str(MAIN_PYTHON), str(SYNTH), "--rows", str(rows), "--features", str(features)]
            + ["--seed", str(args.seed), "--root", str(args.cache)],
            capture_output=True,
            text=True,
            check=True,
        )
        data = Path(made.stdout.strip().splitlines()[-1])
        meta = json.loads((data / "meta.json").read_text())
        print(f"\n{size}: data ready in {time.monotonic() - started:.1f} s ({data})", flush=True)
        results = []
        for case in cases:
            python = PEERS_PYTHON if CASES[case][1] else MAIN_PYTHON
            if not python.exists():
                results.append({"case": case, "error": f"not run: {python.relative_to(ROOT)}"})
                continue
            result = measure(python, case, data, timeout, repeats)
            print(f"  {case}: {json.dumps(result)}", file=sys.stderr, flush=True)
            results.append(result)
        print()
        print(table(size, meta, results))
        print(
            f"\nmedian of {repeats} fresh process(es) per case; timeout {timeout:.0f} s; "
            f"input arrays loaded before the baseline: "
            f"{results[0].get('baseline_mb', 0):,.0f} MB peak RSS for the first case",
            flush=True,
        )
    if source_digest() != source:
        print("\nWARNING: detectors/ changed during the run; the tables mix two versions.")


if __name__ == "__main__":
    main()
