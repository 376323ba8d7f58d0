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

from harness.files import atomic_write_text
from harness.gc_cost import UNITS as GC_COST_UNITS
from harness.gc_cost import overshoot
from harness.kinds import ParseContext, kind_of
from harness.metrics import direction as metric_direction
from harness.parse import (
    GC_CYCLES_COLUMNS,
    LATENCY_COLUMNS,
    PERF_STACKS_COLUMNS,
    SAMPLES_COLUMNS,
    SCHED_COLUMNS,
    TRACE_GOROUTINES_COLUMNS,
    TRACE_STW_COLUMNS,
    benchmark_name,
    gc_cycles_frame,
    parse_gctrace,
    parse_perf_report,
    parse_schedtrace,
    perf_stacks_frame,
    read_folded,
    sched_frame,
)
from harness.rundir import RunDir, RunItem, RunLayout, layout
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
    "bench_config",
)
# The `key: value` configuration lines `go test -bench` printed (goos, goarch, cpu, pkg),
# per process: bench.txt's headers, read here so the report never opens raw/.
BENCH_CONFIG_COLUMNS = {
    "variant": "str",
    "workload": "str",
    "rep": "int64",
    "key": "str",
    "value": "str",
}
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
    "bench_config": BENCH_CONFIG_COLUMNS,
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


def _perf_symbols(item_dir: Path, item: RunItem, ids: dict, warnings: list[dict]) -> pd.DataFrame:
    report = parse_perf_report(_read(item_dir / layout.PERF_REPORT))
    _warn(warnings, item.slug, "perf", report)
    return pd.DataFrame(
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


def _perf_stacks(item_dir: Path, item: RunItem, ids: dict, duration_s: float) -> pd.DataFrame:
    folded = {}
    for path in sorted(item_dir.glob(f"{layout.FOLDED_PREFIX}*{layout.FOLDED_SUFFIX}")):
        folded[layout.folded_event(path)] = read_folded(_read(path))
    duration = duration_s if folded else math.nan
    return perf_stacks_frame(folded, **ids, gomaxprocs=item.gomaxprocs, duration_s=float(duration))


def build_tables(run_dir: Path, *, after_stw_us: float | None = None) -> Tables:
    """Every finished process's rows. `after_stw_us`: X of the after-STW phases of traced
    probes (default: the run's --trace-after-stw-us), applied to the trace record here."""
    run = RunDir.open(run_dir)
    manifest = run.manifest
    if after_stw_us is None:
        after_stw_us = manifest.options.trace_after_stw_us
    parts: dict[str, list[pd.DataFrame]] = {name: [] for name in TABLES}
    tables = Tables(frames={})
    pauses: list[ProcessPauses] = []
    histograms: list[ProcessHistogram] = []
    for done in run.finished_items():
        item, item_dir, status = done.item, done.path, done.status
        tables.processes[item.slug] = status.status
        ids = {"variant": item.variant, "workload": item.workload, "rep": item.rep}
        workload = manifest.workload(item.workload)
        stderr = _read(item_dir / layout.STDERR)
        gc = parse_gctrace(stderr)
        _warn(tables.warnings, item.slug, "gctrace", gc)
        parts["gc_cycles"].append(gc_cycles_frame(gc.cycles, **ids))
        sched = parse_schedtrace(stderr)
        _warn(tables.warnings, item.slug, "schedtrace", sched)
        parts["sched"].append(sched_frame(sched.samples, **ids))
        if (item_dir / layout.PERF_REPORT).exists():
            parts["perf_symbols"].append(_perf_symbols(item_dir, item, ids, tables.warnings))
        parts["perf_stacks"].append(_perf_stacks(item_dir, item, ids, status.duration_s))
        if status.status != "ok":
            continue  # a failed process's numbers are not samples; its traces are kept above
        name = benchmark_name(workload.benchmark or workload.name, item.gomaxprocs)
        by_phase: dict[str, dict[tuple[str, str], float]] = {
            "all": {("gc-cycles", "cycles"): float(len(gc.cycles))}
        }
        pauses.append(_pauses(gc.cycles, (item.workload, name), (item, name)))

        def add_histogram(latency: pd.DataFrame, item=item, name=name) -> None:
            histogram = _pause_histogram(latency, (item.workload, name), item)
            if histogram is not None:
                histograms.append(histogram)

        cpu = (
            status.cpu_user_s + status.cpu_sys_s
            if status.cpu_user_s is not None and status.cpu_sys_s is not None
            else None
        )
        kind_of(workload).parse(
            workload,
            ParseContext(
                item=item,
                item_dir=item_dir,
                run_id=manifest.run_id,
                benchmark=name,
                benchtime=manifest.benchtime.get(item.workload),
                cpu_s=cpu,
                gc_cycles=gc.cycles,
                after_stw_ns=round(after_stw_us * 1000),
                warn=lambda parser, parsed, slug=item.slug: _warn(
                    tables.warnings, slug, parser, parsed
                ),
                add_warning=tables.warnings.append,
                add_rows=lambda table, frame: parts[table].append(frame),
                add_summary=lambda values, phase, by_phase=by_phase: by_phase.setdefault(
                    phase, {}
                ).update(values),
                add_histogram=add_histogram,
            ),
        )
        for phase, values in by_phase.items():
            parts["samples"].append(
                pd.DataFrame(
                    _summary_rows(manifest.run_id, item, name, values, phase),
                    columns=list(SAMPLES_COLUMNS),
                ).astype(SAMPLES_COLUMNS)
            )
    parts["samples"].append(_stw_rows(manifest.run_id, pauses, histograms))
    for name in TABLES:
        frames = [f for f in parts[name] if not f.empty]
        empty = pd.DataFrame(columns=list(TABLE_COLUMNS[name])).astype(TABLE_COLUMNS[name])
        tables.frames[name] = pd.concat(frames, ignore_index=True) if frames else empty
    return tables


def write_tables(run_dir: Path, *, after_stw_us: float | None = None) -> Tables:
    tables = build_tables(run_dir, after_stw_us=after_stw_us)
    where = RunLayout(Path(run_dir))
    where.tables.mkdir(exist_ok=True)
    for name, frame in tables.frames.items():
        frame.to_parquet(where.table(name), index=False)
    atomic_write_text(where.parse_warnings, json.dumps(tables.warnings, indent=2))
    return tables
