"""The rule that turns one comparison row's statistics into better / worse / same / unreliable."""

from __future__ import annotations

import math

BETTER, WORSE, SAME, UNRELIABLE = "better", "worse", "same", "unreliable"
VERDICTS = (BETTER, WORSE, SAME, UNRELIABLE)


def verdict(
    *,
    direction: str,
    ratio: float,
    ci_low: float,
    ci_high: float,
    q_value: float,
    n_baseline: int,
    n_candidate: int,
    failures: int = 0,
    alpha: float = 0.05,
    min_n: int = 3,
    baseline_median: float = math.nan,
    candidate_median: float = math.nan,
) -> str:
    """Decide one row. Both evidence checks must agree before we call a change:

    1. `unreliable` if either arm has fewer than `min_n` processes, or any process of
       either arm's (variant, workload) failed: a failed process is missing data that is
       not missing at random (crashes and hangs cluster in the slow tail), so its arm's
       surviving values are biased. Also when there is no q-value (no test was possible).
    2. `same` unless q < alpha (BH across the whole report, so multiple testing is paid for).
    3. The bootstrap CI of the ratio (95% by default) must exclude 1: a significant rank test with a
       CI straddling 1 is a distribution-shape change too small to state as a ratio, so it
       stays `same`. When the ratio is undefined (baseline median ≤ 0) there is no CI and
       the q-value decides alone, the sign of candidate − baseline median giving the
       direction (equal medians → `same`).
    4. `direction` maps the change: for "lower" (ns/op, latency) a ratio below 1 is
       `better`; for "higher" (throughput) above 1 is.
    """
    if direction not in ("lower", "higher"):
        raise ValueError(f"direction must be 'lower' or 'higher', got {direction!r}")
    if n_baseline < min_n or n_candidate < min_n or failures > 0 or math.isnan(q_value):
        return UNRELIABLE
    if not q_value < alpha:
        return SAME
    if math.isnan(ratio):
        change = candidate_median - baseline_median
        if math.isnan(change) or change == 0:
            return SAME
        went_up = change > 0
    elif ci_low > 1.0:
        went_up = True
    elif ci_high < 1.0:
        went_up = False
    else:
        return SAME
    return WORSE if went_up == (direction == "lower") else BETTER
