"""Per-process STW spike metrics at equal cycle counts: spike size, not how often GC ran.

A per-process p99 over ~30 GC cycles is close to that process's maximum, and the maximum
of more draws is larger: a patch that only makes GC run more often (the same pause
distribution, 30 → 45 cycles) would read as a worse p99 (+9 %, simulated) and a worse max.
So every process of a (workload, benchmark) row contributes the same number K of cycles:
K is the smallest number of non-forced cycles any finished process of that row printed (all
variants), and a process with more cycles contributes a deterministic, evenly spaced
subsample of K of them (indices round(linspace(0, n − 1, K)), which keeps the whole run's
time span: early and late cycles alike). Forced cycles (`runtime.GC()`, e.g. the one
`testing` runs before the timed region) are excluded: their pauses are another kind.

Metrics per process (ms, lower is better), all over the K cycles:
- headline: `stw-sweep-term-p99-ms`, `stw-mark-term-p99-ms`, `stw-pause-max-ms` (the longest
  of either STW phase);
- steadier companions (secondary family): `stw-sweep-term-mean-ms`, `-p95-ms`,
  `stw-mark-term-mean-ms`, `-p95-ms`.
`stw-cycles-compared` records K itself (the same for every process of a row).

The same K cycles also give the GC-cost metrics of `harness/gc_cost.py` (mark-phase
length, heap overshoot) when the process's pauses carry those per-cycle series.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from harness.gc_cost import cycle_cost_metrics


@dataclass(frozen=True)
class ProcessPauses:
    """One finished process's non-forced STW phases, in cycle order."""

    key: tuple  # (workload, benchmark): processes of one comparison row share it
    process: object  # whatever identifies the process to the caller
    sweep_ms: np.ndarray
    mark_ms: np.ndarray
    # Per cycle, aligned with the pauses (harness/gc_cost.py); empty when not known.
    concurrent_mark_ms: np.ndarray = field(default_factory=lambda: np.array([]))
    overshoot: np.ndarray = field(default_factory=lambda: np.array([]))


def subsample(values: np.ndarray, k: int) -> np.ndarray:
    """k values evenly spread over `values` (all of them when k ≥ its length)."""
    if k >= values.size:
        return values
    return values[np.round(np.linspace(0, values.size - 1, k)).astype(int)]


def tail_metrics(sweep: np.ndarray, mark: np.ndarray) -> dict[str, float]:
    return {
        "stw-sweep-term-p99-ms": float(np.percentile(sweep, 99)),
        "stw-mark-term-p99-ms": float(np.percentile(mark, 99)),
        "stw-pause-max-ms": float(max(sweep.max(), mark.max())),
        "stw-sweep-term-mean-ms": float(sweep.mean()),
        "stw-sweep-term-p95-ms": float(np.percentile(sweep, 95)),
        "stw-mark-term-mean-ms": float(mark.mean()),
        "stw-mark-term-p95-ms": float(np.percentile(mark, 95)),
    }


def equal_count_tails(processes: Iterable[ProcessPauses]) -> dict[object, dict[str, float]]:
    """process → its STW metrics over K cycles, K the smallest count of its row."""
    processes = list(processes)
    smallest: dict[tuple, int] = {}
    for p in processes:
        smallest[p.key] = min(smallest.get(p.key, p.sweep_ms.size), p.sweep_ms.size)
    result: dict[object, dict[str, float]] = {}
    for p in processes:
        k = smallest[p.key]
        if k == 0:
            continue  # a process of this row had no GC cycle: no spike to compare
        metrics = tail_metrics(subsample(p.sweep_ms, k), subsample(p.mark_ms, k))
        if p.concurrent_mark_ms.size == p.sweep_ms.size:
            metrics |= cycle_cost_metrics(
                subsample(p.concurrent_mark_ms, k), subsample(p.overshoot, k)
            )
        result[p.process] = {**metrics, "stw-cycles-compared": float(k)}
    return result


# --- the runtime's own nanosecond pause histogram ------------------------------------------
#
# gctrace prints two significant digits (many ties); runtime/metrics
# `/sched/pauses/total/gc:seconds` (Go ≥ 1.22, one sample per GC STW pause, both phases)
# has nanosecond-resolution buckets. It cannot be subsampled by cycle, so the
# equal-count statistic is computed from the distribution instead: the expected maximum of
# K pauses drawn from the process's own histogram, Σ_b high_b · (F_b^K − F_{b−1}^K), K the
# smallest pause count of the row. The p99 of a histogram of ≥ 60 pauses moves little with
# the count and is reported as is.

HIST_SOURCE = "/sched/pauses/total/gc"


@dataclass(frozen=True)
class ProcessHistogram:
    key: tuple
    process: object
    low_ns: np.ndarray
    high_ns: np.ndarray  # NaN for the open last bucket
    counts: np.ndarray


def _bucket_values(h: ProcessHistogram) -> np.ndarray:
    """A value per bucket: its upper bound (the runtime's buckets are narrow), the lower
    one for the open-ended last bucket."""
    return np.where(np.isfinite(h.high_ns), h.high_ns, h.low_ns)


def histogram_tails(histograms: Iterable[ProcessHistogram]) -> dict[object, dict[str, float]]:
    """process → `stw-hist-p99-ns` and `stw-hist-max-ns` (expected max of K pauses)."""
    histograms = [h for h in histograms if h.counts.sum() > 0]
    smallest: dict[tuple, int] = {}
    for h in histograms:
        total = int(h.counts.sum())
        smallest[h.key] = min(smallest.get(h.key, total), total)
    result: dict[object, dict[str, float]] = {}
    for h in histograms:
        order = np.argsort(h.low_ns)
        values, counts = _bucket_values(h)[order], h.counts[order].astype(float)
        cdf = np.cumsum(counts) / counts.sum()
        k = smallest[h.key]
        below = np.concatenate([[0.0], cdf[:-1]])
        expected_max = float(np.sum(values * (cdf**k - below**k)))
        p99 = float(values[np.searchsorted(cdf, 0.99 - 1e-12)])
        result[h.process] = {"stw-hist-p99-ns": p99, "stw-hist-max-ns": expected_max}
    return result
