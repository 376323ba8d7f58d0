"""Adaptive reps (`stwbench ab --until-ci`): real ab runs on source-mode toolchains with one
tiny workload. Targets are chosen so the stopping reason does not depend on timings: ±10⁶ %
is met by any CI at all (a 3-process STW tail on a busy machine has been seen at ±2800 %),
±0.01 % by none.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from harness.adaptive import fitting_blocks, wanted_blocks
from tests.conftest import GO, RUNQGET, kill_when, stwbench

pytestmark = pytest.mark.slow  # real toolchains and processes: the fast lane skips it

TINY = ["--go", GO, "--patch", RUNQGET, "--mode", "source", "--workloads", "Scheduler",
        "--target-seconds", "0.1", "--gomaxprocs", "2", "--no-gate"]  # fmt: skip


def _reps_on_disk(run_dir: Path) -> set[int]:
    return {
        int(p.parent.name.rsplit("rep", 1)[1])
        for p in run_dir.glob("raw/*/*/*/status.json")
        if "_rejected" not in p.parts
    }


def test_blocks_to_add_follow_the_worst_row_and_the_budget():
    assert wanted_blocks(10, worst=0.04, target=0.02) == 5  # needs 40 reps: capped at 10/2
    assert wanted_blocks(10, worst=0.021, target=0.02) == 2  # ceil(10 × 1.1025) − 10
    assert wanted_blocks(16, worst=0.022, target=0.02) == 4  # ceil(16 × 1.21) − 16
    assert wanted_blocks(3, worst=math.nan, target=0.02) == 2  # no CI yet: the cap
    assert fitting_blocks(None, 10.0, 5.0) is None  # no budget
    assert fitting_blocks(100.0, 10.0, 5.0) == 9
    assert fitting_blocks(14.0, 10.0, 5.0) == 0  # the block would overrun the analysis
    assert fitting_blocks(30.0, None, 5.0) == 1  # nothing measured: one at a time


def test_loose_target_stops_after_the_initial_reps(tmp_path):
    result = stwbench("ab", *TINY, "--reps", "3", "--until-ci", "1e6", "--seed", "2",
                      "--out", tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    run_dir = Path(result.stdout.strip()).parent
    adaptive = json.loads((run_dir / "manifest.json").read_text())["adaptive"]
    assert adaptive["stopped"] == "precision reached"
    assert adaptive["until_ci"] == 1e6 and adaptive["max_reps"] == 12  # 4 × --reps
    [step] = adaptive["steps"]
    assert step["reps"] == 3 and step["met"] == step["rows"] > 0 and step["added"] == 0
    assert _reps_on_disk(run_dir) == {1, 2, 3}
    assert "stops on precision, never on p-values" in " ".join(result.stderr.split())
    assert "after 3 reps:" in result.stderr and "stopped: precision reached" in result.stderr


def test_unreachable_target_stops_at_max_reps(tmp_path):
    result = stwbench("ab", *TINY, "--reps", "2", "--until-ci", "0.01", "--max-reps", "4",
                      "--seed", "3", "--out", tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    run_dir = Path(result.stdout.strip()).parent
    manifest = json.loads((run_dir / "manifest.json").read_text())
    adaptive = manifest["adaptive"]
    assert adaptive["stopped"] == "max reps"
    assert [s["reps"] for s in adaptive["steps"]][-1] == 4
    assert all(s["met"] < s["rows"] for s in adaptive["steps"])
    assert sum(s["added"] for s in adaptive["steps"]) == 2
    assert _reps_on_disk(run_dir) == {1, 2, 3, 4}
    assert manifest["options"]["reps"] == 4 and len(manifest["order"]) == 4 * 2
    assert {p["status"] for p in manifest["processes"].values()} == {"ok"}
    summary = json.loads((run_dir / "summary.json").read_text())
    ns = [r for r in summary["comparisons"] if r["metric"] == "ns/op"]
    assert ns and ns[0]["n_baseline"] == ns[0]["n_candidate"] == 4
    assert "adding 1 block" in result.stderr and "stopped: max reps" in result.stderr


def test_killed_adaptive_run_resumes_its_loop(tmp_path):
    out = tmp_path / "runs"
    command = ["ab", *TINY, "--reps", "2", "--until-ci", "0.01", "--max-reps", "3", "--seed",
               "4", "--out", out]  # fmt: skip
    # Kill it inside the first added block.
    kill_when(
        command, lambda: bool(list(out.glob("*/raw/*/*/gomaxprocs2-rep003/status.json"))),
        timeout=600, poll=0.05,
    )  # fmt: skip
    [run_dir] = [p for p in out.iterdir() if p.is_dir() and not p.is_symlink()]
    killed = json.loads((run_dir / "manifest.json").read_text())
    adaptive = killed["adaptive"]
    assert adaptive.get("stopped") is None and adaptive["steps"][0]["added"] == 1
    before = {p: p.read_text() for p in run_dir.glob("raw/*/*/*/status.json")}
    result = stwbench("ab", "--resume", run_dir)
    assert result.returncode == 0, result.stderr[-3000:]
    manifest = json.loads((run_dir / "manifest.json").read_text())
    adaptive = manifest["adaptive"]
    assert adaptive["until_ci"] == 0.01 and adaptive["max_reps"] == 3  # recorded settings
    assert adaptive["stopped"] == "max reps"
    assert [s["reps"] for s in adaptive["steps"]] == [2, 3]
    assert _reps_on_disk(run_dir) == {1, 2, 3} and len(manifest["processes"]) == 6
    assert all(path.read_text() == text for path, text in before.items())  # not redone
    assert (run_dir / "report.html").exists()
