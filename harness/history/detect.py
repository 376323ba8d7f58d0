"""Change detection across nights: did tonight (or the last few nights) step away from
the history? Pure functions on DataFrames: one series' samples in, one finding per
workload × benchmark × metric (× phase) out.

A history is one series on one machine (record.py reads it with its machine, and the
control series on the same machine): nights of another machine are never a baseline,
because machines differ in level and noise by more than most steps worth an alert.

Unit of replication: one process (harness/stats `per_process_values`), as in the A/B
report. A night is summarized by the median of its processes.

For each key, with the nights of the series up to tonight (at most `window` of them,
and none before the key's last known step, i.e. the first bad night or the resolution
night of an earlier alert: after a step the level is learned anew):

1. **Step fit** (asv-style, one change point, L1): among the last `max_step_age` nights
   that have at least `min_before_nights` nights before them, the first bad night k is
   the split that minimizes Σ|x − median| of the log night medians before and after it.
   Fewer than `min_before_nights` nights before every candidate → *insufficient-history*.
2. **Noise threshold τ** (rustc-perf's rule): from the night-to-night changes
   |ln(mᵢ/mᵢ₋₁)| of the series before k (up to `window` nights; the change across the
   last known step left out), τ = Q3 + `iqr_k`·IQR, when there are at least
   `min_changes` of them. **A/A calibration**: when a control series is given (a pinned
   toolchain run every night beside the others, so its night-to-night changes are this
   machine's noise and nothing else), the same rule on the control's changes for the
   same key gives τ_control; τ is the larger of the two that exist, so a young series
   gets a calibrated threshold from its first nights. With neither: the *short-history*
   threshold max(`short_floor`, `short_spread_k` · IQR of the ln values of the history's
   processes), so the change must clear the spread of single processes; confidence low.
3. **Significance**: Mann-Whitney U between the processes of nights ≥ k and those of
   the nights before k, p < `alpha`, and the bootstrap CI of the ratio of medians
   (whole processes resampled, harness/stats `ratio_ci`) excluding 1: one noisy process
   cannot alert.
4. **Size**: |ln ratio| > τ for the two segments, and tonight's own median beyond τ
   from the level before k in the same direction: the step is still there tonight, and
   one noisy night cannot alert.

All of 2–4 → *regression* or *improvement* (by the metric's `better`), else *no-change*.
Confidence: *high* when τ came from history or a control, p < alpha/10 and |ln ratio| ≥ 2τ;
*low* with the short-history threshold; *medium* otherwise.

The false-alarm rate of these defaults on synthetic pure-noise histories is measured by
tests/test_history_detect.py and quoted in the README ("Nightly regression reports").
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
import typing
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
    "ratio",  # median of the processes after ÷ before the step
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
    min_changes: int = 12
    iqr_k: float = 3.0
    window: int = 30
    max_step_age: int = 7
    # Below min_changes nights of history there is no noise estimate yet; between nights
    # run hours apart on a shared 2-core VM, medians of 4 processes moved by up to ±30 %
    # with no toolchain change (seen in the suite), so the floor is 50 %, not 25 %.
    short_floor: float = 0.50
    short_spread_k: float = 2.0
    n_boot: int = 2000
    ci_level: float = 0.95
    seed: int = 0

    @classmethod
    def from_mapping(cls, data: Mapping) -> DetectParams:
        """From a config table ([detection] in nightly.toml); unknown keys are errors."""
        hints = typing.get_type_hints(cls)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown detection settings {unknown}; known: {sorted(known)}")
        return cls(**{k: hints[k](v) for k, v in data.items()})


def as_date(value) -> dt.date:
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def process_values(history: pd.DataFrame) -> pd.DataFrame:
    """One value per process and key: KEY, night, unit, better, value.

    A process is (night, rep) within a key; several rows of one process (a benchmark
    printed with -count=N) count once, by their median, as in the A/B statistics."""
    nights = [as_date(n).isoformat() for n in history["night"]]
    per = per_process_values(history.assign(run_id=nights, variant="series"))
    per["night"] = [dt.date.fromisoformat(p[0]) for p in per["process"]]
    per = per.dropna(subset=["value"])[[*KEY, "night", "unit", "better", "value"]]
    # Plain object columns: detection walks them row by row, which Arrow strings slow down.
    labels = [*KEY, "unit", "better"]
    return per.astype(dict.fromkeys(labels, object)).reset_index(drop=True)


def night_medians(history: pd.DataFrame) -> pd.DataFrame:
    """Per key and night: unit, better, median, q1, q3 of the processes, n; by night."""
    per = process_values(history)
    columns = [*KEY, "night", "unit", "better", "median", "q1", "q3", "n"]
    if per.empty:
        return pd.DataFrame(columns=columns)
    grouped = per.groupby([*KEY, "night"], sort=True)["value"]
    out = pd.DataFrame(
        {
            "median": grouped.median(),
            "q1": grouped.quantile(0.25),
            "q3": grouped.quantile(0.75),
            "n": grouped.size(),
        }
    ).reset_index()
    labels = per.groupby(KEY, sort=False)[["unit", "better"]].first().reset_index()
    return out.merge(labels, on=KEY, how="left")[columns]


def night_changes(*segments) -> np.ndarray:
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


def noise_threshold(changes, *, iqr_k: float, min_changes: int) -> float:
    """rustc-perf's rule: Q3 + k·IQR of past |changes| (log scale); NaN when too few."""
    changes = np.asarray(changes, dtype=float)
    if changes.size < min_changes:
        return math.nan
    q1, q3 = np.percentile(changes, [25, 75])
    return float(q3 + iqr_k * (q3 - q1))


