"""The starvation check on real toolchains (go1.27.3, source mode), through `ab`: it fails on
a test-only patch that starves the GC mark worker and passes on the runqget patch, in one
interleaved run, and a failed check makes --fail-on-regression exit 1.

tests/patches/test-only-starve-mark-worker.patch keeps the worker and mark assists off a
P that has other runnable goroutines; at GOMAXPROCS=1 on PingPongAlloc one mark phase
then spans each process's whole loop (measured: mark p95 ×37, cycles/s ×0.04; the
runqget patch: ×1.2 and ×0.87; tests/patches/README.md). The margins are an order of
magnitude on the starving side and ≈ 1.7× on the runqget side, so 5 short processes per
arm decide both.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.checks import STARVATION_WORKLOAD
from tests.conftest import GO, REPO, RUNQGET, stwbench

pytestmark = pytest.mark.slow  # real toolchains and processes: the fast lane skips it

STARVE = REPO / "tests" / "patches" / "test-only-starve-mark-worker.patch"


def test_the_starvation_check_fails_a_starving_patch_and_passes_runqget(tmp_path):
    config = tmp_path / "variants.toml"
    config.write_text(
        "".join(
            f'[[variant]]\nname = "{name}"\ngo = "{GO}"\nmode = "source"\n'
            f"patches = {json.dumps([str(p) for p in patches])}\n\n"
            for name, patches in (
                ("baseline", []),
                ("runqget-priority", [RUNQGET]),
                ("starve", [STARVE]),
            )
        )
    )
    result = stwbench(
        "ab", "--config", config, "--workloads", STARVATION_WORKLOAD, "--reps", "5",
        "--target-seconds", "0.3", "--seed", "11", "--fail-on-regression", "--no-gate",
        "--out", tmp_path / "out",
    )  # fmt: skip
    summary = json.loads((Path(result.stdout.strip()).parent / "summary.json").read_text())
    checks = {c["candidate"]: c for c in summary["checks"]["starvation"]}
    print(json.dumps(checks, indent=1))  # the figures, for the note
    assert checks["runqget-priority"]["status"] == "pass", checks["runqget-priority"]
    starve = checks["starve"]
    assert starve["status"] == "fail", starve
    # It fails for the reason it was built to: GC stops completing cycles.
    assert starve["fewest_cycles"] < 2 or starve["cycles_per_s_ratio"] < 0.5, starve
    assert result.returncode == 1, result.stderr[-3000:]
    assert "check failed: starvation check starve" in " ".join(result.stderr.split())
    html = (Path(result.stdout.strip())).read_text()
    assert "starvation check · starve" in html and 'data-status="fail"' in html
