"""Adaptive reps (`stwbench ab --until-ci`): add whole blocks until the headline rows are
precise enough, the rep cap is reached or the time budget would be overrun.

The rule looks at precision only: the relative half-width of each headline row's CI
(harness.stats.precision), never at p-values or verdicts. Stopping once something looks
significant would inflate the false-positive rate (optional stopping); stopping once every
interval is narrow enough does not depend on which way the answer points.

Loop, after the initial --reps blocks ran:
    precision of every headline row (analyze.precision: tables in memory, no report)
    reached                       → stop "precision reached"
    reps ≥ --max-reps             → stop "max reps"
    next block would overrun the --budget (mean measured block time, plus the analysis
    still to come)                → stop "budget"
    else add n blocks (n from the worst row: the half-width shrinks like 1/√reps, capped
    at half the reps so far, at least 1), run them, repeat.

Everything is recorded in `Manifest.adaptive` (settings, one entry per step, why it
stopped), so `ab --resume` continues the same loop with the same settings.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from harness.console import console
from harness.rundir import Adaptive, AdaptiveStep, Manifest
from harness.runs import Run, block_size, execute_run, extend_run

STOPPED_PRECISION = "precision reached"
STOPPED_MAX_REPS = "max reps"
STOPPED_BUDGET = "budget"
STOPPED_NO_ROWS = "no headline rows"
# What still runs after the last block, in units of one measured precision check: the
# check after that block, then the final analysis (tables written, report rendered).
# Measured on 2 vCPUs: a 20-rep default-suite run (400 processes), check 8.0 s, final
# analyze() 24.8 s (3.1 checks); a 30-rep `nox -s bench` run, check 11.6 s, `stwbench
# report` 24 s (2.1 checks). 1 + ≈ 2.5.
FINAL_ANALYSIS_FACTOR = 3.5


@dataclass(frozen=True)
class Settings:
    until_ci: float  # target relative CI half-width, percent (2 = ±2 %)
    max_reps: int
    budget_min: float | None  # wall clock for the whole ab command; None: no budget

    @classmethod
    def of(cls, record: Adaptive) -> Settings:
        return cls(record.until_ci, record.max_reps, record.budget_min)


def wanted_blocks(reps: int, worst: float, target: float) -> int:
    """Blocks to add so the worst row's half-width reaches target, if it shrinks like
    1/√reps; at least 1 and at most half the reps so far (the estimate is itself noisy).
    `worst` NaN (a row without a CI yet) asks for the cap."""
    cap = max(1, math.ceil(reps / 2))
    if not (worst > 0 and math.isfinite(worst)):
        return cap
    needed = math.ceil(reps * (worst / target) ** 2) - reps
    return min(max(needed, 1), cap)


def block_seconds(run: Run) -> float | None:
    """Mean wall time of one block so far (harness overhead and noise re-runs included)."""
    per_process = run.manifest.mean_process_seconds()
    if per_process is None:
        durations = [p.duration_s for p in run.manifest.processes.values()]
        per_process = sum(durations) / len(durations) if durations else None
    return None if per_process is None else per_process * block_size(run)


def fitting_blocks(
    remaining_s: float | None, block_s: float | None, reserve_s: float
) -> int | None:
    """How many more blocks fit into what is left of the budget (None: no budget)."""
    if remaining_s is None:
        return None
    if not block_s or block_s <= 0:
        return 0 if remaining_s <= reserve_s else 1  # nothing measured yet: one at a time
    return max(0, math.floor((remaining_s - reserve_s) / block_s))


def _pct(fraction: float) -> str:
    return "no CI" if not math.isfinite(fraction) else f"±{fraction * 100:.3g} %"


def describe(precision, target_pct: float) -> str:
    text = f"{precision.met}/{precision.rows} headline rows within ±{target_pct:g} %"
    if precision.rows:
        text += f"; worst {precision.worst_row} {_pct(precision.worst)}"
    return text


def record_settings(run: Run, settings: Settings) -> None:
    """Write `Manifest.adaptive` before the first process runs: a killed adaptive run
    resumes as one."""
    old = run.manifest.adaptive
    run.manifest.adaptive = Adaptive(
        until_ci=settings.until_ci,
        max_reps=settings.max_reps,
        budget_min=settings.budget_min,
        initial_reps=old.initial_reps if old else run.options.reps,
        steps=old.steps if old else [],
        stopped=old.stopped if old else None,
    )
    run.save()


def recorded_settings(manifest: Manifest) -> Settings | None:
    return Settings.of(manifest.adaptive) if manifest.adaptive else None


def run_adaptive(run: Run, settings: Settings, started: float, run_code: int) -> int:
    """Continue `run` (its initial blocks already executed) until the stopping rule says
    so; returns the last execute_run exit code. `started`: time.monotonic() at the start
    of the ab command (the budget counts from there)."""
    from harness.analyze import precision  # pandas, scipy: only when needed

    record_settings(run, settings)
    record = run.manifest.adaptive
    assert record is not None  # record_settings wrote it
    steps = record.steps
    if record.stopped:
        console.print(f"adaptive: already stopped ({record.stopped}) after {run.options.reps} reps")
        return run_code
    target = settings.until_ci / 100.0
    budget_s = None if settings.budget_min is None else settings.budget_min * 60.0
    while True:
        checked = time.monotonic()
        reached = precision(run.run_dir, target)
        analysis_s = time.monotonic() - checked
        reps = run.options.reps
        step = AdaptiveStep(
            reps=reps,
            worst=reached.worst if math.isfinite(reached.worst) else None,
            worst_row=reached.worst_row,
            met=reached.met,
            rows=reached.rows,
            analysis_s=round(analysis_s, 2),
        )
        stopped = None
        if reached.reached:
            stopped = STOPPED_PRECISION
        elif reached.rows == 0:
            stopped = STOPPED_NO_ROWS
        elif reps >= settings.max_reps:
            stopped = STOPPED_MAX_REPS
        else:
            add = min(wanted_blocks(reps, reached.worst, target), settings.max_reps - reps)
            block_s = block_seconds(run)
            remaining = None if budget_s is None else budget_s - (time.monotonic() - started)
            fit = fitting_blocks(remaining, block_s, FINAL_ANALYSIS_FACTOR * analysis_s)
            if fit is not None:
                add = min(add, fit)
            if add < 1:
                stopped = STOPPED_BUDGET
            step.added = add
            step.block_s = None if block_s is None else round(block_s, 1)
        steps.append(step)
        line = f"after {reps} reps: {describe(reached, settings.until_ci)}"
        if stopped is None:
            plural = "s" if step.added != 1 else ""
            console.print(f"{line}; adding {step.added} block{plural}")
        else:
            record.stopped = stopped
            console.print(f"{line}; stopped: {stopped}")
        run.save()
        if stopped is not None:
            return run_code
        extend_run(run, step.added)
        run_code = execute_run(run)
