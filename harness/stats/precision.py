"""How precise the headline rows are: the stopping rule of adaptive reps (`--until-ci`).

Stopping is decided on precision (the width of each row's confidence interval), never on
p-values: a rule that stops once a row is significant inflates the false-positive rate
(optional stopping), while one that stops once every CI is narrow enough does not look
at the answer, only at how well it is known.

The half-width of a row is taken on the log scale, where a ratio CI is symmetric for the
paired estimate: exp((ln high − ln low) / 2) − 1, e.g. [0.98, 1.02] → ≈ 2 %.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from harness.metrics import is_headline


def ci_halfwidth(comparisons: pd.DataFrame) -> pd.Series:
    """Relative CI half-width of each row (NaN when the CI is undefined or not positive)."""
    low = pd.to_numeric(comparisons["ci_low"], errors="coerce").to_numpy(dtype=float)
    high = pd.to_numeric(comparisons["ci_high"], errors="coerce").to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        half = np.expm1((np.log(high) - np.log(low)) / 2.0)
    half[~((low > 0) & (high > 0))] = math.nan
    return pd.Series(half, index=comparisons.index, name="ci_halfwidth")


@dataclass(frozen=True)
class Precision:
    target: float  # relative half-width asked for, e.g. 0.02
    rows: int  # headline rows of the candidates (not the A/A arm)
    met: int  # of which have a CI half-width ≤ target
    worst: float  # the largest half-width (NaN: a row has no CI at all)
    worst_row: str  # "Scheduler-2 ns/op" of the worst row

    @property
    def reached(self) -> bool:
        return self.rows > 0 and self.met == self.rows


def headline_precision(
    comparisons: pd.DataFrame, target: float, *, exclude_candidates: tuple[str, ...] = ()
) -> Precision:
    """Does every headline row of the candidates (A/A arms excluded) have a CI half-width
    ≤ target? A row without a CI (too few processes) counts as not met."""
    rows = comparisons[
        comparisons["metric"].map(is_headline)
        & ~comparisons["candidate"].isin(list(exclude_candidates))
    ]
    if rows.empty:
        return Precision(target, 0, 0, math.nan, "")
    half = ci_halfwidth(rows).fillna(math.inf)
    worst_index = half.idxmax()
    worst = rows.loc[worst_index]
    phase = str(worst.get("phase", "all"))
    label = f"{worst['benchmark']} {worst['metric']}" + ("" if phase == "all" else f" [{phase}]")
    return Precision(
        target=target,
        rows=len(rows),
        met=int((half <= target).sum()),
        worst=float(half.max()) if math.isfinite(half.max()) else math.nan,
        worst_row=label,
    )
