"""The per-row significance test: two-sided Mann-Whitney U on per-process values.

Rank-based because benchmark timings are skewed and heavy-tailed (one slow process from a
noisy neighbour must not decide a row), and it needs no distributional assumption for the
tail metrics (p99 latency, max STW), which are themselves extreme-value statistics.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.stats import mannwhitneyu


def mann_whitney_p(
    baseline: Sequence[float] | np.ndarray, candidate: Sequence[float] | np.ndarray
) -> float:
    """Two-sided p-value; NaN if an arm is empty, 1.0 if every value in both arms is equal.

    scipy picks the exact distribution for small samples without ties and the normal
    approximation with tie correction otherwise. All-equal data (e.g. `allocs/op` that no
    patch touches) has zero rank variance; that is "no evidence of a difference", p = 1,
    which we return ourselves rather than rely on how a scipy version handles it.
    """
    b = np.asarray(baseline, dtype=float)
    c = np.asarray(candidate, dtype=float)
    if b.size == 0 or c.size == 0:
        return math.nan
    both = np.concatenate([b, c])
    if np.all(both == both[0]):
        return 1.0
    return float(mannwhitneyu(b, c, alternative="two-sided").pvalue)
