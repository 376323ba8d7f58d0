"""harness/sweep: a knob-gated patch's designs in one interleaved run, summarized as
latency gain against throughput cost, with the Pareto front and the answer to "which
design keeps the gain and costs nothing?".

    plan = plan_from_toml(path) or make_plan(go, mode, patches, grid_points([...]))
    plan.variants()                        # baseline, knobs-off, one per point
    save_plan(run_dir, plan); load_plan(run_dir)
    result = summarize_sweep(plan, run_id, samples, comparisons)
    write_sweep_report(run_dir, result)    # sweep.json, sweep.md, sweep.html

Modules: `plan` (points from flags or TOML, the variants), `front` (Pareto), `summary`
(gain, cost, isolation, the answer), `report` (the pages).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from harness.errors import UsageError
from harness.files import atomic_write_json, read_json_object
from harness.rundir import layout
from harness.sweep.front import pareto_front
from harness.sweep.plan import (
    BASELINE,
    CONTROL,
    PLAN_SCHEMA,
    Point,
    SweepPlan,
    grid_points,
    listed_points,
    make_plan,
    plan_from_toml,
)
from harness.sweep.report import pareto_svg, write_sweep_report
from harness.sweep.summary import Candidate, SweepResult, summarize_sweep

__all__ = [
    "BASELINE",
    "CONTROL",
    "Candidate",
    "Point",
    "SweepPlan",
    "SweepResult",
    "grid_points",
    "is_sweep",
    "listed_points",
    "load_plan",
    "make_plan",
    "pareto_front",
    "pareto_svg",
    "plan_from_toml",
    "report_sweep",
    "save_plan",
    "summarize_sweep",
    "write_sweep_report",
]


def is_sweep(run_dir: Path) -> bool:
    return (run_dir / layout.SWEEP_PLAN).is_file()


def report_sweep(run_dir: Path, samples, comparisons) -> tuple[SweepResult, dict[str, Path]]:
    """The sweep's answer and pages from an analysis of its run (`sweep`, and `report`
    re-analyzing a sweep's run directory with other settings)."""
    result = summarize_sweep(load_plan(run_dir), run_dir.name, samples, comparisons)
    return result, write_sweep_report(run_dir, result)


def save_plan(run_dir: Path, plan: SweepPlan) -> Path:
    return atomic_write_json(run_dir / layout.SWEEP_PLAN, plan.to_json())


def load_plan(run_dir: Path) -> SweepPlan:
    """The plan a sweep saved in its run directory; exit 2 naming the file otherwise."""
    path = run_dir / layout.SWEEP_PLAN
    data = read_json_object(path, missing=f"{path}: no sweep plan: not a sweep's run")
    if data.get("schema") != PLAN_SCHEMA:
        got = data.get("schema")
        raise UsageError(f"{path}: sweep plan schema {got!r}, this stwbench reads {PLAN_SCHEMA}")
    try:
        return SweepPlan.model_validate(data)
    except ValidationError as exc:
        raise UsageError(f"{path}: {exc.errors(include_url=False)[0]['msg']}") from exc
