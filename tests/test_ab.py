"""`stwbench ab` and `stwbench report` end to end, on source-mode toolchains."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import GO, REPO, RUNQGET, stwbench

pytestmark = pytest.mark.slow  # real toolchains and processes: the fast lane skips it

SLOW = REPO / "tests" / "patches" / "test-only-slow-newproc.patch"


@pytest.fixture(scope="module")
def regression_run(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """A known regression (+20 µs per `go f()`) with an A/A arm, failing on regression."""
    out = tmp_path_factory.mktemp("ab")
    result = stwbench(
        "ab",
        "--go",
        GO,
        "--patch",
        str(SLOW),
        "--mode",
        "source",
        "--no-gate",
        "--workloads",
        "Scheduler",
        "--reps",
        "6",
        "--target-seconds",
        "0.15",
        "--seed",
        "1",
        "--aa",
        "--fail-on-regression",
        "--out",
        str(out),
    )
    return Path(result.stdout.strip()).parent, result


def test_known_regression_is_worse_and_fails_the_run(regression_run):
    run_dir, result = regression_run
    assert result.returncode == 1, result.stderr[-3000:]
    summary = json.loads((run_dir / "summary.json").read_text())
    rows = {(r["benchmark"], r["metric"], r["candidate"]): r for r in summary["comparisons"]}
    slow = rows[("Scheduler-2", "ns/op", "test-only-slow-newproc")]
    assert slow["verdict"] == "worse" and slow["q_value"] < 0.05
    assert slow["ratio"] > 1.5 and slow["ci_low"] > 1
    assert slow["n_baseline"] == slow["n_candidate"] == 6
    for key in ("run_id", "manifest", "comparisons"):
        assert key in summary
    for path in ("report.html", "summary.md", "bench.txt", "pyperf.json"):
        assert (run_dir / path).stat().st_size > 0
    assert "Scheduler-2" in (run_dir / "summary.md").read_text()


def test_aa_arm_reports_its_false_positive_rate(regression_run):
    run_dir, result = regression_run
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert [v["name"] for v in manifest["variants"]] == [
        "baseline",
        "baseline-aa",
        "test-only-slow-newproc",
    ]
    assert manifest["toolchains"]["baseline"]["key"] == manifest["toolchains"]["baseline-aa"]["key"]
    summary = json.loads((run_dir / "summary.json").read_text())
    aa_rows = [r for r in summary["comparisons"] if r["candidate"] == "baseline-aa"]
    flagged = [r for r in aa_rows if r["verdict"] in ("better", "worse")]
    assert {r["family"] for r in aa_rows} == {"aa"}
    assert "A/A calibration" in result.stderr and f"{len(flagged)} of" in result.stderr
    assert summary["aa"]["candidate"] == "baseline-aa"
    assert summary["aa"]["flagged"] == len(flagged)


def test_a_worse_aa_row_is_never_a_regression():
    """The A/A arm is a calibration: its rows cannot fail the run, whatever they say."""
    import pandas as pd

    from harness.analyze import Analysis

    rows = pd.DataFrame(
        {
            "candidate": ["baseline-aa", "patch", "patch"],
            "family": ["aa", "headline", "secondary"],
            "verdict": ["worse", "same", "inconclusive"],
        }
    )
    assert Analysis(None, rows, {}, None, "").regressions.empty
    rows.loc[2, "verdict"] = "worse"
    assert list(Analysis(None, rows, {}, None, "").regressions.index) == [2]


def test_a_calibrated_spawn_slowdown_is_worse_through_the_whole_harness(tmp_path):
    """tests/patches/test-only-spawn-spin-10pct.patch: 180 ns per `go f()`. On BurstSpawn
    (1024 spawns per op, ≈ 0.3 µs each) that is a large change; the row must be paired by
    block (every block complete; 16 pairs: the exact signed-rank test, whose p can go as low
    as 2/2¹⁶, so BH over the run's five headline rows has room even on a noisy machine),
    and `worse`."""
    spin = REPO / "tests" / "patches" / "test-only-spawn-spin-10pct.patch"
    result = stwbench(
        "ab",
        "--go",
        GO,
        "--patch",
        str(spin),
        "--mode",
        "source",
        "--no-gate",
        "--workloads",
        "BurstSpawn",
        "--reps",
        "16",
        "--target-seconds",
        "0.3",
        "--seed",
        "3",
        "--out",
        str(tmp_path),
    )
    assert result.returncode in (0, 3), result.stderr[-3000:]
    summary = json.loads((Path(result.stdout.strip()).parent / "summary.json").read_text())
    row = next(
        r
        for r in summary["comparisons"]
        if (r["benchmark"], r["metric"]) == ("BurstSpawn-2", "ns/op")
    )
    keys = ("test", "n_pairs", "family", "verdict", "ratio", "ci_low", "ci_high", "p_value")
    row = {k: row[k] for k in (*keys, "q_value", "p_min", "mdc")}
    assert row["test"] == "paired signed-rank" and row["n_pairs"] == 16, row
    assert row["family"] == "headline" and row["verdict"] == "worse", row
    assert row["ci_low"] > 1.0 and row["p_min"] < 0.05 and row["mdc"] > 0, row


def test_report_rerenders_the_same_verdicts_from_raw(regression_run):
    run_dir, _ = regression_run
    before = json.loads((run_dir / "summary.json").read_text())["comparisons"]
    again = stwbench("report", str(run_dir))
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.loads((run_dir / "summary.json").read_text())["comparisons"] == before
    assert stwbench("report", str(run_dir), "--fail-on-regression").returncode == 1


def test_quick_ab_reports_ns_op_and_stw_spike_latency(tmp_path):
    result = stwbench(
        "ab",
        "--go",
        GO,
        "--patch",
        str(RUNQGET),
        "--mode",
        "source",
        "--quick",
        "--out",
        "results",
        cwd=tmp_path,
    )
    assert result.returncode in (0, 3), result.stderr[-3000:]
    report = Path(result.stdout.strip())
    assert report.name == "report.html" and report.parent.parent == tmp_path / "results"
    summary = json.loads((report.parent / "summary.json").read_text())
    metrics = {(r["benchmark"], r["metric"]) for r in summary["comparisons"]}
    for wanted in [
        ("Scheduler-2", "ns/op"),
        ("BurstSpawn-2", "ns/op"),
        ("probe-2", "stw-sweep-term-p99-ms"),
        ("probe-2", "stw-mark-term-p99-ms"),
        ("probe-2", "start-latency-p99-ns"),
        ("probe-2", "start-latency-p999-ns"),
    ]:
        assert wanted in metrics
    manifest = json.loads((report.parent / "manifest.json").read_text())
    assert manifest["options"]["reps"] == 5 and len(manifest["workloads"]) == 3
    # The sanity gate ran inside ab (no --no-gate) on the patched toolchain only.
    gates = {g["variant"]: g for g in summary["checks"]["gate"]}
    assert gates["runqget-priority"]["status"] == "pass", gates
    assert gates["baseline"]["status"] == "not run", gates
    assert manifest["toolchains"]["runqget-priority"]["gate"]["passed"] is True
    html = report.read_text()
    assert "sanity gate · runqget-priority" in html and 'data-status="pass"' in html
    # The quick suite has no PingPongAlloc@gomaxprocs=1: the starvation check says so.
    (starvation,) = summary["checks"]["starvation"]
    assert starvation["status"] == "not measured" and "did not run" in starvation["reasons"][0]


def test_report_of_a_non_run_is_a_usage_error(tmp_path):
    result = stwbench("report", str(tmp_path))
    assert result.returncode == 2 and "not a run directory" in result.stderr
