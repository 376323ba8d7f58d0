"""Change detection across nights: did tonight (or the last few nights) step away from
the history? Pure functions on DataFrames: one series' samples in, one finding per
workload × benchmark × metric (× phase) out.

Unit of replication: one process (harness/stats `per_process_values`), as in the A/B
report. A night is summarized by the median of its processes.

For each key, with the nights of the series up to tonight (at most `window` of them,
and none before the key's last known step, i.e. the first bad night or the resolution
night of an earlier alert: after a step the level is learned anew):

1. **Step fit** (asv-style, one change point, L1): among the last `max_step_age` nights
   that have at least `min_before_nights` nights before them, the first bad night k is
   the split that minimizes Σ|x − median| of the log night medians before and after it.
   Fewer than `min_before_nights` nights before every candidate → *insufficient-history*.
2. **Noise threshold τ** (rustc-perf's rule): the night-to-night changes |ln(mᵢ/mᵢ₋₁)|
   of the history before k (up to `window` nights; the change across the last known step
   left out); τ = Q3 + `iqr_k`·IQR of them when there are at least `min_changes`.
   **A/A calibration**: when a control series is given (a pinned toolchain run every
   night beside the others, so its night-to-night changes are this machine's noise and
   nothing else), the same rule on its changes for the same key gives τ_control; τ is
   the larger of the two that exist. With neither (a young series and no control) the
   *short-history* threshold is max(`short_floor`, IQR of the ln values of the history's
   processes): the change must clear the spread of single processes; confidence "low".
3. **Significance**: Mann-Whitney U between the processes of nights ≥ k and those of
   the nights before k, p < `alpha`, and the bootstrap CI of the ratio of medians
   (whole processes resampled, harness/stats `ratio_ci`) excluding 1, so one noisy
   night or process cannot alert by itself.
4. **Size**: |ln ratio| > τ for the segments, and tonight's own median also beyond τ
   from the level before k in the same direction (the step is still there tonight).

All of 2–4 → *regression* or *improvement* (by the metric's `better`), else *no-change*.
Confidence: *high* when τ came from history or a control, p < alpha/10 and |ln ratio| ≥ 2τ;
*low* with the short-history threshold; *medium* otherwise.

Measured on synthetic pure-noise histories (tests/test_history_detect.py), the rate of
false alerts per key and night is printed by the test and recorded in the README.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from harness.stats import mann_whitney_p, median_ratio, per_process_values, ratio_ci, row_rng

KEY = ["workload", "benchmark", "metric", "phase"]

FINDING_COLUMNS = [
    *KEY,
    "unit",
    "better",
    "night",
    "status",  # regression | improvement | no-change | insufficient-history
    "first_bad_night",
    "last_good_night",
    "ratio",
    "ci_low",
    "ci_high",
    "p_value",
    "threshold",  # relative change, exp(τ) − 1
    "threshold_source",  # history | control | short-history
    "confidence",  # high | medium | low ("" when no change)
    "score",  # |ln ratio| / τ
    "before_median",
    "after_median",
    "tonight_median",
    "n_before",
    "n_after",
    "nights_before",
    "nights_after",
]
CHANGES = ("regression", "improvement")


@dataclass(frozen=True)
class DetectParams:
    alpha: float = 0.01
    min_before_nights: int = 2
    min_changes: int = 5
    iqr_k: float = 3.0
    window: int = 30
    max_step_age: int = 7
    short_floor: float = 0.10
    n_boot: int = 2000
    ci_level: float = 0.95
    seed: int = 0

    @classmethod
    def from_mapping(cls, data: Mapping) -> DetectParams:
        known = {f.name: f.type for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ValueError(f"unknown detection settings {unknown}; known: {sorted(known)}")
        return cls(**{k: (int(v) if known[k] == "int" else float(v)) for k, v in data.items()})


def as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, pd.Timestamp):
        return value.date()
    return dt.date.fromisoformat(str(value)[:10])


def process_values(history: pd.DataFrame) -> pd.DataFrame:
    """One value per process: KEY, night, unit, better, value (duplicates → median)."""
    frame = history.assign(
        run_id=[as_date(n).isoformat() for n in history["night"]], variant="series"
    )
    per = per_process_values(frame)
    per["night"] = [dt.date.fromisoformat(p[0]) for p in per["process"]]
    per = per.dropna(subset=["value"])
    return per[[*KEY, "night", "unit", "better", "value"]]


def night_medians(history: pd.DataFrame) -> pd.DataFrame:
    """Per key and night: median, q1, q3 (of the processes) and n. Sorted by night."""
    per = process_values(history)
    if per.empty:
        return pd.DataFrame(columns=[*KEY, "night", "unit", "better", "median", "q1", "q3", "n"])
    grouped = per.groupby([*KEY, "night"], sort=True)
    out = grouped.agg(
        unit=("unit", "first"),
        better=("better", "first"),
        median=("value", "median"),
        q1=("value", lambda v: float(np.percentile(v, 25))),
        q3=("value", lambda v: float(np.percentile(v, 75))),
        n=("value", "size"),
    )
    return out.reset_index()


def night_changes(*segments: np.ndarray) -> np.ndarray:
    """|ln(mᵢ/mᵢ₋₁)| between consecutive night medians inside each segment, never across
    segments (a known step is not noise); non-positive medians give no change."""
    parts = []
    for segment in segments:
        m = np.asarray(segment, dtype=float)
        if m.size < 2:
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            diff = np.abs(np.diff(np.log(m)))
        parts.append(diff[np.isfinite(diff)])
    return np.concatenate(parts) if parts else np.array([])


def noise_threshold(changes: np.ndarray, *, iqr_k: float, min_changes: int) -> float:
    """rustc-perf's rule: Q3 + k·IQR of past |changes|; NaN with fewer than min_changes."""
    changes = np.asarray(changes, dtype=float)
    if changes.size < min_changes:
        return math.nan
    q1, q3 = np.percentile(changes, [25, 75])
    return float(q3 + iqr_k * (q3 - q1))


