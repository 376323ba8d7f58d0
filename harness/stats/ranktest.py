"""Mann-Whitney U on per-process values, with an exact p-value (ties included).

Rank-based because benchmark timings are skewed and heavy-tailed (one slow process from a
noisy neighbour must not decide a row), and it needs no distributional assumption for the
tail metrics (p99 latency, max STW), which are themselves extreme-value statistics. Used
by the unpaired fallback of `compare.py` and by nightly change detection; the p-value is
the exact permutation one of `exact.rank_sum`, never scipy's normal approximation.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from harness.stats.exact import rank_sum


def mann_whitney_p(
    baseline: Sequence[float] | np.ndarray,
    candidate: Sequence[float] | np.ndarray,
    *,
    rng: np.random.Generator | None = None,
) -> float:
    """Two-sided exact p-value; NaN if an arm is empty, 1.0 if every value is equal."""
    return rank_sum(np.asarray(baseline, float), np.asarray(candidate, float), rng=rng).p_value
