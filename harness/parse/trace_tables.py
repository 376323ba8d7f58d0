"""Tables from a process's trace-summary.json and perf-*.folded files.

Same conventions as harness/parse/tables.py (fixed columns and dtypes, empty or not).

trace_goroutines_frame — one row per probe goroutine the trace saw:
    variant, workload (str), rep, gomaxprocs (int64), created_ms (float64, ms since the
    trace's first event), latency_ns (float64; NaN: never started), since_stw_us
    (float64, µs since the last GC STW restart; NaN before the first), stw_kind (str:
    "sweep-term" | "mark-term" | ""), phase (str, harness.parse.trace.PHASES)

trace_stw_frame — one row per (stop-the-world window, P):
    variant, workload (str), rep, gomaxprocs, stw (int64, index in the process), kind
    (str: sweep-term | mark-term | other), begin_ms (float64), duration_us (float64:
    range begin → recorded end; NaN if the trace ended inside), restart_gap_us (float64:
    recorded end − restart), p, goid (int64), ran (str: gc-worker | probe | spawner |
    runtime | user | unknown), label (str: dedicated | fractional | idle | ""),
    continued (bool: the stopper's P, going on with the goroutine that stopped the
    world), delay_us (float64: that P's first start − restart)

trace latency rows (`trace_latency_frame`, for the `latency` table): source "trace",
phase one of PHASES, the probe's log buckets (`probe_buckets`) of the creation → start
latencies of each phase's goroutines.

perf_stacks_frame — from the folded stacks, per process, event and watched symbol:
    variant, workload (str), rep, gomaxprocs (int64), event, symbol (str), samples (int64:
    samples whose stack contains the symbol, i.e. inclusive), self_samples (int64: the
    symbol is the leaf), total_samples (int64: all samples of the event), duration_s
    (float64: the process's wall time, for rates such as sched_switch per second).
    symbol "[all]" has samples = total_samples. WATCHED_SYMBOLS lists the symbols.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping

import pandas as pd

from harness.parse.histogram import Bucket, histogram_quantile
from harness.parse.perf_script import stack_shares
from harness.parse.tables import LATENCY_COLUMNS
from harness.parse.trace import PHASES, TraceSummary

TRACE_GOROUTINES_COLUMNS: dict[str, str] = {
    "variant": "str",
    "workload": "str",
    "rep": "int64",
    "gomaxprocs": "int64",
    "created_ms": "float64",
    "latency_ns": "float64",
    "since_stw_us": "float64",
    "stw_kind": "str",
    "phase": "str",
}
TRACE_STW_COLUMNS: dict[str, str] = {
    "variant": "str",
    "workload": "str",
    "rep": "int64",
    "gomaxprocs": "int64",
    "stw": "int64",
    "kind": "str",
    "begin_ms": "float64",
    "duration_us": "float64",
    "restart_gap_us": "float64",
    "p": "int64",
    "goid": "int64",
    "ran": "str",
    "label": "str",
    "continued": "bool",
    "delay_us": "float64",
}
PERF_STACKS_COLUMNS: dict[str, str] = {
    "variant": "str",
    "workload": "str",
    "rep": "int64",
    "gomaxprocs": "int64",
    "event": "str",
    "symbol": "str",
    "samples": "int64",
    "self_samples": "int64",
    "total_samples": "int64",
    "duration_s": "float64",
}
TRACE_SOURCE = "trace"
ALL_SYMBOLS = "[all]"
# What the scheduler-around-GC story is about, as frame-name patterns (Go 1.21–1.27).
WATCHED_SYMBOLS: dict[str, re.Pattern[str]] = {
    name: re.compile(pattern)
    for name, pattern in {
        "runtime.findRunnable": r"^runtime\.findRunnable$",
        "runtime.schedule": r"^runtime\.schedule$",
        "runtime.gcBgMarkWorker": r"^runtime\.gcBgMarkWorker$",
        "runtime.gcDrain*": r"^runtime\.gcDrain",
        "runtime.gcAssistAlloc*": r"^runtime\.gcAssistAlloc",
        "runtime.newproc": r"^runtime\.newproc1?$",
        "runtime.runqput": r"^runtime\.runqput$",
        "runtime.runqputslow": r"^runtime\.runqputslow$",
        "runtime.runqgrow": r"runqgrow",  # the article's; no Go has it
        "runtime.runqget": r"^runtime\.runqget$",
        "runtime.globrunqget*": r"^runtime\.globrunq(get|put)",
        "runtime.stealWork": r"^runtime\.(stealWork|runqsteal|runqgrab)$",
        "runtime.lock2": r"^runtime\.lock2$",
        "runtime.stopTheWorldWithSema": r"^runtime\.(stopTheWorldWithSema|startTheWorldWithSema)$",
    }.items()
}
QUANTILES = (("p50", 0.5), ("p99", 0.99), ("p999", 0.999), ("max", 1.0))

_SUB_BITS = 2


def probe_bucket(value: float) -> tuple[int, int]:
    """[low, high) of the probe's start-latency bucket holding value (cmd/probe's
    bucketIndex/bucketBounds): [0,1) … [3,4), then 4 equal sub-buckets per power of two."""
    v = max(0, int(value))
    if v < 1 << _SUB_BITS:
        return v, v + 1
    k = v.bit_length() - 1
    shift = k - _SUB_BITS
    sub = (v >> shift) & ((1 << _SUB_BITS) - 1)
    return ((1 << _SUB_BITS) + sub) << shift, ((1 << _SUB_BITS) + sub + 1) << shift


def probe_buckets(values: Iterable[float]) -> list[Bucket]:
    counts: Counter = Counter(probe_bucket(v) for v in values)
    return [(float(lo), float(hi), n) for (lo, hi), n in sorted(counts.items())]


def phase_latencies(summary: TraceSummary) -> dict[str, list[int]]:
    """phase -> creation → start latencies (ns) of the goroutines that started."""
    by_phase: dict[str, list[int]] = {phase: [] for phase in PHASES}
    for phase, latency in zip(summary.phase, summary.latency_ns, strict=True):
        if latency is not None:
            by_phase.setdefault(phase, []).append(latency)
    return by_phase


def trace_latency_frame(
    summary: TraceSummary, *, variant: str, workload: str, rep: int
) -> pd.DataFrame:
    rows = [
        {
            "variant": variant,
            "workload": workload,
            "rep": rep,
            "source": TRACE_SOURCE,
            "phase": phase,
            "bucket_low_ns": low,
            "bucket_high_ns": high,
            "count": count,
        }
        for phase, values in phase_latencies(summary).items()
        for low, high, count in probe_buckets(values)
    ]
    return _frame(rows, LATENCY_COLUMNS)


def trace_phase_metrics(summary: TraceSummary) -> dict[tuple[str, str, str], float]:
    """(metric, unit, phase) -> value: start-latency-p50/p99/p999/max-ns per GC phase,
    from the phase's log histogram like the probe's own rows (NaN without goroutines)."""
    values: dict[tuple[str, str, str], float] = {}
    for phase, latencies in phase_latencies(summary).items():
        hist = probe_buckets(latencies)
        for name, q in QUANTILES:
            values[(f"start-latency-{name}-ns", "ns", phase)] = (
                histogram_quantile(hist, q) if hist else math.nan
            )
    return values


def trace_goroutines_frame(
    summary: TraceSummary, *, variant: str, workload: str, rep: int, gomaxprocs: int
) -> pd.DataFrame:
    n = len(summary.created_ns)
    frame = pd.DataFrame(
        {
            "variant": [variant] * n,
            "workload": [workload] * n,
            "rep": [rep] * n,
            "gomaxprocs": [gomaxprocs] * n,
            "created_ms": [t / 1e6 for t in summary.created_ns],
            "latency_ns": [math.nan if v is None else float(v) for v in summary.latency_ns],
            "since_stw_us": [math.nan if v is None else v / 1e3 for v in summary.since_stw_ns],
            "stw_kind": [k or "" for k in summary.stw_kind],
            "phase": list(summary.phase),
        },
        columns=list(TRACE_GOROUTINES_COLUMNS),
    )
    return frame.astype(TRACE_GOROUTINES_COLUMNS)


def trace_stw_frame(
    summary: TraceSummary, *, variant: str, workload: str, rep: int, gomaxprocs: int
) -> pd.DataFrame:
    rows = []
    for index, window in enumerate(summary.stw):
        restart = window.restart_ns if window.restart_ns is not None else window.end_ns
        base = {
            "variant": variant,
            "workload": workload,
            "rep": rep,
            "gomaxprocs": gomaxprocs,
            "stw": index,
            "kind": window.kind,
            "begin_ms": window.begin_ns / 1e6,
            "duration_us": _us(window.end_ns, window.begin_ns),
            "restart_gap_us": _us(window.end_ns, restart),
        }
        for after in window.after or [{}]:
            rows.append(
                {
                    **base,
                    "p": int(after.get("p", -1)),
                    "goid": int(after.get("goid", -1)),
                    "ran": str(after.get("ran") or "none"),
                    "label": str(after.get("label") or ""),
                    "continued": bool(after.get("continued", False)),
                    "delay_us": float(after.get("delay_ns", math.nan)) / 1e3,
                }
            )
    return _frame(rows, TRACE_STW_COLUMNS)


def perf_stacks_frame(
    folded: Mapping[str, Counter],
    *,
    variant: str,
    workload: str,
    rep: int,
    gomaxprocs: int,
    duration_s: float,
) -> pd.DataFrame:
    """`folded`: event -> stack counts (harness.parse.perf_script.read_folded)."""
    rows = []
    for event, stacks in folded.items():
        total = int(sum(stacks.values()))
        ident = {
            "variant": variant,
            "workload": workload,
            "rep": rep,
            "gomaxprocs": gomaxprocs,
            "event": event,
            "total_samples": total,
            "duration_s": duration_s,
        }
        rows.append({**ident, "symbol": ALL_SYMBOLS, "samples": total, "self_samples": total})
        for symbol, (inclusive, self_) in stack_shares(stacks, WATCHED_SYMBOLS).items():
            rows.append({**ident, "symbol": symbol, "samples": inclusive, "self_samples": self_})
    return _frame(rows, PERF_STACKS_COLUMNS)


def _us(end: int | None, start: int | None) -> float:
    return math.nan if end is None or start is None else (end - start) / 1e3


def _frame(rows: list[dict], columns: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(columns)).astype(columns)
