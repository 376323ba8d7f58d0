"""The comparisons table: every benchmark × metric (× GC phase) × candidate against the baseline.

Per-process values are the unit of replication (`samples.py`). Each row is estimated and
tested one of two ways, and says which in its `test` column:

- **paired by block** (`paired.py`) when every block (rep) that has a value on either arm
  has one on both, there are at least 3 blocks and every value is positive: the
  within-block log ratios, signed-rank exact test with a Hodges–Lehmann estimate and CI
  (n ≥ 10), or a trimmed paired t (3 ≤ n < 10);
- **unpaired** otherwise (a failed or missing process, a zero value): exact rank-sum test
  (`exact.py`) and the ratio of medians with a bootstrap CI resampling whole processes
  (`bootstrap.py`).

Families (`harness/metrics.py`): Benjamini–Hochberg runs per candidate and family —
`headline`, `secondary` — and an A/A arm is a family of its own whatever the metric, so
adding `--aa` changes nothing in the candidate's rows. A row whose smallest attainable
p-value exceeds α cannot be significant and does not enter its family's m (its q is NaN).
Then `verdict.py` decides, with the row's equivalence margin and its minimum detectable
change (`power.py`) shown beside it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from harness.metrics import AA_FAMILY, equivalence_margin, metric_info
from harness.stats.bootstrap import median_ratio, ratio_ci, row_rng
from harness.stats.exact import rank_sum
from harness.stats.multiple import benjamini_hochberg
from harness.stats.paired import paired_log_test
from harness.stats.power import detectable_change, yuen_log_se
from harness.stats.samples import ROW_KEYS, WHOLE_PROCESS, per_process_values
from harness.stats.verdict import verdict

UNPAIRED = "unpaired rank-sum"
MIN_PAIRS = 3  # fewer complete blocks: no spread to pair on, the unpaired test decides


@dataclass
class _Row:
    """One comparison row; the dataclass fields are the table's columns, in order."""

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
    n_pairs: int  # complete blocks used by a paired test (0: unpaired)
    ratio: float  # paired: exp(estimate of the log ratio); unpaired: ratio of medians
    ci_low: float
    ci_high: float
    p_value: float
    p_min: float  # smallest p-value the test could give at this n and tie pattern
    q_value: float  # BH within (candidate, family); NaN when not tested
    family: str
    test: str
    mdc: float  # relative change detectable with 80 % power at the nominal α
    equivalence: float  # the ± margin of `same`
    verdict: str
    phase: str


COMPARISON_COLUMNS = [f.name for f in fields(_Row)]
_INTS = ("n_baseline", "n_candidate", "n_pairs")
_FLOATS = (
    "baseline_median",
    "candidate_median",
    "ratio",
    "ci_low",
    "ci_high",
    "p_value",
    "p_min",
    "q_value",
    "mdc",
    "equivalence",
)
_DTYPES = {**dict.fromkeys(_INTS, "int64"), **dict.fromkeys(_FLOATS, "float64")}

# `failed` keys: a variant name (its failures count against every workload), or a
# (variant, workload) pair (they count against that workload only).
FailedKey = str | tuple[str, str]


@dataclass(frozen=True)
class _Estimate:
    n_pairs: int
    ratio: float
    ci_low: float
    ci_high: float
    p_value: float
    p_min: float
    test: str
    mdc: float


def _median(values: np.ndarray) -> float:
    return float(np.median(values)) if values.size else math.nan


def _failures(failed: Mapping[FailedKey, int] | None, variant: str, workload: str) -> int:
    if not failed:
        return 0
    return int(failed.get(variant, 0)) + int(failed.get((variant, workload), 0))


