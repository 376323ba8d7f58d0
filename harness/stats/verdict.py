"""The rule that turns one comparison row's statistics into a verdict that says what it knows.

better / worse   significant within its family (BH q < α) and the CI excludes no change,
                 in the metric's direction;
same             the CI lies inside ±equivalence: any change is smaller than what matters;
inconclusive     neither: not significant, but the CI is too wide to rule out a change
                 that matters (more reps would tell);
underpowered     the test cannot reach significance at this n and tie pattern at all
                 (its smallest attainable p-value exceeds α) and the CI does not show
                 equivalence either; such rows do not enter the family's m;
unreliable       an arm has fewer than `min_n` processes, or a process of either arm's
                 (variant, workload) failed: missing data that is not missing at random
                 (crashes and hangs cluster in the slow tail), so the survivors are biased.
"""

from __future__ import annotations

import math

BETTER, WORSE, SAME = "better", "worse", "same"
INCONCLUSIVE, UNDERPOWERED, UNRELIABLE = "inconclusive", "underpowered", "unreliable"
VERDICTS = (WORSE, BETTER, INCONCLUSIVE, UNDERPOWERED, UNRELIABLE, SAME)
FLAGGED = (BETTER, WORSE)


def within(ci_low: float, ci_high: float, margin: float) -> bool:
    """Is the whole CI inside [1 − margin, 1 + margin]?"""
    return (
        math.isfinite(ci_low)
        and math.isfinite(ci_high)
        and ci_low >= 1.0 - margin
        and ci_high <= 1.0 + margin
    )


def verdict(
    *,
    direction: str,
    ratio: float,
    ci_low: float,
    ci_high: float,
    q_value: float,
    p_min: float,
    n_baseline: int,
    n_candidate: int,
    equivalence: float,
    failures: int = 0,
    alpha: float = 0.05,
    min_n: int = 3,
    baseline_median: float = math.nan,
    candidate_median: float = math.nan,
) -> str:
    """Decide one row (see the module docstring for what each verdict means).

    When the ratio is undefined (a baseline median ≤ 0, so no relative CI) a significant
    q decides alone, the sign of candidate − baseline median giving the direction.
    """
    if direction not in ("lower", "higher"):
        raise ValueError(f"direction must be 'lower' or 'higher', got {direction!r}")
    if n_baseline < min_n or n_candidate < min_n or failures > 0:
        return UNRELIABLE
    equivalent = within(ci_low, ci_high, equivalence)
    if not p_min <= alpha:  # NaN p_min: no test was possible
        return SAME if equivalent else UNDERPOWERED
    if q_value < alpha:
        went_up: bool | None
        if math.isnan(ratio):
            change = candidate_median - baseline_median
            went_up = None if math.isnan(change) or change == 0 else change > 0
        elif ci_low > 1.0:
            went_up = True
        elif ci_high < 1.0:
            went_up = False
        else:
            went_up = None
        if went_up is not None:
            return WORSE if went_up == (direction == "lower") else BETTER
    return SAME if equivalent else INCONCLUSIVE
