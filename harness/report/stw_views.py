"""Numbers for the report's "Latency around STW", schedtrace and perf-diff blocks.

Pure functions of the tables (harness/tables.py) and the comparisons; the template only
prints what these return, and harness/report/claims.py reads the same numbers.

- `phase_table`: per variant and GC phase, the trace's creation → start latencies of the
  probe goroutines pooled over processes (log buckets, quantiles interpolated like every
  other quantile of the report): n, p50, p99, p99.9, max.
- `phase_comparisons`: the comparison rows that carry a GC phase (start-latency metrics
  per phase) plus the probe's whole-process rows, for the section's own verdict table.
- `after_stw_table`: per variant and STW kind, what the Ps other than the stopper's ran
  first once the world restarted (shares of GC workers by mode, probe goroutines, …) and
  how long after the restart.
- `first_after_stw`: per variant, the latency of the first probe goroutine created after
  each sweep-termination STW (the article's "first goroutine after STW").
- `perf_diff`: per workload and event, inclusive and self share of the watched runtime
  symbols per variant and the candidate − baseline difference in percentage points;
  `switch_rates`: sched_switch events per second of process wall time.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from harness.parse import ALL_SYMBOLS, PHASES, TRACE_SOURCE
from harness.report.derive import buckets, quantiles

GC_STW_KINDS = ("sweep-term", "mark-term")
RAN_ORDER = ("gc-worker", "probe", "spawner", "user", "runtime", "unknown", "none")
SCHED_SWITCH = "sched:sched_switch"
CPU_CLOCK = "cpu-clock"


def phase_table(latency: pd.DataFrame, variants: list[str]) -> list[dict]:
    """Per probe scenario (workload), variant and GC phase: the pooled quantiles. Scenarios
    are never pooled with each other: their creators make different distributions."""
    rows = latency[latency["source"] == TRACE_SOURCE]
    out = []
    for workload in pd.unique(rows["workload"]):
        for variant in variants:
            mine = rows[(rows["variant"] == variant) & (rows["workload"] == workload)]
            if mine.empty:
                continue
            for phase in PHASES:
                hist = buckets(mine[mine["phase"] == phase])
                q = quantiles(hist)
                out.append({"workload": str(workload), "variant": variant, "phase": phase, **q})
    return out


def phase_share(table: list[dict]) -> dict[tuple[str, str, str], float]:
    """(workload, variant, phase) -> fraction of that scenario's and variant's traced
    probe goroutines."""
    totals: dict[tuple[str, str], float] = {}
    for row in table:
        key = (row.get("workload", ""), row["variant"])
        totals[key] = totals.get(key, 0.0) + row["n"]
    return {
        (row.get("workload", ""), row["variant"], row["phase"]): (
            row["n"] / totals[(row.get("workload", ""), row["variant"])]
            if totals[(row.get("workload", ""), row["variant"])]
            else math.nan
        )
        for row in table
    }


def phase_comparisons(comparisons: pd.DataFrame) -> pd.DataFrame:
    """Start-latency rows: per phase (trace) first in PHASES order, then "all" (probe)."""
    if comparisons.empty:
        return comparisons
    rows = comparisons[comparisons["metric"].astype(str).str.startswith("start-latency-")]
    rank = {phase: i for i, phase in enumerate(PHASES)}
    rank["all"] = len(PHASES)
    metric_rank = {m: i for i, m in enumerate(_LATENCY_METRICS)}
    return (
        rows.assign(
            _phase=rows["phase"].map(rank).fillna(len(rank)),
            _metric=rows["metric"].map(metric_rank).fillna(len(metric_rank)),
        )
        .sort_values(["benchmark", "_phase", "_metric", "candidate"], kind="stable")
        .drop(columns=["_phase", "_metric"])
        .reset_index(drop=True)
    )


_LATENCY_METRICS = (
    "start-latency-p50-ns",
    "start-latency-p99-ns",
    "start-latency-p999-ns",
    "start-latency-max-ns",
)


def after_stw_table(trace_stw: pd.DataFrame, variants: list[str]) -> list[dict]:
    """Per variant and GC STW kind: what the restarted Ps ran first (not the stopper's)."""
    if trace_stw.empty:
        return []
    rows = trace_stw[(~trace_stw["continued"].astype(bool)) & trace_stw["kind"].isin(GC_STW_KINDS)]
    out = []
    for variant in variants:
        for kind in GC_STW_KINDS:
            mine = rows[(rows["variant"] == variant) & (rows["kind"] == kind)]
            if mine.empty:
                continue
            n = len(mine)
            ran = mine["ran"].astype(str).value_counts()
            labels = mine.loc[mine["ran"] == "gc-worker", "label"].astype(str).value_counts()
            out.append(
                {
                    "variant": variant,
                    "kind": kind,
                    "n": n,
                    "shares": {r: float(ran.get(r, 0)) / n for r in RAN_ORDER if ran.get(r, 0)},
                    "worker_modes": {str(k) or "unlabelled": int(v) for k, v in labels.items()},
                    "delay_p50_us": float(mine["delay_us"].median()),
                    "delay_p99_us": float(np.nanpercentile(mine["delay_us"], 99)),
                    "stw_windows": int(mine[["rep", "stw"]].drop_duplicates().shape[0]),
                }
            )
    return out


def first_after_stw(trace_goroutines: pd.DataFrame, kind: str = "sweep-term") -> pd.DataFrame:
    """One row per (process, STW of `kind`): the first probe goroutine created after that
    STW's restart (and before the next STW): variant, rep, since_stw_us, latency_ns."""
    columns = ["variant", "rep", "since_stw_us", "latency_ns"]
    if trace_goroutines.empty:
        return pd.DataFrame(columns=columns)
    rows = trace_goroutines[
        (trace_goroutines["stw_kind"] == kind) & trace_goroutines["since_stw_us"].notna()
    ]
    rows = rows.assign(_restart=(rows["created_ms"] - rows["since_stw_us"] / 1e3).round(6))
    keys = ["variant", "workload", "rep", "gomaxprocs", "_restart"]
    first = rows.sort_values("since_stw_us").groupby(keys, sort=False).head(1)
    return first[columns].reset_index(drop=True)


def perf_diff(perf_stacks: pd.DataFrame, variants: list[str], baseline: str | None) -> list[dict]:
    """Per (workload, event): watched symbols' mean inclusive/self % per variant, and
    candidate − baseline in percentage points (mean over processes)."""
    if perf_stacks.empty:
        return []
    frame = perf_stacks[perf_stacks["total_samples"] > 0].copy()
    frame["inclusive_pct"] = 100.0 * frame["samples"] / frame["total_samples"]
    frame["self_pct"] = 100.0 * frame["self_samples"] / frame["total_samples"]
    tables = []
    for (workload, event), rows in frame.groupby(["workload", "event"], sort=False):
        present = [v for v in variants if (rows["variant"] == v).any()]
        if not present:
            continue
        means = rows.groupby(["symbol", "variant"])[["inclusive_pct", "self_pct"]].mean()
        totals = rows[rows["symbol"] == ALL_SYMBOLS].groupby("variant")["total_samples"].sum()
        symbols = [s for s in dict.fromkeys(rows["symbol"]) if s != ALL_SYMBOLS]
        table_rows = []
        for symbol in symbols:
            values = {}
            for v in present:
                key = (symbol, v)
                values[v] = (
                    (float(means.at[key, "inclusive_pct"]), float(means.at[key, "self_pct"]))
                    if key in means.index
                    else (math.nan, math.nan)
                )
            diffs = {
                v: values[v][0] - values[baseline][0]
                for v in present
                if baseline in values and v != baseline
            }
            table_rows.append({"symbol": symbol, "values": values, "diffs": diffs})
        tables.append(
            {
                "workload": str(workload),
                "event": str(event),
                "variants": present,
                "candidates": [v for v in present if v != baseline and baseline in present],
                "samples": {v: int(totals.get(v, 0)) for v in present},
                "rows": table_rows,
            }
        )
    return tables


def switch_rates(perf_stacks: pd.DataFrame, variants: list[str]) -> list[dict]:
    """sched_switch events per second of process wall time, per workload and variant."""
    if perf_stacks.empty:
        return []
    rows = perf_stacks[
        (perf_stacks["event"] == SCHED_SWITCH) & (perf_stacks["symbol"] == ALL_SYMBOLS)
    ]
    rows = rows[rows["duration_s"] > 0]
    out = []
    for workload, mine in rows.groupby("workload", sort=False):
        rates = mine.assign(rate=mine["total_samples"] / mine["duration_s"])
        for variant in variants:
            values = rates.loc[rates["variant"] == variant, "rate"]
            if len(values):
                out.append(
                    {
                        "workload": str(workload),
                        "variant": variant,
                        "processes": len(values),
                        "rate_median": float(values.median()),
                        "rate_min": float(values.min()),
                        "rate_max": float(values.max()),
                    }
                )
    return out


def sched_process(sched: pd.DataFrame, gc_cycles: pd.DataFrame, variant: str):
    """The schedtrace rows and GC cycles of one process of `variant` to plot: the probe's
    lowest rep if it has schedtrace rows, else the first workload's lowest rep."""
    mine = sched[sched["variant"] == variant]
    if mine.empty:
        return None
    workloads = list(dict.fromkeys(mine["workload"].astype(str)))
    workload = "probe" if "probe" in workloads else workloads[0]
    rows = mine[mine["workload"] == workload]
    rep = int(rows["rep"].min())
    rows = rows[rows["rep"] == rep]
    procs = int(rows["gomaxprocs"].iloc[0])
    rows = rows[rows["gomaxprocs"] == procs]  # gctrace's "N P" tells processes apart too
    gc = gc_cycles[
        (gc_cycles["variant"] == variant)
        & (gc_cycles["workload"] == workload)
        & (gc_cycles["rep"] == rep)
        & (gc_cycles["procs"] == procs)
    ]
    return workload, rep, rows, gc
