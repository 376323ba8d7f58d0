"""harness/report/mechanism.py on small frames: the GOMAXPROCS sweep's rows, the check
lines of the header, the STW stopping/stopped split; and the per-process GC view
(harness/report/derive.py), which finds each process through the manifest's run order."""

from __future__ import annotations

import math

import pandas as pd

from harness.report import derive, plots
from harness.report.mechanism import check_lines, gomaxprocs_frame, stopping_rows
from harness.rundir import RunItem
from harness.stats.compare import COMPARISON_COLUMNS
from tests.conftest import make_manifest, table


def comparison(benchmark: str, metric: str, ratio: float, verdict: str = "same") -> dict:
    row = dict.fromkeys(COMPARISON_COLUMNS, math.nan)
    row.update(
        benchmark=benchmark,
        metric=metric,
        unit=metric,
        direction="lower",
        baseline="baseline",
        candidate="patched",
        ratio=ratio,
        ci_low=ratio * 0.9,
        ci_high=ratio * 1.1,
        phase="all",
        verdict=verdict,
        n_baseline=5,
        n_candidate=5,
        n_pairs=5,
    )
    return row


def test_the_gomaxprocs_sweep_keeps_benchmarks_measured_at_two_or_more_values():
    rows = pd.DataFrame(
        [
            comparison("Scheduler", "ns/op", 1.0),  # GOMAXPROCS=1: Go prints no suffix
            comparison("Scheduler-2", "ns/op", 1.1),
            comparison("Scheduler-4", "ns/op", 1.3, "worse"),
            comparison("Timers-2", "ns/op", 1.0),  # at one GOMAXPROCS only: no trend
            comparison("probe-2", "start-latency-p99-ns", 0.5, "better"),
            comparison("probe-4", "start-latency-p99-ns", 0.8),
            comparison("probe-4", "B/op", 1.0),  # not a sweep metric
        ],
        columns=COMPARISON_COLUMNS,
    )
    frame = gomaxprocs_frame(rows, [1, 2, 4])
    got = sorted(zip(frame["name"], frame["procs"], frame["metric"], strict=True))
    assert got == [
        ("Scheduler", 1, "ns/op"),
        ("Scheduler", 2, "ns/op"),
        ("Scheduler", 4, "ns/op"),
        ("probe", 2, "start-latency-p99-ns"),
        ("probe", 4, "start-latency-p99-ns"),
    ]
    assert gomaxprocs_frame(rows, [2]).empty  # one GOMAXPROCS: no section
    svg = plots.gomaxprocs_ratios(frame)
    assert svg is not None and svg.startswith("<svg") and "GOMAXPROCS" in svg


def test_check_lines_say_status_and_figures():
    checks = {
        "gate": [{"variant": "patched", "status": "fail", "detail": "TestGCFairness2"}],
        "starvation": [
            {
                "candidate": "patched",
                "status": "fail",
                "mark_p95_ratio": 5.0,
                "longest_mark_ms": 250.0,
                "baseline_longest_mark_ms": 9.0,
                "cycles_per_s_ratio": 0.3,
                "n_candidate": 5,
                "n_baseline": 5,
                "reasons": ["mark-phase p95 ×5.00 (bound ×2)"],
            }
        ],
        "bounds": {
            "workload": "PingPongAlloc@gomaxprocs=1",
            "mark_p95_max_ratio": 2.0,
            "max_mark_phase_ms": 100.0,
            "cycles_per_s_range": [0.5, 2.0],
        },
    }
    gate, starvation = check_lines(checks)
    assert gate == {"what": "sanity gate · patched", "status": "fail", "text": "TestGCFairness2"}
    assert starvation["status"] == "fail"
    assert "×5.00" in starvation["text"] and "250.00 ms" in starvation["text"]
    assert "bound ×2" in starvation["text"]
    assert check_lines(None) == []


def test_stopping_rows_split_stw_into_stopping_and_stopped():
    rows = []
    for variant, total, stopping in (("baseline", 500.0, 50.0), ("patched", 1200.0, 900.0)):
        for rep in range(3):
            for metric, value in (
                ("stw-ns/op", total),
                ("stw-stopping-ns/op", stopping),
                ("stw-stopped-ns/op", total - stopping),
            ):
                rows.append(
                    {
                        "variant": variant,
                        "benchmark": "Scheduler-2",
                        "rep": rep,
                        "metric": metric,
                        "value": value,
                    }
                )
    samples = table("samples", rows)
    comparisons = pd.DataFrame(
        [comparison("Scheduler-2", "stw-stopping-ns/op", 18.0, "worse")],
        columns=COMPARISON_COLUMNS,
    )
    base, patched = stopping_rows(samples, comparisons, ["baseline", "patched"])
    assert (base["share"], patched["share"]) == ("10%", "75%")
    assert patched["stopped"] == "300 ns" and patched["stopping_change"]["verdict"] == "worse"
    assert base["stopping_change"]["verdict"] == ""  # the baseline has no row of its own


def test_gc_per_process_finds_each_process_through_the_run_order():
    """Wall time is the manifest's process duration, found by the order item's slug; a
    process the manifest has no record of falls back to its last GC's timestamp."""
    items = [
        RunItem(index=i, variant=v, workload="Scheduler", gomaxprocs=procs, rep=1)
        for i, (v, procs) in enumerate((("baseline", 2), ("patched", 2), ("patched", 4)))
    ]
    manifest = make_manifest(
        workloads=("Scheduler",),
        order=[item.model_dump() for item in items],
        processes={
            items[0].slug: {"status": "ok", "duration_s": 2.0, "exit_code": 0},
            items[1].slug: {"status": "ok", "duration_s": 4.0, "exit_code": 0},
        },
    )
    assert derive.process_slugs(manifest) == {
        (item.variant, item.workload, item.gomaxprocs, item.rep): item.slug for item in items
    }
    gc = table(
        "gc_cycles",
        [
            {"variant": item.variant, "workload": "Scheduler", "rep": 1, "procs": item.gomaxprocs}
            | {"cycle": cycle, "at_s": 0.5 * cycle, "gc_cpu_pct": 10.0 * cycle}
            for item in items
            for cycle in (1, 2)
        ],
    )
    rows = derive.gc_per_process(gc, manifest).set_index(["variant", "procs"])
    assert rows.loc[("baseline", 2), "wall_s"] == 2.0 and rows.loc[("baseline", 2), "per_s"] == 1.0
    assert rows.loc[("patched", 2), "wall_s"] == 4.0 and rows.loc[("patched", 2), "per_s"] == 0.5
    assert rows.loc[("patched", 4), "wall_s"] == 1.0  # no record: the last GC at 1.0 s
    assert (rows["gc_cpu_pct"] == 20.0).all()  # the last line's cumulative figure
