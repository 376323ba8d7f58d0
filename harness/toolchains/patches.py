"""Patch series: ordered unified diffs whose paths are relative to GOROOT.

Parsing and path checks use `unidiff`; applying uses `git apply` (no repository
needed), which handles offsets, new files and modes the way Go developers expect.
When a patch does not apply we re-check it hunk by hunk so the error names the
patch file, the GOROOT file and the hunk, not just "patch failed".

Every check runs before anything is copied or written: a patch naming a path outside
the GOROOT (absolute, `..`, through a symlink) is refused outright.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import unidiff

from harness.errors import EnvironmentProblem, PatchError, UsageError

_GIT_HEADER_PATHS = re.compile(r"^(?:rename|copy) (?:from|to) (.+)$", re.MULTILINE)


@dataclass(frozen=True)
class Patch:
    """One patch file of a series, parsed and checked for path safety."""

    path: Path
    sha256: str
    text: str
    strip: int  # the -p level: 1 for git-style a/ b/ prefixes, else 0
    files: tuple[str, ...]  # GOROOT-relative paths the patch touches

    @property
    def name(self) -> str:
        return self.path.name

    def identity(self) -> dict:
        return {"name": self.name, "sha256": self.sha256}


def load_series(paths: list[Path]) -> list[Patch]:
    """Read and vet every patch; raises before anything is written anywhere."""
    return [load_patch(Path(p)) for p in paths]


def load_patch(path: Path) -> Patch:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"patch {path}: cannot read it ({exc.strerror})") from exc
    text = raw.decode("utf-8", errors="replace")
    try:
        parsed = unidiff.PatchSet(text)
    except unidiff.UnidiffParseError as exc:
        raise PatchError(f"patch {path}: not a unified diff ({exc})") from exc
    if not parsed:
        raise PatchError(f"patch {path}: no file changes found; is it a unified diff?")
    strip = _strip_level(parsed)
    files: list[str] = []
    for patched in parsed:
        for raw_name in (patched.source_file, patched.target_file):
            if raw_name == "/dev/null":
                continue
            files.append(_goroot_relative(path, raw_name, strip))
    for raw_name in _GIT_HEADER_PATHS.findall(text):
        _goroot_relative(path, raw_name, 0)
    return Patch(
        path=path,
        sha256=hashlib.sha256(raw).hexdigest(),
        text=text,
        strip=strip,
        files=tuple(dict.fromkeys(files)),
    )


def _strip_level(parsed: unidiff.PatchSet) -> int:
    git_style = all(
        (pf.source_file == "/dev/null" or pf.source_file.startswith("a/"))
        and (pf.target_file == "/dev/null" or pf.target_file.startswith("b/"))
        for pf in parsed
    )
    return 1 if git_style else 0


def _goroot_relative(patch_path: Path, raw_name: str, strip: int) -> str:
    name = raw_name.strip().split("\t")[0]
    pure = PurePosixPath(name)
    if pure.is_absolute() or ".." in pure.parts:
        raise PatchError(
            f"patch {patch_path}: refuses path {name!r}: paths must stay inside the GOROOT "
            "(relative, no '..', e.g. src/runtime/proc.go); nothing was written"
        )
    parts = pure.parts[strip:]
    if not parts:
        raise PatchError(f"patch {patch_path}: empty path {name!r}")
    return PurePosixPath(*parts).as_posix()


def _ensure_inside(tree: Path, patch: Patch) -> None:
    """Refuse paths that leave `tree` through a symlink inside it."""
    root = tree.resolve()
    for rel in patch.files:
        target = (tree / rel).resolve()
        if target != root and root not in target.parents:
            raise PatchError(
                f"patch {patch.path}: {rel} resolves to {target}, outside the GOROOT; "
                "nothing was written"
            )


def _git_apply(
    tree: Path, patch_text: str, strip: int, *, check: bool
) -> subprocess.CompletedProcess:
    git = shutil.which("git")
    if git is None:
        raise EnvironmentProblem("applying patches needs git (apt-get install -y git)")
    command = [git, "apply", f"-p{strip}", "--whitespace=nowarn", "-v"]
    if check:
        command.append("--check")
    # The ceiling keeps git from discovering an enclosing repository and applying
    # the patch relative to that repository's top instead of the GOROOT.
    env = {**os.environ, "GIT_CEILING_DIRECTORIES": str(tree.parent)}
    return subprocess.run(
        command, input=patch_text, cwd=tree, env=env, text=True, capture_output=True, check=False
    )


def apply_series(series: list[Patch], tree: Path, *, go_version: str) -> None:
    """Apply each patch in order to `tree`; a failure names the patch and the hunk."""
    for patch in series:
        _ensure_inside(tree, patch)
        checked = _git_apply(tree, patch.text, patch.strip, check=True)
        if checked.returncode != 0:
            raise PatchError(_explain_failure(patch, tree, checked.stderr, go_version))
        applied = _git_apply(tree, patch.text, patch.strip, check=False)
        if applied.returncode != 0:
            raise PatchError(f"patch {patch.path}: git apply failed:\n{applied.stderr.strip()}")


def check_series(series: list[Patch], goroot: Path, *, go_version: str) -> None:
    """Prove the series applies, in order, without touching `goroot`.

    Copies just the files the series touches into a scratch dir and applies there,
    so a bad series is reported before the (large) GOROOT copy is made.
    """
    with tempfile.TemporaryDirectory(prefix="stwbench-patchcheck-") as scratch:
        root = Path(scratch) / "goroot"
        root.mkdir()
        for patch in series:
            _ensure_inside(goroot, patch)
            for rel in patch.files:
                source = goroot / rel
                if source.is_file():
                    (root / rel).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(source, root / rel)
        apply_series(series, root, go_version=go_version)


def _explain_failure(patch: Patch, tree: Path, git_stderr: str, go_version: str) -> str:
    """Find which hunks fail, one at a time, and say so in words."""
    failures = []
    for patched in unidiff.PatchSet(patch.text):
        rel = _goroot_relative(
            patch.path,
            patched.target_file if patched.target_file != "/dev/null" else patched.source_file,
            patch.strip,
        )
        if patched.source_file != "/dev/null" and not (tree / rel).exists():
            failures.append(
                f"  {rel}: file not found in the go{go_version} GOROOT "
                "(paths are relative to GOROOT, e.g. src/runtime/proc.go)"
            )
            continue
        for number, hunk in enumerate(patched, start=1):
            single = f"--- {patched.source_file}\n+++ {patched.target_file}\n{hunk}"
            if _git_apply(tree, single, patch.strip, check=True).returncode != 0:
                header = str(hunk).splitlines()[0]
                context = next(
                    (line.value.strip() for line in hunk if line.is_context and line.value.strip()),
                    "",
                )
                failures.append(f"  {rel}: hunk #{number} {header} (context: {context!r})")
    detail = "\n".join(failures) or git_stderr.strip()
    return f"patch {patch.path} does not apply to go{go_version}:\n{detail}"