def find_step(log_medians: np.ndarray, candidates: list[int]) -> int:
    """The split index k (nights k… after) minimizing the L1 cost of two constant levels."""

    def cost(part: np.ndarray) -> float:
        return float(np.abs(part - np.median(part)).sum()) if part.size else 0.0

    costs = [cost(log_medians[:k]) + cost(log_medians[k:]) for k in candidates]
    return candidates[int(np.argmin(costs))]


def detect(
    history: pd.DataFrame,
    night,
    *,
    control: pd.DataFrame | None = None,
    known_steps: Mapping[tuple, object] | None = None,
    params: DetectParams | None = None,
) -> pd.DataFrame:
    """Findings for `night` (FINDING_COLUMNS), one per key with values that night.

    `history`: one series' samples (night, workload, benchmark, rep, metric, unit, value,
    better[, phase]), any nights; only nights ≤ `night` are used. `control`: the same for
    an A/A control series (or None). `known_steps`: {(workload, benchmark, metric, phase):
    night} of the key's last known level change (earlier alerts); nights before it are
    not compared with nights after it.
    """
    params = params or DetectParams()
    night = as_date(night)
    known_steps = {k: as_date(v) for k, v in (known_steps or {}).items() if v is not None}
    if history.empty:
        return pd.DataFrame(columns=FINDING_COLUMNS)
    history = history[[as_date(n) <= night for n in history["night"]]]
    per = process_values(history)
    control_medians = _control_medians(control, night)
    rows = []
    for key, group in per.groupby(KEY, sort=True):
        nights_here = sorted(group["night"].unique())
        if not nights_here or nights_here[-1] != night:
            continue  # not measured tonight: nothing to say about tonight
        rows.append(_detect_key(key, group, night, control_medians.get(key), known_steps, params))
    return pd.DataFrame(rows, columns=FINDING_COLUMNS)


def _control_medians(control: pd.DataFrame | None, night: dt.date) -> dict[tuple, np.ndarray]:
    if control is None or control.empty:
        return {}
    control = control[[as_date(n) <= night for n in control["night"]]]
    medians = night_medians(control)
    return {
        key: group.sort_values("night")["median"].to_numpy(dtype=float)
        for key, group in medians.groupby(KEY, sort=False)
    }


