"""The "Run precision and noise" part of the Run section: how precise the headline rows
got, and how quiet the machine was while the processes ran.

From the manifest (harness.rundir.Manifest), each part optional (older runs lack them all,
and a part the run did not record says "not recorded", never a guess):

- `Manifest.adaptive` (`--until-ci`): the target CI half-width, the limits, and per step
  the reps reached and the worst headline row's CI half-width; why it stopped;
- `Manifest.noise`: the noise guard's thresholds and which processes it re-ran because
  the rest of the machine was busy while they ran (harness/runs/noise.py), and which it
  kept noisy after the last retry; per-process figures from `Manifest.processes`;
- `Manifest.isolation`: which CPUs harness and benchmarks were given, and why.

The worst headline CI half-width of the comparisons themselves is shown too (harness/stats
`ci_halfwidth`, the same figure the stopping rule uses), with or without adaptive reps.
"""

from __future__ import annotations

import math
import statistics

import pandas as pd

from harness.metrics import is_headline
from harness.report.units import finite_number
from harness.report.verdicts import mdc_text
from harness.rundir import Adaptive, Isolation, Manifest, NoiseRecord, ProcessRecord
from harness.stats import ci_halfwidth

NOT_RECORDED = "not recorded"


def precision_view(manifest: Manifest, comparisons: pd.DataFrame) -> dict:
    return {
        "adaptive": _adaptive(manifest.adaptive),
        "current": _current(comparisons),
        "noise": _noise(manifest.noise, manifest.processes),
        "isolation": _isolation(manifest.isolation),
    }


def _current(comparisons: pd.DataFrame) -> dict | None:
    """The widest headline CI of this report's candidate rows (A/A rows left out)."""
    if comparisons.empty:
        return None
    rows = comparisons[comparisons["metric"].map(is_headline)]
    if rows.empty:
        return None
    half = ci_halfwidth(rows)
    if half.isna().all():
        return {"worst": "no CI", "row": "", "rows": str(len(rows))}
    worst = rows.loc[half.fillna(math.inf).idxmax()]
    phase = str(worst.get("phase") or "all")
    label = f"{worst['benchmark']} {worst['metric']}" + ("" if phase == "all" else f" [{phase}]")
    if len(pd.unique(rows["candidate"])) > 1:
        label += f" ({worst['candidate']})"
    value = half.max() if not half.isna().any() else math.inf
    return {"worst": half_text(value), "row": label, "rows": str(len(rows))}


def half_text(value) -> str:
    """A relative CI half-width: 0.021 -> "±2.1 %" (as an MDC is shown); inf/None -> "no CI"."""
    x = finite_number(value)
    if x is None:
        return "no CI"
    return mdc_text(x)


def _adaptive(adaptive: Adaptive | None) -> dict | None:
    """harness/adaptive.py's record: until_ci in percent (2 = ±2 %), steps' `worst` a
    fraction (None: a row without a CI), `stopped` the reason (None while running)."""
    if adaptive is None:
        return None
    steps = adaptive.steps
    reached = finite_number(steps[-1].reps) if steps else None
    budget = finite_number(adaptive.budget_min)
    max_reps = finite_number(adaptive.max_reps)
    target = finite_number(adaptive.until_ci)
    initial = finite_number(adaptive.initial_reps)
    return {
        "target": f"±{target:g} %" if target is not None else NOT_RECORDED,
        "initial": str(int(initial)) if initial is not None else "–",
        "reps": str(int(reached)) if reached is not None else NOT_RECORDED,
        "max_reps": str(int(max_reps)) if max_reps is not None else "–",
        "budget": f"{budget:g} min" if budget is not None else "none",
        "stopped": _text(adaptive.stopped) or "not recorded (interrupted, or still running)",
        "steps": [
            {
                "reps": _text(step.reps) or "–",
                "worst": half_text(step.worst),
                "worst_row": _text(step.worst_row),
                "met": f"{_text(step.met) or '?'} of {_text(step.rows) or '?'}",
                "added": _text(step.added) or "–",
            }
            for step in steps
        ],
    }


def _noise(noise: NoiseRecord | None, processes: dict[str, ProcessRecord]) -> dict | None:
    if noise is None:
        return None
    rerun_slugs = list(noise.rerun_slugs)
    kept = set(noise.kept_noisy)
    rows = []
    for slug in rerun_slugs:
        process = processes.get(slug)
        attempts = process.attempts if process is not None else []
        rows.append(
            {
                "process": slug,
                "attempts": str(len(attempts)) if attempts else "?",
                "rejected": ", ".join(_cores(a.interference_cores) for a in attempts) or "–",
                "kept": _cores(process.interference_cores if process is not None else None),
                "noisy": slug in kept,
            }
        )
    figures = [
        x
        for x in (finite_number(p.interference_cores) for p in processes.values())
        if x is not None
    ]
    steal = [x for x in (finite_number(p.steal_cores) for p in processes.values()) if x is not None]
    return {
        "threshold": _cores(noise.threshold_cores),
        "steal_threshold": _cores(noise.steal_threshold_cores),
        "retries": _text(noise.retries_max) or "?",
        "rerun": str(noise.rerun or len(rerun_slugs)),
        "rejected_attempts": _text(noise.rejected_attempts),
        "rows": rows,
        "kept_noisy": sorted(kept),
        "kept_not_listed": sorted(kept - set(rerun_slugs)),
        "spread": (
            f"median {_cores(statistics.median(figures))}, max {_cores(max(figures))} cores "
            f"over {len(figures)} processes"
            if figures
            else NOT_RECORDED
        ),
        "steal": f"max {_cores(max(steal))} cores" if steal else NOT_RECORDED,
    }


def _isolation(isolation: Isolation | None) -> list[tuple[str, str]] | None:
    if isolation is None:
        return None
    rows = [
        ("decision", _text(isolation.reason) or NOT_RECORDED),
        ("pinning applied", "yes" if isolation.applied else "no"),
        ("CPUs available", _text(isolation.cpus) or "not pinned"),
        ("harness CPUs", _text(isolation.harness_cpus) or "not pinned"),
        ("benchmark CPUs", _text(isolation.bench_cpus) or "not pinned"),
    ]
    for label, works, detail in (
        ("taskset", isolation.taskset, isolation.taskset_detail),
        ("cgroup v2 cpuset", isolation.cgroup_cpuset, isolation.cgroup_cpuset_detail),
    ):
        state = "works" if works else "not available"
        rows.append((label, state + (f" ({detail})" if detail and detail != "ok" else "")))
    return rows


def _cores(value) -> str:
    x = finite_number(value)
    return "–" if x is None else f"{x:.2f}"


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={_text(v)}" for k, v in value.items())
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
