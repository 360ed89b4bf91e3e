"""The usage example at the top of docs/statistics.md, run as written on data with a known
shift: ages moved by half a standard deviation, countries unchanged but for an unseen one."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.support.docs import claimed_blocks


def test_usage_example_flags_the_shifted_feature_only() -> None:
    (example,) = claimed_blocks("docs/statistics.md", "tests/test_statistics_doc.py", "python")
    rng = np.random.default_rng(9)
    countries = np.array(["DE", "FR", "US"])
    namespace: dict[str, Any] = {
        "reference_ages": rng.normal(40, 10, 5000),
        "window_ages": rng.normal(45, 10, 2000),
        "reference_countries": list(rng.choice(countries, 5000)),
        "window_countries": [*rng.choice(countries, 1990), *["XX"] * 10],
    }
    exec(example, namespace)
    drift, cdrift, adjusted = namespace["drift"], namespace["cdrift"], namespace["adjusted"]
    assert drift.ks.pvalue < 1e-10 and drift.ks.effect_size >= 0.1
    assert drift.wasserstein == pytest.approx(0.5, abs=0.1)  # in reference standard deviations
    assert drift.psi > 0.1
    assert cdrift.unseen_share == pytest.approx(10 / 2000)
    assert cdrift.jensen_shannon < 0.1  # the categories' shares barely moved
    assert len(adjusted) == 2 and adjusted[0] < 0.05
