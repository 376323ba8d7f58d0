"""raw/ → tidy tables: a pure function of what a run recorded (DESIGN.md "Tables").

`build_tables(run_dir)` reads every finished process under raw/ and returns the frames;
`write_tables(run_dir)` writes them as Parquet under tables/. Running it twice, or on a
copy of raw/, gives the same tables.

Besides the rows the parsers produce, each process contributes per-process summary rows
to `samples` (tail metrics are computed per process, then compared across processes):

- `stw-sweep-term-p99-ms`, `stw-mark-term-p99-ms`, `stw-pause-max-ms` and the companions
  `stw-*-mean-ms`, `stw-*-p95-ms` (gctrace): STW phases over the same number of non-forced
  cycles in every process of a row (`harness/stw_tails.py`: spike size, not GC frequency),
  with that number as `stw-cycles-compared`; for the probe (Go ≥ 1.22) also
  `stw-hist-p99-ns` and `stw-hist-max-ns` from the runtime's nanosecond pause histogram
  (the latter the expected max of the row's smallest pause count);
- `gc-cycles` (gctrace): gctrace lines the process printed;
- `cpu-ns/op` (status.json, benchmarks only): the process's user+sys CPU time (children
  rusage: process start, Go's 1-op warm-up run and a --perf wrapper included) divided by
  its -benchtime N; absent for status files that predate the figure;
- `start-latency-p50-ns`, `-p99-ns`, `-p999-ns`, `-max-ns` (probe): creation→start
  latency of the probe's goroutines, from its histogram;
- GC costs: `mark-phase-mean-ms`, `-p95-ms`, `heap-overshoot-mean`, `-max` (gctrace, the
  same K cycles as the STW tails: harness/gc_cost.py); for the probe also the
  runtime/metrics costs of its window (`gc-assist-cpu-%`, …, `gc-cycles/s`,
  `sched-latency-p50/p99-ns`, `stw-stopping-%`), which benchmarks print themselves;
- `gc-mark-cpu-%`: gc-assist-cpu-% + gc-dedicated-cpu-% (the mark work the program pays
  for); `stw-stopped-ns/op` (benchmarks, Go ≥ 1.22): stw-ns/op minus stw-stopping-ns/op.

Their `benchmark` is the workload's benchmark name with the `-<GOMAXPROCS>` suffix Go
uses (none at 1), e.g. `Scheduler-2`, `probe-2`.

With --trace, the probe's trace-summary.json adds (harness/parse/trace_tables.py):
`latency` rows with source "trace" and a GC phase (`outside-gc`, `after-sweep-term`,
`mark`, `after-mark-term`); `samples` rows `start-latency-p50/p99/p999/max-ns` with that
`phase` (every other row's phase is "all"), so the comparisons get per-phase rows;
`trace_goroutines` (one row per probe goroutine: creation, latency, time since the last
STW, phase) and `trace_stw` (one row per STW window and P: what the P ran first after it).

Extra outputs: `perf_symbols` (variant, workload, rep, gomaxprocs, event, symbol,
shared_object, overhead_pct = self time; when run with --perf), `perf_stacks`
(inclusive and self samples of watched runtime symbols from the folded stacks,
perf-<event>.folded) and `parse_warnings.json` (per process and parser: lines skipped,
with examples; also a trace that could not be summarized), which reports show.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from harness.gc_cost import UNITS as GC_COST_UNITS
from harness.gc_cost import overshoot
from harness.metrics import direction as metric_direction
from harness.parse import (
    GC_CYCLES_COLUMNS,
    LATENCY_COLUMNS,
    SAMPLES_COLUMNS,
    SCHED_COLUMNS,
    gc_cycles_frame,
    histogram_quantile,
    latency_frame,
    parse_bench,
    parse_gctrace,
    parse_perf_report,
    parse_probe,
    parse_schedtrace,
    samples_frame,
    sched_frame,
)
from harness.parse.perf_script import read_folded
from harness.parse.tables import benchmark_name
from harness.parse.trace import TraceSummary
from harness.parse.trace_tables import (
    PERF_STACKS_COLUMNS,
    TRACE_GOROUTINES_COLUMNS,
    TRACE_STW_COLUMNS,
    perf_stacks_frame,
    trace_goroutines_frame,
    trace_latency_frame,
    trace_phase_metrics,
    trace_stw_frame,
)
from harness.runs import execute
from harness.runs.perf import FOLDED_PREFIX, FOLDED_SUFFIX
from harness.runs.plan import RunItem
from harness.runs.trace import SUMMARY_FILE
from harness.stw_tails import (
    HIST_SOURCE,
    ProcessHistogram,
    ProcessPauses,
    equal_count_tails,
    histogram_tails,
)

TABLES = (
    "samples",
    "gc_cycles",
    "sched",
    "latency",
    "perf_symbols",
    "perf_stacks",
    "trace_goroutines",
    "trace_stw",
)
PERF_COLUMNS = {
    "variant": "str",
    "workload": "str",
    "rep": "int64",
    "gomaxprocs": "int64",
    "event": "str",
    "symbol": "str",
    "shared_object": "str",
    "overhead_pct": "float64",
}
# Every table this module writes, with its columns and dtypes (the report reads it too).
TABLE_COLUMNS: dict[str, dict[str, str]] = {
    "samples": SAMPLES_COLUMNS,
    "gc_cycles": GC_CYCLES_COLUMNS,
    "sched": SCHED_COLUMNS,
    "latency": LATENCY_COLUMNS,
    "perf_symbols": PERF_COLUMNS,
    "perf_stacks": PERF_STACKS_COLUMNS,
    "trace_goroutines": TRACE_GOROUTINES_COLUMNS,
    "trace_stw": TRACE_STW_COLUMNS,
}


@dataclass
class Tables:
    frames: dict[str, pd.DataFrame]
    warnings: list[dict] = field(default_factory=list)
    processes: dict[str, str] = field(default_factory=dict)  # slug -> status


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _warn(warnings: list[dict], slug: str, parser: str, parsed) -> None:
    if parsed.skipped:
        warnings.append(
            {
                "process": slug,
                "parser": parser,
                "skipped": parsed.skipped,
                "examples": list(parsed.skipped_examples),
            }
        )


def _summary_rows(
    run_id: str, item: RunItem, benchmark: str, values: dict, phase: str = "all"
) -> list:
    return [
        {
            "run_id": run_id,
            "variant": item.variant,
            "workload": item.workload,
            "benchmark": benchmark,
            "rep": item.rep,
            "metric": metric,
            "unit": unit,
            "value": value,
            "better": metric_direction(metric, unit),
            "phase": phase,
        }
        for (metric, unit), value in values.items()
        if value is not None and not math.isnan(value)
    ]


def _pauses(cycles, key: tuple, process: tuple) -> ProcessPauses:
    """The process's non-forced STW phases, for `stw_tails` (equal cycle counts)."""
    kept = [c for c in cycles if not c.forced]
    return ProcessPauses(
        key=key,
        process=process,
        sweep_ms=np.array([c.stw_sweep_term_ms for c in kept], dtype=float),
        mark_ms=np.array([c.stw_mark_term_ms for c in kept], dtype=float),
        concurrent_mark_ms=np.array([c.concurrent_mark_ms for c in kept], dtype=float),
        overshoot=overshoot(
            np.array([c.heap_end_mb for c in kept], dtype=float),
            np.array([c.heap_goal_mb for c in kept], dtype=float),
        ),
    )


