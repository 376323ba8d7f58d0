"""The "Run precision and noise" part of the Run section: how precise the headline rows
got, and how quiet the machine was while the processes ran.

From the manifest, each part optional (older runs lack them all, and a part the run did
not record says "not recorded", never a guess):

- manifest["adaptive"] (`--until-ci`): the target CI half-width, the limits, and per step
  the reps reached and the worst headline row's CI half-width; why it stopped;
- manifest["noise"]: the noise guard's thresholds and which processes it re-ran because
  the rest of the machine was busy while they ran (harness/runs/noise.py), and which it
  kept noisy after the last retry; per-process figures from manifest["processes"];
- manifest["isolation"]: which CPUs harness and benchmarks were given, and why.

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
from harness.stats import ci_halfwidth

NOT_RECORDED = "not recorded"


def precision_view(manifest: dict, comparisons: pd.DataFrame) -> dict:
    return {
        "adaptive": _adaptive(manifest.get("adaptive")),
        "current": _current(comparisons),
        "noise": _noise(manifest.get("noise"), manifest.get("processes") or {}),
        "isolation": _isolation(manifest.get("isolation")),
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


def _adaptive(adaptive) -> dict | None:
    """harness/adaptive.py's record: until_ci in percent (2 = ±2 %), steps' `worst` a
    fraction (None: a row without a CI), `stopped` the reason (absent while running)."""
    if not isinstance(adaptive, dict):
        return None
    steps = [s for s in adaptive.get("steps") or [] if isinstance(s, dict)]
    reached = finite_number(steps[-1].get("reps")) if steps else None
    budget = finite_number(adaptive.get("budget_min"))
    max_reps = finite_number(adaptive.get("max_reps"))
    target = finite_number(adaptive.get("until_ci"))
    initial = finite_number(adaptive.get("initial_reps"))
    return {
        "target": f"±{target:g} %" if target is not None else NOT_RECORDED,
        "initial": str(int(initial)) if initial is not None else "–",
        "reps": str(int(reached)) if reached is not None else NOT_RECORDED,
        "max_reps": str(int(max_reps)) if max_reps is not None else "–",
        "budget": f"{budget:g} min" if budget is not None else "none",
        "stopped": _text(adaptive.get("stopped")) or "not recorded (interrupted, or still running)",
        "steps": [
            {
                "reps": _text(step.get("reps")) or "–",
                "worst": half_text(step.get("worst")),
                "worst_row": _text(step.get("worst_row")),
                "met": f"{_text(step.get('met')) or '?'} of {_text(step.get('rows')) or '?'}",
                "added": _text(step.get("added")) or "–",
            }
            for step in steps
        ],
    }


def _noise(noise, processes: dict) -> dict | None:
    if not isinstance(noise, dict):
        return None
    rerun_slugs = [str(s) for s in noise.get("rerun_slugs") or []]
    kept = {str(s) for s in noise.get("kept_noisy") or []}
    rerun_n = finite_number(noise.get("rerun"))
    rows = []
    for slug in rerun_slugs:
        process = processes.get(slug) or {}
        attempts = [a for a in process.get("attempts") or [] if isinstance(a, dict)]
        rows.append(
            {
                "process": slug,
                "attempts": str(len(attempts)) if attempts else "?",
                "rejected": ", ".join(_cores(a.get("interference_cores")) for a in attempts) or "–",
                "kept": _cores(process.get("interference_cores")),
                "noisy": slug in kept,
            }
        )
    figures = [
        x
        for x in (finite_number(p.get("interference_cores")) for p in processes.values())
        if x is not None
    ]
    steal = [
        x
        for x in (finite_number(p.get("steal_cores")) for p in processes.values())
        if x is not None
    ]
    return {
        "threshold": _cores(noise.get("threshold_cores")),
        "steal_threshold": _cores(noise.get("steal_threshold_cores")),
        "retries": _text(noise.get("retries_max")) or "?",
        "rerun": str(int(rerun_n)) if rerun_n is not None else str(len(rerun_slugs)),
        "rejected_attempts": _text(noise.get("rejected_attempts")),
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


def _isolation(isolation) -> list[tuple[str, str]] | None:
    if not isinstance(isolation, dict):
        return None
    rows = [("decision", _text(isolation.get("reason")) or NOT_RECORDED)]
    if "applied" in isolation:
        rows.append(("pinning applied", "yes" if isolation.get("applied") else "no"))
    for key, label in (
        ("cpus", "CPUs available"),
        ("harness_cpus", "harness CPUs"),
        ("bench_cpus", "benchmark CPUs"),
    ):
        if key in isolation:
            rows.append((label, _text(isolation.get(key)) or "not pinned"))
    for key, label in (("taskset", "taskset"), ("cgroup_cpuset", "cgroup v2 cpuset")):
        if key in isolation:
            works = "works" if isolation.get(key) else "not available"
            detail = _text(isolation.get(f"{key}_detail"))
            rows.append((label, works + (f" ({detail})" if detail and detail != "ok" else "")))
    known = {"reason", "applied", "cpus", "harness_cpus", "bench_cpus", "taskset"}
    known |= {"taskset_detail", "cgroup_cpuset", "cgroup_cpuset_detail"}
    rows += [(str(k), _text(v) or "–") for k, v in isolation.items() if k not in known]
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
