"""Numbers the report shows that are not rows of a table as stored.

- latency histograms pooled per variant (buckets of all processes summed), their CDF and
  quantiles — the same interpolation `harness.parse.histogram_quantile` uses, so the
  report's p99 is the tables' p99;
- per-process GC behaviour from gctrace: cycles per second of process wall time, the
  cumulative GC CPU % (gctrace's figure is since process start, so a process's last line
  is its total), and heap overshoot per cycle (heap at end of mark ÷ goal).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from harness.parse import Bucket, histogram_quantile
from harness.rundir import Manifest

# runtime/metrics STW histograms: `/sched/pauses/total/gc` (Go ≥ 1.22) and the deprecated
# `/gc/pauses` carry the same pauses; prefer the new name and fall back for Go 1.21, so
# the pauses are never counted twice.
STW_SOURCES = ("/sched/pauses/total/gc", "/gc/pauses")
PROBE_SOURCE = "probe"
QUANTILES = (("p50", 0.5), ("p99", 0.99), ("p99.9", 0.999), ("max", 1.0))


def buckets(rows: pd.DataFrame) -> list[Bucket]:
    """Latency rows -> buckets with None for infinite bounds (stored as NaN)."""
    return [
        (_bound(low), _bound(high), int(count))
        for low, high, count in zip(
            rows["bucket_low_ns"], rows["bucket_high_ns"], rows["count"], strict=True
        )
    ]


def pooled(latency: pd.DataFrame, source: str) -> dict[str, list[Bucket]]:
    """variant -> buckets of every process of that variant with this source."""
    rows = latency[latency["source"] == source]
    return {str(v): buckets(group) for v, group in rows.groupby("variant", sort=False)}


def stw_pooled(latency: pd.DataFrame) -> tuple[dict[str, list[Bucket]], dict[str, str]]:
    """Pooled GC-pause buckets per variant and which source each variant's came from."""
    result: dict[str, list[Bucket]] = {}
    used: dict[str, str] = {}
    for variant, rows in latency.groupby("variant", sort=False):
        for source in STW_SOURCES:
            chosen = rows[rows["source"] == source]
            if int(chosen["count"].sum()) > 0:
                result[str(variant)] = buckets(chosen)
                used[str(variant)] = source
                break
    return result, used


def quantiles(hist: Iterable[Bucket]) -> dict[str, float]:
    hist = list(hist)
    values = {name: histogram_quantile(hist, q) for name, q in QUANTILES}
    values["n"] = float(sum(c for _, _, c in hist))
    return values


def cdf_points(hist: Iterable[Bucket]) -> tuple[np.ndarray, np.ndarray]:
    """(x, F(x)) at bucket edges, linear within a bucket like histogram_quantile.

    Infinite edges are dropped (an open-ended top bucket is drawn up to its low end)."""
    merged: dict[tuple[float | None, float | None], int] = {}
    for low, high, count in hist:
        if count > 0:
            merged[(low, high)] = merged.get((low, high), 0) + count
    ordered = sorted(merged.items(), key=lambda item: _sort_key(item[0][0]))
    total = sum(merged.values())
    if total == 0:
        return np.array([]), np.array([])
    xs: list[float] = []
    ys: list[float] = []
    first_low = ordered[0][0][0]
    if first_low is not None:
        xs.append(first_low)
        ys.append(0.0)
    cumulative = 0
    for (low, high), count in ordered:
        cumulative += count
        edge = high if high is not None else low
        if edge is not None:
            xs.append(edge)
            ys.append(cumulative / total)
    return np.array(xs, dtype=float), np.array(ys, dtype=float)


def process_slugs(manifest: Manifest) -> dict[tuple[str, str, int, int], str]:
    """(variant, workload, gomaxprocs, rep) -> the process's raw/ slug (its
    `manifest.processes` key), for every item of the run order."""
    return {
        (item.variant, item.workload, item.gomaxprocs, item.rep): item.slug
        for item in manifest.order
    }


def gc_per_process(gc_cycles: pd.DataFrame, manifest: Manifest) -> pd.DataFrame:
    """One row per process with GC lines: cycles, wall seconds, cycles/s, GC CPU %.

    gc_cycles has no GOMAXPROCS column; gctrace's own `N P` (procs) is the GOMAXPROCS the
    process ran with, which identifies the process together with variant/workload/rep.
    Wall time is the process duration from the manifest, else the last GC's timestamp."""
    columns = ["variant", "workload", "rep", "procs", "cycles", "wall_s", "per_s", "gc_cpu_pct"]
    if gc_cycles.empty:
        return pd.DataFrame(columns=columns)
    slugs = process_slugs(manifest)
    rows = []
    keys = ["variant", "workload", "rep", "procs"]
    for (variant, workload, rep, procs), group in gc_cycles.groupby(keys, sort=False):
        slug = slugs.get((str(variant), str(workload), int(procs), int(rep)))
        record = manifest.processes.get(slug) if slug else None
        wall = record.duration_s if record is not None else None
        if not wall or not math.isfinite(float(wall)) or float(wall) <= 0:
            wall = float(group["at_s"].max())
        wall = float(wall)
        last = group.sort_values("cycle")["gc_cpu_pct"].iloc[-1]
        rows.append(
            {
                "variant": str(variant),
                "workload": str(workload),
                "rep": int(rep),
                "procs": int(procs),
                "cycles": len(group),
                "wall_s": wall,
                "per_s": len(group) / wall if wall > 0 else math.nan,
                "gc_cpu_pct": float(last),
            }
        )
    return pd.DataFrame(rows, columns=columns)


def heap_overshoot(gc_cycles: pd.DataFrame) -> pd.DataFrame:
    """heap_end_mb / heap_goal_mb per unforced cycle (> 1: the heap outgrew its goal).

    Forced cycles (runtime.GC before a timed region) run far below their goal and would
    only blur the picture; cycles with a zero goal have no ratio."""
    columns = ["variant", "workload", "rep", "overshoot"]
    if gc_cycles.empty:
        return pd.DataFrame(columns=columns)
    rows = gc_cycles[(~gc_cycles["forced"].astype(bool)) & (gc_cycles["heap_goal_mb"] > 0)]
    return pd.DataFrame(
        {
            "variant": rows["variant"].astype(str),
            "workload": rows["workload"].astype(str),
            "rep": rows["rep"],
            "overshoot": rows["heap_end_mb"] / rows["heap_goal_mb"],
        },
        columns=columns,
    ).reset_index(drop=True)


def gc_summary(
    per_process: pd.DataFrame, overshoot: pd.DataFrame, variants: list[str]
) -> list[dict]:
    """Median per (workload, variant) of the per-process GC figures, for a table."""
    rows = []
    if per_process.empty:
        return rows
    rank = {v: i for i, v in enumerate(variants)}
    groups = sorted(
        per_process.groupby(["workload", "variant"], sort=False),
        key=lambda item: (str(item[0][0]), rank.get(str(item[0][1]), len(rank))),
    )
    for (workload, variant), group in groups:
        over = overshoot[(overshoot["workload"] == workload) & (overshoot["variant"] == variant)]
        rows.append(
            {
                "workload": str(workload),
                "variant": str(variant),
                "processes": len(group),
                "per_s": float(group["per_s"].median()),
                "gc_cpu_pct": float(group["gc_cpu_pct"].median()),
                "overshoot_p50": float(over["overshoot"].median()) if len(over) else math.nan,
                "overshoot_max": float(over["overshoot"].max()) if len(over) else math.nan,
            }
        )
    return rows


def _bound(value) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) else value


def _sort_key(low: float | None) -> float:
    return -math.inf if low is None else low
