"""Bootstrap confidence interval for the ratio of medians, resampling whole processes.

Processes are the unit of replication (DESIGN.md "Statistics"): values measured inside one
process share its heap layout, CPU placement and scheduler state, so they are not
independent. The inputs here are therefore one value per process (see `samples.py`), and
each bootstrap replicate draws processes with replacement, independently in each arm (the
two arms are independent sets of processes; nothing pairs baseline rep 3 with candidate
rep 3).

Method: the percentile bootstrap. We chose it over BCa because n per arm is small (often
5-20): BCa's jackknife acceleration is itself noisy there, and on the discrete, tied
distributions medians of few values produce it is prone to degenerate. The bounds are
taken as order statistics of the replicate ratios rounded outwards (`lower` for the low
bound, `higher` for the high one) rather than interpolated: slightly conservative, and it
stays well defined when some replicates are infinite (a resampled baseline median of 0).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RatioCI:
    """A confidence interval for candidate median / baseline median (NaN when undefined)."""

    low: float
    high: float

    def excludes_one(self) -> bool:
        return self.low > 1.0 or self.high < 1.0


NO_CI = RatioCI(math.nan, math.nan)


def median_ratio(baseline: np.ndarray, candidate: np.ndarray) -> float:
    """candidate median / baseline median; NaN if an arm is empty or the baseline median ≤ 0.

    A ratio against a zero (or negative) baseline says nothing about relative change, so
    it is left undefined and the verdict falls back to the test alone (`verdict.py`).
    """
    if baseline.size == 0 or candidate.size == 0:
        return math.nan
    base = float(np.median(baseline))
    if not base > 0:
        return math.nan
    return float(np.median(candidate)) / base


def row_rng(seed: int, *key: str) -> np.random.Generator:
    """A generator for one comparison row, from the user's seed and the row's identity.

    Seeding per row (not one stream for the whole report) keeps a row's CI identical
    whether or not other variants, metrics or benchmarks are in the same report. The key
    is hashed with sha256 because Python's `hash` of a str changes between interpreters.
    """
    digest = hashlib.sha256("\0".join(key).encode()).digest()
    return np.random.default_rng([seed, int.from_bytes(digest[:8], "little")])


def ratio_ci(
    baseline: Sequence[float] | np.ndarray,
    candidate: Sequence[float] | np.ndarray,
    *,
    n_boot: int = 2000,
    level: float = 0.95,
    rng: np.random.Generator,
) -> RatioCI:
    """Percentile-bootstrap CI of median(candidate) / median(baseline), one value per process.

    Undefined (NaN, NaN) when an arm is empty or the observed baseline median is ≤ 0, to
    match `median_ratio`. A replicate whose resampled medians are both 0 counts as ratio 1
    (no change); one with only the baseline median at 0 counts as +inf.
    """
    if n_boot < 1:
        raise ValueError(f"n_boot must be ≥ 1, got {n_boot}")
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    b = np.asarray(baseline, dtype=float)
    c = np.asarray(candidate, dtype=float)
    if math.isnan(median_ratio(b, c)):
        return NO_CI
    boot_b = np.median(b[rng.integers(0, b.size, size=(n_boot, b.size))], axis=1)
    boot_c = np.median(c[rng.integers(0, c.size, size=(n_boot, c.size))], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = boot_c / boot_b
    ratios[(boot_b == 0) & (boot_c == 0)] = 1.0
    tail = (1.0 - level) / 2.0
    return RatioCI(
        low=float(np.quantile(ratios, tail, method="lower")),
        high=float(np.quantile(ratios, 1.0 - tail, method="higher")),
    )
