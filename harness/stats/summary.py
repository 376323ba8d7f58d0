"""Headline numbers from a comparisons frame: verdict counts and the A/A false-positive rate."""

from __future__ import annotations

import pandas as pd

from harness.stats.verdict import BETTER, UNRELIABLE, VERDICTS, WORSE


def summarize(comparisons: pd.DataFrame) -> dict[str, int]:
    """Rows per verdict, every verdict present (zeros included), in VERDICTS order."""
    counts = comparisons["verdict"].value_counts()
    return {v: int(counts.get(v, 0)) for v in VERDICTS}


def aa_false_positive_rate(comparisons: pd.DataFrame, aa_candidate: str) -> dict:
    """How often the report cries wolf, measured on an A/A arm.

    The A/A arm is the baseline toolchain run again as its own variant (e.g.
    "baseline-aa"): any `better`/`worse` row against it is a false positive, so the share
    of such rows is the real false-positive rate of this machine and configuration,
    noise and all, which the nominal α does not tell you.

    Returns {"rows": n, "flagged": k, "rate": k / n} over the rows whose candidate is
    `aa_candidate` and whose verdict is not `unreliable` (those could not be flagged, so
    they would only dilute the rate). `rate` is None when n = 0 (no such arm, or all
    unreliable), which also keeps the dict valid JSON.
    """
    arm = comparisons[comparisons["candidate"] == aa_candidate]
    decided = arm[arm["verdict"] != UNRELIABLE]
    rows = len(decided)
    flagged = int(decided["verdict"].isin([BETTER, WORSE]).sum())
    return {"rows": rows, "flagged": flagged, "rate": flagged / rows if rows else None}
