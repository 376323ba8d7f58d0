"""harness/checks.py on small frames: every status of the gate and the starvation check,
and the exit codes they lead to. The real-toolchain halves: tests/test_gate.py (the gate
inside `ab`, its failure path) and tests/test_starvation.py (the check on real patches)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from harness.checks import (
    CYCLES_PER_S_RANGE,
    FAIL,
    MARK_P95_MAX_RATIO,
    MAX_MARK_PHASE_MS,
    NOT_MEASURED,
    NOT_RUN,
    PASS,
    SKIPPED,
    STARVATION_BENCHMARK,
    STARVATION_WORKLOAD,
    UNRELIABLE,
    gate_checks,
    run_checks,
)
from harness.stats.compare import COMPARISON_COLUMNS
from tests.conftest import make_manifest, table

REPS = 6


def manifest(workloads=(STARVATION_WORKLOAD,), gate=None, requested=True):
    toolchain = {"key": "k", "goroot": "/g", "go_version": "1.27.3", "mode": "make"}
    patch = {"name": "x.patch", "path": "/p/x.patch", "sha256": "0" * 64}
    return make_manifest(
        workloads=workloads,
        gate={"requested": requested},
        toolchains={
            "baseline": {**toolchain, "patches": []},
            "patched": {**toolchain, "patches": [patch], "gate": gate},
        },
    )


def frames(*, mark_ms=(1.0, 1.0), cycles_per_s=(100.0, 100.0), longest=None) -> dict:
    """Per variant (baseline, patched): every cycle's mark phase and the loop's rate."""
    cycles, samples = [], []
    for variant, mark, rate in zip(("baseline", "patched"), mark_ms, cycles_per_s, strict=True):
        for rep in range(REPS):
            for cycle in range(20):
                value = mark
                if longest is not None and variant == "patched" and rep == 0 and cycle == 5:
                    value = longest
                cycles.append(
                    {
                        "variant": variant,
                        "workload": STARVATION_WORKLOAD,
                        "rep": rep,
                        "cycle": cycle,
                        "concurrent_mark_ms": value,
                    }
                )
            ns_op = 1000.0
            for metric, value in (("ns/op", ns_op), ("gc-cycles/op", rate * ns_op / 1e9)):
                samples.append(
                    {
                        "variant": variant,
                        "workload": STARVATION_WORKLOAD,
                        "benchmark": STARVATION_BENCHMARK,
                        "rep": rep,
                        "metric": metric,
                        "value": value,
                    }
                )
    return {"gc_cycles": table("gc_cycles", cycles), "samples": table("samples", samples)}


def comparisons(ratio: float) -> pd.DataFrame:
    row = dict.fromkeys(COMPARISON_COLUMNS, math.nan)
    row.update(
        benchmark=STARVATION_BENCHMARK,
        metric="mark-phase-p95-ms",
        baseline="baseline",
        candidate="patched",
        ratio=ratio,
        phase="all",
        verdict="same",
    )
    return pd.DataFrame([row], columns=COMPARISON_COLUMNS)


def starvation(ratio=1.0, failed=None, **kwargs):
    checks = run_checks(manifest(), comparisons(ratio), frames(**kwargs), failed or {})
    (check,) = checks.starvation
    return check, checks


def test_a_patch_that_keeps_gc_cycling_passes():
    check, checks = starvation(ratio=1.3, mark_ms=(1.0, 1.3), cycles_per_s=(100.0, 80.0))
    assert check.status == PASS and not check.reasons
    assert check.cycles_per_s_ratio == pytest.approx(0.8)
    assert check.longest_mark_ms == pytest.approx(1.3)
    assert check.n_candidate == check.n_baseline == REPS
    assert checks.failed == []
    assert checks.exit_code(regressions=False, fail_on_regression=True) == 0


@pytest.mark.parametrize(
    "kwargs, reason",
    [
        ({"ratio": MARK_P95_MAX_RATIO * 1.5}, "mark-phase p95"),
        ({"longest": MAX_MARK_PHASE_MS * 1.5}, "a mark phase of"),
        ({"cycles_per_s": (100.0, 100.0 * CYCLES_PER_S_RANGE[0] * 0.5)}, "GC cycles/s"),
        ({"cycles_per_s": (100.0, 100.0 * CYCLES_PER_S_RANGE[1] * 1.5)}, "GC cycles/s"),
    ],
)
def test_each_bound_fails_the_check_on_its_own(kwargs, reason):
    check, checks = starvation(**kwargs)
    assert check.status == FAIL
    assert len(check.reasons) == 1 and reason in check.reasons[0]
    assert checks.failed and "starvation check patched" in checks.failed[0]
    # Only --fail-on-regression turns a failed starvation check into exit 1.
    assert checks.exit_code(regressions=False, fail_on_regression=True) == 1
    assert checks.exit_code(regressions=False, fail_on_regression=False) == 0


def test_failed_processes_or_too_few_make_it_unreliable_and_absence_not_measured():
    check, _ = starvation(failed={("patched", STARVATION_WORKLOAD): 1})
    assert check.status == UNRELIABLE and "1 failed" in check.reasons[0]
    few = frames()
    few["samples"] = few["samples"][few["samples"]["rep"] < 2]
    (check,) = run_checks(manifest(), comparisons(1.0), few, {}).starvation
    assert check.status == UNRELIABLE
    (check,) = run_checks(
        manifest(workloads=("Scheduler",)), comparisons(1.0), frames(), {}
    ).starvation
    assert check.status == NOT_MEASURED and "did not run" in check.reasons[0]
    no_cycles = frames()
    no_cycles["gc_cycles"] = no_cycles["gc_cycles"].iloc[0:0]
    (check,) = run_checks(manifest(), comparisons(1.0).iloc[0:0], no_cycles, {}).starvation
    assert check.status == NOT_MEASURED and "no mark-phase figures" in check.reasons[0]


def test_a_process_that_completes_one_cycle_fails_and_a_starved_worker_fails():
    """The two ways the test-only starving patch shows (tests/patches/README.md): one
    endless mark phase per process; and, worker-only starvation, no mark-worker CPU."""
    one = frames()
    gc = one["gc_cycles"]
    one["gc_cycles"] = gc[(gc["variant"] == "baseline") | (gc["cycle"] == 0)]
    (check,) = run_checks(manifest(), comparisons(1.0), one, {}).starvation
    assert check.status == FAIL and check.fewest_cycles == 1
    assert "completed 1 GC cycle" in check.reasons[0]
    worker = comparisons(1.0)
    worker = pd.concat([worker, worker.assign(metric="gc-dedicated-cpu-%", ratio=0.0)])
    (check,) = run_checks(manifest(), worker, frames(), {}).starvation
    assert check.status == FAIL and "mark-worker CPU ×0.00" in check.reasons[0]


def test_the_aa_arm_gets_no_starvation_check():
    base = manifest()
    m = base.model_copy(
        update={
            "variants": [
                base.variants[0],
                base.variants[0].model_copy(update={"name": "baseline-aa"}),
                base.variants[1],
            ],
            "aa_arm": "baseline-aa",
        }
    )
    checks = run_checks(m, comparisons(1.0), frames(), {})
    assert [s.candidate for s in checks.starvation] == ["patched"]


def test_gate_statuses_and_the_exit_code_of_a_failed_gate():
    passed = {"passed": True, "tests_passed": ["TestA", "TestB"]}
    failed = {"passed": False, "tests_failed": ["TestGCFairness2"], "tests_missing": []}
    by_variant = {g.variant: g for g in gate_checks(manifest(gate=passed))}
    assert by_variant["baseline"].status == NOT_RUN  # unpatched: not gated
    assert by_variant["patched"].status == PASS and by_variant["patched"].detail == "2 tests"
    (_, bad) = gate_checks(manifest(gate=failed))
    assert bad.status == FAIL and bad.detail == "TestGCFairness2"
    (_, skipped) = gate_checks(manifest(gate=None, requested=False))
    assert skipped.status == SKIPPED and "--no-gate" in skipped.detail
    checks = run_checks(manifest(gate=failed), comparisons(1.0), frames(), {})
    # A failed gate exits 1 with or without --fail-on-regression.
    assert checks.exit_code(regressions=False, fail_on_regression=False) == 1
    assert any(line.startswith("gate patched") for line in checks.failed)
    assert (
        run_checks(manifest(gate=passed), comparisons(1.0), frames(), {}).exit_code(
            regressions=True, fail_on_regression=True
        )
        == 1
    )


def test_checks_serialize_with_their_bounds():
    _, checks = starvation()
    document = checks.to_json()
    assert document["bounds"]["workload"] == STARVATION_WORKLOAD
    assert document["starvation"][0]["status"] == PASS
    assert np.isfinite(document["starvation"][0]["mark_p95_ratio"])