def _pause_histogram(latency: pd.DataFrame, key: tuple, item: RunItem) -> ProcessHistogram | None:
    """The process's runtime/metrics STW pause histogram (Go ≥ 1.22 only)."""
    rows = latency[latency["source"] == HIST_SOURCE]
    if rows.empty:
        return None
    return ProcessHistogram(
        key=key,
        process=(item, key[1]),
        low_ns=rows["bucket_low_ns"].to_numpy(dtype=float),
        high_ns=rows["bucket_high_ns"].to_numpy(dtype=float),
        counts=rows["count"].to_numpy(dtype=float),
    )


def _stw_rows(
    run_id: str, pauses: list[ProcessPauses], histograms: list[ProcessHistogram]
) -> pd.DataFrame:
    rows = []
    for (item, name), metrics in equal_count_tails(pauses).items():
        units = {m: GC_COST_UNITS.get(m, "ms") for m in metrics} | {"stw-cycles-compared": "cycles"}
        rows += _summary_rows(run_id, item, name, {(m, units[m]): v for m, v in metrics.items()})
    for (item, name), metrics in histogram_tails(histograms).items():
        rows += _summary_rows(run_id, item, name, {(m, "ns"): v for m, v in metrics.items()})
    return pd.DataFrame(rows, columns=list(SAMPLES_COLUMNS)).astype(SAMPLES_COLUMNS)


