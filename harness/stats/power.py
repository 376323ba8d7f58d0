"""The minimum detectable change of a row: what its noise and n let it see.

`same` must not be read as "no change" when a row could not have seen one. Each row
therefore carries the relative change it would detect with 80 % power at the nominal
two-sided α, given its own observed noise: on the log scale

    MDC = (t_{1−α/2, df} + t_{power, df}) · SE

with SE the standard error of the paired test's estimate: for the signed-rank path (n ≥ 12)
that of the 20 %-trimmed mean log ratio (a robust noise figure; the signed-rank test has
about the same power as a t on normal data, asymptotic relative efficiency 0.955, and
more on heavy tails), for the paired t its own; for unpaired rows that of the difference
of trimmed mean logs (Yuen). It is taken at the row's
nominal α, not the Benjamini–Hochberg-adjusted one, so it is a lower bound of what the
report can flag; `benchmarks/verdict_power.py` measures the real one by simulation.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from harness.stats.paired import TRIM, trimmed_se


def detectable_change(log_se: float, df: float, *, alpha: float = 0.05, power: float = 0.8):
    """Relative change (e.g. 0.031 = 3.1 %) detectable with `power`; NaN if undefined."""
    if not (math.isfinite(log_se) and math.isfinite(df) and df >= 1 and log_se >= 0):
        return math.nan
    factor = float(stats.t.ppf(1 - alpha / 2, df) + stats.t.ppf(power, df))
    return math.expm1(factor * log_se)


def yuen_log_se(baseline: np.ndarray, candidate: np.ndarray) -> tuple[float, float]:
    """(SE, Welch df) of the difference of trimmed mean logs of two independent arms."""
    parts = []
    for arm in (baseline, candidate):
        x = np.asarray(arm, dtype=float)
        x = x[np.isfinite(x) & (x > 0)]
        if x.size < 2:
            return math.nan, math.nan
        _, se, df = trimmed_se(np.log(x), TRIM)
        parts.append((se * se, df))
    (v1, df1), (v2, df2) = parts
    se = math.sqrt(v1 + v2)
    denominator = (v1 * v1 / df1 if df1 > 0 else 0.0) + (v2 * v2 / df2 if df2 > 0 else 0.0)
    df = (v1 + v2) ** 2 / denominator if denominator > 0 else math.nan
    return se, df
