"""harness/parse: every byte a run printed, read into records and tidy tables.

One module per format; each parser takes the text a process printed, never raises on bad
input (only on non-str input) and reports what it could not read as `skipped` (a count)
and `skipped_examples` (the first five lines, cut to 200 characters):

- bench       `go test -bench` output (Go benchmark format)   -> BenchParse
- gctrace     GODEBUG=gctrace=1 stderr lines                  -> GcTraceParse
- schedtrace  GODEBUG=schedtrace=N[,scheddetail=1] lines      -> SchedTraceParse
- probe       the start-latency probe's JSON report           -> ProbeParse
- perf        `perf report --stdio` symbol tables             -> PerfReportParse
- perf_script `perf script` call graphs, folded stacks        -> FoldedStacks
- trace       `go tool trace -d=parsed` dumps, streamed       -> TraceSummary
- trace_tables  trace summaries and folded stacks as tables
- histogram   bucket quantiles for the stats stage
- tables      the DESIGN.md tables as pandas DataFrames
"""

from harness.parse.bench import BenchParse, BenchResult, parse_bench
from harness.parse.gctrace import GcCycle, GcTraceParse, parse_gctrace
from harness.parse.histogram import Bucket, histogram_quantile
from harness.parse.perf import PerfReportParse, PerfSymbol, parse_perf_report
from harness.parse.perf_script import fold_perf_script, read_folded
from harness.parse.probe import ProbeParse, parse_probe
from harness.parse.schedtrace import SchedSample, SchedTraceParse, parse_schedtrace
from harness.parse.tables import (
    GC_CYCLES_COLUMNS,
    LATENCY_COLUMNS,
    SAMPLES_COLUMNS,
    SCHED_COLUMNS,
    benchmark_name,
    gc_cycles_frame,
    latency_frame,
    samples_frame,
    sched_frame,
)
from harness.parse.trace import PHASES, TraceSummary, parse_trace_stream
from harness.parse.trace_tables import (
    ALL_SYMBOLS,
    PERF_STACKS_COLUMNS,
    TRACE_GOROUTINES_COLUMNS,
    TRACE_SOURCE,
    TRACE_STW_COLUMNS,
    perf_stacks_frame,
    trace_goroutines_frame,
    trace_latency_frame,
    trace_phase_metrics,
    trace_stw_frame,
)

__all__ = [
    "ALL_SYMBOLS",
    "GC_CYCLES_COLUMNS",
    "LATENCY_COLUMNS",
    "PERF_STACKS_COLUMNS",
    "PHASES",
    "SAMPLES_COLUMNS",
    "SCHED_COLUMNS",
    "TRACE_GOROUTINES_COLUMNS",
    "TRACE_SOURCE",
    "TRACE_STW_COLUMNS",
    "BenchParse",
    "BenchResult",
    "Bucket",
    "GcCycle",
    "GcTraceParse",
    "PerfReportParse",
    "PerfSymbol",
    "ProbeParse",
    "SchedSample",
    "SchedTraceParse",
    "TraceSummary",
    "benchmark_name",
    "fold_perf_script",
    "gc_cycles_frame",
    "histogram_quantile",
    "latency_frame",
    "parse_bench",
    "parse_gctrace",
    "parse_perf_report",
    "parse_probe",
    "parse_schedtrace",
    "parse_trace_stream",
    "perf_stacks_frame",
    "read_folded",
    "samples_frame",
    "sched_frame",
    "trace_goroutines_frame",
    "trace_latency_frame",
    "trace_phase_metrics",
    "trace_stw_frame",
]
