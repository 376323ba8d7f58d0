"""The goroutine start-latency probe (go_workloads/cmd/probe), one workload per creator
scenario (harness/runs/workloads.py). A process writes probe.json (its start-latency
histogram, the GC costs of its window, the runtime's pause histogram) and, when traced,
trace-summary.json: the run stage's record of the execution trace (probe goroutines'
creation and start times, every stop-the-world window), from which this parser derives
the per-GC-phase rows with the X the analysis is given (`--trace-after-stw-us`)."""

from __future__ import annotations

import json
from pathlib import Path

from harness.kinds.base import (
    BuildPlan,
    CommandContext,
    ParseContext,
    WorkloadKind,
    derived_metrics,
    read_text,
    tag_flags,
)
from harness.parse import (
    TraceSummary,
    histogram_quantile,
    latency_frame,
    parse_probe,
    trace_goroutines_frame,
    trace_latency_frame,
    trace_phase_metrics,
    trace_stw_frame,
)
from harness.rundir import Workload, layout


class ProbeKind(WorkloadKind):
    name = "probe"
    raw_files = (layout.PROBE_JSON, layout.TRACE_SUMMARY, layout.TRACE_OUT)
    traceable = True

    def build(self, workload: Workload, workloads_dir: Path, goroot: Path) -> BuildPlan:
        tags, suffix = tag_flags(workload)
        return BuildPlan(
            key=(self.name, workload.build_tags),
            args=["build", *tags, "./cmd/probe"],
            cwd=workloads_dir,
            out_name=f"probe{suffix}",
        )

    def command(self, workload: Workload, binary: str, ctx: CommandContext) -> list[str]:
        command = [
            binary,
            "-duration",
            f"{ctx.options.probe_duration_s}s",
            "-interval",
            ctx.options.probe_interval,
            "-out",
            str(ctx.output_dir / layout.PROBE_JSON),
            *workload.args,  # after the defaults: Go's flag package keeps the last value
        ]
        if ctx.traced:
            command += ["-trace", str(ctx.output_dir / layout.TRACE_OUT)]
        return command

    def parse(self, workload: Workload, ctx: ParseContext) -> None:
        probe = parse_probe(read_text(ctx.item_dir / layout.PROBE_JSON))
        ctx.warn("probe", probe)
        latency = latency_frame(probe, **ctx.ids)
        ctx.add_rows("latency", latency)
        ctx.add_histogram(latency)
        ctx.add_summary(probe_summary(probe), "all")
        trace = read_trace(ctx)
        if trace is None:
            return
        problem = check_trace(trace, probe.measured, ctx.gc_cycles, ctx.item.slug)
        if problem is not None:
            ctx.add_warning(problem)
        ctx.add_rows("latency", trace_latency_frame(trace, **ctx.ids))
        procs = ctx.item.gomaxprocs
        ctx.add_rows("trace_goroutines", trace_goroutines_frame(trace, **ctx.ids, gomaxprocs=procs))
        ctx.add_rows("trace_stw", trace_stw_frame(trace, **ctx.ids, gomaxprocs=procs))
        by_phase: dict[str, dict[tuple[str, str], float]] = {}
        for (metric, unit, phase), value in trace_phase_metrics(trace).items():
            by_phase.setdefault(phase, {})[(metric, unit)] = value
        for phase, values in by_phase.items():
            ctx.add_summary(values, phase)


def probe_summary(probe) -> dict[tuple[str, str], float]:
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
    out |= derived_metrics(cost)
    if stopping is not None and total:
        out[("stw-stopping-%", "%")] = 100.0 * stopping / total
    return out


def read_trace(ctx: ParseContext) -> TraceSummary | None:
    """The process's trace record, classified by GC phase with ctx.after_stw_ns, when it
    has a usable one; else a warning says why."""
    path = ctx.item_dir / layout.TRACE_SUMMARY
    slug = ctx.item.slug
    if not path.exists():
        return None
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        ctx.add_warning(
            {"process": slug, "parser": "trace", "skipped": 1, "examples": [str(exc)[:200]]}
        )
        return None
    status = document.get("status")
    if status != "ok":
        # unsupported (Go 1.21), or the tool failed: what it printed before may be a
        # biased part of the trace, so none of it becomes rows.
        reason = str(document.get("reason") or status)
        ctx.add_warning(
            {"process": slug, "parser": "trace", "skipped": 1, "examples": [reason[:200]]}
        )
        return None
    summary = TraceSummary.from_json(document).classified(ctx.after_stw_ns)
    ctx.warn("trace", summary)
    return summary


def check_trace(trace: TraceSummary, measured, gc_cycles: list, slug: str) -> dict | None:
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
    if sweeps != len(gc_cycles):
        problems.append(f"trace: {sweeps} sweep-termination STWs, gctrace: {len(gc_cycles)} cycles")
    if not problems:
        return None
    return {
        "process": slug,
        "parser": "trace-consistency",
        "skipped": len(problems),
        "examples": problems,
    }
