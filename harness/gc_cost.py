"""What a process's GC cycles cost, from gctrace: mark-phase length and heap overshoot.

A scheduler patch that lets user goroutines run before a mark worker can make the
concurrent mark phase longer (the worker starts later) and let the heap grow past its
goal while marking lags (more allocation happens before the cycle ends). Both are per
cycle, so, as with the STW tails (`harness/stw_tails.py`), every process of a row is
judged on the same number K of non-forced cycles, evenly subsampled: a patch that only
changes how often GC runs does not move a p95 by drawing more cycles.

Metrics per process, all over the K cycles (headline family, lower is better):
- `mark-phase-mean-ms`, `mark-phase-p95-ms`: gctrace's concurrent-mark clock (the B of
  `A+B+C ms clock`);
- `heap-overshoot-mean`, `heap-overshoot-max`: heap size at mark end ÷ the cycle's heap
  goal (`A->B->C MB, D MB goal`: B ÷ D). gctrace prints whole MB, so on small heaps one
  cycle's ratio moves in steps of 1/goal; the mean over K cycles is the steady figure.

The CPU side of the cost (assist, dedicated, idle shares; cycles per second; the
runtime's scheduling latency) comes from runtime/metrics inside the process
(go_workloads/internal/gccost), not from here.
"""

from __future__ import annotations

import numpy as np

MARK_PHASE_METRICS = ("mark-phase-mean-ms", "mark-phase-p95-ms")
OVERSHOOT_METRICS = ("heap-overshoot-mean", "heap-overshoot-max")
UNITS = {
    "mark-phase-mean-ms": "ms",
    "mark-phase-p95-ms": "ms",
    "heap-overshoot-mean": "ratio",
    "heap-overshoot-max": "ratio",
}


def overshoot(heap_end_mb: np.ndarray, heap_goal_mb: np.ndarray) -> np.ndarray:
    """Heap at mark end ÷ goal per cycle; NaN where gctrace printed a goal of 0 MB."""
    goal = np.asarray(heap_goal_mb, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.asarray(heap_end_mb, dtype=float) / goal
    return np.where(goal > 0, ratio, np.nan)


def cycle_cost_metrics(mark_phase_ms: np.ndarray, overshoots: np.ndarray) -> dict[str, float]:
    """The GC-cost metrics of one process's K cycles (already subsampled)."""
    out: dict[str, float] = {}
    if mark_phase_ms.size:
        out["mark-phase-mean-ms"] = float(np.mean(mark_phase_ms))
        out["mark-phase-p95-ms"] = float(np.percentile(mark_phase_ms, 95))
    finite = overshoots[np.isfinite(overshoots)]
    if finite.size:
        out["heap-overshoot-mean"] = float(np.mean(finite))
        out["heap-overshoot-max"] = float(np.max(finite))
    return out