def _cpu_summary(item_dir: Path, benchtime: int | None) -> dict[tuple[str, str], float]:
    """`cpu-ns/op`: the process's user+sys CPU (status.json) over its -benchtime=Nx N."""
    status = execute.read_status(item_dir)
    if status.cpu_user_s is None or status.cpu_sys_s is None or not benchtime:
        return {}  # a status.json from before CPU time was recorded
    return {("cpu-ns/op", "ns"): (status.cpu_user_s + status.cpu_sys_s) * 1e9 / benchtime}


def _probe_summary(probe) -> dict[tuple[str, str], float]:
    """Start-latency quantiles, and the GC costs the probe measured over its window
    (go_workloads/internal/gccost: the same names as the benchmarks' metrics; the STW
    split as the share of GC STW time spent stopping, the probe having no ops)."""
    out: dict[tuple[str, str], float] = {}
    if probe.histogram:
        out |= {
            (f"start-latency-{name}-ns", "ns"): histogram_quantile(probe.histogram, q)
            for name, q in (("p50", 0.5), ("p99", 0.99), ("p999", 0.999), ("max", 1.0))
        }
    cost = dict(probe.gc_cost)
    stopping, total = cost.pop("stw-stopping-ns", None), cost.pop("stw-total-ns", None)
    out |= {(metric, metric): value for metric, value in cost.items()}
    out |= _derived_summary(cost)
    if stopping is not None and total:
        out[("stw-stopping-%", "%")] = 100.0 * stopping / total
    return out


def _medians(samples: pd.DataFrame) -> dict[str, float]:
    return {str(k): float(v) for k, v in samples.groupby("metric")["value"].median().items()}


def _derived_summary(values: dict[str, float]) -> dict[tuple[str, str], float]:
    """Rows derived from a process's own metrics (benchmark or probe):
    - `gc-mark-cpu-%` = gc-assist-cpu-% + gc-dedicated-cpu-%: the mark work the program
      pays for, wherever the scheduler put it (harness/metrics.py);
    - `stw-stopped-ns/op` = stw-ns/op − stw-stopping-ns/op (Go ≥ 1.22): the part of GC
      stop-the-world time with the world stopped, beside the time it took to stop it."""
    out: dict[tuple[str, str], float] = {}
    if "gc-assist-cpu-%" in values and "gc-dedicated-cpu-%" in values:
        mark = values["gc-assist-cpu-%"] + values["gc-dedicated-cpu-%"]
        out[("gc-mark-cpu-%", "gc-mark-cpu-%")] = mark
    if "stw-stopping-ns/op" in values and "stw-ns/op" in values:
        stopped = max(0.0, values["stw-ns/op"] - values["stw-stopping-ns/op"])
        out[("stw-stopped-ns/op", "stw-stopped-ns/op")] = stopped
    return out