def _detect_key(
    key: tuple,
    group: pd.DataFrame,
    night: dt.date,
    control: np.ndarray | None,
    known_steps: Mapping[tuple, dt.date],
    params: DetectParams,
) -> dict:
    by_night = {n: g["value"].to_numpy(dtype=float) for n, g in group.groupby("night", sort=True)}
    all_nights = sorted(by_night)[-params.window :]
    boundary = known_steps.get(tuple(key))
    level_nights = [n for n in all_nights if boundary is None or n >= boundary]
    medians = np.array([np.median(by_night[n]) for n in level_nights])
    tonight = by_night[night]
    row = {
        **dict(zip(KEY, key, strict=True)),
        "unit": str(group["unit"].iloc[0]),
        "better": str(group["better"].iloc[0]),
        "night": night,
        "status": "insufficient-history",
        "first_bad_night": None,
        "last_good_night": None,
        "ratio": math.nan,
        "ci_low": math.nan,
        "ci_high": math.nan,
        "p_value": math.nan,
        "threshold": math.nan,
        "threshold_source": "",
        "confidence": "",
        "score": math.nan,
        "before_median": math.nan,
        "after_median": math.nan,
        "tonight_median": float(np.median(tonight)),
        "n_before": 0,
        "n_after": 0,
        "nights_before": 0,
        "nights_after": 0,
    }
    last = len(level_nights) - 1
    candidates = [
        k for k in range(params.min_before_nights, last + 1) if last - k < params.max_step_age
    ]
    if not candidates:
        return row
    # Fit on the log scale (changes are relative); a metric that can be 0 on linear.
    k = find_step(np.log(medians) if (medians > 0).all() else medians, candidates)
    before = np.concatenate([by_night[n] for n in level_nights[:k]])
    after = np.concatenate([by_night[n] for n in level_nights[k:]])
    ratio = median_ratio(before, after)
    before_median = float(np.median(before))
    row.update(
        first_bad_night=level_nights[k],
        last_good_night=level_nights[k - 1],
        ratio=ratio,
        p_value=mann_whitney_p(before, after),
        before_median=before_median,
        after_median=float(np.median(after)),
        n_before=int(before.size),
        n_after=int(after.size),
        nights_before=k,
        nights_after=len(level_nights) - k,
        status="no-change",
    )
    # The noise of night-to-night changes before the step (the pair across the last
    # known step is not noise), from this series and from the control.
    history = [n for n in all_nights if n < level_nights[k]]
    cut = history.index(boundary) if boundary in history else 0
    segments = [[np.median(by_night[n]) for n in part] for part in (history[:cut], history[cut:])]
    tau_history = noise_threshold(
        night_changes(*segments), iqr_k=params.iqr_k, min_changes=params.min_changes
    )
    tau_control = (
        noise_threshold(
            night_changes(control[-params.window :]),
            iqr_k=params.iqr_k,
            min_changes=params.min_changes,
        )
        if control is not None
        else math.nan
    )
    found = {"history": tau_history, "control": tau_control}
    found = {name: tau for name, tau in found.items() if math.isfinite(tau)}
    if found:
        source = max(found, key=found.get)
        tau = found[source]
    else:
        source = "short-history"
        with np.errstate(divide="ignore", invalid="ignore"):
            logs_before = np.log(before[before > 0])
        spread = (
            float(np.subtract(*np.percentile(logs_before, [75, 25]))) if logs_before.size else 0
        )
        tau = max(math.log1p(params.short_floor), spread)
    log_ratio = math.log(ratio) if ratio > 0 else math.nan
    row.update(threshold=math.expm1(tau), threshold_source=source)
    if not math.isfinite(log_ratio):
        return row
    row["score"] = abs(log_ratio) / tau if tau > 0 else math.inf
    tonight_ok = before_median > 0 and row["tonight_median"] > 0
    tonight_log = math.log(row["tonight_median"] / before_median) if tonight_ok else math.nan
    if not (
        row["p_value"] < params.alpha
        and abs(log_ratio) > tau
        and math.isfinite(tonight_log)
        and abs(tonight_log) > tau
        and np.sign(tonight_log) == np.sign(log_ratio)
    ):
        return row
    ci = ratio_ci(
        before,
        after,
        n_boot=params.n_boot,
        level=params.ci_level,
        rng=row_rng(params.seed, *map(str, key), night.isoformat()),
    )
    row.update(ci_low=ci.low, ci_high=ci.high)
    if not ci.excludes_one() or (ci.low > 1.0) != (log_ratio > 0):
        return row
    worse = (log_ratio > 0) == (row["better"] == "lower")
    row["status"] = "regression" if worse else "improvement"
    if source == "short-history":
        row["confidence"] = "low"
    elif row["p_value"] < params.alpha / 10 and abs(log_ratio) >= 2 * tau:
        row["confidence"] = "high"
    else:
        row["confidence"] = "medium"
    return row
