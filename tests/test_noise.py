"""Noise guards: the interference arithmetic, the isolation plan, and a real run whose every
process is re-run (a threshold no process can meet), with its cpu-ns/op rows.

The arithmetic is checked against two /proc/stat snapshots captured on this project's
machine (tests/fixtures/README.md says how), never against live timings.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from harness.runs import isolation, noise
from harness.runs.execute import ProcessResult
from harness.runs.runner import RunOptions, noise_reason
from tests.conftest import GO, REPO, RUNQGET, stwbench

pytestmark = pytest.mark.slow  # real toolchains and processes: the fast lane skips it

FIXTURES = REPO / "tests" / "fixtures"


def _sample(stat_file: str | None, *, at: float, user: float, sys: float, own: float):
    stat = noise.parse_proc_stat((FIXTURES / stat_file).read_text()) if stat_file else None
    return noise.Sample(at, stat, user, sys, own, load1=1.5 if at == 0 else 9.0)


def test_proc_stat_parses_the_aggregate_cpu_line():
    stat = noise.parse_proc_stat((FIXTURES / "proc-stat-before.txt").read_text())
    # cpu  46980 0 9740 19390 840 0 215 141 0 0  (the first line of the fixture)
    assert stat == {
        "user": 46980,
        "nice": 0,
        "system": 9740,
        "idle": 19390,
        "iowait": 840,
        "irq": 0,
        "softirq": 215,
        "steal": 141,
    }
    assert noise.parse_proc_stat("cpu  1 2 3 4\n") == {  # old kernels: fewer fields
        **dict.fromkeys(noise.FIELDS, 0),
        "user": 1,
        "nice": 2,
        "system": 3,
        "idle": 4,
    }
    assert noise.parse_proc_stat("intr 1 2\n") is None
    assert noise.parse_proc_stat("cpu  x y\n") is None


def test_interference_is_busy_cpu_minus_the_process_and_the_harness():
    # Between the snapshots (1 s apart): user +79, system +47, softirq 0, irq 0, nice 0
    # → 126 busy jiffies = 1.26 s at CLK_TCK 100; idle +69, iowait +6 are not busy;
    # steal +0. A child that used 0.4 + 0.1 s and a harness that used 0.06 s leave
    # (1.26 − 0.5 − 0.06) / 1.0 s = 0.70 cores to everything else.
    before = _sample("proc-stat-before.txt", at=0.0, user=10.0, sys=2.0, own=3.0)
    after = _sample("proc-stat-after.txt", at=1.0, user=10.4, sys=2.1, own=3.06)
    figures = noise.measure(before, after, clk_tck=100)
    assert figures.cpu_user_s == pytest.approx(0.4)
    assert figures.cpu_sys_s == pytest.approx(0.1)
    assert figures.cpu_s == pytest.approx(0.5)
    assert figures.interference_cores == pytest.approx(0.70)
    assert figures.steal_cores == 0
    assert figures.load1 == 1.5  # the load when the process started
    # The same jiffies over twice the wall time: half the cores.
    slow = _sample("proc-stat-after.txt", at=2.0, user=10.4, sys=2.1, own=3.06)
    assert noise.measure(before, slow, clk_tck=100).interference_cores == pytest.approx(0.35)


def test_steal_counts_in_cores_and_is_not_busy():
    before = noise.Sample(0.0, noise.parse_proc_stat("cpu 100 0 100 100 0 0 0 100\n"), 0, 0, 0, 1)
    after = noise.Sample(0.5, noise.parse_proc_stat("cpu 150 0 100 120 0 0 0 125\n"), 0, 0, 0, 1)
    figures = noise.measure(before, after, clk_tck=100)
    assert figures.steal_cores == pytest.approx(0.25 / 0.5)  # 25 jiffies over 0.5 s
    assert figures.interference_cores == pytest.approx(0.5 / 0.5)  # 50 user jiffies


def test_without_proc_stat_there_are_cpu_times_but_no_interference():
    before = _sample(None, at=0.0, user=1.0, sys=1.0, own=0.0)
    after = _sample(None, at=1.0, user=1.2, sys=1.0, own=0.0)
    figures = noise.measure(before, after)
    assert figures.cpu_user_s == pytest.approx(0.2)
    assert figures.interference_cores is None and figures.steal_cores is None
    live = noise.sample()  # this machine is Linux: the real file parses
    assert live.stat is not None and live.stat["user"] > 0


def test_noise_reason_reads_only_the_figures():
    options = RunOptions(max_interference_cores=0.25, max_steal_cores=0.1)
    quiet = ProcessResult(
        status="failed", exit_code=2, duration_s=1.0, interference_cores=0.1, steal_cores=0.0
    )
    assert noise_reason(quiet, options) is None  # a failure is not noise
    busy = ProcessResult(
        status="ok", exit_code=0, duration_s=1.0, interference_cores=0.6, steal_cores=0.3
    )
    assert noise_reason(busy, options) == "interference 0.60 cores > 0.25; steal 0.30 cores > 0.1"
    unknown = ProcessResult(
        status="ok", exit_code=0, duration_s=1.0
    )  # no /proc/stat, or an old status.json
    assert noise_reason(unknown, options) is None


def test_isolation_plan_degrades_instead_of_failing(tmp_path):
    two = isolation.plan([0, 1], taskset_ok=True, user_cpus=None, max_gomaxprocs=2)
    assert not two["applied"] and two["bench_cpus"] is None and "2 CPUs" in two["reason"]
    four = isolation.plan([0, 1, 2, 3], taskset_ok=True, user_cpus=None, max_gomaxprocs=2)
    assert four["applied"] and four["harness_cpus"] == [0] and four["bench_cpus"] == "1,2,3"
    over = isolation.plan([4, 5, 6], taskset_ok=True, user_cpus=None, max_gomaxprocs=3)
    assert over["bench_cpus"] == "5,6" and "oversubscribed" in over["reason"]
    no_taskset = isolation.plan([0, 1, 2, 3], taskset_ok=False, user_cpus=None, max_gomaxprocs=2)
    assert not no_taskset["applied"] and "taskset" in no_taskset["reason"]
    user = isolation.plan([0, 1], taskset_ok=True, user_cpus="1", max_gomaxprocs=1)
    assert user["bench_cpus"] == "1" and user["harness_cpus"] is None
    # cgroup v2 cpuset: detected from cgroup.controllers, never used.
    assert not isolation._cgroup_cpuset(tmp_path)[0]  # no cgroup.controllers: v1 or none
    (tmp_path / "cgroup.controllers").write_text("cpu io memory pids\n")
    assert "cpuset not among" in isolation._cgroup_cpuset(tmp_path)[1]
    (tmp_path / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    assert isolation._cgroup_cpuset(tmp_path) == (True, "ok")
    facts = isolation.detect(None, 2)
    assert facts["cpus"] and isinstance(facts["taskset"], bool)
    # Moving the harness is undone after the block (this machine's first CPU is enough).
    everywhere = os.sched_getaffinity(0)
    with isolation.harness_on([facts["cpus"][0]]):
        assert os.sched_getaffinity(0) == {facts["cpus"][0]}
    assert os.sched_getaffinity(0) == everywhere


@pytest.fixture(scope="module")
def rerun_run(tmp_path_factory) -> tuple[Path, str]:
    """Every process re-run once: --max-interference -1 is a threshold no process meets."""
    out = tmp_path_factory.mktemp("noise")
    result = stwbench(
        "run", "--go", GO, "--patch", RUNQGET, "--mode", "source", "--workloads", "Scheduler",
        "--reps", "2", "--target-seconds", "0.1", "--seed", "4", "--max-interference", "-1",
        "--noise-retries", "1", "--no-gate", "--out", out,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return Path(result.stdout.strip()), result.stderr


def test_noisy_processes_are_rerun_and_the_rejected_attempts_kept_aside(rerun_run):
    run_dir, stderr = rerun_run
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["options"]["max_interference_cores"] == -1
    slugs = list(manifest["processes"])
    assert len(slugs) == 4
    for slug, entry in manifest["processes"].items():
        assert entry["status"] == "ok" and entry["noisy"] is True  # retries ran out: kept
        assert entry["cpu_user_s"] > 0 and entry["interference_cores"] is not None
        [attempt] = entry["attempts"]
        assert attempt["attempt"] == 1 and "interference" in attempt["reason"]
        assert attempt["dir"] == f"raw/_rejected/{slug}.attempt1"
        rejected = json.loads((run_dir / attempt["dir"] / "status.json").read_text())
        assert rejected["interference_cores"] == attempt["interference_cores"]
        assert (run_dir / attempt["dir"] / "stdout.txt").stat().st_size > 0
        kept = json.loads((run_dir / "raw" / slug / "status.json").read_text())
        assert kept["interference_cores"] == entry["interference_cores"]
        assert f"re-run {slug}" in " ".join(stderr.split())
    assert manifest["noise"]["rerun"] == 4 == manifest["noise"]["rejected_attempts"]
    assert sorted(manifest["noise"]["rerun_slugs"]) == sorted(slugs)
    assert sorted(manifest["noise"]["kept_noisy"]) == sorted(slugs)
    assert manifest["noise"]["threshold_cores"] == -1 and manifest["noise"]["retries_max"] == 1
    assert manifest["isolation"]["cpus"] and "reason" in manifest["isolation"]


def test_rejected_attempts_do_not_reach_the_tables(rerun_run, tmp_path):
    from harness.tables import build_tables

    run_dir, _ = rerun_run
    with_rejected = build_tables(run_dir).frames["samples"]
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    shutil.rmtree(copy / "raw" / "_rejected")
    without = build_tables(copy).frames["samples"]
    pd.testing.assert_frame_equal(with_rejected, without)
    ns = with_rejected[with_rejected.metric == "ns/op"]
    assert sorted(ns.groupby("variant").size().items()) == [
        ("baseline", 2),
        ("runqget-priority", 2),
    ]


def test_cpu_ns_per_op_rows_come_from_status_and_benchtime(rerun_run, tmp_path):
    from harness.tables import build_tables

    run_dir, _ = rerun_run
    manifest = json.loads((run_dir / "manifest.json").read_text())
    samples = build_tables(run_dir).frames["samples"]
    cpu = samples[samples.metric == "cpu-ns/op"]
    assert len(cpu) == 4 and (cpu.value > 0).all()
    assert set(cpu.benchmark) == {"Scheduler-2"} and set(cpu.unit) == {"ns"}
    assert set(cpu.better) == {"lower"}
    n = manifest["benchtime"]["Scheduler"]
    for row in cpu.itertuples():
        slug = f"{row.variant}/Scheduler/gomaxprocs2-rep{row.rep:03d}"
        status = json.loads((run_dir / "raw" / slug / "status.json").read_text())
        assert row.value == pytest.approx((status["cpu_user_s"] + status["cpu_sys_s"]) * 1e9 / n)
    # Status files written before the figure existed: no row, nothing else changes.
    old = tmp_path / "old"
    shutil.copytree(run_dir, old)
    for path in (old / "raw").glob("*/*/*/status.json"):
        status = json.loads(path.read_text())
        for name in ("cpu_user_s", "cpu_sys_s", "interference_cores", "steal_cores", "load1"):
            del status[name]
        path.write_text(json.dumps(status))
    old_samples = build_tables(old).frames["samples"]
    assert "cpu-ns/op" not in set(old_samples.metric)
    assert len(old_samples) == len(samples) - 4


def test_manifests_without_the_noise_options_load_with_defaults(rerun_run, tmp_path):
    from harness.rundir.models import DEFAULT_MAX_INTERFERENCE_CORES
    from harness.runs import load_run

    run_dir, _ = rerun_run
    old = tmp_path / "old"
    shutil.copytree(run_dir, old)
    manifest = json.loads((old / "manifest.json").read_text())
    for name in ("max_interference_cores", "max_steal_cores", "noise_retries"):
        del manifest["options"][name]
    (old / "manifest.json").write_text(json.dumps(manifest))
    options = load_run(old).options
    assert options.max_interference_cores == DEFAULT_MAX_INTERFERENCE_CORES
    assert options.noise_retries == 2
