"""Headline numbers from a comparisons frame: verdict counts and the A/A calibration."""

from __future__ import annotations

import pandas as pd
from scipy.stats import binom

from harness.stats.verdict import FLAGGED, UNRELIABLE, VERDICTS


def summarize(comparisons: pd.DataFrame) -> dict[str, int]:
    """Rows per verdict, every verdict present (zeros included), in VERDICTS order."""
    counts = comparisons["verdict"].value_counts()
    return {v: int(counts.get(v, 0)) for v in VERDICTS}


def aa_calibration(comparisons: pd.DataFrame, aa_candidate: str, *, alpha: float = 0.05) -> dict:
    """The A/A arm as a calibration of this machine and protocol, not a decoration.

    The arm is the baseline toolchain run again as its own variant, so every null
    hypothesis in its family is true. Two checks, each with what the null predicts:

    - `flagged`: rows `better`/`worse` after BH in the A/A family. BH with all nulls
      true controls the family-wise rate: P(flagged ≥ 1) ≤ α, so `expected_flagged`
      is "0 (P(≥ 1) ≤ α)".
    - `raw_below_alpha`: rows whose *unadjusted* p < α. Under the null each such p is
      uniform (exact tests: at most α), so the count is ≤ Binomial(tested, α); the
      central 95 % range of that binomial is `expected_range`. More than its top says
      the test's assumptions fail here (e.g. blocks that are not exchangeable: a
      systematic order effect inside a block), which a rank test alone cannot see.
      Rows cannot be independent (the metrics of one process are correlated), so read
      it as a sanity range, not a test of its own.

    `rows` counts the arm's rows that were not `unreliable`; `tested` those that entered
    the family (a finite q). The rate is None when nothing was tested.
    """
    arm = comparisons[comparisons["candidate"] == aa_candidate]
    decided = arm[arm["verdict"] != UNRELIABLE]
    tested = decided[decided["q_value"].notna()]
    flagged = int(decided["verdict"].isin(FLAGGED).sum())
    below = int((tested["p_value"] < alpha).sum())
    n = len(tested)
    low, high = (int(binom.ppf(0.025, n, alpha)), int(binom.ppf(0.975, n, alpha))) if n else (0, 0)
    return {
        "candidate": aa_candidate,
        "rows": len(decided),
        "tested": n,
        "flagged": flagged,
        "rate": flagged / len(decided) if len(decided) else None,
        "expected_flagged": 0,
        "p_any_flagged_max": alpha,
        "raw_below_alpha": below,
        "expected_raw": round(alpha * n, 2),
        "expected_range": [low, high],
        "raw_ok": below <= high if n else None,
        "alpha": alpha,
    }