def _trace(item_dir: Path, slug: str, warnings: list[dict]) -> TraceSummary | None:
    """The process's trace summary when it has a usable one; else a warning says why."""
    path = item_dir / SUMMARY_FILE
    if not path.exists():
        return None
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        warnings.append(
            {"process": slug, "parser": "trace", "skipped": 1, "examples": [str(exc)[:200]]}
        )
        return None
    status = document.get("status")
    if status != "ok":
        # unsupported (Go 1.21), or the tool failed: what it printed before may be a
        # biased part of the trace, so none of it becomes rows.
        reason = str(document.get("reason") or status)
        warnings.append(
            {"process": slug, "parser": "trace", "skipped": 1, "examples": [reason[:200]]}
        )
        return None
    summary = TraceSummary.from_json(document)
    _warn(warnings, slug, "trace", summary)
    return summary


def _check_trace(trace: TraceSummary, measured, cycles, slug: str, warnings: list[dict]):
    """End-to-end checks of a trace against the same process's other outputs: every probe
    goroutine started, and one sweep-termination window per gctrace cycle (the probe
    traces the GC's whole life). A mismatch is a parse warning, never a crash."""
    problems = []
    started = sum(1 for x in trace.latency_ns if x is not None)
    if measured is not None and started != measured:
        problems.append(
            f"trace: {started} probe goroutines started, probe.json measured {measured}"
        )
    sweeps = sum(1 for w in trace.stw if w.kind == "sweep-term")
    if sweeps != len(cycles):
        problems.append(f"trace: {sweeps} sweep-termination STWs, gctrace: {len(cycles)} cycles")
    if problems:
        warnings.append(
            {
                "process": slug,
                "parser": "trace-consistency",
                "skipped": len(problems),
                "examples": problems,
            }
        )


def _add_trace(parts, trace: TraceSummary, item: RunItem, ids: dict, run_id: str, name: str):
    parts["latency"].append(trace_latency_frame(trace, **ids))
    parts["trace_goroutines"].append(
        trace_goroutines_frame(trace, **ids, gomaxprocs=item.gomaxprocs)
    )
    parts["trace_stw"].append(trace_stw_frame(trace, **ids, gomaxprocs=item.gomaxprocs))
    by_phase: dict[str, dict[tuple[str, str], float]] = {}
    for (metric, unit, phase), value in trace_phase_metrics(trace).items():
        by_phase.setdefault(phase, {})[(metric, unit)] = value
    for phase, values in by_phase.items():
        parts["samples"].append(
            pd.DataFrame(
                _summary_rows(run_id, item, name, values, phase), columns=list(SAMPLES_COLUMNS)
            ).astype(SAMPLES_COLUMNS)
        )


def _perf_stacks(item_dir: Path, item: RunItem, ids: dict) -> pd.DataFrame:
    folded = {}
    for path in sorted(item_dir.glob(f"{FOLDED_PREFIX}*{FOLDED_SUFFIX}")):
        event = path.name.removeprefix(FOLDED_PREFIX).removesuffix(FOLDED_SUFFIX)
        folded[event] = read_folded(_read(path))
    duration = execute.read_status(item_dir).duration_s if folded else math.nan
    return perf_stacks_frame(folded, **ids, gomaxprocs=item.gomaxprocs, duration_s=float(duration))


