"""Pure statistics of the drift detectors: NumPy and SciPy only, no I/O, no storage.

Build a profile once from the reference data, then compare each current window with it:

* ``NumericReference``: KS test (SciPy's statistic and p-value), PSI, Jensen-Shannon and
  Hellinger on reference-quantile bins, Wasserstein distance normalised by the reference std;
* ``CategoricalReference``: chi-square test with Cramer's V, PSI, Jensen-Shannon and Hellinger
  on the reference categories plus an unseen bucket, the unseen share, and a two-proportion
  Z-test when the reference has two categories;
* ``benjamini_hochberg`` adjusts the p-values of one run across features.

Every function is also usable on its own. See docs/statistics.md for formulas and conventions.

>>> profile = NumericReference([0.1, 0.4, 0.2, 0.9, 0.5, 0.3])
>>> drift = profile.compare([0.1, 0.4, 0.2, 0.9, 0.5, 0.3])
>>> drift.ks.statistic, drift.ks.pvalue, drift.psi
(0.0, 1.0, 0.0)
"""

from detectors.statistics._checks import all_finite
from detectors.statistics.binning import DEFAULT_BINS, bin_counts, quantile_edges
from detectors.statistics.categorical import CategoricalDrift, CategoricalReference
from detectors.statistics.contingency import ChiSquareResult, chi_square_test
from detectors.statistics.divergence import (
    DEFAULT_EPSILON,
    hellinger,
    jensen_shannon,
    proportions,
    psi,
)
from detectors.statistics.ecdf import KSResult, ks_2samp, wasserstein_norm
from detectors.statistics.ks_pvalue import ks_2samp_pvalue
from detectors.statistics.multiple_testing import benjamini_hochberg
from detectors.statistics.numeric import NumericDrift, NumericReference
from detectors.statistics.proportions import ZTestResult, two_proportion_ztest

__all__ = [
    "DEFAULT_BINS",
    "DEFAULT_EPSILON",
    "CategoricalDrift",
    "CategoricalReference",
    "ChiSquareResult",
    "KSResult",
    "NumericDrift",
    "NumericReference",
    "ZTestResult",
    "all_finite",
    "benjamini_hochberg",
    "bin_counts",
    "chi_square_test",
    "hellinger",
    "jensen_shannon",
    "ks_2samp",
    "ks_2samp_pvalue",
    "proportions",
    "psi",
    "quantile_edges",
    "two_proportion_ztest",
    "wasserstein_norm",
]
