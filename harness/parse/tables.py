"""Parse results as the tidy tables of DESIGN.md ("Tables"), ready for Parquet.

Every frame has exactly these columns, in this order, and the same dtypes whether it has
rows or not (so concatenating the frames of many processes never changes a dtype). Text
columns use pandas' "str" dtype (the string dtype on pandas 3, object on pandas 2), which
is also what reading the Parquet files back gives.

gc_cycles_frame — one row per gctrace line:
    variant, workload (str), rep (int64), cycle (int64), at_s, stw_sweep_term_ms,
    concurrent_mark_ms, stw_mark_term_ms, heap_start_mb, heap_end_mb, heap_live_mb,
    heap_goal_mb, gc_cpu_pct (float64), procs (int64), forced (bool)

sched_frame — one row per SCHED line (p, p_runqsize = <NA>) and one per P:
    variant, workload (str), rep, t_ms, gomaxprocs, idleprocs, threads, spinningthreads,
    idlethreads, runqueue (int64), p, p_runqsize (nullable Int64)

samples_frame — one row per (benchmark result line, unit):
    run_id, variant, workload, benchmark (str), rep (int64), metric, unit (str),
    value (float64), better ("lower" | "higher"), phase (str)
    `benchmark` is the name without "Benchmark", with `-<procs>` appended when procs != 1,
    i.e. the name benchstat shows (`PingPongAlloc/pairs=4-2`). `metric` and `unit` are
    both the unit token as printed (`ns/op`, `p99-ns`): a Go benchmark names a metric by
    its unit. `better` is the metric registry's direction (harness/metrics.py: e.g.
    `gc-cycles/s` is lower-is-better); for undeclared units "higher" for rates — units
    ending in `/s`, `/sec`, `/second` or `-per-sec` (`MB/s`, `ops/s`) — and "lower" for
    everything else (times, bytes, allocations, counts), benchstat's convention.
    `phase` is "all" (the whole process) for every row here; --trace adds per-process
    rows of one GC phase (`outside-gc`,
    `after-sweep-term`, `mark`, `after-mark-term`, harness/parse/trace_tables.py), which
    harness/stats compares as rows of their own. The column came last, so readers of
    older tables without it take "all".

latency_frame — one row per histogram bucket:
    variant, workload (str), rep (int64), source (str), phase (str),
    bucket_low_ns, bucket_high_ns (float64; NaN for an infinite bound), count (int64)
    source "probe" is the probe's start-latency histogram; a runtime/metrics histogram
    appears under its name without the unit (`/sched/latencies`,
    `/sched/pauses/total/gc`), converted from seconds to ns and rounded to 1e-3 ns so
    the runtime's integral-nanosecond boundaries survive the float round trip. Only
    `:seconds` histograms belong in a latency table; others (bytes) are left out. phase
    is "all": these histograms are not split by GC phase (the trace stage adds
    `outside-gc`, `mark`, … rows).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import pandas as pd

from harness.metrics import direction as metric_direction
from harness.parse.bench import BenchParse
from harness.parse.gctrace import GcCycle
from harness.parse.histogram import Bucket
from harness.parse.probe import ProbeParse
from harness.parse.schedtrace import SchedSample

GC_CYCLES_COLUMNS: dict[str, str] = {
    "variant": "str",
    "workload": "str",
    "rep": "int64",
    "cycle": "int64",
    "at_s": "float64",
    "stw_sweep_term_ms": "float64",
    "concurrent_mark_ms": "float64",
    "stw_mark_term_ms": "float64",
    "heap_start_mb": "float64",
    "heap_end_mb": "float64",
    "heap_live_mb": "float64",
    "heap_goal_mb": "float64",
    "gc_cpu_pct": "float64",
    "procs": "int64",
    "forced": "bool",
}
SCHED_COLUMNS: dict[str, str] = {
    "variant": "str",
    "workload": "str",
    "rep": "int64",
    "t_ms": "int64",
    "gomaxprocs": "int64",
    "idleprocs": "int64",
    "threads": "int64",
    "spinningthreads": "int64",
    "idlethreads": "int64",
    "runqueue": "int64",
    "p": "Int64",
    "p_runqsize": "Int64",
}
SAMPLES_COLUMNS: dict[str, str] = {
    "run_id": "str",
    "variant": "str",
    "workload": "str",
    "benchmark": "str",
    "rep": "int64",
    "metric": "str",
    "unit": "str",
    "value": "float64",
    "better": "str",
    "phase": "str",
}
LATENCY_COLUMNS: dict[str, str] = {
    "variant": "str",
    "workload": "str",
    "rep": "int64",
    "source": "str",
    "phase": "str",
    "bucket_low_ns": "float64",
    "bucket_high_ns": "float64",
    "count": "int64",
}

_SECONDS_SUFFIX = ":seconds"


def gc_cycles_frame(
    cycles: Iterable[GcCycle], *, variant: str, workload: str, rep: int
) -> pd.DataFrame:
    rows = [
        {
            "variant": variant,
            "workload": workload,
            "rep": rep,
            "cycle": c.cycle,
            "at_s": c.at_s,
            "stw_sweep_term_ms": c.stw_sweep_term_ms,
            "concurrent_mark_ms": c.concurrent_mark_ms,
            "stw_mark_term_ms": c.stw_mark_term_ms,
            "heap_start_mb": c.heap_start_mb,
            "heap_end_mb": c.heap_end_mb,
            "heap_live_mb": c.heap_live_mb,
            "heap_goal_mb": c.heap_goal_mb,
            "gc_cpu_pct": c.gc_cpu_pct,
            "procs": c.procs,
            "forced": c.forced,
        }
        for c in cycles
    ]
    return _frame(rows, GC_CYCLES_COLUMNS)


def sched_frame(
    samples: Iterable[SchedSample], *, variant: str, workload: str, rep: int
) -> pd.DataFrame:
    rows = [
        {
            "variant": variant,
            "workload": workload,
            "rep": rep,
            "t_ms": s.t_ms,
            "gomaxprocs": s.gomaxprocs,
            "idleprocs": s.idleprocs,
            "threads": s.threads,
            "spinningthreads": s.spinningthreads,
            "idlethreads": s.idlethreads,
            "runqueue": s.runqueue,
            "p": s.p,
            "p_runqsize": s.p_runqsize,
        }
        for s in samples
    ]
    return _frame(rows, SCHED_COLUMNS)


def samples_frame(
    bench: BenchParse, *, run_id: str, variant: str, workload: str, rep: int
) -> pd.DataFrame:
    rows = [
        {
            "run_id": run_id,
            "variant": variant,
            "workload": workload,
            "benchmark": benchmark_name(r.name, r.procs),
            "rep": rep,
            "metric": unit,
            "unit": unit,
            "value": value,
            "better": better(unit),
            "phase": "all",
        }
        for r in bench.results
        for unit, value in r.metrics.items()
    ]
    return _frame(rows, SAMPLES_COLUMNS)


def latency_frame(probe: ProbeParse, *, variant: str, workload: str, rep: int) -> pd.DataFrame:
    rows = _bucket_rows(probe.histogram, "probe", scale=1.0)
    for name, buckets in probe.runtime_metrics.items():
        if name.endswith(_SECONDS_SUFFIX):
            rows += _bucket_rows(buckets, name.removesuffix(_SECONDS_SUFFIX), scale=1e9)
    for row in rows:
        row.update(variant=variant, workload=workload, rep=rep, phase="all")
    return _frame(rows, LATENCY_COLUMNS)


def benchmark_name(name: str, procs: int) -> str:
    """The name as `go test` printed it, minus "Benchmark": the -N suffix only if N != 1."""
    return name if procs == 1 else f"{name}-{procs}"


def better(unit: str) -> str:
    """The metric registry's direction (harness/metrics.py); undeclared units: "higher"
    for rates (MB/s, ops/s, …-per-sec), "lower" for everything else."""
    return metric_direction(unit, unit)


def _bucket_rows(buckets: Sequence[Bucket], source: str, *, scale: float) -> list[dict]:
    return [
        {
            "source": source,
            "bucket_low_ns": _ns(low, scale),
            "bucket_high_ns": _ns(high, scale),
            "count": count,
        }
        for low, high, count in buckets
    ]


def _ns(bound: float | None, scale: float) -> float:
    if bound is None:
        return math.nan
    return bound if scale == 1.0 else round(bound * scale, 3)


def _frame(rows: list[dict], columns: dict[str, str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(columns))
    return frame.astype(columns)
