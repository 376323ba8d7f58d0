"""Exact permutation distributions of the two rank statistics, ties included.

Why not scipy: `mannwhitneyu(method='auto')` switches to the normal approximation above 8
values per arm or with any tie, and `wilcoxon(method='exact')` refuses ties and zeros.
Benchmark data has ties (gctrace prints two significant digits) and the approximation
caps how small a p-value can get (at n = 10 per arm: 1.8e-4 where the exact test gives
1.1e-5), which makes power non-monotone in n. Both statistics here are sums of
(mid)ranks, so their permutation distribution *conditional on the observed ranks* is a
subset-sum distribution that a small dynamic programme computes exactly: doubled midranks
are integers, and the table has one cell per attainable sum.

- `signed_rank`: paired data. Under H0 every non-zero difference is equally likely to
  have either sign (the sign-flip permutation of a randomized block). Zeros are dropped
  (Wilcoxon's convention, as scipy's default `zero_method='wilcox'`); ties among |d| get
  midranks.
- `rank_sum`: two independent arms. Under H0 every split of the pooled values into arms
  of the observed sizes is equally likely (Mann-Whitney / Wilcoxon rank-sum, midranks).

Both return the two-sided p-value P(|T − E T| ≥ |t − E T|) and the smallest p-value the
test could give with these ranks at all (`p_min`): a row whose `p_min` exceeds α can never
be significant, whatever the data says (see `verdict.py`, "underpowered").

When the table would be too large (a rank-sum of two arms of several hundred values, only
in long histories), a seeded Monte-Carlo permutation test of the same statistic is used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata

# Above this many table cell-updates, permute at random instead (≈ 1 s of numpy).
_DP_LIMIT = 3e8
_MONTE_CARLO = 20_000


@dataclass(frozen=True)
class ExactTest:
    p_value: float  # two-sided; NaN when no test is possible (an empty arm)
    p_min: float  # the smallest two-sided p-value attainable with these ranks
    method: str  # "exact" | "monte-carlo"


NO_TEST = ExactTest(math.nan, math.nan, "")


def _two_sided(support: np.ndarray, probs: np.ndarray, observed: float, mean: float):
    """p-value of `observed` and the smallest attainable one, from a null distribution."""
    deviation = np.abs(support - mean)
    # Sums are integers (doubled ranks): compare with a half-unit tolerance.
    obs = abs(observed - mean) - 0.25
    p = float(probs[deviation >= obs].sum())
    p_min = float(probs[deviation >= deviation[probs > 0].max() - 0.25].sum())
    return min(p, 1.0), min(p_min, 1.0)


def signed_rank(differences: np.ndarray) -> ExactTest:
    """Exact sign-flip test of the Wilcoxon signed-rank statistic (midranks, zeros dropped)."""
    d = np.asarray(differences, dtype=float)
    d = d[np.isfinite(d)]
    d = d[d != 0]
    if d.size == 0:
        return ExactTest(1.0, 1.0, "exact")  # no non-zero difference: no evidence at all
    ranks = np.rint(2 * rankdata(np.abs(d))).astype(np.int64)  # doubled midranks
    total = int(ranks.sum())
    probs = np.zeros(total + 1)
    probs[0] = 1.0
    for r in ranks:  # each rank joins T+ with probability 1/2
        shifted = np.zeros_like(probs)
        shifted[r:] = probs[:-r] if r else probs
        probs = 0.5 * (probs + shifted)
    t_plus = float(ranks[d > 0].sum())
    p, p_min = _two_sided(np.arange(total + 1, dtype=float), probs, t_plus, total / 2)
    return ExactTest(p, p_min, "exact")


def rank_sum(
    baseline: np.ndarray, candidate: np.ndarray, *, rng: np.random.Generator | None = None
) -> ExactTest:
    """Exact permutation test of the rank-sum statistic (Mann-Whitney U), ties by midranks."""
    b = np.asarray(baseline, dtype=float)
    c = np.asarray(candidate, dtype=float)
    b, c = b[np.isfinite(b)], c[np.isfinite(c)]
    if b.size == 0 or c.size == 0:
        return NO_TEST
    pooled = np.concatenate([b, c])
    if np.all(pooled == pooled[0]):
        return ExactTest(1.0, 1.0, "exact")
    ranks = np.rint(2 * rankdata(pooled)).astype(np.int64)
    # The statistic is the rank sum of the smaller arm (fewer DP rows).
    small = ranks[: b.size] if b.size <= c.size else ranks[b.size :]
    k, n = small.size, ranks.size
    observed = float(small.sum())
    mean = k * ranks.sum() / n
    max_sum = int(np.sort(ranks)[-k:].sum())
    if (k + 1) * (max_sum + 1) * n > _DP_LIMIT:
        return _rank_sum_monte_carlo(ranks, k, observed, mean, rng)
    # counts[j, s]: number of j-subsets of the ranks seen so far with sum s.
    counts = np.zeros((k + 1, max_sum + 1))
    counts[0, 0] = 1.0
    for r in ranks:
        counts[1:, r:] += counts[:-1, : max_sum + 1 - r].copy()
    probs = counts[k] / math.comb(n, k)
    p, p_min = _two_sided(np.arange(max_sum + 1, dtype=float), probs, observed, mean)
    return ExactTest(p, p_min, "exact")


def _rank_sum_monte_carlo(ranks, k, observed, mean, rng) -> ExactTest:
    rng = rng if rng is not None else np.random.default_rng(0)
    draws = np.array([rng.permutation(ranks)[:k].sum() for _ in range(_MONTE_CARLO)], float)
    hits = np.sum(np.abs(draws - mean) >= abs(observed - mean) - 0.25)
    # (hits + 1) / (draws + 1): a valid permutation p-value, never 0.
    p = float((hits + 1) / (_MONTE_CARLO + 1))
    n = ranks.size
    p_min = 2.0 / math.comb(n, k) if n < 1000 else 0.0
    return ExactTest(p, p_min, "monte-carlo")


def signed_rank_critical(n: int, alpha: float) -> int:
    """Largest k with P(T+ ≤ k − 1) ≤ alpha / 2 for n untied non-zero differences (k ≥ 1 when
    the test can reach alpha at all, else 0): the Walsh-average order statistic that bounds
    the Hodges–Lehmann confidence interval (`paired.py`)."""
    total = n * (n + 1) // 2
    probs = np.zeros(total + 1)
    probs[0] = 1.0
    for r in range(1, n + 1):
        shifted = np.zeros_like(probs)
        shifted[r:] = probs[:-r]
        probs = 0.5 * (probs + shifted)
    cdf = np.cumsum(probs)
    # P(T+ ≤ k − 1) = cdf[k − 1]; want the largest k with that ≤ alpha / 2.
    ok = np.nonzero(cdf <= alpha / 2 + 1e-12)[0]
    return int(ok[-1] + 1) if ok.size else 0
