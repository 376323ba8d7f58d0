"""harness/gc_cost.py: mark-phase and heap-overshoot metrics, on the same K cycles as the
STW tails (harness/stw_tails.py), from gctrace per-cycle values."""

from __future__ import annotations

import numpy as np
import pytest

from harness.gc_cost import cycle_cost_metrics, overshoot
from harness.parse import parse_gctrace
from harness.stw_tails import ProcessPauses, equal_count_tails
from tests.conftest import REPO

FIXTURES = REPO / "tests" / "fixtures"


def test_overshoot_is_heap_at_mark_end_over_goal_and_skips_a_zero_goal():
    ratio = overshoot(np.array([10.0, 12.0, 3.0]), np.array([10.0, 8.0, 0.0]))
    assert ratio[:2].tolist() == [1.0, 1.5] and np.isnan(ratio[2])


def test_cycle_cost_metrics():
    metrics = cycle_cost_metrics(np.arange(1.0, 21.0), np.array([1.0, 1.2, np.nan, 1.1]))
    assert metrics["mark-phase-mean-ms"] == pytest.approx(10.5)
    assert metrics["mark-phase-p95-ms"] == pytest.approx(np.percentile(np.arange(1, 21), 95))
    assert metrics["heap-overshoot-mean"] == pytest.approx(1.1)
    assert metrics["heap-overshoot-max"] == pytest.approx(1.2)
    assert cycle_cost_metrics(np.array([]), np.array([])) == {}


def test_equal_cycle_counts_keep_a_process_with_more_cycles_from_a_longer_p95():
    """Same per-cycle distribution, one process with 3× the cycles: the p95 over K equal
    cycles must not grow with the count (a patch that only changes GC frequency)."""
    rng = np.random.default_rng(7)

    def process(n: int, name: str) -> ProcessPauses:
        mark = np.sort(rng.lognormal(0.0, 0.5, n))[rng.permutation(n)]
        return ProcessPauses(
            key=("W", "W-2"),
            process=name,
            sweep_ms=np.full(n, 0.1),
            mark_ms=np.full(n, 0.1),
            concurrent_mark_ms=mark,
            overshoot=np.full(n, 1.05),
        )

    tails = equal_count_tails([process(30, "few"), process(90, "many")])
    assert tails["few"]["stw-cycles-compared"] == tails["many"]["stw-cycles-compared"] == 30
    assert tails["many"]["heap-overshoot-mean"] == pytest.approx(1.05)
    assert 0.5 < tails["many"]["mark-phase-p95-ms"] / tails["few"]["mark-phase-p95-ms"] < 2


def test_real_gctrace_gives_finite_costs():
    for version in ("1.21.13", "1.27.3"):
        gc = parse_gctrace((FIXTURES / f"gctrace-{version}.txt").read_text())
        kept = [c for c in gc.cycles if not c.forced]
        assert kept, version
        metrics = cycle_cost_metrics(
            np.array([c.concurrent_mark_ms for c in kept]),
            overshoot(
                np.array([c.heap_end_mb for c in kept]), np.array([c.heap_goal_mb for c in kept])
            ),
        )
        assert set(metrics) == {
            "mark-phase-mean-ms",
            "mark-phase-p95-ms",
            "heap-overshoot-mean",
            "heap-overshoot-max",
        }, version
        assert all(np.isfinite(v) and v > 0 for v in metrics.values()), metrics