def estimate(
    base: pd.Series,
    cand: pd.Series,
    *,
    rng: np.random.Generator,
    alpha: float = 0.05,
    n_boot: int = 2000,
    ci_level: float = 0.95,
) -> _Estimate:
    """Test and estimate one row from two Series of per-process values indexed by block."""
    b, c = base.to_numpy(dtype=float), cand.to_numpy(dtype=float)
    pooled = np.concatenate([b, c])
    if pooled.size and b.size and c.size and np.all(pooled == pooled[0]):
        # Identical constants (allocs/op no patch touches): no change, and no test could
        # ever say otherwise.
        return _Estimate(0, 1.0, 1.0, 1.0, 1.0, 1.0, "constant", 0.0)
    complete = set(base.index) == set(cand.index)
    if complete and b.size >= MIN_PAIRS and np.all(pooled > 0):
        d = np.log(cand.to_numpy(dtype=float)) - np.log(base.reindex(cand.index).to_numpy(float))
        paired = paired_log_test(d, level=ci_level)
        return _Estimate(
            paired.n_pairs,
            paired.ratio,
            paired.ci_low,
            paired.ci_high,
            paired.p_value,
            paired.p_min,
            paired.method,
            detectable_change(paired.log_se, paired.df, alpha=alpha),
        )
    ci = ratio_ci(b, c, n_boot=n_boot, level=ci_level, rng=rng)
    test = rank_sum(b, c, rng=rng)
    se, df = yuen_log_se(b, c)
    return _Estimate(
        0,
        median_ratio(b, c),
        ci.low,
        ci.high,
        test.p_value,
        test.p_min,
        UNPAIRED,
        detectable_change(se, df, alpha=alpha),
    )


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
    aa_arms: Iterable[str] = (),
    equivalence: float | None = None,
) -> pd.DataFrame:
    """Compare each candidate variant with `baseline`; one row per (benchmark, metric,
    phase, candidate) that has samples for both variants. Columns: COMPARISON_COLUMNS.

    - `candidates`: default every variant in `samples` except `baseline`, in order of
      first appearance. A variant without samples (all its processes failed, or its
      build did) simply has no rows, and neither has anything if the baseline has none.
    - `failed`: failed-process counts, keyed by variant (all its workloads) or by
      (variant, workload); either side's failures make its rows `unreliable`.
    - `aa_arms`: candidates that are the baseline run again: their rows form the A/A
      family, corrected apart from everything else.
    - `equivalence`: one relative `same` margin for every row (--equivalence); default
      each metric's own (`harness/metrics.py`).
    - `seed`: the bootstrap is seeded per row from (seed, row identity), so the frame is
      deterministic and a row does not depend on which other rows are present.
    - Rows come in order benchmark, workload, metric (first appearance), phase ("all"
      first), candidate (argument order).
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
    aa = set(aa_arms)

    metric_order = {m: i for i, m in enumerate(pd.unique(per["metric"]))}

    def order(key: tuple) -> tuple:
        workload, benchmark, metric, phase = key
        return (benchmark, workload, metric_order[metric], phase != WHOLE_PROCESS, phase)

    rows: list[_Row] = []
    failures: list[int] = []
    groups = dict(iter(per.groupby(ROW_KEYS, sort=False)))
    for key in sorted(groups, key=order):
        workload, benchmark, metric, phase = key
        group = groups[key].dropna(subset=["value"])
        arms = {
            v: pd.Series(g["value"].to_numpy(dtype=float), index=list(g["process"]))
            for v, g in groups[key].groupby("variant", sort=False)
        }
        arms = {v: s.dropna() for v, s in arms.items()}
        if baseline not in arms:
            continue
        base = arms[baseline]
        info = metric_info(metric)
        for cand in candidates:
            if cand not in arms:
                continue
            other = arms[cand]
            est = estimate(
                base,
                other,
                rng=row_rng(seed, workload, benchmark, metric, phase, baseline, cand),
                alpha=alpha,
                n_boot=n_boot,
                ci_level=ci_level,
            )
            unit = str(groups[key]["unit"].iloc[0]) if group.empty else str(group["unit"].iloc[0])
            rows.append(
                _Row(
                    benchmark=benchmark,
                    metric=metric,
                    unit=unit,
                    direction=str(groups[key]["better"].iloc[0]),
                    baseline=baseline,
                    candidate=cand,
                    baseline_median=_median(base.to_numpy()),
                    candidate_median=_median(other.to_numpy()),
                    n_baseline=int(base.size),
                    n_candidate=int(other.size),
                    n_pairs=est.n_pairs,
                    ratio=est.ratio,
                    ci_low=est.ci_low,
                    ci_high=est.ci_high,
                    p_value=est.p_value,
                    p_min=est.p_min,
                    q_value=math.nan,
                    family=AA_FAMILY if cand in aa else info.family,
                    test=est.test,
                    mdc=est.mdc,
                    equivalence=equivalence_margin(metric, equivalence),
                    verdict="",
                    phase=phase,
                )
            )
            failures.append(
                _failures(failed, baseline, workload) + _failures(failed, cand, workload)
            )

    _adjust_per_family(rows, alpha)
    for row, failed_count in zip(rows, failures, strict=True):
        row.verdict = verdict(
            direction=row.direction,
            ratio=row.ratio,
            ci_low=row.ci_low,
            ci_high=row.ci_high,
            q_value=row.q_value,
            p_min=row.p_min,
            n_baseline=row.n_baseline,
            n_candidate=row.n_candidate,
            equivalence=row.equivalence,
            failures=failed_count,
            alpha=alpha,
            min_n=min_n,
            baseline_median=row.baseline_median,
            candidate_median=row.candidate_median,
        )
    frame = pd.DataFrame(
        [[getattr(r, c) for c in COMPARISON_COLUMNS] for r in rows], columns=COMPARISON_COLUMNS
    )
    return frame.astype(_DTYPES)


def _adjust_per_family(rows: list[_Row], alpha: float) -> None:
    """BH q-values within each (candidate, family); rows that cannot reach α stay NaN."""
    families: dict[tuple[str, str], list[_Row]] = {}
    for row in rows:
        if math.isfinite(row.p_value) and row.p_min <= alpha:
            families.setdefault((row.candidate, row.family), []).append(row)
    for members in families.values():
        adjusted = benjamini_hochberg([r.p_value for r in members])
        for row, q in zip(members, adjusted, strict=True):
            row.q_value = float(q)
