"""Benjamini-Hochberg false discovery rate control across all rows of a report.

A report tests every benchmark × metric × candidate at once; at α = 0.05 a few dozen
rows would produce "significant" changes by chance alone. BH q-values bound the expected
share of false discoveries among the rows we flag instead of each row's own error rate.

We implement BH ourselves (it is a few lines) because `scipy.stats.false_discovery_control`
refuses NaN, and a report has rows without a p-value (an empty arm) that must stay NaN and
must not count towards the number of tests. The tests check it against scipy.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def benjamini_hochberg(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """BH-adjusted q-values, same order as `p_values`; NaN in → NaN out, not counted.

    q_(i) = min over j ≥ i of m · p_(j) / j (p sorted ascending, m = number of non-NaN
    p-values), capped at 1: the smallest FDR level at which that row would be rejected.
    """
    p = np.asarray(p_values, dtype=float)
    if p.ndim != 1:
        raise ValueError(f"p-values must be one-dimensional, got shape {p.shape}")
    finite = ~np.isnan(p)
    if np.any((p[finite] < 0) | (p[finite] > 1)):
        raise ValueError("p-values must lie in [0, 1]")
    q = np.full(p.shape, np.nan)
    m = int(finite.sum())
    if m == 0:
        return q
    tested = p[finite]
    order = np.argsort(tested, kind="stable")
    scaled = tested[order] * m / np.arange(1, m + 1)
    # Step-up: each q is the running minimum from the largest p downwards.
    monotone = np.minimum.accumulate(scaled[::-1])[::-1]
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(monotone, 1.0)
    q[finite] = adjusted
    return q
