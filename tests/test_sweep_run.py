"""`stwbench sweep` end to end, for real: go1.27.3 in source mode with
patches/runqget-knobs.patch, a 2×2 grid (gcrunnextfirst × gcdrainstart: three points, the
all-off one being the knobs-off control), quick workloads. Every knob setting is gated; the
sweep is killed mid-run and resumed; the page loads in a browser."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import GO, REPO, kill_when, stwbench
from tests.test_report import assert_fetches_nothing, headless, page_errors

pytestmark = pytest.mark.slow

KNOBS = REPO / "patches" / "runqget-knobs.patch"
GRID = ("--knob", "gcrunnextfirst=0,1", "--knob", "gcdrainstart=0,2")
# The hand-off scenario is the one where runnext first moves the mark-phase p99 most
# (×0.013 at 10 reps in the default bench): visible at 3 reps, unlike the blocking probe's.
QUICK = ("--quick", "--workloads", "probe-handoff,Scheduler", "--reps", "3",
         "--probe-duration", "1", "--target-seconds", "0.1")  # fmt: skip


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sweep")

    def some_processes_done() -> bool:
        return len(list(out.glob("*/raw/*/*/*/status.json"))) >= 8

    args = ["sweep", "--go", GO, "--patch", KNOBS, "--mode", "source", *GRID, *QUICK,
            "--reference", "gcrunnextfirst1", "--seed", "11", "--out", out]  # fmt: skip
    kill_when(args, some_processes_done)
    [run_dir] = [p for p in out.iterdir() if p.is_dir() and not p.is_symlink()]
    assert (run_dir / "sweep-plan.json").exists() and not (run_dir / "sweep.json").exists()
    result = stwbench("sweep", "--resume", run_dir)
    assert result.returncode == 0, result.stderr[-3000:]
    assert Path(result.stdout.strip()) == run_dir / "sweep.html"
    return run_dir


def test_the_grid_runs_interleaved_with_the_baseline_and_the_control(sweep):
    manifest = json.loads((sweep / "manifest.json").read_text())
    names = [v["name"] for v in manifest["variants"]]
    assert names == ["baseline", "knobs-off", "gcdrainstart2", "gcrunnextfirst1",
                     "gcrunnextfirst1+gcdrainstart2"]  # fmt: skip
    # one toolchain for all but the baseline: the knobs are the only difference
    keys = {n: t["key"] for n, t in manifest["toolchains"].items()}
    assert len({keys[n] for n in names[1:]}) == 1 and keys["baseline"] != keys["knobs-off"]
    # every knob setting was gated, and passed
    gates = {n: manifest["toolchains"][n]["gate"] for n in names[1:]}
    assert all(g["passed"] for g in gates.values()), gates
    assert gates["gcrunnextfirst1+gcdrainstart2"]["godebug"] == "gcdrainstart=2,gcrunnextfirst=1"
    # blocks hold every variant once: the order interleaves them
    order = manifest["order"]
    assert {o["variant"] for o in order[: len(names) * 3]} == set(names)
    assert all(p["status"] == "ok" for p in manifest["processes"].values())


def test_the_sweep_report_answers_with_a_front_and_the_isolation_check(sweep):
    result = json.loads((sweep / "sweep.json").read_text())
    assert result["schema"] == 1 and result["reference"] == "gcrunnextfirst1"
    assert result["scenarios"] and result["throughput"]
    assert set(result["front"]) <= {"baseline", *(p["name"] for p in result["points"])}
    assert result["front"], "the front is never empty"
    points = {p["name"]: p for p in result["points"]}
    plain = points["gcrunnextfirst1"]
    # The runnext-first knob is runqget-priority.patch: the hand-off probe's mark-phase
    # p99 falls by far more than noise; with the knobs off it does not (the knob acts,
    # and nothing acts without it).
    assert plain["gain"]["ratio"] is not None and plain["gain"]["ratio"] < 0.5, plain["gain"]
    assert result["control"]["gain"]["ratio"] > 0.5, result["control"]["gain"]
    assert plain["cost"]["n"] == 3 and plain["cost"]["ratio"] is not None
    iso = result["isolation"]
    assert iso["rows"] > 0 and iso["same"] + len(iso["not_same"]) == iso["rows"]
    assert result["answer"].startswith(("Yes:", "No point", "(Caution"))
    md = (sweep / "sweep.md").read_text()
    assert "Knob isolation" in md and "Pareto front" in md


def test_the_sweep_page_loads_in_a_browser_without_errors_or_requests(sweep, tmp_path):
    page = sweep / "sweep.html"
    assert_fetches_nothing(page.read_text())
    result = headless(page, tmp_path / "profile", "--dump-dom")
    assert result.returncode == 0, result.stderr[-3000:]
    dom = result.stdout
    assert 'id="front"' in dom and "<svg" in dom and 'data-loaded="1"' in dom
    assert page_errors(dom) == []


def test_a_finished_sweep_resumed_is_analyzed_again_to_the_same_answer(sweep):
    before = json.loads((sweep / "sweep.json").read_text())
    again = stwbench("sweep", "--resume", sweep)
    assert again.returncode == 0, again.stderr[-3000:]
    assert json.loads((sweep / "sweep.json").read_text()) == before


def test_sweep_usage_errors_exit_2(sweep, tmp_path):
    import shutil

    plain_run = tmp_path / "plain-run"  # a run directory, but not a sweep's
    shutil.copytree(sweep, plain_run, symlinks=True)
    (plain_run / "sweep-plan.json").unlink()
    cases = [
        (("--go", GO, *GRID), "knob-gated patch"),
        (("--go", GO, "--patch", KNOBS), "no points"),
        (("--patch", KNOBS, *GRID), "give --go VERSION"),
        (("--go", GO, "--patch", KNOBS, "--knob", "gcrunnextfirst"), "want KNOB=V1"),
        (("--go-git", tmp_path, "--ref", "x", "--patch", KNOBS, *GRID), "--go-git"),
        (("--sweep", tmp_path / "missing.toml"), "missing.toml"),
        (("--resume", tmp_path), "not a run directory"),
        (("--resume", plain_run), "no sweep plan: not a sweep's run"),
    ]
    for args, message in cases:
        result = stwbench("sweep", *args, "--out", tmp_path / "out")
        assert result.returncode == 2, (args, result.stderr[-1500:])
        assert message in " ".join(result.stderr.split()), (args, result.stderr[-1500:])
    assert not (tmp_path / "out").exists()


def test_report_re_renders_the_sweep_with_other_settings(sweep, tmp_path):
    """`stwbench report` of a sweep's run directory re-derives its pages too: with a ±50 %
    margin more knobs-off rows are `same` than with the metric defaults."""
    import shutil

    copy = tmp_path / sweep.name
    shutil.copytree(sweep, copy, symlinks=True)
    before = json.loads((copy / "sweep.json").read_text())["isolation"]
    result = stwbench("report", copy, "--equivalence", "50")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "sweep report:" in result.stderr
    after = json.loads((copy / "sweep.json").read_text())["isolation"]
    assert after["rows"] == before["rows"] and after["same"] > before["same"]
