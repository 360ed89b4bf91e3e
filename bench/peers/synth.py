"""Seeded synthetic reference/current pairs for the detector benchmarks, cached as ``.npy`` files.

    .venv/bin/python bench/peers/synth.py --rows 100000 --features 50 --out /tmp/x

70% of the features are numeric, 30% categorical (5 to 10 categories); 20% of each kind drift.
Numeric features cycle through five shapes (normal, lognormal, uniform, gamma, integer-valued
with ties); a drifted numeric feature moves by half a reference standard deviation (every other
one also widens by 30%). A drifted categorical feature mixes its category shares 50/50 with
another random share vector. Reference and current are independent draws of the same size.

Stored per case (so every tool, in either virtualenv, reads the same bytes):
``ref_num.npy``/``cur_num.npy`` float64 of shape (numeric features, rows), one contiguous row
per feature; ``ref_cat.npy``/``cur_cat.npy`` int8 category codes of shape (categorical
features, rows); ``meta.json`` with names, labels and the drifted features. Only NumPy and the
standard library are used, so both virtualenvs can import this module.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

SHAPES = ("normal", "lognormal", "uniform", "gamma", "integer")


def _numeric(rng: np.random.Generator, shape: str, size: int, out: np.ndarray) -> None:
    if shape == "normal":
        out[:] = rng.normal(50.0, 10.0, size)
    elif shape == "lognormal":
        out[:] = rng.lognormal(3.0, 0.6, size)
    elif shape == "uniform":
        out[:] = rng.uniform(-1.0, 1.0, size)
    elif shape == "gamma":
        out[:] = rng.gamma(2.0, 1.5, size)
    else:  # an integer-valued feature such as an age: about 60 distinct values, many ties
        out[:] = np.clip(np.round(rng.normal(45.0, 12.0, size)), 18, 90)


def split(n_features: int) -> tuple[int, int, int, int]:
    """(numeric, categorical, drifted numeric, drifted categorical) feature counts."""
    n_num = round(0.7 * n_features)
    n_cat = n_features - n_num
    return n_num, n_cat, round(0.2 * n_num), round(0.2 * n_cat)


def generate(rows: int, features: int, seed: int, out: Path, drift: bool = True) -> dict[str, Any]:
    """Write one reference/current pair to ``out`` and return its metadata."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n_num, n_cat, d_num, d_cat = split(features)
    if not drift:
        d_num = d_cat = 0
    num_names = [f"num_{i:03d}" for i in range(n_num)]
    cat_names = [f"cat_{i:03d}" for i in range(n_cat)]
    # Spread the drifted features over the list instead of taking the first ones.
    drifted_num = (
        set(np.linspace(0, n_num - 1, d_num).round().astype(int).tolist()) if d_num else set()
    )
    drifted_cat = (
        set(np.linspace(0, n_cat - 1, d_cat).round().astype(int).tolist()) if d_cat else set()
    )
    for side in ("ref", "cur"):
        array = np.lib.format.open_memmap(out / f"{side}_num.npy", "w+", np.float64, (n_num, rows))
        for i in range(n_num):
            shape = SHAPES[i % len(SHAPES)]
            _numeric(rng, shape, rows, array[i])
            if side == "cur" and i in drifted_num:
                ref_std = float(np.std(np.load(out / "ref_num.npy", mmap_mode="r")[i]))
                if i % 2:
                    mean = float(array[i].mean())
                    array[i] = mean + (array[i] - mean) * 1.3
                array[i] += 0.5 * ref_std
        array.flush()
        del array
    labels: list[list[str]] = []
    shares: list[np.ndarray] = []
    for _ in range(n_cat):
        k = int(rng.integers(5, 11))
        labels.append([f"v{j}" for j in range(k)])
        shares.append(rng.dirichlet(np.full(k, 2.0)))
    for side in ("ref", "cur"):
        codes = np.lib.format.open_memmap(out / f"{side}_cat.npy", "w+", np.int8, (n_cat, rows))
        for i in range(n_cat):
            p = shares[i]
            if side == "cur" and i in drifted_cat:
                p = 0.5 * p + 0.5 * rng.dirichlet(np.full(p.size, 2.0))
            codes[i] = rng.choice(p.size, size=rows, p=p).astype(np.int8)
        codes.flush()
        del codes
    meta = {
        "rows": rows,
        "features": features,
        "seed": seed,
        "numeric": num_names,
        "categorical": cat_names,
        "labels": labels,
        "drifted": [num_names[i] for i in sorted(drifted_num)]
        + [cat_names[i] for i in sorted(drifted_cat)],
    }
    (out / "meta.json").write_text(json.dumps(meta))
    return meta


def ensure(rows: int, features: int, seed: int, root: Path) -> Path:
    """The cached case directory, generated first if missing."""
    path = root / f"{rows}x{features}-seed{seed}"
    if not (path / "meta.json").exists():
        generate(rows, features, seed, path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--features", type=int, required=True)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--root", type=Path, required=True)
    args = parser.parse_args()
    print(ensure(args.rows, args.features, args.seed, args.root))


if __name__ == "__main__":
    main()