def _median(values: np.ndarray) -> float:
    """np.median for the few values of a night or a segment, without its overhead."""
    return float(statistics.median(values.tolist()))


def find_step(levels: np.ndarray, candidates: list[int]) -> int:
    """The split k (nights k… are "after") minimizing the L1 cost of two constant levels."""

    def cost(part: np.ndarray) -> float:
        return float(np.abs(part - _median(part)).sum()) if part.size else 0.0

    costs = [cost(levels[:k]) + cost(levels[k:]) for k in candidates]
    return candidates[int(np.argmin(costs))]


def detect(
    history: pd.DataFrame,
    night,
    *,
    control: pd.DataFrame | None = None,
    known_steps: Mapping[tuple, object] | None = None,
    params: DetectParams | None = None,
) -> pd.DataFrame:
    """Findings for `night` (FINDING_COLUMNS), one per key measured that night.

    `history`: one series' samples on one machine (night, workload, benchmark, rep,
    metric, unit, value, better[, phase]), any nights; only nights ≤ `night` are used.
    `control`: the same for an A/A control series on that machine, or None.
    `known_steps`: {(workload, benchmark, metric, phase): night} where the key's level
    last changed (earlier alerts); nights before it are not compared with nights from it
    on.
    """
    if history.empty:
        return pd.DataFrame(columns=FINDING_COLUMNS)
    for frame, what in ((history, "history"), (control, "control")):
        # One machine's nights only: two machines' medians of one night would be judged
        # as one series, each machine's level the other's "step".
        if frame is not None and "machine" in frame and frame["machine"].nunique() > 1:
            raise ValueError(
                f"detect: the {what} mixes machines {sorted(frame['machine'].unique())}"
            )
    return detect_processes(
        process_values(history),
        night,
        control=None if control is None or control.empty else process_values(control),
        known_steps=known_steps,
        params=params,
    )


def detect_processes(
    per: pd.DataFrame,
    night,
    *,
    control: pd.DataFrame | None = None,
    known_steps: Mapping[tuple, object] | None = None,
    params: DetectParams | None = None,
) -> pd.DataFrame:
    """`detect` on `process_values` frames: for callers that evaluate many nights of one
    history (simulations, backfills) and should aggregate processes once."""
    params = params or DetectParams()
    night = as_date(night)
    steps = {tuple(k): as_date(v) for k, v in (known_steps or {}).items() if v is not None}
    control_medians = {
        key[:4]: np.array([_median(v) for _, v in sorted(nights.items())])
        for key, nights in _by_key_and_night(control, night).items()
    }
    rows = []
    for key, by_night in _by_key_and_night(per, night).items():
        if night not in by_night:
            continue  # not measured tonight: nothing to say about tonight
        rows.append(_detect_key(key, by_night, night, control_medians.get(key[:4]), steps, params))
    return pd.DataFrame(rows, columns=FINDING_COLUMNS)


