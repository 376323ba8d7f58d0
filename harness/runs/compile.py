"""Compile each workload once per toolchain, and record `go version -m` of each binary."""

from __future__ import annotations

import os
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from harness.errors import UsageError
from harness.kinds import kind_of
from harness.rundir import Workload
from harness.toolchains import Toolchain, cache, go_env, sources

_REPO_WORKLOADS = Path(__file__).resolve().parents[2] / "go_workloads"


def default_workloads_dir() -> Path:
    """go_workloads/ of this checkout (editable install), else ./go_workloads, else
    $STWBENCH_WORKLOADS: the Go module is part of the repository, not of the wheel."""
    candidates = [
        os.environ.get("STWBENCH_WORKLOADS"),
        _REPO_WORKLOADS,
        Path.cwd() / "go_workloads",
    ]
    for candidate in candidates:
        if candidate and (Path(candidate) / "go.mod").is_file():
            return Path(candidate).resolve()
    raise UsageError(
        "cannot find go_workloads/ (the Go module with the workloads): run from the "
        "stwbench checkout or set STWBENCH_WORKLOADS=/path/to/go_workloads"
    )


@dataclass
class Binary:
    """A compiled workload binary, or why there is none."""

    path: str | None
    cwd: str  # where the process runs (tests may read files relative to their package)
    version_m: str = ""
    error: str | None = None

    def to_json(self) -> dict:
        return asdict(self)


def _go(toolchain: Toolchain, args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = go_env(toolchain.goroot, GOCACHE=str(cache.subdir("gocache")))
    return subprocess.run(
        [str(toolchain.go), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )


def _build(toolchain: Toolchain, args: list[str], cwd: Path, out: Path) -> Binary:
    """`go <args[0]> -o out <args[1:]>`: flags must come before the package arguments.

    Binaries are cached by toolchain key and workload source hash, so a resumed run (or
    the next run) uses the very same binary; a new one is written beside and renamed in.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    result = None
    if not out.exists():
        partial = out.with_name(f".{out.name}.{os.getpid()}")
        result = _go(toolchain, [args[0], "-o", str(partial), *args[1:]], cwd)
        if result.returncode == 0:
            os.replace(partial, out)
    if result is not None and result.returncode != 0:
        message = (result.stderr or result.stdout).strip()
        return Binary(path=None, cwd=str(cwd), error=message[-4000:] or "go build failed")
    version = _go(toolchain, ["version", "-m", str(out)], cwd)
    return Binary(path=str(out), cwd=str(cwd), version_m=version.stdout.strip())


def binaries_dir(toolchain: Toolchain, workloads_dir: Path) -> Path:
    source = sources.tree_sha256(workloads_dir)[:16]
    return cache.subdir("binaries") / toolchain.key[:32] / source


def compile_workloads(
    toolchain: Toolchain, workloads: list[Workload], workloads_dir: Path | None = None
) -> dict[str, Binary]:
    """{workload name: Binary}; workloads whose kind plans the same build share it (one
    `go test -c` serves every benchmark of a package)."""
    if workloads_dir is None:
        workloads_dir = default_workloads_dir()
    bin_dir = binaries_dir(toolchain, workloads_dir)
    built: dict[str, Binary] = {}
    shared: dict[tuple, Binary] = {}
    for workload in workloads:
        plan = kind_of(workload).build(workload, workloads_dir, toolchain.goroot)
        if plan.key not in shared:
            shared[plan.key] = _build(toolchain, plan.args, plan.cwd, bin_dir / plan.out_name)
        built[workload.name] = shared[plan.key]
    return built
