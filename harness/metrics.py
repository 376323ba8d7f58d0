"""The registry of metrics: one place that says what each metric is and how it is judged.

Every stage that needs to know a metric's family, direction or equivalence margin asks
here, so renaming or adding a metric is one edit (DESIGN.md "one registry of tables and
metrics").

Families (the sets of rows Benjamini-Hochberg corrects together, per candidate):

- `headline`: the questions this project exists to answer: throughput (`ns/op`), GC
  stop-the-world spikes (per-process tails at equal cycle counts, `stw-ns/op`) and
  goroutine start latency. The GC-cost rows of the fidelity issue join this family.
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
from dataclasses import dataclass

HEADLINE = "headline"
SECONDARY = "secondary"
AA_FAMILY = "aa"
FAMILIES = (HEADLINE, SECONDARY, AA_FAMILY)


@dataclass(frozen=True)
class Metric:
    pattern: str  # metric name, or an fnmatch pattern for a group of names
    family: str
    kind: str  # throughput | pause | latency | count | memory | cpu
    equivalence: float  # relative margin for `same`
    direction: str = "lower"
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
    Metric("*", SECONDARY, "other", 0.05),
)


def metric_info(name: str) -> Metric:
    """The registry entry of a metric name (the catch-all `*` for names nobody declared)."""
    for metric in METRICS:
        if metric.pattern == name or fnmatch.fnmatchcase(name, metric.pattern):
            return metric
    raise AssertionError("unreachable: METRICS ends with a catch-all")


def is_headline(name: str) -> bool:
    return metric_info(name).family == HEADLINE


def equivalence_margin(name: str, override: float | None = None) -> float:
    """The `same` margin for a metric: `override` (from --equivalence) or its kind's default."""
    return override if override is not None else metric_info(name).equivalence
