"""STW spike metrics at equal cycle counts (harness/stw_tails.py): spike size, not frequency."""

from __future__ import annotations

import numpy as np
import pytest

from harness.stw_tails import (
    ProcessHistogram,
    ProcessPauses,
    equal_count_tails,
    histogram_tails,
    subsample,
)


def test_subsample_is_evenly_spread_and_deterministic():
    values = np.arange(10.0)
    assert list(subsample(values, 4)) == [0.0, 3.0, 6.0, 9.0]
    assert list(subsample(values, 10)) == list(values)
    assert list(subsample(values, 20)) == list(values)


def test_more_gc_cycles_with_the_same_pauses_do_not_read_as_worse_spikes():
    """The case from the issue: a patch that only makes GC run more often (30 → 45 cycles,
    one pause distribution). Over all cycles the per-process max grows with the count (+12 %
    expected for σ = 0.6); at equal counts it does not (seeded, 1000 processes per arm)."""
    rng = np.random.default_rng(7)

    def process(arm: str, i: int, cycles: int) -> ProcessPauses:
        pauses = rng.lognormal(np.log(0.05), 0.6, cycles)
        return ProcessPauses(
            ("W", "W-2"), (arm, i), pauses, rng.lognormal(np.log(0.03), 0.6, cycles)
        )

    processes = [process("base", i, 30) for i in range(1000)] + [
        process("more-gc", i, 45) for i in range(1000)
    ]
    tails = equal_count_tails(processes)

    def median(arm: str, metric: str, table) -> float:
        return float(np.median([v[metric] for k, v in table.items() if k[0] == arm]))

    # all cycles (what the tables did before): the max grows with the count
    everything = {
        p.process: {"stw-pause-max-ms": max(p.sweep_ms.max(), p.mark_ms.max())} for p in processes
    }
    naive = median("more-gc", "stw-pause-max-ms", everything) / median(
        "base", "stw-pause-max-ms", everything
    )
    assert naive > 1.08
    for metric in ("stw-pause-max-ms", "stw-sweep-term-p99-ms", "stw-mark-term-p99-ms"):
        ratio = median("more-gc", metric, tails) / median("base", metric, tails)
        assert abs(ratio - 1) < 0.06, (metric, ratio)
    assert {v["stw-cycles-compared"] for v in tails.values()} == {30.0}


def test_each_row_has_its_own_cycle_count_and_a_row_without_cycles_is_skipped():
    a = ProcessPauses(("A", "A-2"), "a1", np.array([1.0, 2, 3, 4]), np.array([1.0, 1, 1, 9]))
    b = ProcessPauses(("A", "A-2"), "a2", np.array([5.0, 6]), np.array([2.0, 2]))
    c = ProcessPauses(("B", "B-2"), "b1", np.array([]), np.array([]))
    tails = equal_count_tails([a, b, c])
    assert set(tails) == {"a1", "a2"}
    assert tails["a1"]["stw-cycles-compared"] == 2.0
    # a1 contributes cycles 0 and 3 (evenly spread): sweep [1, 4], mark [1, 9]
    assert tails["a1"]["stw-pause-max-ms"] == 9.0
    assert tails["a1"]["stw-sweep-term-mean-ms"] == 2.5


def hist(process, counts, key=("probe", "probe-2")):
    low = np.array([1000.0, 2000.0, 4000.0, 8000.0])
    high = np.array([2000.0, 4000.0, 8000.0, np.nan])
    return ProcessHistogram(key, process, low, high, np.array(counts, dtype=float))


def test_histogram_expected_max_uses_the_rows_smallest_count():
    """Same pause distribution, 2× the pauses: the expected max of K = the smaller count
    is the same for both; the plain p99 reads the bucket bound."""
    few, many = hist("few", [50, 30, 15, 5]), hist("many", [100, 60, 30, 10])
    tails = histogram_tails([few, many])
    assert tails["few"]["stw-hist-max-ns"] == pytest.approx(tails["many"]["stw-hist-max-ns"])
    assert tails["few"]["stw-hist-p99-ns"] == 8000.0  # the open bucket's lower bound
    # K = 1 pause: the expected max is the mean of the bucket values
    one = histogram_tails([hist("one", [1, 0, 0, 0]), hist("b", [0, 0, 1, 0])])
    assert one["one"]["stw-hist-max-ns"] == 2000.0 and one["b"]["stw-hist-max-ns"] == 8000.0
    assert histogram_tails([hist("empty", [0, 0, 0, 0])]) == {}
