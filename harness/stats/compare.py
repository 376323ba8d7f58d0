"""The comparisons table: every benchmark × metric (× GC phase) × candidate against the baseline.

See DESIGN.md "Statistics": per-process values are the unit of replication; each row gets
the ratio of medians with a bootstrap CI resampling whole processes (`bootstrap.py`), a
two-sided Mann-Whitney U p-value (`ranktest.py`), a Benjamini-Hochberg q-value over all
rows of the returned frame (`multiple.py`), and a verdict (`verdict.py`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from harness.stats.bootstrap import median_ratio, ratio_ci, row_rng
from harness.stats.multiple import benjamini_hochberg
from harness.stats.ranktest import mann_whitney_p
from harness.stats.samples import ROW_KEYS, WHOLE_PROCESS, per_process_values
from harness.stats.verdict import verdict

COMPARISON_COLUMNS = [
    "benchmark",
    "metric",
    "unit",
    "direction",
    "baseline",
    "candidate",
    "baseline_median",
    "candidate_median",
    "n_baseline",
    "n_candidate",
    "ratio",
    "ci_low",
    "ci_high",
    "p_value",
    "q_value",
    "verdict",
    "phase",
]
_DTYPES = {
    "n_baseline": "int64",
    "n_candidate": "int64",
    **{
        c: "float64"
        for c in (
            "baseline_median",
            "candidate_median",
            "ratio",
            "ci_low",
            "ci_high",
            "p_value",
            "q_value",
        )
    },
}

# `failed` keys: a variant name (its failures count against every workload), or a
# (variant, workload) pair (they count against that workload only).
FailedKey = str | tuple[str, str]


@dataclass
class _Row:
    """One row before BH and the verdict (which need every row's p-value)."""

    benchmark: str
    metric: str
    unit: str
    direction: str
    baseline: str
    candidate: str
    baseline_median: float
    candidate_median: float
    n_baseline: int
    n_candidate: int
    ratio: float
    ci_low: float
    ci_high: float
    p_value: float
    q_value: float
    verdict: str
    phase: str
    failures: int


def _median(values: np.ndarray) -> float:
    return float(np.median(values)) if values.size else math.nan


def _failures(failed: Mapping[FailedKey, int] | None, variant: str, workload: str) -> int:
    if not failed:
        return 0
    return int(failed.get(variant, 0)) + int(failed.get((variant, workload), 0))


def compare(
    samples: pd.DataFrame,
    baseline: str,
    candidates: list[str] | None = None,
    *,
    alpha: float = 0.05,
    n_boot: int = 2000,
    seed: int = 0,
    min_n: int = 3,
    failed: Mapping[FailedKey, int] | None = None,
    ci_level: float = 0.95,
) -> pd.DataFrame:
    """Compare each candidate variant with `baseline`; one row per (benchmark, metric,
    phase, candidate) that has samples for both variants. Columns: COMPARISON_COLUMNS.

    - `candidates`: default every variant in `samples` except `baseline`, in order of
      first appearance. A variant without samples (all its processes failed, or its
      build did) simply has no rows, and neither has anything if the baseline has none:
      the report must still render, and shows failures from the manifest.
    - `failed`: failed-process counts, keyed by variant (all its workloads) or by
      (variant, workload); either side's failures make its rows `unreliable`.
    - `seed`: the bootstrap is seeded per row from (seed, row identity), so the frame is
      deterministic and a row's CI does not depend on which other rows are present.
    - `phase` is "all" unless `samples` has a `phase` column, which then splits rows too.
    - Rows come in order benchmark, workload, metric (first appearance), phase ("all"
      first), candidate (argument order). A benchmark name recorded under two workloads
      yields separate rows, never pooled processes; `benchmark` names include the
      workload in practice (`Scheduler-2`, `probe-2`), so this does not arise in runs.

    See `samples.py` for NaN / duplicate-row handling, `bootstrap.py` for the CI method and
    zero medians, `verdict.py` for the decision rule.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    if min_n < 1:
        raise ValueError(f"min_n must be ≥ 1, got {min_n}")
    per = per_process_values(samples)
    if candidates is None:
        candidates = [v for v in pd.unique(per["variant"]) if v != baseline]
    if baseline in candidates:
        raise ValueError(f"baseline {baseline!r} cannot also be a candidate")

    metric_order = {m: i for i, m in enumerate(pd.unique(per["metric"]))}

    def order(key: tuple) -> tuple:
        workload, benchmark, metric, phase = key
        return (benchmark, workload, metric_order[metric], phase != WHOLE_PROCESS, phase)

    rows: list[_Row] = []
    groups = dict(iter(per.groupby(ROW_KEYS, sort=False)))
    for key in sorted(groups, key=order):
        workload, benchmark, metric, phase = key
        group = groups[key]
        arms = {
            v: g["value"].dropna().to_numpy(dtype=float)
            for v, g in group.groupby("variant", sort=False)
        }
        if baseline not in arms:
            continue
        base = arms[baseline]
        for cand in candidates:
            if cand not in arms:
                continue
            other = arms[cand]
            ci = ratio_ci(
                base,
                other,
                n_boot=n_boot,
                level=ci_level,
                rng=row_rng(seed, workload, benchmark, metric, phase, baseline, cand),
            )
            rows.append(
                _Row(
                    benchmark=benchmark,
                    metric=metric,
                    unit=str(group["unit"].iloc[0]),
                    direction=str(group["better"].iloc[0]),
                    baseline=baseline,
                    candidate=cand,
                    baseline_median=_median(base),
                    candidate_median=_median(other),
                    n_baseline=int(base.size),
                    n_candidate=int(other.size),
                    ratio=median_ratio(base, other),
                    ci_low=ci.low,
                    ci_high=ci.high,
                    p_value=mann_whitney_p(base, other),
                    q_value=math.nan,
                    verdict="",
                    phase=phase,
                    failures=_failures(failed, baseline, workload)
                    + _failures(failed, cand, workload),
                )
            )

    for row, q in zip(rows, benjamini_hochberg([r.p_value for r in rows]), strict=True):
        row.q_value = float(q)
        row.verdict = verdict(
            direction=row.direction,
            ratio=row.ratio,
            ci_low=row.ci_low,
            ci_high=row.ci_high,
            q_value=row.q_value,
            n_baseline=row.n_baseline,
            n_candidate=row.n_candidate,
            failures=row.failures,
            alpha=alpha,
            min_n=min_n,
            baseline_median=row.baseline_median,
            candidate_median=row.candidate_median,
        )
    frame = pd.DataFrame(
        [[getattr(r, c) for c in COMPARISON_COLUMNS] for r in rows], columns=COMPARISON_COLUMNS
    )
    return frame.astype(_DTYPES)
