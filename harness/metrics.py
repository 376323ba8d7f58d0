"""The registry of metrics: one place that says what each metric is and how it is judged.

Every stage that needs to know a metric's family, direction or equivalence margin asks
here, so renaming or adding a metric is one edit (DESIGN.md "one registry of tables and
metrics").

Families (the sets of rows Benjamini-Hochberg corrects together, per candidate):

- `headline`: the questions this project exists to answer: throughput (`ns/op`), GC
  stop-the-world spikes (per-process tails at equal cycle counts, `stw-ns/op`), goroutine
  start latency, and what a scheduler patch can cost the collector: mark assists and
  dedicated mark CPU, mark-phase duration, heap overshoot, GC cycles per second and the
  runtime's own scheduling latency (`harness/gc_cost.py`, go_workloads/internal/gccost).
- `secondary`: everything else (B/op, allocs/op, gc-cycles, the steadier STW companions,
  cpu-ns/op, …): reported, corrected among themselves, never diluting the headline.

The A/A arm is a family of its own whatever the metric (see `harness/stats/compare.py`).

`equivalence` is the relative margin inside which a confidence interval proves "no change
that matters" (`same`). Defaults per kind of metric: a throughput cost below 2 % is below
what a runtime change is judged by; pause and latency tails are spiky and logged at two
significant digits by gctrace, so their margin is 10 %.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

HEADLINE = "headline"
SECONDARY = "secondary"
# The A/A arm's rows (the baseline run again, `stwbench ab --aa`; the run records which
# variant it is: harness.rundir Manifest.aa_arm) form this family; never a candidate's.
AA_FAMILY = "aa"
FAMILIES = (HEADLINE, SECONDARY, AA_FAMILY)


@dataclass(frozen=True)
class Metric:
    pattern: str  # metric name, or an fnmatch pattern for a group of names
    family: str
    kind: str  # throughput | pause | latency | count | memory | cpu
    equivalence: float  # relative margin for `same`
    direction: str | None = "lower"  # None: by unit (rates such as MB/s are "higher")
    description: str = ""


# First match wins: specific names before patterns.
METRICS: tuple[Metric, ...] = (
    Metric("ns/op", HEADLINE, "throughput", 0.02, description="wall time per benchmark op"),
    Metric("stw-ns/op", HEADLINE, "pause", 0.10, description="GC STW time per op"),
    Metric(
        "stw-sweep-term-p99-ms",
        HEADLINE,
        "pause",
        0.10,
        description="p99 sweep-termination STW, equal cycle counts per process",
    ),
    Metric(
        "stw-mark-term-p99-ms",
        HEADLINE,
        "pause",
        0.10,
        description="p99 mark-termination STW, equal cycle counts per process",
    ),
    Metric(
        "stw-pause-max-ms",
        HEADLINE,
        "pause",
        0.10,
        description="longest STW phase, equal cycle counts per process",
    ),
    Metric(
        "start-latency-*-ns",
        HEADLINE,
        "latency",
        0.10,
        description="probe goroutine creation → start latency",
    ),
    # GC costs (go_workloads/internal/gccost over the measured loop; mark phase and
    # overshoot from gctrace, harness/gc_cost.py). Shares of the CPU GOMAXPROCS makes
    # available, in percent; their margin is relative (10 % of a 4 % share is 0.4 points).
    Metric(
        "gc-assist-cpu-%",
        SECONDARY,
        "cpu",
        0.10,
        description="CPU share of mark assists (mutators made to mark)",
    ),
    # The mark work the program pays for: assists plus the dedicated and fractional
    # workers (idle-priority marking uses Ps that had nothing else to do). A patch that
    # keeps the worker off the P moves mark work from the workers to assists, so the
    # workers' own share falling is no gain by itself: the sum is the headline row.
    Metric(
        "gc-mark-cpu-%",
        HEADLINE,
        "cpu",
        0.10,
        description="CPU share of mark assists + dedicated/fractional workers",
    ),
    Metric(
        "gc-dedicated-cpu-%",
        SECONDARY,
        "cpu",
        0.10,
        description="CPU share of dedicated + fractional mark workers",
    ),
    # Idle-priority marking runs only on Ps with nothing else to do: more of it is not a
    # cost to the program, so it is reported beside the others but not in the headline.
    Metric(
        "gc-idle-cpu-%",
        SECONDARY,
        "cpu",
        0.10,
        description="CPU share of idle-priority mark workers (otherwise idle Ps)",
    ),
    Metric("gc-pause-cpu-%", SECONDARY, "cpu", 0.10, description="CPU share of STW pauses"),
    # A fixed amount of work per op: more cycles per second is more collector work per
    # second of the program (the unit rule would call a rate "higher is better").
    Metric("gc-cycles/s", HEADLINE, "count", 0.05, description="GC cycles per second"),
    Metric(
        "sched-latency-*-ns",
        HEADLINE,
        "latency",
        0.10,
        description="runtime/metrics /sched/latencies: runnable → running, sampled",
    ),
    Metric(
        "mark-phase-*-ms",
        HEADLINE,
        "pause",
        0.10,
        description="concurrent mark phase (gctrace), equal cycle counts per process",
    ),
    Metric(
        "heap-overshoot-*",
        HEADLINE,
        "memory",
        0.02,
        description="heap at mark end ÷ heap goal (gctrace), equal cycle counts",
    ),
    Metric(
        "stw-stopping-ns/op",
        SECONDARY,
        "pause",
        0.10,
        description="GC STW time spent stopping the world (time to reach safe points)",
    ),
    Metric(
        "stw-stopped-ns/op",
        SECONDARY,
        "pause",
        0.10,
        description="GC STW time with the world stopped (the work inside the pause)",
    ),
    Metric(
        "stw-stopping-%",
        SECONDARY,
        "pause",
        0.10,
        description="share of GC STW time spent stopping (probe)",
    ),
    Metric(
        "stw-hist-*-ns",
        SECONDARY,
        "pause",
        0.10,
        description="from the runtime's ns pause histogram (probe, Go ≥ 1.22)",
    ),
    Metric("stw-*-mean-ms", SECONDARY, "pause", 0.10, description="mean STW phase"),
    Metric("stw-*-p95-ms", SECONDARY, "pause", 0.10, description="p95 STW phase"),
    Metric("cpu-ns/op", SECONDARY, "cpu", 0.02, description="process user+sys CPU per op"),
    Metric("B/op", SECONDARY, "memory", 0.02),
    Metric("allocs/op", SECONDARY, "memory", 0.01),
    Metric("gc-cycles/op", SECONDARY, "count", 0.05),
    Metric("gc-cycles", SECONDARY, "count", 0.05),
    Metric("stw-cycles-compared", SECONDARY, "count", 0.05, description="K of stw_tails.py"),
    Metric("*", SECONDARY, "other", 0.05, direction=None),
)

# The few headline metrics `stwbench run` prints as medians per variant (the report has
# them all); a test checks each is a declared headline metric.
CONSOLE_SUMMARY = (
    "ns/op",
    "stw-sweep-term-p99-ms",
    "stw-mark-term-p99-ms",
    "start-latency-p99-ns",
    "start-latency-p999-ns",
)

# Units whose larger values are better when the registry does not say (benchmarks'
# custom rates: MB/s, ops/s, …).
_HIGHER_IS_BETTER_RE = re.compile(r"(/s|/sec|/second|-per-sec|-per-second)$")


def metric_info(name: str) -> Metric:
    """The registry entry of a metric name (the catch-all `*` for names nobody declared)."""
    for metric in METRICS:
        if metric.pattern == name or fnmatch.fnmatchcase(name, metric.pattern):
            return metric
    raise AssertionError("unreachable: METRICS ends with a catch-all")


def direction(name: str, unit: str | None = None) -> str:
    """ "lower" or "higher": the registry's direction, else by unit (rates are higher)."""
    declared = metric_info(name).direction
    if declared is not None:
        return declared
    return "higher" if _HIGHER_IS_BETTER_RE.search(unit or name) else "lower"


def is_headline(name: str) -> bool:
    return metric_info(name).family == HEADLINE


def equivalence_margin(name: str, override: float | None = None) -> float:
    """The `same` margin for a metric: `override` (from --equivalence) or its kind's default."""
    return override if override is not None else metric_info(name).equivalence