def _by_key_and_night(
    per: pd.DataFrame | None, until: dt.date
) -> dict[tuple, dict[dt.date, np.ndarray]]:
    """{(*KEY, unit, better): {night: values}} for nights ≤ until, keys sorted."""
    if per is None or per.empty:
        return {}
    columns = [per[c].to_numpy() for c in (*KEY, "unit", "better", "night")]
    values = per["value"].to_numpy(dtype=float)
    out: dict[tuple, dict[dt.date, list[float]]] = {}
    for *key, night, value in zip(*columns, values, strict=True):
        if night <= until:
            out.setdefault(tuple(key), {}).setdefault(night, []).append(value)
    return {
        key: {n: np.array(v) for n, v in out[key].items()}
        for key in sorted(out, key=lambda k: tuple(map(str, k)))
    }


def _detect_key(
    labelled_key: tuple,
    by_night: dict[dt.date, np.ndarray],
    night: dt.date,
    control: np.ndarray | None,
    known_steps: Mapping[tuple, dt.date],
    params: DetectParams,
) -> dict:
    key, labels = labelled_key[:4], labelled_key[4:]
    all_nights = sorted(by_night)[-params.window :]
    boundary = known_steps.get(tuple(key))
    level_nights = [n for n in all_nights if boundary is None or n >= boundary]
    night_median = {n: _median(v) for n, v in by_night.items()}
    tonight = night_median[night]
    row = {
        **dict(zip(KEY, key, strict=True)),
        "unit": labels[0],
        "better": labels[1],
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
        "tonight_median": tonight,
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

    # 1. the step: on the log scale (changes are relative); a metric that can be 0, linear.
    medians = np.array([night_median[n] for n in level_nights])
    k = find_step(np.log(medians) if (medians > 0).all() else medians, candidates)
    before = np.concatenate([by_night[n] for n in level_nights[:k]])
    after = np.concatenate([by_night[n] for n in level_nights[k:]])
    ratio = median_ratio(before, after)
    before_median = _median(before)
    row.update(
        status="no-change",
        first_bad_night=level_nights[k],
        last_good_night=level_nights[k - 1],
        ratio=ratio,
        before_median=before_median,
        after_median=_median(after),
        n_before=int(before.size),
        n_after=int(after.size),
        nights_before=k,
        nights_after=len(level_nights) - k,
    )

    # 2. the noise threshold: this series' history before the step, the control's.
    history = [n for n in all_nights if n < level_nights[k]]
    cut = history.index(boundary) if boundary in history else 0
    segments = [[night_median[n] for n in part] for part in (history[:cut], history[cut:])]
    found = {
        "history": noise_threshold(
            night_changes(*segments), iqr_k=params.iqr_k, min_changes=params.min_changes
        ),
        "control": noise_threshold(
            night_changes(control[-params.window :]),
            iqr_k=params.iqr_k,
            min_changes=params.min_changes,
        )
        if control is not None
        else math.nan,
    }
    found = {name: tau for name, tau in found.items() if math.isfinite(tau)}
    if found:
        source = max(found, key=lambda name: found[name])
        tau = found[source]
    else:
        source = "short-history"
        positive = before[before > 0]
        spread = (
            float(np.subtract(*np.percentile(np.log(positive), [75, 25]))) if positive.size else 0
        )
        tau = max(math.log1p(params.short_floor), params.short_spread_k * spread)
    row.update(threshold=math.expm1(tau), threshold_source=source)
    if not (ratio > 0 and before_median > 0 and tonight > 0):
        return row  # no relative change to speak of (a zero level)
    log_ratio = math.log(ratio)
    tonight_log = math.log(tonight / before_median)
    row["score"] = abs(log_ratio) / tau if tau > 0 else math.inf

    # 4 then 3 (the cheap test first): big enough, still there tonight, significant.
    if not (
        abs(log_ratio) > tau and abs(tonight_log) > tau and (tonight_log > 0) == (log_ratio > 0)
    ):
        return row
    row["p_value"] = mann_whitney_p(before, after)
    if not row["p_value"] < params.alpha:
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
