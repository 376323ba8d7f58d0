"""Paired comparison by block: the within-rep log ratio of candidate to baseline.

A rep is a randomized block holding every (variant, workload, GOMAXPROCS) once, run back to
back on one machine (`harness/runs/plan.py`). The machine's noise comes in bursts that hit
both arms of a block (measured: within-block correlation of log ns/op 0.55–0.91, and the SD
of the within-block log difference about half the unpaired one), so the difference inside a
block cancels most of it. The unit is still the process: one value per process, one pair
per block.

Methods, by the number of complete pairs n:

- n ≥ `SIGNED_RANK_MIN_PAIRS` (12): Wilcoxon signed-rank, exact sign-flip p-value
  (`exact.py`); estimate = Hodges–Lehmann (median of the Walsh averages of the log
  ratios), CI = the Walsh-average order statistics given by the exact signed-rank
  distribution (distribution-free, coverage ≥ the level asked for).
- 3 ≤ n < 12: the paired t on the log ratios, whose p-value has no floor. A sign-flip
  test cannot go below 2/2ⁿ: at n = 5 that is 0.0625 (nothing could ever be
  significant), at n = 10 it is 0.00195, above the 0.05/50 = 0.001 Benjamini–Hochberg
  needs for a lone change in a 50-row headline family (simulated: power never above 13 %
  for any change up to +100 %, `benchmarks/verdict_power.md`); at n = 12 it is 0.00049.
  Plain, not trimmed: with n − 2g − 1 degrees of freedom the 20 %-trimmed t was
  anti-conservative at n = 10 (rate 0.069 at α = 0.05 on the simulation's bursty
  lognormal model, plain t 0.048); the shared bursts cancel in the difference, and what
  is left of heavy tails makes the t conservative, not liberal.

`log_se`/`df` (for the minimum detectable change, `power.py`) are the 20 %-trimmed mean's
for the signed-rank path (a robust noise figure), the t's own otherwise.

Both are on logs, so the estimate is a ratio (exp of the log estimate) and the CI is one too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from harness.stats.exact import signed_rank, signed_rank_critical

SIGNED_RANK_MIN_PAIRS = 12
TRIM = 0.2
SIGNED_RANK, PAIRED_T = "paired signed-rank", "paired t"


@dataclass(frozen=True)
class PairedResult:
    method: str
    n_pairs: int
    ratio: float  # exp(estimate of the mean/median log ratio)
    ci_low: float
    ci_high: float
    p_value: float
    p_min: float  # smallest attainable p-value with this method and n (0: no floor)
    log_se: float  # standard error of the log estimate (for the detectable change)
    df: float  # degrees of freedom of that standard error


def trimmed_se(x: np.ndarray, trim: float = TRIM) -> tuple[float, float, float]:
    """(trimmed mean, its standard error, degrees of freedom), Tukey–McLaughlin.

    SE = s_w / ((1 − 2γ)·√n) with s_w the SD of the γ-winsorized sample; df = n − 2g − 1.
    """
    x = np.sort(np.asarray(x, dtype=float))
    n = x.size
    g = math.floor(trim * n)
    h = n - 2 * g
    mean = float(x[g : n - g].mean())
    winsorized = np.clip(x, x[g], x[n - 1 - g])
    s_w = float(np.std(winsorized, ddof=1)) if n > 1 else math.nan
    se = s_w / ((h / n) * math.sqrt(n)) if n > 1 else math.nan
    return mean, se, float(h - 1)


def _walsh_averages(d: np.ndarray) -> np.ndarray:
    i, j = np.triu_indices(d.size)
    return np.sort((d[i] + d[j]) / 2.0)


def paired_log_test(log_ratios: np.ndarray, *, level: float = 0.95) -> PairedResult:
    """Test and estimate from within-block log ratios ln(candidate / baseline)."""
    d = np.asarray(log_ratios, dtype=float)
    d = d[np.isfinite(d)]
    n = d.size
    alpha = 1.0 - level
    if n >= SIGNED_RANK_MIN_PAIRS:
        _, se, df = trimmed_se(d)
        test = signed_rank(d)
        walsh = _walsh_averages(d)
        k = signed_rank_critical(n, alpha)
        low, high = walsh[k - 1], walsh[walsh.size - k]
        return PairedResult(
            SIGNED_RANK,
            n,
            math.exp(float(np.median(walsh))),
            math.exp(float(low)),
            math.exp(float(high)),
            test.p_value,
            test.p_min,
            se,
            df,
        )
    if n < 2:
        return PairedResult(PAIRED_T, n, math.nan, math.nan, math.nan, math.nan, 1.0, math.nan, 0)
    mean = float(d.mean())
    se, df = float(d.std(ddof=1)) / math.sqrt(n), float(n - 1)
    if not se > 0:
        # Every log ratio equal: no spread to build a t from. The sign-flip test still
        # says how surprising n equal signs are (and is 1 when they are all zero).
        test = signed_rank(d)
        ratio = math.exp(mean)
        return PairedResult(PAIRED_T, n, ratio, ratio, ratio, test.p_value, test.p_min, 0.0, df)
    t_crit = float(stats.t.ppf(1 - alpha / 2, df))
    p = float(2 * stats.t.sf(abs(mean) / se, df))
    return PairedResult(
        PAIRED_T,
        n,
        math.exp(mean),
        math.exp(mean - t_crit * se),
        math.exp(mean + t_crit * se),
        p,
        0.0,
        se,
        df,
    )
