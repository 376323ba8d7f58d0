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
from harness.parse.probe import ProbeParse, parse_probe
from harness.parse.schedtrace import SchedSample, SchedTraceParse, parse_schedtrace
from harness.parse.tables import (
    GC_CYCLES_COLUMNS,
    LATENCY_COLUMNS,
    SAMPLES_COLUMNS,
    SCHED_COLUMNS,
    gc_cycles_frame,
    latency_frame,
    samples_frame,
    sched_frame,
)

__all__ = [
    "GC_CYCLES_COLUMNS",
    "LATENCY_COLUMNS",
    "SAMPLES_COLUMNS",
    "SCHED_COLUMNS",
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
    "gc_cycles_frame",
    "histogram_quantile",
    "latency_frame",
    "parse_bench",
    "parse_gctrace",
    "parse_perf_report",
    "parse_probe",
    "parse_schedtrace",
    "samples_frame",
    "sched_frame",
]
