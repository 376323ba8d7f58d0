"""The sanity gate inside `ab` (the passing case is in tests/test_ab.py's quick run): a
patched toolchain that fails it gets every row `unreliable`, a FAIL line in the report's
header and summary.json, and exit 1 even without --fail-on-regression."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from harness.analyze import comparisons_of
from tests.conftest import GO, REPO, make_manifest, stwbench, table

THROW = REPO / "tests" / "patches" / "test-only-throw-in-gc.patch"


def test_a_failed_gate_makes_every_row_of_its_variant_unreliable():
    rng = np.random.default_rng(3)
    samples = table(
        "samples",
        [
            {
                "variant": variant,
                "workload": "Scheduler",
                "benchmark": "Scheduler-2",
                "rep": rep,
                "metric": metric,
                "unit": metric,
                "value": float(rng.lognormal(7.0, 0.05)),
                "better": "lower",
            }
            for variant in ("baseline", "good", "bad")
            for rep in range(6)
            for metric in ("ns/op", "B/op")
        ],
    )
    toolchain = {"key": "k", "goroot": "/g", "go_version": GO, "mode": "source"}
    patch = {"path": "/p", "sha256": "0" * 64}
    manifest = make_manifest(
        ("baseline", "good", "bad"),
        ("Scheduler",),
        order=[],
        toolchains={
            "baseline": {**toolchain, "patches": []},
            "good": {**toolchain, "patches": [{**patch, "name": "g"}], "gate": {"passed": True}},
            "bad": {**toolchain, "patches": [{**patch, "name": "b"}], "gate": {"passed": False}},
        },
    )
    rows = comparisons_of(manifest, samples)
    verdicts = rows.groupby("candidate")["verdict"].agg(set)
    assert verdicts["bad"] == {"unreliable"}
    assert "unreliable" not in verdicts["good"]


@pytest.mark.slow
def test_ab_runs_the_gate_and_a_failing_gate_exits_1(tmp_path):
    result = stwbench(
        "ab", "--go", GO, "--patch", THROW, "--mode", "source", "--workloads", "Scheduler",
        "--reps", "3", "--target-seconds", "0.1", "--seed", "5", "--out", tmp_path,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr[-3000:]
    stderr = " ".join(result.stderr.split())
    assert "gate FAILED" in stderr and "check failed: gate test-only-throw-in-gc" in stderr
    report = Path(result.stdout.strip())
    summary = json.loads((report.parent / "summary.json").read_text())
    gates = {g["variant"]: g for g in summary["checks"]["gate"]}
    assert gates["test-only-throw-in-gc"]["status"] == "fail", gates
    assert "TestUserForcedGC" in gates["test-only-throw-in-gc"]["detail"], gates
    candidate = [r for r in summary["comparisons"] if r["candidate"] == "test-only-throw-in-gc"]
    assert all(r["verdict"] == "unreliable" for r in candidate)
    html = report.read_text()
    assert "sanity gate · test-only-throw-in-gc" in html and "FAIL" in html
    manifest = json.loads((report.parent / "manifest.json").read_text())
    assert manifest["toolchains"]["test-only-throw-in-gc"]["gate"]["passed"] is False
    # The failed gate is cached with the toolchain: a second run does not re-run it.
    again = stwbench(
        "run", "--go", GO, "--patch", THROW, "--mode", "source", "--workloads", "Scheduler",
        "--reps", "1", "--target-seconds", "0.1", "--out", tmp_path / "again",
    )  # fmt: skip
    assert again.returncode == 1 and "running the sanity gate" not in again.stderr
    assert "gate: go test -short" not in again.stderr


KNOB_THROW = REPO / "tests" / "patches" / "test-only-knob-throw-in-gc.patch"


@pytest.mark.slow
def test_a_knob_variant_is_gated_with_its_knobs_and_unknown_knobs_are_refused(tmp_path):
    """One toolchain, two variants: knobs off (gate passes) and the knob that makes
    runtime.GC throw (its own gate, run with GODEBUG=stwbenchthrowgc=1, fails)."""
    config = tmp_path / "variants.toml"
    patch = f'patches = ["{KNOB_THROW}"]'
    config.write_text(
        f'[[variant]]\nname = "baseline"\ngo = "{GO}"\nmode = "source"\n'
        f'[[variant]]\nname = "knobs-off"\ngo = "{GO}"\nmode = "source"\n{patch}\n'
        f'[[variant]]\nname = "throw"\ngo = "{GO}"\nmode = "source"\n{patch}\n'
        "godebug = { stwbenchthrowgc = 1 }\n"
    )
    result = stwbench("ab", "--config", config, "--workloads", "Scheduler", "--reps", "3",
                      "--target-seconds", "0.1", "--seed", "5", "--out", tmp_path)  # fmt: skip
    assert result.returncode in (1, 3), result.stderr[-3000:]
    stderr = " ".join(result.stderr.split())
    assert "GODEBUG=stwbenchthrowgc=1" in stderr and "gate FAILED" in stderr
    run_dir = Path(result.stdout.strip()).parent
    manifest = json.loads((run_dir / "manifest.json").read_text())
    gates = {name: t["gate"] for name, t in manifest["toolchains"].items() if t.get("gate")}
    assert gates["knobs-off"]["passed"] is True and gates["knobs-off"]["godebug"] == ""
    assert gates["throw"]["passed"] is False and gates["throw"]["godebug"] == "stwbenchthrowgc=1"
    # The first test that calls runtime.GC kills the test binary: the rest never ran.
    assert (
        gates["throw"]["exit_code"] != 0 and "TestUserForcedGC" in gates["throw"]["tests_missing"]
    )
    assert manifest["variants"][2]["godebug"] == {"stwbenchthrowgc": "1"}
    summary = json.loads((run_dir / "summary.json").read_text())
    verdicts = {r["candidate"]: set() for r in summary["comparisons"]}
    for r in summary["comparisons"]:
        verdicts[r["candidate"]].add(r["verdict"])
    # Its processes crash too (testing calls runtime.GC): no row of it may be trusted.
    assert verdicts.get("throw", {"unreliable"}) == {"unreliable"}
    assert verdicts["knobs-off"] and "unreliable" not in verdicts["knobs-off"]
    # A misspelt knob would run the knobs-off scheduler under the knob's name: refused.
    config.write_text(config.read_text().replace("stwbenchthrowgc = 1", "stwbenchthrowg = 1"))
    bad = stwbench("run", "--config", config, "--workloads", "Scheduler", "--reps", "1",
                   "--out", tmp_path / "bad")  # fmt: skip
    assert bad.returncode == 2, bad.stderr[-2000:]
    assert "variant throw: GODEBUG knob(s) stwbenchthrowg not registered" in " ".join(
        bad.stderr.split()
    )
