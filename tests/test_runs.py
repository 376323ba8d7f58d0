"""Real short runs: source-mode toolchains, real workloads, real processes.

Shapes kept small (a few processes of well under a second) so the suite stays fast; the
numbers themselves are never asserted beyond plausibility: benchmarks are measurements.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from harness.runs.plan import run_order
from harness.runs.variants import Variant, variants_from_toml
from harness.runs.workloads import SUITES, resolve_workloads
from tests.conftest import GO, REPO, RUNQGET, kill_when, stwbench

pytestmark = pytest.mark.slow  # real toolchains and processes: the fast lane skips it

GCTRACE_LINE = re.compile(r"gc \d+ @[\d.]+s \d+%: ")
# --no-gate: these tests are about processes, not the gate (tests/test_gate.py); a gate per
# test-only toolchain would cost minutes (and hang on the hang-in-GC patch).
FAST = ["--mode", "source", "--target-seconds", "0.15", "--probe-duration", "0.5", "--no-gate"]


def only_run_dir(out: Path) -> Path:
    runs = [p for p in out.iterdir() if p.is_dir() and not p.is_symlink()]
    assert len(runs) == 1, runs
    return runs[0]


@pytest.fixture(scope="module")
def short_run(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """2 variants × 2 workloads (probe, Scheduler) × 2 reps, source-mode toolchains.

    Run from another directory with a relative --out, as users do (`--out results`).
    """
    out = tmp_path_factory.mktemp("runs")
    result = stwbench(
        "run",
        "--go",
        GO,
        "--patch",
        str(RUNQGET),
        *FAST,
        "--workloads",
        "probe,Scheduler",
        "--reps",
        "2",
        "--gomaxprocs",
        "2",
        "--seed",
        "7",
        "--out",
        out.name,
        cwd=out.parent,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return only_run_dir(out), result


def test_short_run_keeps_every_process_and_its_output(short_run):
    run_dir, result = short_run
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert len(manifest["order"]) == 2 * 2 * 2
    assert manifest["status"] == "finished"
    assert {p["status"] for p in manifest["processes"].values()} == {"ok"}
    assert manifest["options"]["seed"] == 7 and manifest["benchtime"]["Scheduler"] >= 1
    assert manifest["machine"]["cores"] >= 1 and manifest["machine"]["kernel"]
    first_block = {item["variant"] for item in manifest["order"][:4]}
    assert first_block == {"baseline", "runqget-priority"}  # interleaved, not grouped
    for slug in manifest["processes"]:
        status = json.loads((run_dir / "raw" / slug / "status.json").read_text())
        assert "gctrace=1" in status["env"]["GODEBUG"]
        assert (run_dir / "raw" / slug / "stderr.txt").stat().st_size > 0
    builds = manifest["builds"]["runqget-priority"]
    assert builds["Scheduler"]["version_m"].startswith(builds["Scheduler"]["path"] + ":")
    assert "go1.27.3" in builds["Scheduler"]["version_m"]
    assert str(run_dir) == result.stdout.strip()
    assert (run_dir.parent / "latest").resolve() == run_dir.resolve()


def test_short_run_tables_have_expected_rows_and_plausible_values(short_run):
    run_dir, _ = short_run
    tables = {p.stem: pd.read_parquet(p) for p in (run_dir / "tables").glob("*.parquet")}
    samples, gc, latency = tables["samples"], tables["gc_cycles"], tables["latency"]
    ns = samples[(samples.benchmark == "Scheduler-2") & (samples.metric == "ns/op")]
    assert sorted(ns.groupby("variant").size().items()) == [
        ("baseline", 2),
        ("runqget-priority", 2),
    ]
    assert (ns.value > 0).all()
    # One gc_cycles row per gctrace line printed, process by process.
    for stderr in (run_dir / "raw").glob("*/*/*/stderr.txt"):
        variant, workload, item = stderr.parts[-4:-1]
        rep = int(item.rsplit("rep", 1)[1])
        printed = len(GCTRACE_LINE.findall(stderr.read_text()))
        rows = gc[(gc.variant == variant) & (gc.workload == workload) & (gc.rep == rep)]
        assert len(rows) == printed > 0
    assert (gc.stw_sweep_term_ms + gc.stw_mark_term_ms > 0).all()
    assert (gc.heap_goal_mb > 0).all()
    # The probe's histogram counts add up to the goroutines it measured.
    for probe_json in (run_dir / "raw").glob("*/probe/*/probe.json"):
        variant, _, item = probe_json.parts[-4:-1]
        rep = int(item.rsplit("rep", 1)[1])
        measured = json.loads(probe_json.read_text())["measured"]
        rows = latency[
            (latency.variant == variant) & (latency.rep == rep) & (latency.source == "probe")
        ]
        assert rows["count"].sum() == measured > 0
    p999 = samples[samples.metric == "start-latency-p999-ns"]
    assert len(p999) == 4 and (p999.value > 0).all()
    stw = samples[samples.metric == "stw-sweep-term-p99-ms"]
    assert len(stw) == 8 and (stw.value > 0).all()


def test_report_tables_are_a_pure_function_of_raw(short_run, tmp_path):
    from harness.tables import build_tables

    run_dir, _ = short_run
    again = build_tables(run_dir)
    for name, frame in again.frames.items():
        stored = pd.read_parquet(run_dir / "tables" / f"{name}.parquet")
        pd.testing.assert_frame_equal(frame.reset_index(drop=True), stored, check_dtype=False)


def test_killed_run_resumes_without_redoing_finished_processes(tmp_path):
    out = tmp_path / "runs"
    command = ["run", "--go", GO, "--patch", RUNQGET, *FAST, "--workloads", "Scheduler",
               "--reps", "4", "--gomaxprocs", "2", "--seed", "3", "--out", out]  # fmt: skip

    def three_done() -> bool:
        done = [p for p in out.glob("*/raw/*/*/*/status.json") if "latest" not in p.parts]
        return len(done) >= 3

    kill_when(command, three_done)
    run_dir = only_run_dir(out)
    before = {
        p.parent.name + p.parent.parent.parent.name: p.read_text()
        for p in run_dir.glob("raw/*/*/*/status.json")
    }
    assert 3 <= len(before) < 8
    result = stwbench("run", "--resume", str(run_dir))
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"{len(before)} of 8 processes already on disk" in result.stderr.replace("\n", " ")
    after = {
        p.parent.name + p.parent.parent.parent.name: p.read_text()
        for p in run_dir.glob("raw/*/*/*/status.json")
    }
    assert len(after) == 8
    assert all(after[key] == text for key, text in before.items())  # not redone
    assert not list(run_dir.glob("raw/*/*/*.partial"))
    assert len(json.loads((run_dir / "manifest.json").read_text())["processes"]) == 8


def test_a_process_on_disk_but_not_in_the_manifest_is_recorded_on_resume(short_run, tmp_path):
    """The kill window between a process's rename into place and the manifest's save:
    resume records it from its status.json (complete on disk) instead of leaving a hole."""
    import shutil

    run_dir = tmp_path / "copy"
    shutil.copytree(short_run[0], run_dir, symlinks=True)
    manifest_path = run_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    slug = next(iter(manifest["processes"]))
    kept = manifest["processes"].pop(slug)
    manifest_path.write_text(json.dumps(manifest))
    status = (run_dir / "raw" / slug / "status.json").read_text()
    result = stwbench("run", "--resume", str(run_dir))
    assert result.returncode == 0, result.stderr[-3000:]
    again = json.loads(manifest_path.read_text())["processes"]
    assert len(again) == 8 and again[slug]["status"] == kept["status"] == "ok"
    assert again[slug]["duration_s"] == kept["duration_s"]
    assert (run_dir / "raw" / slug / "status.json").read_text() == status  # not redone


@pytest.mark.parametrize("executor", ["local", "docker"])
def test_hanging_and_crashing_runtimes_are_recorded_and_the_rest_kept(executor, tmp_path, request):
    """Locally, and in containers on the Docker engine (SIGQUIT then SIGKILL through the
    engine, passed on to the Go process by the container's wrapper)."""
    in_containers = []
    if executor == "docker":
        request.getfixturevalue("docker_available")
        in_containers = ["--run-executor", "docker", "--noise-retries", "0"]
    config = tmp_path / "variants.toml"
    patches = REPO / "tests" / "patches"
    config.write_text(
        f'[[variant]]\nname = "baseline"\ngo = "{GO}"\nmode = "source"\n\n'
        f'[[variant]]\nname = "hangs"\ngo = "{GO}"\nmode = "source"\n'
        f'patches = ["{patches / "test-only-hang-in-gc.patch"}"]\n\n'
        f'[[variant]]\nname = "throws"\ngo = "{GO}"\nmode = "source"\n'
        f'patches = ["{patches / "test-only-throw-in-gc.patch"}"]\n'
    )
    out = tmp_path / "runs"
    result = stwbench(
        "run",
        "--config",
        str(config),
        "--workloads",
        "Scheduler",
        "--reps",
        "1",
        "--gomaxprocs",
        "2",
        "--timeout",
        "8",
        "--target-seconds",
        "0.15",
        "--no-gate",  # both would fail it (tests/test_gate.py); here: the processes
        "--out",
        str(out),
        *in_containers,
    )
    assert result.returncode == 3, result.stderr[-3000:]
    run_dir = only_run_dir(out)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    statuses = {slug.split("/")[0]: p for slug, p in manifest["processes"].items()}
    assert statuses["baseline"]["status"] == "ok"
    assert statuses["hangs"]["status"] == "timeout"
    assert statuses["throws"]["status"] == "failed"
    assert "deliberate crash in runtime.GC" in statuses["throws"]["reason"]
    hang_stderr = next(run_dir.glob("raw/hangs/*/*/stderr.txt")).read_text()
    # The stack dump. The patch loops `for { Gosched() }` inside runtime.GC; where the
    # signal finds the main goroutine is timing: in runtime.GC or Gosched, mid-switch on g0
    # (goschedImpl ← gosched_m: runtime.GC hidden; seen in CI), or running on another
    # thread than the one the signal landed on (Go then prints "stack unavailable").
    assert "SIGQUIT: quit" in hang_stderr and "goroutine 1 " in hang_stderr, hang_stderr[:2000]
    seen = ("runtime.GC", "gosched", "Gosched", "running on other thread")
    assert any(s in hang_stderr for s in seen), hang_stderr[:2000]
    samples = pd.read_parquet(run_dir / "tables" / "samples.parquet")
    assert set(samples.variant) == {"baseline"}


def test_run_order_is_seeded_blocks_of_every_combination():
    variants = [Variant(name="a", go=GO), Variant(name="b", go=GO)]
    workloads = resolve_workloads("quick")
    order = run_order(variants, workloads, reps=3, gomaxprocs=[1, 2], seed=11)
    assert order == run_order(variants, workloads, reps=3, gomaxprocs=[1, 2], seed=11)
    assert order != run_order(variants, workloads, reps=3, gomaxprocs=[1, 2], seed=12)
    block = len(variants) * len(workloads) * 2
    assert len(order) == 3 * block
    for rep in range(3):
        chunk = order[rep * block : (rep + 1) * block]
        assert {i.rep for i in chunk} == {rep + 1}
        assert len({(i.variant, i.workload, i.gomaxprocs) for i in chunk}) == block


def test_the_arms_of_a_pair_run_back_to_back_in_random_order():
    """Inside a block the variants of one (workload, GOMAXPROCS) are adjacent, so the pair
    the statistics compare shares the machine's bursts; which variant goes first is random
    (600 seeded groups: each variant first 140–260 times; binomial(600, 1/3) leaves that
    range with P < 1e-4)."""
    variants = [Variant(name="a", go=GO), Variant(name="b", go=GO), Variant(name="c", go=GO)]
    workloads = resolve_workloads("quick")
    order = run_order(variants, workloads, reps=200, gomaxprocs=[2], seed=3)
    block = len(variants) * len(workloads)
    first = dict.fromkeys("abc", 0)
    group_orders = set()
    for rep in range(200):
        chunk = order[rep * block : (rep + 1) * block]
        for g in range(len(workloads)):
            arms = chunk[g * 3 : g * 3 + 3]
            assert len({i.workload for i in arms}) == 1 and {i.variant for i in arms} == set("abc")
            first[arms[0].variant] += 1
        group_orders.add(tuple(i.workload for i in chunk[::3]))
    assert all(140 <= n <= 260 for n in first.values())  # ≈ 200 each of 600 groups
    assert len(group_orders) == 6  # every order of the 3 workloads occurs


def test_starvation_check_is_pinned_to_one_p():
    pinned = [w for w in SUITES["default"] if w.gomaxprocs == 1]
    assert [w.benchmark for w in pinned] == ["PingPongAlloc"]
    order = run_order([Variant(name="a", go=GO)], pinned, reps=1, gomaxprocs=[2, 4], seed=1)
    assert [i.gomaxprocs for i in order] == [1]


def test_extending_by_blocks_keeps_the_order_and_completes_every_block():
    from harness.runs.plan import extend_order

    variants = [Variant(name="a", go=GO), Variant(name="b", go=GO)]
    workloads = resolve_workloads("default")  # includes the GOMAXPROCS=1-pinned one
    initial = run_order(variants, workloads, reps=3, gomaxprocs=[2], seed=5)
    block = len(initial) // 3
    longer = extend_order(initial, variants, workloads, [2], seed=5, blocks=2)
    assert longer[: len(initial)] == initial  # the earlier order, untouched
    assert len(longer) == 5 * block and [i.index for i in longer] == list(range(5 * block))
    shape = {(i.variant, i.workload, i.gomaxprocs) for i in initial[:block]}
    for rep in (4, 5):
        chunk = longer[(rep - 1) * block : rep * block]
        assert {i.rep for i in chunk} == {rep}
        assert sorted((i.variant, i.workload, i.gomaxprocs) for i in chunk) == sorted(shape)
    # Reproducible from the seed and the rep number: two steps of one block each give the
    # same order as one step of two, and another seed gives another order.
    stepwise = extend_order(
        extend_order(initial, variants, workloads, [2], seed=5, blocks=1),
        variants,
        workloads,
        [2],
        seed=5,
        blocks=1,
    )
    assert stepwise == longer
    assert extend_order(initial, variants, workloads, [2], seed=6, blocks=2) != longer
    assert run_order(variants, workloads, reps=3, gomaxprocs=[2], seed=5) == initial


def test_toml_config_errors_are_usage_errors(tmp_path):
    from harness.errors import UsageError

    bad = tmp_path / "bad.toml"
    bad.write_text('[[variant]]\nname = "only"\ngo = "1.27.3"\n')
    with pytest.raises(UsageError, match=r"at least 2 \[\[variant\]\] tables"):
        variants_from_toml(bad)
    result = stwbench("run", "--config", str(bad), "--out", str(tmp_path / "o"))
    assert result.returncode == 2 and "needs at least 2 [[variant]] tables" in result.stderr


def test_perf_records_symbols_and_missing_perf_is_recorded_not_fatal(tmp_path):
    perf_probe_run = ["run", "--go", GO, "--patch", RUNQGET, *FAST, "--workloads", "probe",
                      "--reps", "1", "--perf", "--out"]  # fmt: skip
    out = tmp_path / "with-perf"
    result = stwbench(*perf_probe_run, out)
    assert result.returncode == 0, result.stderr[-3000:]
    run_dir = only_run_dir(out)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert "cpu-clock" in manifest["perf"]["events"]
    assert not list(run_dir.glob("raw/*/*/*/perf.data"))  # dropped after the report
    symbols = pd.read_parquet(run_dir / "tables" / "perf_symbols.parquet")
    cpu = symbols[symbols.event == "cpu-clock"]
    assert set(cpu.variant) == {"baseline", "runqget-priority"}
    assert cpu.symbol.str.startswith("runtime.").any()
    # perf prints each symbol's share rounded to 0.01 %, so a process's sum may exceed 100
    # by up to 0.005 per symbol (100.75 over ~245 symbols was seen).
    per_process = cpu.groupby(["variant", "rep"]).overhead_pct
    rounding = 0.005 * per_process.size()
    assert ((per_process.sum() >= 50) & (per_process.sum() <= 100 + rounding)).all()

    # The same run on a machine without perf: recorded, run completes without it.
    # PATH holds only git (patches are vetted with it), so `perf` is not found.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "git").symlink_to(shutil.which("git"))
    no_perf = tmp_path / "no-perf"
    completed = stwbench(*perf_probe_run, no_perf, env={**os.environ, "PATH": str(bin_dir)})
    assert completed.returncode == 0, completed.stderr[-3000:]
    manifest = json.loads((only_run_dir(no_perf) / "manifest.json").read_text())
    assert manifest["perf"]["events"] == []
    assert "perf not installed" in manifest["perf"]["unavailable"]["cpu-clock"]


def test_workload_that_does_not_build_is_recorded(tmp_path, go_source):
    from harness.runs.compile import compile_workloads
    from harness.toolchains import ToolchainSpec, build

    broken = tmp_path / "workloads"
    broken.mkdir()
    (broken / "go.mod").write_text("module broken\n\ngo 1.21\n")
    (broken / "x_test.go").write_text("package broken\n\nfunc BenchmarkX(b *testing.B) {}\n")
    toolchain = build(ToolchainSpec(go=GO, mode="source"))
    built = compile_workloads(toolchain, resolve_workloads("Scheduler"), workloads_dir=broken)
    assert built["Scheduler"].path is None
    assert "undefined: testing" in built["Scheduler"].error


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")
def test_disk_full_stops_cleanly_and_resume_finishes(tmp_path):
    small = tmp_path / "small"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96k", "tmpfs", str(small)], check=True)
    try:
        args = [
            "--go",
            GO,
            "--patch",
            str(RUNQGET),
            *FAST,
            "--workloads",
            "Scheduler",
            "--reps",
            "8",
            "--gomaxprocs",
            "2",
            "--seed",
            "5",
        ]
        result = stwbench("run", *args, "--out", str(small))
        assert result.returncode == 2, result.stderr[-2000:]
        assert "disk full" in result.stderr and "--resume" in result.stderr
        run_dir = only_run_dir(small)
        kept = list(run_dir.glob("raw/*/*/*/status.json"))
        assert 0 < len(kept) < 16
        for status in kept:  # what finished is complete and readable
            assert json.loads(status.read_text())["status"] == "ok"
        subprocess.run(["mount", "-o", "remount,size=32m", str(small)], check=True)
        resumed = stwbench("run", "--resume", str(run_dir))
        assert resumed.returncode == 0, resumed.stderr[-2000:]
        assert len(list(run_dir.glob("raw/*/*/*/status.json"))) == 16
    finally:
        subprocess.run(["umount", "-l", str(small)], check=False)