def build_tables(run_dir: Path) -> Tables:
    manifest = json.loads((run_dir / "manifest.json").read_text())
    run_id = manifest["run_id"]
    workloads = {w["name"]: w for w in manifest["workloads"]}
    parts: dict[str, list[pd.DataFrame]] = {name: [] for name in TABLES}
    tables = Tables(frames={})
    pauses: list[ProcessPauses] = []
    histograms: list[ProcessHistogram | None] = []
    for raw_item in manifest["order"]:
        item = RunItem(**raw_item)
        item_dir = run_dir / "raw" / item.slug
        if not execute.finished(item_dir):
            continue
        status = execute.read_status(item_dir).status
        tables.processes[item.slug] = status
        ids = {"variant": item.variant, "workload": item.workload, "rep": item.rep}
        workload = workloads[item.workload]
        stderr = _read(item_dir / "stderr.txt")
        gc = parse_gctrace(stderr)
        _warn(tables.warnings, item.slug, "gctrace", gc)
        parts["gc_cycles"].append(gc_cycles_frame(gc.cycles, **ids))
        sched = parse_schedtrace(stderr)
        _warn(tables.warnings, item.slug, "schedtrace", sched)
        parts["sched"].append(sched_frame(sched.samples, **ids))
        if (item_dir / "perf-report.txt").exists():
            report = parse_perf_report(_read(item_dir / "perf-report.txt"))
            _warn(tables.warnings, item.slug, "perf", report)
            parts["perf_symbols"].append(
                pd.DataFrame(
                    [
                        {
                            **ids,
                            "gomaxprocs": item.gomaxprocs,
                            "event": s.event or report.event or "",
                            "symbol": s.symbol,
                            "shared_object": s.shared_object or "",
                            "overhead_pct": s.overhead_pct,
                        }
                        for s in report.symbols
                    ],
                    columns=list(PERF_COLUMNS),
                ).astype(PERF_COLUMNS)
            )
        parts["perf_stacks"].append(_perf_stacks(item_dir, item, ids))
        if status != "ok":
            continue  # a failed process's numbers are not samples; its traces are kept above
        name = workload["benchmark"] or workload["name"]
        summary_name = benchmark_name(name, item.gomaxprocs)
        summary: dict[tuple[str, str], float] = {("gc-cycles", "cycles"): float(len(gc.cycles))}
        pauses.append(_pauses(gc.cycles, (item.workload, summary_name), (item, summary_name)))
        if workload["kind"] == "probe":
            probe = parse_probe(_read(item_dir / "probe.json"))
            _warn(tables.warnings, item.slug, "probe", probe)
            latency = latency_frame(probe, **ids)
            parts["latency"].append(latency)
            histograms.append(_pause_histogram(latency, (item.workload, summary_name), item))
            summary.update(_probe_summary(probe))
            trace = _trace(item_dir, item.slug, tables.warnings)
            if trace is not None:
                _check_trace(trace, probe.measured, gc.cycles, item.slug, tables.warnings)
                _add_trace(parts, trace, item, ids, run_id, summary_name)
        else:
            bench = parse_bench(_read(item_dir / "stdout.txt"))
            _warn(tables.warnings, item.slug, "bench", bench)
            bench_samples = samples_frame(bench, run_id=run_id, **ids)
            parts["samples"].append(bench_samples)
            summary.update(_derived_summary(_medians(bench_samples)))
            summary.update(_cpu_summary(item_dir, manifest.get("benchtime", {}).get(item.workload)))
        parts["samples"].append(
            pd.DataFrame(
                _summary_rows(run_id, item, summary_name, summary), columns=list(SAMPLES_COLUMNS)
            ).astype(SAMPLES_COLUMNS)
        )
    parts["samples"].append(_stw_rows(run_id, pauses, [h for h in histograms if h]))
    for name in TABLES:
        frames = [f for f in parts[name] if not f.empty]
        empty = pd.DataFrame(columns=list(TABLE_COLUMNS[name])).astype(TABLE_COLUMNS[name])
        tables.frames[name] = pd.concat(frames, ignore_index=True) if frames else empty
    return tables


def write_tables(run_dir: Path) -> Tables:
    tables = build_tables(run_dir)
    out = run_dir / "tables"
    out.mkdir(exist_ok=True)
    for name, frame in tables.frames.items():
        frame.to_parquet(out / f"{name}.parquet", index=False)
    (out / "parse_warnings.json").write_text(json.dumps(tables.warnings, indent=2))
    return tables
